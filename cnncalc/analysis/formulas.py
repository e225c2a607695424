"""Small pure formula functions on ints: the mathematics every figure comes from.

Each is the textbook/PyTorch rule, commented term by term; layer classes only call them.
"""
from __future__ import annotations

import math
from fractions import Fraction


def effective_kernel(k: int, d: int = 1) -> int:
    """A dilated kernel spans d·(k−1)+1 input positions."""
    return d * (k - 1) + 1


def conv_out(n: int, k: int, s: int = 1, p_before: int = 0, p_after: int | None = None,
             d: int = 1) -> int:
    """⌊(n + p_before + p_after − d·(k−1) − 1)/s⌋ + 1 (PyTorch Conv2d; the course notes' ⌊(n−k+2p)/s⌋+1)."""
    p_after = p_before if p_after is None else p_after
    return (n + p_before + p_after - effective_kernel(k, d)) // s + 1


def pool_out(n: int, k: int, s: int, p: int = 0, d: int = 1, ceil_mode: bool = False) -> int:
    """PyTorch's pooling rule: floor or ceil of the division, and with ceil a last
    window that would start inside the right padding is dropped."""
    span = n + 2 * p - effective_kernel(k, d)
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def remainder(n: int, k: int, s: int, p_before: int, p_after: int, d: int, out: int) -> int:
    """Input positions (padding included) left over after the last window.

    Positive: rows/cols ignored by floor. Negative: rows/cols padded implicitly by ceil."""
    covered = (out - 1) * s + effective_kernel(k, d)
    return (n + p_before + p_after) - covered


def same_padding(k: int, d: int = 1) -> tuple[int, int]:
    """Padding that keeps the size at stride 1: total d·(k−1), the odd one after (as PyTorch)."""
    total = d * (k - 1)
    return total // 2, total - total // 2


def conv_weights(k_h: int, k_w: int, c_in: int, c_out: int, groups: int = 1) -> int:
    """k_h·k_w·(C_in/groups)·C_out: each filter sees only its group's channels."""
    return k_h * k_w * (c_in // groups) * c_out


def conv_macs(k_h: int, k_w: int, c_in: int, c_out: int, h_out: int, w_out: int, groups: int = 1) -> int:
    """One MAC per weight per output position: k_h·k_w·(C_in/groups)·H_out·W_out·C_out."""
    return conv_weights(k_h, k_w, c_in, c_out, groups) * h_out * w_out


def prod(xs) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


def conv_weights_nd(kernel: tuple[int, ...], c_in: int, c_out: int, groups: int = 1) -> int:
    """Πk·(C_in/groups)·C_out for a kernel of any dimensionality (k, k_h·k_w, k_d·k_h·k_w)."""
    return prod(kernel) * (c_in // groups) * c_out


def conv_macs_nd(kernel: tuple[int, ...], c_in: int, c_out: int, out_sizes: tuple[int, ...], groups: int = 1) -> int:
    """One MAC per weight per output position: Πk·(C_in/groups)·C_out·Π(output sizes)."""
    return conv_weights_nd(kernel, c_in, c_out, groups) * prod(out_sizes)


def conv_transpose_out(n: int, k: int, s: int = 1, p: int = 0, output_padding: int = 0, d: int = 1) -> int:
    """(n − 1)·s − 2p + d·(k − 1) + output_padding + 1 (PyTorch ConvTranspose; Dumoulin & Visin 2016)."""
    return (n - 1) * s - 2 * p + effective_kernel(k, d) - 1 + output_padding + 1


def conv_transpose_weights(kernel: tuple[int, ...], c_in: int, c_out: int, groups: int = 1) -> int:
    """C_in·(C_out/groups)·Πk: PyTorch stores the weight as (C_in, C_out/groups, *k)."""
    return c_in * (c_out // groups) * prod(kernel)


def conv_transpose_macs(kernel: tuple[int, ...], c_in: int, c_out: int, in_sizes: tuple[int, ...],
                        groups: int = 1) -> int:
    """Every input element times every tap of its group's kernels: C_in·(C_out/groups)·Πk·Π(input sizes)."""
    return conv_transpose_weights(kernel, c_in, c_out, groups) * prod(in_sizes)


def conv_transpose_rf(k: int, s: int, p: int, d: int = 1):
    """A transposed conv as the receptive-field recursion sees it, in its input's units: output unit 0 reads
    the inputs i = (p − t·d)/s that are whole (t = 0 … k−1), spanning k' from −p'; the stride is 1/s.
    Where unit 0 reads no input at all (only the zeros between inputs), it counts as reading input ⌊p/s⌋."""
    taps = [(p - t * d) // s for t in range(k) if (p - t * d) % s == 0] or [p // s]
    return max(taps) - min(taps) + 1, whole(Fraction(1, s)), -min(taps), d if s == 1 else 1


def linear_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """(N_in + 1)·N_out with bias, N_in·N_out without."""
    return (n_in + (1 if bias else 0)) * n_out


def linear_macs(n_in: int, n_out: int) -> int:
    """N_in·N_out multiply-adds; the bias add is not a MAC."""
    return n_in * n_out


def adaptive_windows(n: int, out: int) -> list[int]:
    """PyTorch's adaptive pooling windows: [⌊i·n/out⌋, ⌈(i+1)·n/out⌉) for each output i (a list as long as
    `out`: the layers use the two closed forms below, whose work does not grow with the output size)."""
    return [-(-((i + 1) * n) // out) - (i * n) // out for i in range(out)]


def adaptive_window_total(n: int, out: int) -> int:
    """Σ of the adaptive windows' sizes = n + out − gcd(n, out).

    Σᵢ ⌈(i+1)n/out⌉ − Σᵢ ⌊i·n/out⌋: the ceilings are the floors shifted by one step (+n) plus one for every
    k in 1..out with out ∤ k·n (out − gcd of them)."""
    return n + out - math.gcd(n, out)


def adaptive_window_sizes(n: int, out: int) -> tuple[int, ...]:
    """The distinct adaptive window sizes, ascending: c = ⌈n/out⌉ (window 0), and c + 1 when a window starts
    late enough: window i spans ⌈f + n/out⌉ for f = (i·n mod out)/out, whose largest value is (out − g)/out."""
    c = -(-n // out)
    return (c, c + 1) if out - math.gcd(n, out) > out * c - n else (c,)


def rf_step(r: int, j: int, P: int, k_eff: int, s: int, p_before: int) -> tuple[int, int, int]:
    """Araujo et al. (Distill 2019): r ← r + (k−1)·j, P ← P + p·j, j ← j·s."""
    return whole(r + (k_eff - 1) * j), whole(j * s), whole(P + p_before * j)


def whole(x):
    """A Fraction that came out whole (a stride of 1/2 after a stride 2) back as an int."""
    return int(x) if isinstance(x, Fraction) and x.denominator == 1 else x


def rf_taps(seen: int, j: int, k_eff: int, d: int) -> int:
    """The input positions a field sees, as a bit mask over its r positions (bit t = t-th position from
    the field's start), after a layer with kernel k_eff = d·(k−1)+1 on the input's effective stride j:
    the union of the k taps' fields, tap t shifted by t·d·j. Without dilation the field has no holes."""
    out = 0
    for t in range(0, k_eff, d):
        out |= seen << (t * j)
    return out

"""maxpool, avgpool, adaptive_avgpool, adaptive_maxpool, global_avgpool: 1-, 2- or 3-D by their input."""
from __future__ import annotations

from typing import ClassVar, Optional

from pydantic import model_validator

from ..analysis import formulas as f
from ..errors import LayerError
from .base import Layer, Pad, Pair, RFStep, Saved, Shape, axis_letters, axis_notes, fmt_pair, fmt_shape, n, numel
from .conv import out_formula


class _Pool(Layer):
    needs_map = True
    ranks = (1, 2, 3)
    axis_fields = ("kernel", "stride", "padding")
    kernel: Pair
    stride: Optional[Pair] = None      # defaults to the kernel
    padding: Pad = 0
    ceil_mode: bool = False

    @model_validator(mode="after")
    def _check(self):
        for k, p in zip(self.kernel, self.padding):
            if p > k // 2:  # PyTorch: "pad should be at most half of (effective) kernel size"
                raise ValueError(f"padding {p} is more than half the kernel {k} (PyTorch allows at most {k // 2})")
        return self

    @property
    def strides(self) -> tuple[int, ...]:
        return self.stride or self.kernel

    @property
    def dilations(self) -> tuple[int, ...]:
        return (1,) * len(self.kernel)

    def check_input(self, ins):
        super().check_input(ins)
        for axis, size, k, s, d, p in zip(axis_letters(len(ins[0]) - 1), ins[0][1:], self.kernel, self.strides,
                                          self.dilations, self.padding):
            # With ceil_mode PyTorch keeps one window that starts inside the input even when the kernel
            # is larger than the padded input (the window is clipped): refuse only where it gives nothing.
            clipped = self.ceil_mode and f.pool_out(size, k, s, p, d, True) >= 1
            if f.effective_kernel(k, d) > size + 2 * p and not clipped:
                raise LayerError(f"kernel {f.effective_kernel(k, d)} is larger than the padded input "
                                 f"{axis}={size}+{2 * p}={size + 2 * p}")

    def output_shape(self, ins):
        return (ins[0][0],) + tuple(f.pool_out(size, k, s, p, d, self.ceil_mode) for size, k, s, p, d
                                    in zip(ins[0][1:], self.kernel, self.strides, self.padding, self.dilations))

    def leftover(self, ins, out):
        return tuple(f.remainder(size, k, s, p, p, d, o) for size, k, s, p, d, o
                     in zip(ins[0][1:], self.kernel, self.strides, self.padding, self.dilations, out[1:]))

    def rf_steps(self, ins):
        return tuple(RFStep(f.effective_kernel(k, d), s, p, d)
                     for k, d, s, p in zip(self.kernel, self.dilations, self.strides, self.padding))

    def config(self):
        s = f"{fmt_pair(self.kernel)}/{fmt_pair(self.strides)} p{fmt_pair(self.padding)}"
        if set(self.dilations) != {1}:
            s += f" d{fmt_pair(self.dilations)}"
        return s + (" ceil" if self.ceil_mode else "")

    def notes(self, ins, out):
        left = self.leftover(ins, out)
        other = [f.pool_out(size, k, s, p, d, not self.ceil_mode)
                 for size, k, s, p, d in zip(ins[0][1:], self.kernel, self.strides, self.padding, self.dilations)]
        rounding = "ceil" if self.ceil_mode else "floor"
        notes = (axis_notes(rounding, tuple(max(x, 0) for x in left), rounding + " drops {n} input {axes}")
                 + axis_notes("ceil", tuple(max(-x, 0) for x in left), "ceil pads {n} {axes} implicitly"))
        if tuple(other) != out[1:]:
            notes.append(f"{'floor' if self.ceil_mode else 'ceil'} would give {'×'.join(map(str, other))}")
        return notes

    def explain(self, ins, out):
        sizes = ins[0][1:]
        per_axis = list(zip(axis_letters(len(sizes)), sizes, self.kernel, self.strides, self.padding,
                            self.dilations, out[1:]))
        lines = []
        for axis, size, k, s, p, d, o in per_axis:
            line = f"output {axis}: {out_formula(size, k, s, p, p, d, self.ceil_mode)} = {o}"
            if self.ceil_mode and (o - 1) * s >= size + p:
                line += "  (last window would start in the padding: dropped)"
            alt = f.pool_out(size, k, s, p, d, not self.ceil_mode)
            if alt != o:
                line += f"  [{'floor' if self.ceil_mode else 'ceil'} would give {alt}]"
            lines.append(line)
            if len(per_axis) > 1 and len({x[1:6] for x in per_axis}) == 1:
                lines[-1] = line.replace(f"output {axis}:", f"output {' = '.join(x[0] for x in per_axis)}:")
                break
        lines.append(f"output: {fmt_shape(out)} (channels unchanged); params: 0")
        lines.append(f"other ops: {self.op_text()} = {n(self.other_ops(ins, out))}")
        return lines


class MaxPool(_Pool):
    kinds = ("maxpool", "maxpool1d", "maxpool2d", "maxpool3d")
    axis_fields = _Pool.axis_fields + ("dilation",)
    dilation: Pair = 1

    @property
    def dilations(self):
        return self.dilation

    def other_ops(self, ins, out):
        return (f.prod(self.kernel) - 1) * numel(out)  # k² − 1 comparisons per output

    def op_text(self):
        return f"({'·'.join(map(str, self.kernel))} − 1) comparisons × each output"

    def saved(self, ins, out, batch, grads):
        return [Saved("in0"), Saved("new", numel(out) * batch, "int64")]  # its input and the argmax indices

    def temp_elements(self, ins, out, batch):
        # a 1-D or 3-D max pool computes its int64 indices at inference too (2 fp32-sized elements each)
        return 2 * numel(out) * batch if len(ins[0]) != 3 else 0

    def torch_module(self, ins):
        from torch import nn
        cls = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[len(ins[0]) - 2]
        return cls(self.kernel, self.strides, self.padding, self.dilation, ceil_mode=self.ceil_mode)


class AvgPool(_Pool):
    kinds = ("avgpool", "avgpool1d", "avgpool2d", "avgpool3d")
    count_include_pad: bool = True

    def check_input(self, ins):
        super().check_input(ins)
        if len(ins[0]) == 4:  # PyTorch's avg_pool3d checks the unpadded input against the kernel
            for axis, size, k in zip("DHW", ins[0][1:], self.kernel):
                if size < k:
                    raise LayerError(f"{axis}={size} is smaller than the kernel {k}: PyTorch's AvgPool3d does not "
                                     "count the padding here")

    def other_ops(self, ins, out):
        return f.prod(self.kernel) * numel(out)  # k² − 1 adds + 1 division per output

    def op_text(self):
        return f"({'·'.join(map(str, self.kernel))} − 1 adds + 1 division) × each output"

    def saved(self, ins, out, batch, grads):
        return [Saved("in0")]

    def torch_module(self, ins):
        from torch import nn
        cls = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)[len(ins[0]) - 2]
        return cls(self.kernel, self.strides, self.padding, ceil_mode=self.ceil_mode,
                   count_include_pad=self.count_include_pad)


class AdaptiveAvgPool(Layer):
    kinds = ("adaptive_avgpool",)
    needs_map = True
    ranks = (1, 2, 3)
    axis_fields = ("output",)
    output: Optional[Pair] = None      # default 1 on every axis
    torch_names: ClassVar[tuple[str, ...]] = ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d")

    def outs(self, ins) -> tuple[int, ...]:
        return self.output or (1,) * (len(ins[0]) - 1)

    def output_shape(self, ins):
        return (ins[0][0],) + self.outs(ins)

    def sizes(self, ins) -> list[tuple[int, ...]]:
        """Per axis, the distinct window sizes (closed forms: no work grows with the output size)."""
        return [f.adaptive_window_sizes(size, o) for size, o in zip(ins[0][1:], self.outs(ins))]

    def totals(self, ins) -> list[int]:
        """Per axis, the sum of the window sizes."""
        return [f.adaptive_window_total(size, o) for size, o in zip(ins[0][1:], self.outs(ins))]

    def other_ops(self, ins, out):
        return ins[0][0] * f.prod(self.totals(ins))  # every window: its size − 1 adds + 1 division

    def rf_taps(self, ins, axis, u):
        # PyTorch's adaptive windows: [⌊u·n/o⌋, ⌈(u+1)·n/o⌉)
        n, o = ins[0][1 + axis], self.outs(ins)[axis]
        return range(u * n // o, -(-(u + 1) * n // o))

    def rf_steps(self, ins):
        # uniform windows when the size divides; otherwise the largest window, stride ⌊n/out⌋
        return tuple(RFStep(max(w), max(size // o, 1), 0)
                     for w, size, o in zip(self.sizes(ins), ins[0][1:], self.outs(ins)))

    def saved(self, ins, out, batch, grads):
        # torch computes an output of size 1 on every axis (1-, 2- or 3-D) as a mean, which keeps nothing;
        # other sizes keep the input
        return [] if set(self.outs(ins)) == {1} else [Saved("in0")]

    def config(self):
        return f"→{fmt_pair(self.output or (1,))}"

    def notes(self, ins, out):
        notes = []
        for axis, w, size, o in zip(axis_letters(len(ins[0]) - 1), self.sizes(ins), ins[0][1:], self.outs(ins)):
            if len(w) > 1:
                notes.append(f"uneven {axis} windows {list(w)}")
            if o > size:
                notes.append(f"{axis} upsampled {size} → {o}: windows overlap")
        return notes

    def explain(self, ins, out):
        sizes = "×".join(str(list(w)) for w in self.sizes(ins))
        return [f"output: {fmt_shape(out)}: each of the {'×'.join(map(str, out[1:]))} outputs {self.verb} a window "
                f"[⌊i·n/out⌋, ⌈(i+1)·n/out⌉) of sizes {sizes}; params: 0",
                f"other ops: {ins[0][0]}·{'·'.join(map(str, self.totals(ins)))}{self.ops_minus(ins, out)} = "
                f"{n(self.other_ops(ins, out))} ({self.ops_word})"]

    verb: ClassVar[str] = "averages"
    ops_word: ClassVar[str] = "window adds and divisions"

    def ops_minus(self, ins, out) -> str:
        return ""

    def torch_module(self, ins):
        from torch import nn
        return getattr(nn, self.torch_names[len(ins[0]) - 2])(self.outs(ins))


class AdaptiveMaxPool(AdaptiveAvgPool):
    """The largest value of each adaptive window: window size − 1 comparisons per output."""
    kinds = ("adaptive_maxpool",)
    torch_names = ("AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d")
    verb, ops_word = "takes the largest value of", "window size − 1 comparisons per output"

    def other_ops(self, ins, out):
        return ins[0][0] * (f.prod(self.totals(ins)) - f.prod(out[1:]))

    def saved(self, ins, out, batch, grads):
        return [Saved("in0"), Saved("new", numel(out) * batch, "int64")]  # its input and the argmax indices

    def temp_elements(self, ins, out, batch):
        # a 1-D or 3-D max pool computes its int64 indices at inference too (2 fp32-sized elements each)
        return 2 * numel(out) * batch if len(ins[0]) != 3 else 0

    def ops_minus(self, ins, out):
        return f" − {ins[0][0]}·{'·'.join(map(str, out[1:]))}"


class GlobalAvgPool(AdaptiveAvgPool):
    kinds = ("global_avgpool",)

    @model_validator(mode="after")
    def _one(self):
        if self.output is not None and set(self.output) != {1}:
            raise ValueError("global_avgpool always outputs 1×1; use adaptive_avgpool for other sizes")
        return self

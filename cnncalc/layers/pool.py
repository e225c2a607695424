"""maxpool, avgpool, adaptive_avgpool, global_avgpool."""
from __future__ import annotations

from typing import Optional

from pydantic import model_validator

from ..analysis import formulas as f
from ..errors import LayerError
from .base import Layer, Pad, Pair, RFStep, Saved, Shape, axis_notes, fmt_pair, fmt_shape, n, numel
from .conv import out_formula


class _Pool(Layer):
    needs_map = True
    kernel: Pair
    stride: Optional[Pair] = None      # defaults to the kernel
    padding: Pad = (0, 0)
    ceil_mode: bool = False

    @model_validator(mode="after")
    def _check(self):
        for k, p in zip(self.kernel, self.padding):
            if p > k // 2:  # PyTorch: "pad should be at most half of (effective) kernel size"
                raise ValueError(f"padding {p} is more than half the kernel {k} (PyTorch allows at most {k // 2})")
        return self

    @property
    def strides(self) -> tuple[int, int]:
        return self.stride or self.kernel

    @property
    def dilations(self) -> tuple[int, int]:
        return (1, 1)

    def check_input(self, ins):
        super().check_input(ins)
        for axis, size, k, s, d, p in zip("HW", ins[0][1:], self.kernel, self.strides, self.dilations, self.padding):
            # With ceil_mode PyTorch keeps one window that starts inside the input even when the kernel
            # is larger than the padded input (the window is clipped): refuse only where it gives nothing.
            clipped = self.ceil_mode and f.pool_out(size, k, s, p, d, True) >= 1
            if f.effective_kernel(k, d) > size + 2 * p and not clipped:
                raise LayerError(f"kernel {f.effective_kernel(k, d)} is larger than the padded input "
                                 f"{axis}={size}+{2 * p}={size + 2 * p}")

    def output_shape(self, ins):
        c, h, w = ins[0]
        return (c,) + tuple(f.pool_out(size, k, s, p, d, self.ceil_mode)
                            for size, k, s, p, d in zip((h, w), self.kernel, self.strides, self.padding, self.dilations))

    def leftover(self, ins, out):
        return tuple(f.remainder(size, k, s, p, p, d, o) for size, k, s, p, d, o
                     in zip(ins[0][1:], self.kernel, self.strides, self.padding, self.dilations, out[1:]))

    def rf_steps(self, ins):
        return tuple(RFStep(f.effective_kernel(k, d), s, p, d)
                     for k, d, s, p in zip(self.kernel, self.dilations, self.strides, self.padding))

    def config(self):
        s = f"{fmt_pair(self.kernel)}/{fmt_pair(self.strides)} p{fmt_pair(self.padding)}"
        if self.dilations != (1, 1):
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
            notes.append(f"{'floor' if self.ceil_mode else 'ceil'} would give {other[0]}×{other[1]}")
        return notes

    def explain(self, ins, out):
        c, h, w = ins[0]
        lines = []
        for axis, size, k, s, p, d, o in zip("HW", (h, w), self.kernel, self.strides, self.padding, self.dilations,
                                             out[1:]):
            line = f"output {axis}: {out_formula(size, k, s, p, p, d, self.ceil_mode)} = {o}"
            if self.ceil_mode and (o - 1) * s >= size + p:
                line += "  (last window would start in the padding: dropped)"
            alt = f.pool_out(size, k, s, p, d, not self.ceil_mode)
            if alt != o:
                line += f"  [{'floor' if self.ceil_mode else 'ceil'} would give {alt}]"
            lines.append(line)
            if (h, self.kernel[0], self.strides[0], self.padding[0]) == (w, self.kernel[1], self.strides[1],
                                                                         self.padding[1]) and self.dilations[0] == self.dilations[1]:
                lines[-1] = line.replace("output H:", "output H = W:")
                break
        lines.append(f"output: {fmt_shape(out)} (channels unchanged); params: 0")
        lines.append(f"other ops: {self.op_text()} = {n(self.other_ops(ins, out))}")
        return lines


class MaxPool(_Pool):
    kinds = ("maxpool",)
    dilation: Pair = (1, 1)

    @property
    def dilations(self):
        return self.dilation

    def other_ops(self, ins, out):
        return (self.kernel[0] * self.kernel[1] - 1) * numel(out)  # k² − 1 comparisons per output

    def op_text(self):
        return f"({self.kernel[0]}·{self.kernel[1]} − 1) comparisons × each output"

    def saved(self, ins, out, batch, grads):
        return [Saved("in0"), Saved("new", numel(out) * batch, "int64")]  # its input and the argmax indices

    def torch_module(self, ins):
        from torch import nn
        return nn.MaxPool2d(self.kernel, self.strides, self.padding, self.dilation, ceil_mode=self.ceil_mode)


class AvgPool(_Pool):
    kinds = ("avgpool",)
    count_include_pad: bool = True

    def other_ops(self, ins, out):
        return self.kernel[0] * self.kernel[1] * numel(out)  # k² − 1 adds + 1 division per output

    def op_text(self):
        return f"({self.kernel[0]}·{self.kernel[1]} − 1 adds + 1 division) × each output"

    def saved(self, ins, out, batch, grads):
        return [Saved("in0")]

    def torch_module(self, ins):
        from torch import nn
        return nn.AvgPool2d(self.kernel, self.strides, self.padding, ceil_mode=self.ceil_mode,
                            count_include_pad=self.count_include_pad)


class AdaptiveAvgPool(Layer):
    kinds = ("adaptive_avgpool",)
    needs_map = True
    output: Pair = (1, 1)

    def output_shape(self, ins):
        return (ins[0][0],) + self.output

    def sizes(self, ins) -> list[tuple[int, ...]]:
        """Per axis, the distinct window sizes (closed forms: no work grows with the output size)."""
        return [f.adaptive_window_sizes(size, o) for size, o in zip(ins[0][1:], self.output)]

    def other_ops(self, ins, out):
        th, tw = (f.adaptive_window_total(size, o) for size, o in zip(ins[0][1:], self.output))
        return ins[0][0] * th * tw  # every window: its size − 1 adds + 1 division

    def rf_taps(self, ins, axis, u):
        # PyTorch's adaptive windows: [⌊u·n/o⌋, ⌈(u+1)·n/o⌉)
        n, o = ins[0][1 + axis], self.output[axis]
        return range(u * n // o, -(-(u + 1) * n // o))

    def rf_steps(self, ins):
        # uniform windows when the size divides; otherwise the largest window, stride ⌊n/out⌋
        return tuple(RFStep(max(w), max(size // o, 1), 0) for w, size, o in zip(self.sizes(ins), ins[0][1:], self.output))

    def saved(self, ins, out, batch, grads):
        # torch computes a 1×1 output as a mean, which keeps nothing; other sizes keep the input
        return [] if self.output == (1, 1) else [Saved("in0")]

    def config(self):
        return f"→{fmt_pair(self.output)}"

    def notes(self, ins, out):
        notes = []
        for axis, w, size, o in zip("HW", self.sizes(ins), ins[0][1:], self.output):
            if len(w) > 1:
                notes.append(f"uneven {axis} windows {list(w)}")
            if o > size:
                notes.append(f"{axis} upsampled {size} → {o}: windows overlap")
        return notes

    def explain(self, ins, out):
        c, h, w = ins[0]
        (sh, sw), (th, tw) = self.sizes(ins), (f.adaptive_window_total(h, out[1]), f.adaptive_window_total(w, out[2]))
        return [f"output: {fmt_shape(out)}: each of the {out[1]}×{out[2]} outputs averages a window "
                f"[⌊i·n/out⌋, ⌈(i+1)·n/out⌉) of sizes {list(sh)}×{list(sw)}; params: 0",
                f"other ops: {c}·{th}·{tw} = {n(self.other_ops(ins, out))} (window adds and divisions)"]

    def torch_module(self, ins):
        from torch import nn
        return nn.AdaptiveAvgPool2d(self.output)


class GlobalAvgPool(AdaptiveAvgPool):
    kinds = ("global_avgpool",)

    @model_validator(mode="after")
    def _one(self):
        if self.output != (1, 1):
            raise ValueError("global_avgpool always outputs 1×1; use adaptive_avgpool for other sizes")
        return self

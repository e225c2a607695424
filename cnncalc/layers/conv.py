"""conv: 2-D convolution (dense, grouped, depthwise, dilated)."""
from __future__ import annotations

from typing import Literal, Union

from pydantic import model_validator

from ..analysis import formulas as f
from ..errors import LayerError
from .base import Layer, Pad, Pair, PosInt, RFStep, Saved, Shape, axis_notes, fmt_pair, fmt_shape, n


class Conv(Layer):
    kinds = ("conv",)
    weight_layer = True
    needs_map = True

    filters: PosInt
    kernel: Pair
    stride: Pair = (1, 1)
    padding: Union[Pad, Literal["same", "valid"]] = (0, 0)
    dilation: Pair = (1, 1)
    groups: PosInt = 1
    bias: bool = True

    @model_validator(mode="after")
    def _check(self):
        if self.padding == "same" and self.stride != (1, 1):
            raise ValueError("padding 'same' needs stride 1 (PyTorch refuses strided 'same'); "
                             "write the padding as numbers")
        if self.filters % self.groups:
            raise ValueError(f"groups={self.groups} does not divide filters={self.filters}")
        return self

    def pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right))."""
        if self.padding == "same":
            return f.same_padding(self.kernel[0], self.dilation[0]), f.same_padding(self.kernel[1], self.dilation[1])
        p = (0, 0) if self.padding == "valid" else self.padding
        return (p[0], p[0]), (p[1], p[1])

    def check_input(self, ins):
        super().check_input(ins)
        c = ins[0][0]
        if c % self.groups:
            raise LayerError(f"groups={self.groups} does not divide the {c} input channels")
        for axis, size, k, d, (pb, pa) in zip("HW", ins[0][1:], self.kernel, self.dilation, self.pads()):
            if f.effective_kernel(k, d) > size + pb + pa:
                raise LayerError(f"kernel {f.effective_kernel(k, d)} (k={k}, dilation={d}) is larger than the "
                                 f"padded input {axis}={size}+{pb + pa}={size + pb + pa}")

    def output_shape(self, ins):
        _, h, w = ins[0]
        (pt, pb), (pl, pr) = self.pads()
        return (self.filters,
                f.conv_out(h, self.kernel[0], self.stride[0], pt, pb, self.dilation[0]),
                f.conv_out(w, self.kernel[1], self.stride[1], pl, pr, self.dilation[1]))

    def weights(self, ins) -> int:
        return f.conv_weights(*self.kernel, ins[0][0], self.filters, self.groups)

    def biases(self, ins, out):
        return self.filters if self.bias else 0

    def params(self, ins, out):
        return self.weights(ins) + self.biases(ins, out)

    def macs(self, ins, out):
        return f.conv_macs(*self.kernel, ins[0][0], self.filters, out[1], out[2], self.groups)

    def leftover(self, ins, out):
        return tuple(f.remainder(size, k, s, pb, pa, d, o) for size, k, s, d, (pb, pa), o
                     in zip(ins[0][1:], self.kernel, self.stride, self.dilation, self.pads(), out[1:]))

    def backward_macs(self, ins, out, input_grad):
        # weight gradient: conv(input, grad_out), as many MACs as the forward; the input gradient
        # (a transposed conv of grad_out with the weight) as many again, when the input needs one
        return self.macs(ins, out) * (2 if input_grad else 1)

    def saved(self, ins, out, batch, grads):
        return [Saved("in0")]  # its input (and its weight, a parameter)

    def rf_steps(self, ins):
        return tuple(RFStep(f.effective_kernel(k, d), s, p[0], d)
                     for k, d, s, p in zip(self.kernel, self.dilation, self.stride, self.pads()))

    def config(self):
        (pt, pb), (pl, pr) = self.pads()
        pad = fmt_pair((pt, pl)) if (pt, pl) == (pb, pr) else f"{pt},{pb}×{pl},{pr}"
        s = f"{fmt_pair(self.kernel)}/{fmt_pair(self.stride)} p{pad}"
        if self.dilation != (1, 1):
            s += f" d{fmt_pair(self.dilation)}"
        if self.groups != 1:
            s += f" g{self.groups}"
        return s

    def notes(self, ins, out):
        notes = []
        if self.groups == ins[0][0] and self.groups > 1:
            notes.append("depthwise")
        left = tuple(max(x, 0) for x in self.leftover(ins, out))
        notes += axis_notes("floor", left, "floor drops {n} input {axes}")
        if not self.bias:
            notes.append("no bias")
        return notes

    def explain(self, ins, out):
        c_in, h, w = ins[0]
        lines = []
        for axis, size, k, s, d, (pb, pa), o in zip("HW", (h, w), self.kernel, self.stride, self.dilation,
                                                    self.pads(), out[1:]):
            lines.append(f"output {axis}: {out_formula(size, k, s, pb, pa, d, ceil=False)} = {o}")
            if self.kernel[0] == self.kernel[1] and self.stride[0] == self.stride[1] and h == w \
                    and self.dilation[0] == self.dilation[1] and self.pads()[0] == self.pads()[1]:
                lines[-1] = lines[-1].replace("output H:", "output H = W:")
                break
        lines.append(f"output: {fmt_shape(out)} ({self.filters} filter{'s' if self.filters != 1 else ''})")
        per_group = c_in // self.groups
        kk = f"{self.kernel[0]}·{self.kernel[1]}·{per_group}"
        gnote = f"  (C_in/groups = {c_in}/{self.groups} = {per_group})" if self.groups > 1 else ""
        if self.bias:
            lines.append(f"params: ({kk} + 1)·{self.filters} = {n(self.params(ins, out))}"
                         f"  (weights {n(self.weights(ins))} + biases {self.filters}){gnote}")
        else:
            lines.append(f"params: {kk}·{self.filters} = {n(self.params(ins, out))}  (no bias){gnote}")
        macs = self.macs(ins, out)
        lines.append(f"MACs: {kk}·{out[1]}·{out[2]}·{self.filters} = {n(macs)}"
                     f"  (k_h·k_w·C_in/groups · H_out·W_out · C_out)")
        lines.append(f"FLOPs: 2·MACs = {n(2 * macs)}  (per output: {self.kernel[0] * self.kernel[1] * per_group} "
                     f"multiplications + {self.kernel[0] * self.kernel[1] * per_group - 1} additions + 1 bias add)")
        return lines

    def torch_module(self, ins):
        from torch import nn
        padding = "same" if self.padding == "same" else tuple(p for p, _ in self.pads())
        return nn.Conv2d(ins[0][0], self.filters, self.kernel, self.stride, padding,
                         self.dilation, self.groups, self.bias)


def out_formula(size: int, k: int, s: int, pb: int, pa: int, d: int, ceil: bool) -> str:
    """The course's way of writing the output-size formula for one axis."""
    lo, hi = ("⌈", "⌉") if ceil else ("⌊", "⌋")
    pad = f"2·{pb}" if pb == pa else f"{pb} + {pa}"
    if d == 1:
        return f"{lo}({size} − {k} + {pad})/{s}{hi} + 1"
    return f"{lo}({size} + {pad} − {d}·({k} − 1) − 1)/{s}{hi} + 1"

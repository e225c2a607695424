"""conv: 1-, 2- or 3-D convolution (dense, grouped, depthwise, dilated), by the rank of its input."""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import model_validator

from ..analysis import formulas as f
from ..errors import LayerError
from .reparam import Reparametrised
from .base import Layer, check_in_channels, Pad, Pair, PosInt, RFStep, Saved, Shape, axis_letters, axis_notes, fmt_pair, fmt_shape, n, numel


class Conv(Reparametrised, Layer):
    kinds = ("conv", "conv1d", "conv2d", "conv3d")
    weight_layer = True
    needs_map = True
    ranks = (1, 2, 3)
    axis_fields = ("kernel", "stride", "padding", "dilation")

    filters: PosInt
    kernel: Pair
    stride: Pair = 1
    padding: Union[Pad, Literal["same", "valid"]] = 0
    dilation: Pair = 1
    groups: PosInt = 1
    bias: bool = True
    in_channels: Optional[PosInt] = None
    weight_norm: bool = False
    spectral_norm: bool = False

    @model_validator(mode="after")
    def _check(self):
        if self.padding == "same" and set(self.stride) != {1}:
            raise ValueError("padding 'same' needs stride 1 (PyTorch refuses strided 'same'); "
                             "write the padding as numbers")
        if self.filters % self.groups:
            raise ValueError(f"groups={self.groups} does not divide filters={self.filters}")
        return self

    def pads(self) -> tuple[tuple[int, int], ...]:
        """(before, after) per spatial axis: ((top, bottom), (left, right)) on a C×H×W map."""
        if self.padding == "same":
            return tuple(f.same_padding(k, d) for k, d in zip(self.kernel, self.dilation))
        p = (0,) * len(self.kernel) if self.padding == "valid" else self.padding
        return tuple((x, x) for x in p)

    def check_input(self, ins):
        super().check_input(ins)
        check_in_channels(self.in_channels, ins)
        c = ins[0][0]
        if c % self.groups:
            raise LayerError(f"groups={self.groups} does not divide the {c} input channels")
        for axis, size, k, d, (pb, pa) in zip(axis_letters(len(ins[0]) - 1), ins[0][1:], self.kernel,
                                              self.dilation, self.pads()):
            if f.effective_kernel(k, d) > size + pb + pa:
                raise LayerError(f"kernel {f.effective_kernel(k, d)} (k={k}, dilation={d}) is larger than the "
                                 f"padded input {axis}={size}+{pb + pa}={size + pb + pa}")

    def output_shape(self, ins):
        return (self.filters,) + tuple(f.conv_out(size, k, s, pb, pa, d) for size, k, s, d, (pb, pa)
                                       in zip(ins[0][1:], self.kernel, self.stride, self.dilation, self.pads()))

    def weights(self, ins) -> int:
        return f.conv_weights_nd(self.kernel, ins[0][0], self.filters, self.groups)

    def weight_shape(self, ins):
        return (self.filters, ins[0][0] // self.groups) + self.kernel

    def biases(self, ins, out):
        return self.filters if self.bias else 0

    def params(self, ins, out):
        return self.weights(ins) + self.biases(ins, out) + self.norm_params(ins)

    def buffers(self, ins, out):
        return self.norm_buffers(ins)

    def macs(self, ins, out):
        return f.conv_macs_nd(self.kernel, ins[0][0], self.filters, out[1:], self.groups)

    def leftover(self, ins, out):
        return tuple(f.remainder(size, k, s, pb, pa, d, o) for size, k, s, d, (pb, pa), o
                     in zip(ins[0][1:], self.kernel, self.stride, self.dilation, self.pads(), out[1:]))

    def backward_macs(self, ins, out, input_grad):
        # weight gradient: conv(input, grad_out), as many MACs as the forward; the input gradient
        # (a transposed conv of grad_out with the weight) as many again, when the input needs one
        return self.macs(ins, out) * (2 if input_grad else 1)

    def saved(self, ins, out, batch, grads):
        return [Saved("in0")] + self.norm_saved(ins)  # its input (and its weight, a parameter)

    def temp_elements(self, ins, out, batch):
        return self.norm_temp(ins, numel(out) * batch)

    def rf_steps(self, ins):
        return tuple(RFStep(f.effective_kernel(k, d), s, p[0], d)
                     for k, d, s, p in zip(self.kernel, self.dilation, self.stride, self.pads()))

    def config(self):
        pads = self.pads()
        before = tuple(b for b, _ in pads)
        pad = fmt_pair(before) if before == tuple(a for _, a in pads) else "×".join(f"{b},{a}" for b, a in pads)
        s = f"{fmt_pair(self.kernel)}/{fmt_pair(self.stride)} p{pad}"
        if set(self.dilation) != {1}:
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
        return notes + self.norm_notes()

    def explain(self, ins, out):
        c_in, sizes = ins[0][0], ins[0][1:]
        lines = []
        per_axis = list(zip(axis_letters(len(sizes)), sizes, self.kernel, self.stride, self.dilation, self.pads(), out[1:]))
        for axis, size, k, s, d, (pb, pa), o in per_axis:
            lines.append(f"output {axis}: {out_formula(size, k, s, pb, pa, d, ceil=False)} = {o}")
            if len(per_axis) > 1 and len({x[1:6] for x in per_axis}) == 1:
                lines[-1] = lines[-1].replace(f"output {axis}:", f"output {' = '.join(x[0] for x in per_axis)}:")
                break
        lines.append(f"output: {fmt_shape(out)} ({self.filters} filter{'s' if self.filters != 1 else ''})")
        per_group = c_in // self.groups
        kk = "·".join(map(str, self.kernel)) + f"·{per_group}"
        gnote = f"  (C_in/groups = {c_in}/{self.groups} = {per_group})" if self.groups > 1 else ""
        plain = self.weights(ins) + self.biases(ins, out)
        if self.bias:
            lines.append(f"params: ({kk} + 1)·{self.filters} = {n(plain)}"
                         f"  (weights {n(self.weights(ins))} + biases {self.filters}){gnote}")
        else:
            lines.append(f"params: {kk}·{self.filters} = {n(plain)}  (no bias){gnote}")
        lines += self.norm_explain(ins)
        macs = self.macs(ins, out)
        letters = axis_letters(len(sizes)).lower() if len(sizes) > 1 else ""
        ks = "·".join(f"k_{a}" for a in letters) or "k"
        outs = "·".join(f"{a.upper()}_out" for a in (letters or "l"))
        lines.append(f"MACs: {kk}·{'·'.join(map(str, out[1:]))}·{self.filters} = {n(macs)}"
                     f"  ({ks}·C_in/groups · {outs} · C_out)")
        taps = f.prod(self.kernel) * per_group
        lines.append(f"FLOPs: 2·MACs = {n(2 * macs)}  (per output: {taps} multiplications + {taps - 1} additions"
                     " + 1 bias add)")
        return lines

    def torch_module(self, ins):
        from torch import nn
        padding = "same" if self.padding == "same" else tuple(p for p, _ in self.pads())
        cls = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[len(ins[0]) - 2]
        return self.reparametrise(cls(ins[0][0], self.filters, self.kernel, self.stride, padding, self.dilation,
                                      self.groups, self.bias))


def out_formula(size: int, k: int, s: int, pb: int, pa: int, d: int, ceil: bool) -> str:
    """The course's way of writing the output-size formula for one axis."""
    lo, hi = ("⌈", "⌉") if ceil else ("⌊", "⌋")
    pad = f"2·{pb}" if pb == pa else f"{pb} + {pa}"
    if d == 1:
        return f"{lo}({size} − {k} + {pad})/{s}{hi} + 1"
    return f"{lo}({size} + {pad} − {d}·({k} − 1) − 1)/{s}{hi} + 1"

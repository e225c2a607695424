"""subsample: LeNet-5's trainable subsampling (S2, S4 in LeCun et al. 1998).

Each output unit adds the k×k inputs of its window, multiplies the sum by one trainable
coefficient and adds one trainable bias, both per map: 2 params per map. Counted as a
depthwise k×k conv whose k·k weights are that one shared coefficient: k·k MACs per output, and
the paper's "connections" (k·k + 1 per output: 5,880 for S2) follow.

    - {name: S2, type: subsample, kernel: 2}     # stride defaults to the kernel
"""
from __future__ import annotations

from typing import Optional

from ..analysis import formulas as f
from ..errors import LayerError
from .base import Layer, Pair, RFStep, Saved, fmt_pair, fmt_shape, n, numel


class Subsample(Layer):
    kinds = ("subsample",)
    needs_map = True

    kernel: Pair
    stride: Optional[Pair] = None
    bias: bool = True

    @property
    def strides(self) -> tuple[int, int]:
        return self.stride or self.kernel

    def check_input(self, ins):
        super().check_input(ins)
        for axis, size, k in zip("HW", ins[0][1:], self.kernel):
            if k > size:
                raise LayerError(f"kernel {k} is larger than the input {axis}={size}")

    def output_shape(self, ins):
        c, h, w = ins[0]
        return (c,) + tuple(f.conv_out(size, k, s) for size, k, s in zip((h, w), self.kernel, self.strides))

    def biases(self, ins, out):
        return out[0] if self.bias else 0

    def params(self, ins, out):
        return out[0] + self.biases(ins, out)

    def macs(self, ins, out):
        return numel(self.kernel) * numel(out)

    def backward_macs(self, ins, out, input_grad):
        return self.macs(ins, out) * (2 if input_grad else 1)  # as a depthwise conv: weight and input gradients

    def saved(self, ins, out, batch, grads):
        return [Saved("in0")]

    def rf_steps(self, ins):
        return tuple(RFStep(k, s, 0) for k, s in zip(self.kernel, self.strides))

    def config(self):
        return f"{fmt_pair(self.kernel)}/{fmt_pair(self.strides)}"

    def explain(self, ins, out):
        c, h, w = ins[0]
        kk = "·".join(map(str, self.kernel))
        lines = [f"output {axis}: ⌊({size} − {k})/{s}⌋ + 1 = {o}" for axis, size, k, s, o
                 in zip("HW", (h, w), self.kernel, self.strides, out[1:])]
        if lines[0].split(": ", 1)[1] == lines[1].split(": ", 1)[1]:
            lines = [lines[0].replace("output H:", "output H = W:")]
        lines.append(f"output: {fmt_shape(out)} (channels unchanged)")
        b = self.biases(ins, out)
        lines.append(f"params: {c} coefficients{f' + {b} biases' if b else ''} = {n(self.params(ins, out))}  "
                     f"(one of each per map)")
        lines.append(f"MACs: {kk}·{c}·{out[1]}·{out[2]} = {n(self.macs(ins, out))}  (the window's {kk} inputs "
                     f"times the map's coefficient)")
        lines.append(f"connections: ({kk} + {1 if b else 0})·{c}·{out[1]}·{out[2]} = "
                     f"{n(self.macs(ins, out) + b * out[1] * out[2])}")
        return lines

    def torch_module(self, ins):
        from ..pytorch.ops import Subsample as TorchSubsample
        return TorchSubsample(ins[0][0], self.kernel, self.strides, self.bias)

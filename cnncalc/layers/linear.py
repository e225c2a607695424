"""linear: a fully connected layer; after a C×H×W map it flattens it first."""
from __future__ import annotations

from ..analysis import formulas as f
from .reparam import Reparametrised
from .base import Layer, PosInt, RFStep, Saved, fmt_shape, n, numel


class Linear(Reparametrised, Layer):
    kinds = ("linear",)
    weight_layer = True
    out: PosInt
    bias: bool = True
    weight_norm: bool = False
    spectral_norm: bool = False

    def output_shape(self, ins):
        return (self.out,)

    def weight_shape(self, ins):
        return (self.out, numel(ins[0]))

    def params(self, ins, out):
        return f.linear_params(numel(ins[0]), self.out, self.bias) + self.norm_params(ins)

    def buffers(self, ins, out):
        return self.norm_buffers(ins)

    def biases(self, ins, out):
        return self.out if self.bias else 0

    def macs(self, ins, out):
        return f.linear_macs(numel(ins[0]), self.out)

    def backward_macs(self, ins, out, input_grad):
        # grad W = grad_outᵀ·x (N_in·N_out MACs); grad x = grad_out·W (as many, when the input needs it)
        return self.macs(ins, out) * (2 if input_grad else 1)

    def saved(self, ins, out, batch, grads):
        return [Saved("in0")]  # addmm keeps its input (a flattened view of it) and, with a gradient, Wᵀ

    def rf_steps(self, ins):
        if len(ins[0]) < 2:
            return None  # a vector is already the whole input
        return tuple(RFStep(size, 1, 0) for size in ins[0][1:])  # sees the whole map

    def config(self):
        return f"→{self.out}"

    def notes(self, ins, out):
        notes = [f"flattens {fmt_shape(ins[0])} → {numel(ins[0]):,}"] if len(ins[0]) >= 2 else []
        return notes + ([] if self.bias else ["no bias"]) + self.norm_notes()

    def explain(self, ins, out):
        n_in = numel(ins[0])
        src = f"{'·'.join(map(str, ins[0]))} = {n(n_in)}" if len(ins[0]) >= 2 else n(n_in)
        lines = [f"N_in = {src}, N_out = {self.out}"]
        plain = f.linear_params(n_in, self.out, self.bias)
        if self.bias:
            lines.append(f"params: (N_in + 1)·N_out = ({n(n_in)} + 1)·{n(self.out)} = {n(plain)}")
        else:
            lines.append(f"params: N_in·N_out = {n(n_in)}·{n(self.out)} = {n(plain)}  (no bias)")
        lines += self.norm_explain(ins)
        macs = self.macs(ins, out)
        lines.append(f"MACs: N_in·N_out = {n(macs)}")
        lines.append(f"FLOPs: 2·N_in·N_out = {n(2 * macs)}  (per output: {n(n_in)} multiplications + "
                     f"{n(n_in - 1)} additions + 1 bias add)")
        return lines

    def torch_module(self, ins):
        from torch import nn
        lin = self.reparametrise(nn.Linear(numel(ins[0]), self.out, self.bias))
        return nn.Sequential(nn.Flatten(), lin) if len(ins[0]) != 1 else lin

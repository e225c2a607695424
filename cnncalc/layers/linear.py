"""linear: a fully connected layer. After a map it flattens it first, unless `over` says which axis it acts on:
`channels` (the C values at each position: a 1×1 conv's figures, PyTorch's Linear on the last axis after a
permute), or `last` (PyTorch's Linear as written, on the last axis: after a permute to L×C, the C values)."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

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
    over: Optional[Literal["channels", "last"]] = Field(
        None, description="On a map: `channels` acts on the C values at each position (a 1×1 conv's figures), "
                          "`last` on the last axis (PyTorch's Linear after a permute); absent: flatten the map first.")

    def axis(self, ins) -> int | None:
        """The axis of the per-sample shape it acts on; None when it flattens (or the input is a vector)."""
        if len(ins[0]) < 2 or self.over is None:
            return None
        return 0 if self.over == "channels" else len(ins[0]) - 1

    def n_in(self, ins) -> int:
        a = self.axis(ins)
        return numel(ins[0]) if a is None else ins[0][a]

    def positions(self, ins) -> int:
        """How many times the N_in → N_out product runs: once, or once per position of the map."""
        return numel(ins[0]) // self.n_in(ins)

    def output_shape(self, ins):
        a = self.axis(ins)
        return (self.out,) if a is None else ins[0][:a] + (self.out,) + ins[0][a + 1:]

    def weight_shape(self, ins):
        return (self.out, self.n_in(ins))

    def params(self, ins, out):
        return f.linear_params(self.n_in(ins), self.out, self.bias) + self.norm_params(ins)

    def buffers(self, ins, out):
        return self.norm_buffers(ins)

    def biases(self, ins, out):
        return self.out if self.bias else 0

    def macs(self, ins, out):
        return f.linear_macs(self.n_in(ins), self.out) * self.positions(ins)

    def backward_macs(self, ins, out, input_grad):
        # grad W = grad_outᵀ·x (N_in·N_out MACs); grad x = grad_out·W (as many, when the input needs it)
        return self.macs(ins, out) * (2 if input_grad else 1)

    def moves_channels(self, ins) -> bool:
        """`over: channels` on a map whose channels are not already last in memory: torch copies the input
        (moved to channels-last) before the product, unless the move leaves it contiguous (C or positions 1)."""
        return self.axis(ins) == 0 and ins[0][0] > 1 and self.positions(ins) > 1

    def saved(self, ins, out, batch, grads):
        # addmm keeps its input (a view of it) — or, moved to channels-last, the copy — and, where the input
        # needs a gradient, Wᵀ (with weight_norm / spectral_norm: the weight computed this forward)
        kept = [Saved("new", numel(ins[0]) * batch)] if self.moves_channels(ins) else [Saved("in0")]
        return kept + self.norm_saved(ins, weight_kept=grads[0])

    def temp_elements(self, ins, out, batch):
        return (numel(ins[0]) * batch if self.moves_channels(ins) else 0) + self.norm_temp(ins, numel(out) * batch)

    def rf_steps(self, ins):
        if len(ins[0]) < 2:
            return None  # a vector is already the whole input
        a = self.axis(ins)
        if a == 0:
            return None  # per position
        if a is None:
            return tuple(RFStep(size, 1, 0) for size in ins[0][1:])  # sees the whole map
        # `last`: every unit reads the whole last axis (stride 0: its window does not move), one position elsewhere
        return tuple(RFStep(size, 0, 0) if i == a - 1 else RFStep(1, 1, 0) for i, size in enumerate(ins[0][1:]))

    def config(self):
        return f"→{self.out}" + (f" over {'C' if self.over == 'channels' else 'last'}" if self.over else "")

    def notes(self, ins, out):
        notes = [f"flattens {fmt_shape(ins[0])} → {numel(ins[0]):,}"] if self.flattens(ins) else []
        return notes + ([] if self.bias else ["no bias"]) + self.norm_notes()

    def flattens(self, ins) -> bool:
        return len(ins[0]) >= 2 and self.over is None

    def remark(self, ins, out):
        if not self.flattens(ins) or numel(ins[0][1:]) == 1:
            return None   # a 1×1 map (after a global pool): flattening it is acting on its channels
        return (f"linear flattens {fmt_shape(ins[0])} → {numel(ins[0]):,} and multiplies it whole "
                f"(`over: channels` acts at each position: {ins[0][0]:,} → {self.out:,})")

    def explain(self, ins, out):
        n_in, a, per = self.n_in(ins), self.axis(ins), self.positions(ins)
        if a is not None:
            where = "C" if a == 0 else "the last axis"
            src = f"{n(n_in)} ({where} of {fmt_shape(ins[0])}), at each of {n(per)} positions"
        else:
            src = f"{'·'.join(map(str, ins[0]))} = {n(n_in)}" if len(ins[0]) >= 2 else n(n_in)
        lines = [f"N_in = {src}, N_out = {self.out}"]
        plain = f.linear_params(n_in, self.out, self.bias)
        if self.bias:
            lines.append(f"params: (N_in + 1)·N_out = ({n(n_in)} + 1)·{n(self.out)} = {n(plain)}")
        else:
            lines.append(f"params: N_in·N_out = {n(n_in)}·{n(self.out)} = {n(plain)}  (no bias)")
        lines += self.norm_explain(ins)
        macs = self.macs(ins, out)
        lines.append(f"MACs: N_in·N_out{'·positions' if a is not None else ''} = {n(macs)}")
        lines.append(f"FLOPs: 2·MACs = {n(2 * macs)}  (per output: {n(n_in)} multiplications + "
                     f"{n(n_in - 1)} additions + 1 bias add)")
        return lines

    def torch_module(self, ins):
        from torch import nn
        a = self.axis(ins)
        if a == 0:
            from ..pytorch.ops import ChannelLinear
            return self.reparametrise(ChannelLinear(ins[0][0], self.out, self.bias))
        lin = self.reparametrise(nn.Linear(self.n_in(ins), self.out, self.bias))
        return nn.Sequential(nn.Flatten(), lin) if len(ins[0]) != 1 and a is None else lin

"""sparse_conv: a convolution whose output maps each see only some input maps (a connection table).

LeNet-5's C3 as LeCun et al. 1998 print it (Table I): each of the 16 maps sees 3, 4 or all 6 of
S2's maps, 60 of the 96 pairs, "to keep the number of connections within reasonable bounds" and
"to break the symmetry". `table` lists, per output map, the input maps it connects to (from 0):

    - {name: C3, type: sparse_conv, kernel: 5, table: [[0, 1, 2], [1, 2, 3], …, [0, 1, 2, 3, 4, 5]]}

Weights k·k per connected pair, one bias per output map; MACs k·k per pair per output position.
The torch module runs one small dense conv per output map over its connected inputs, so torch's
FLOP counter sees exactly the connected multiply-adds.
"""
from __future__ import annotations

from pydantic import field_validator

from ..analysis import formulas as f
from ..errors import LayerError
from .base import Layer, Pad, Pair, RFStep, Saved, fmt_pair, fmt_shape, n, numel


class SparseConv(Layer):
    kinds = ("sparse_conv",)
    weight_layer = True
    needs_map = True

    table: tuple[tuple[int, ...], ...]
    kernel: Pair
    stride: Pair = (1, 1)
    padding: Pad = (0, 0)
    bias: bool = True

    @field_validator("table")
    @classmethod
    def _check_table(cls, v):
        if not v:
            raise ValueError("expected one list of input maps per output map, e.g. [[0, 1, 2], [1, 2, 3]]")
        for i, row in enumerate(v):
            if not row or len(set(row)) != len(row) or min(row) < 0:
                raise ValueError(f"output map {i}: expected distinct input maps ≥ 0, got {row}")
        return v

    @property
    def filters(self) -> int:
        return len(self.table)

    @property
    def pairs(self) -> int:
        """Connected (input map, output map) pairs."""
        return sum(len(row) for row in self.table)

    def check_input(self, ins):
        super().check_input(ins)
        c = ins[0][0]
        worst = max(max(row) for row in self.table)
        if worst >= c:
            raise LayerError(f"the table names input map {worst}, but the input has {c} maps (0 … {c - 1})")
        for axis, size, k, p in zip("HW", ins[0][1:], self.kernel, self.padding):
            if k > size + 2 * p:
                raise LayerError(f"kernel {k} is larger than the padded input {axis}={size}+{2 * p}")

    def output_shape(self, ins):
        _, h, w = ins[0]
        return (self.filters,) + tuple(f.conv_out(size, k, s, p, p) for size, k, s, p
                                       in zip((h, w), self.kernel, self.stride, self.padding))

    def weights(self) -> int:
        return numel(self.kernel) * self.pairs

    def biases(self, ins, out):
        return self.filters if self.bias else 0

    def params(self, ins, out):
        return self.weights() + self.biases(ins, out)

    def macs(self, ins, out):
        return self.weights() * out[1] * out[2]

    def backward_macs(self, ins, out, input_grad):
        return self.macs(ins, out) * (2 if input_grad else 1)

    def saved(self, ins, out, batch, grads):
        # torch gathers each output map's input maps (x[:, row], a copy) for its own conv, which keeps it;
        # the gather keeps its int64 indices when the input needs a gradient
        plane = numel(ins[0][1:]) * batch
        saved = [Saved("new", len(row) * plane) for row in self.table]
        return saved + ([Saved("new", len(row), "int64") for row in self.table] if grads[0] else [])

    def temp_elements(self, ins, out, batch):
        # the maps so far, the next map's gathered inputs and its output; at the end all maps beside the output
        per_map, plane = numel(out[1:]), numel(ins[0][1:])
        worst = max((i + 1) * per_map + len(row) * plane for i, row in enumerate(self.table))
        return max(worst - self.filters * per_map, self.filters * per_map) * batch

    def rf_steps(self, ins):
        return tuple(RFStep(k, s, p) for k, s, p in zip(self.kernel, self.stride, self.padding))

    def config(self):
        return f"{fmt_pair(self.kernel)}/{fmt_pair(self.stride)} p{fmt_pair(self.padding)} table"

    def notes(self, ins, out):
        return [f"sparse: {self.pairs} of {ins[0][0]}·{self.filters} = {ins[0][0] * self.filters} map pairs"]

    def explain(self, ins, out):
        c_in, h, w = ins[0]
        kk = "·".join(map(str, self.kernel))
        sizes: dict[int, int] = {}
        for row in self.table:
            sizes[len(row)] = sizes.get(len(row), 0) + 1
        rows = " + ".join(f"{m}·{s}" for s, m in sorted(sizes.items()))
        lines = [f"output {axis}: ⌊({size} − {k} + 2·{p})/{s}⌋ + 1 = {o}" for axis, size, k, s, p, o
                 in zip("HW", (h, w), self.kernel, self.stride, self.padding, out[1:])]
        if lines[0].split(": ", 1)[1] == lines[1].split(": ", 1)[1]:
            lines = [lines[0].replace("output H:", "output H = W:")]
        lines.append(f"output: {fmt_shape(out)} ({self.filters} maps)")
        bias = f" + {self.filters}" if self.bias else ""
        lines.append(f"params: {kk}·({rows}){bias} = {n(self.params(ins, out))}  (the table connects "
                     f"{self.pairs} of the {c_in}·{self.filters} = {c_in * self.filters} map pairs)")
        lines.append(f"MACs: {kk}·{self.pairs}·{out[1]}·{out[2]} = {n(self.macs(ins, out))}")
        lines.append(f"connections: ({n(self.weights())}{bias})·{out[1]}·{out[2]} = "
                     f"{n((self.params(ins, out)) * out[1] * out[2])}  (weights and biases, once per position)")
        return lines

    def torch_module(self, ins):
        from ..pytorch.ops import TableConv
        return TableConv(self.table, self.kernel, self.stride, self.padding, self.bias)

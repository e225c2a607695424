"""rbf: LeNet-5's output layer, Euclidean radial basis function units (LeCun et al. 1998).

Each of the `out` units computes y_i = Σ_j (x_j − w_ij)², the squared distance between the input
vector and its parameter vector. The paper fixes those vectors by hand (stylised ±1 bitmaps of
the characters), so they are not trained: counted as buffers, not params. One multiply-accumulate
per (input, unit) pair: N_in·N_out MACs, and as many of the paper's "connections".
"""
from __future__ import annotations

from .base import Layer, PosInt, Saved, n, numel


class RBF(Layer):
    kinds = ("rbf",)
    out: PosInt

    def output_shape(self, ins):
        return (self.out,)

    def buffers(self, ins, out):
        return numel(ins[0]) * self.out

    def macs(self, ins, out):
        return numel(ins[0]) * self.out

    def backward_macs(self, ins, out, input_grad):
        # the centres are fixed: only the input's gradient, through x·wᵀ (N_in·N_out MACs)
        return self.macs(ins, out) if input_grad else 0

    def saved(self, ins, out, batch, grads):
        return [Saved("in0")]  # x (for x², and as the product's factor); the centres are a buffer

    def temp_elements(self, ins, out, batch):
        # torch computes |x|² − 2·x·Wᵀ + |W|²: |x|², 2x and x·Wᵀ alive together, later W∘W (not per sample)
        # with the difference and its row sums
        n_in = numel(ins[0])
        inside = max(batch * (1 + n_in + self.out), batch * self.out + n_in * self.out + self.out)
        return inside - batch * self.out

    def config(self):
        return f"→{self.out}"

    def explain(self, ins, out):
        n_in = numel(ins[0])
        return [f"output: {self.out} (one squared distance per unit)",
                f"params: 0 (the {n_in}·{self.out} = {n(n_in * self.out)} centre values are fixed: buffers)",
                f"MACs: {n_in}·{self.out} = {n(n_in * self.out)}  (Σ_j (x_j − w_ij)², one per pair)"]

    def torch_module(self, ins):
        from ..pytorch.ops import RBF as TorchRBF
        return TorchRBF(numel(ins[0]), self.out)

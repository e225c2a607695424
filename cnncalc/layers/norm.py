"""batchnorm and lrn."""
from __future__ import annotations

from pydantic import PositiveFloat

from .base import Layer, PosInt, Saved, n, numel


class BatchNorm(Layer):
    kinds = ("batchnorm",)
    eps: PositiveFloat = 1e-5
    affine: bool = True

    def params(self, ins, out):
        return 2 * ins[0][0] if self.affine else 0  # γ and β per channel

    def buffers(self, ins, out):
        return 2 * ins[0][0] + 1  # running mean and variance per channel + PyTorch's num_batches_tracked

    def other_ops(self, ins, out):
        return 2 * numel(out)  # inference: one multiply and one add per element (folded scale/shift)

    def saved(self, ins, out, batch, grads):
        # training: its input and the batch statistics (save_mean, save_invstd: C each, fp32), besides
        # γ and the running stats, which are parameters and buffers
        c = ins[0][0]
        return [Saved("in0"), Saved("new", c, "fp32"), Saved("new", c, "fp32")]

    def explain(self, ins, out):
        c = ins[0][0]
        return [f"output: same shape {'×'.join(map(str, out))}",
                f"params: 2·C = 2·{c} = {2 * c} (γ, β)" if self.affine else "params: 0 (affine: false)",
                f"buffers (not trainable): 2·C + 1 = {2 * c + 1} (running mean, running var, num_batches_tracked)",
                f"other ops: 2 per element = {n(self.other_ops(ins, out))}"]

    def torch_module(self, ins):
        from torch import nn
        return (nn.BatchNorm2d if len(ins[0]) == 3 else nn.BatchNorm1d)(ins[0][0], eps=self.eps, affine=self.affine)


class LRN(Layer):
    """Local response normalisation across channels (AlexNet), as torch.nn.LocalResponseNorm."""
    kinds = ("lrn",)
    needs_map = True
    size: PosInt = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def other_ops(self, ins, out):
        # per element: `size` squares summed (size multiply-adds), then scale, power and divide
        return (self.size + 3) * numel(out)

    def config(self):
        return f"size {self.size}"

    def saved(self, ins, out, batch, grads):
        # torch composes it: x², zero-padded on channels (C + size − 1) and averaged, scaled, raised to β,
        # then x / that; autograd keeps x, the padded squares, the base of the power and its result
        c, *spatial = ins[0]
        per = numel(tuple(spatial)) * batch
        return [Saved("in0"), Saved("new", (c + self.size - 1) * per), Saved("new", c * per), Saved("new", c * per)]

    def temp_elements(self, ins, out, batch):
        # inference, besides x and (counted apart) the output: first x² with its padded copy (C + size − 1
        # channels), later the average and its scaled and shifted copies (3·C) — less the output's C
        c, *spatial = ins[0]
        return max(c + self.size - 1, 2 * c) * numel(tuple(spatial)) * batch

    def explain(self, ins, out):
        return [f"output: same shape {'×'.join(map(str, out))}; params: 0",
                f"other ops: (size + 3) per element = ({self.size} + 3)·{n(numel(out))} = {n(self.other_ops(ins, out))}"]

    def torch_module(self, ins):
        from torch import nn
        return nn.LocalResponseNorm(self.size, self.alpha, self.beta, self.k)

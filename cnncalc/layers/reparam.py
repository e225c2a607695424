"""weight_norm and spectral_norm on a weight layer (conv, conv_transpose, linear), as
`torch.nn.utils.parametrizations` builds them.

weight_norm(dim=0) stores the weight as a direction v (the weight's own shape) and a magnitude g with one entry
per slice along the weight's dim 0 — per output channel of a conv or linear, per *input* channel of a
transposed conv, whose weight is C_in × C_out/groups × k…; so it adds weight.shape[0] params. spectral_norm
keeps the weight and adds two buffers, the power iteration's u and v: with h = weight.size(dim) (dim 1 for a
transposed conv, else 0), u has h entries and v numel/h. Neither adds MACs (the norms are element-wise
work and a matrix-vector product, which FlopCounterMode does not count).
"""
from __future__ import annotations

from .base import Saved, n, numel


class Reparametrised:
    """A mixin of the weight layers: their `weight_norm` and `spectral_norm` fields' params, buffers, notes,
    explanation and torch wrapping. The class supplies `weight_shape(ins)`."""

    spectral_dim = 0  # torch's default dim of spectral_norm: 1 for transposed convs

    def weight_shape(self, ins) -> tuple[int, ...]:
        raise NotImplementedError

    def norm_params(self, ins) -> int:
        """weight_norm's g: one per slice along the weight's dim 0."""
        return self.weight_shape(ins)[0] if self.weight_norm else 0

    def norm_buffers(self, ins) -> int:
        """spectral_norm's u and v."""
        if not self.spectral_norm:
            return 0
        shape = self.weight_shape(ins)
        h = shape[self.spectral_dim]
        return h + numel(shape) // h

    def norm_saved(self, ins, weight_kept: bool = True) -> list:
        """What training keeps of the tensors the reparametrisation computes each forward (as autograd saves
        them): weight_norm's weight and its norm per slice; spectral_norm's weight / σ and its copies of u, v
        and σ. The last weight computed is kept by the layer's own op: `weight_kept` false where that op does
        not keep it (a linear layer whose input needs no gradient)."""
        shape = self.weight_shape(ins)
        w, kept = numel(shape), []
        if self.weight_norm:
            kept += [w, shape[0]]
        if self.spectral_norm:
            h = shape[self.spectral_dim]
            kept += [h, w // h, 1, w]
        if kept and not weight_kept:
            kept.remove(w if self.spectral_norm else kept[0])
        return [Saved("new", e) for e in kept]

    def norm_temp(self, ins, out_elements: int) -> int:
        """Inference: the most elements the reparametrisation holds at once besides the layer's input, less its
        output (`out_elements`, at the batch): weight_norm computes the weight and its norms; spectral_norm then
        u, v, σ and weight / σ, beside the weight as a matrix (a copy where its dim is not 0: transposed convs);
        the layer runs with the last weight and its output."""
        if not (self.weight_norm or self.spectral_norm):
            return 0
        shape = self.weight_shape(ins)
        w = numel(shape)
        phases = [w]  # the weight the layer runs with, beside its output
        if self.weight_norm:
            phases.append(w + shape[0] - out_elements)
        if self.spectral_norm:
            h = shape[self.spectral_dim]
            matrix = w if self.spectral_dim else 0  # weight.movedim(dim, 0).reshape(h, -1) copies unless dim is 0
            phases.append(w * (1 + self.weight_norm) + matrix + h + w // h + 1 - out_elements)
        return max(phases)

    def norm_notes(self) -> list[str]:
        return [name for name, on in (("weight norm", self.weight_norm), ("spectral norm", self.spectral_norm)) if on]

    def norm_explain(self, ins) -> list[str]:
        shape = self.weight_shape(ins)
        lines = []
        if self.weight_norm:
            lines.append(f"weight_norm: + g, one per weight slice along dim 0 (weight {'×'.join(map(str, shape))}) "
                         f"= {n(shape[0])} params; v replaces the weight")
        if self.spectral_norm:
            h = shape[self.spectral_dim]
            lines.append(f"spectral_norm: buffers u ({n(h)}) + v ({n(numel(shape) // h)}) = {n(self.norm_buffers(ins))}"
                         f" (weight.size({self.spectral_dim}) and the rest)")
        return lines

    def reparametrise(self, module):
        """The torch module with its weight reparametrised as the fields ask."""
        from torch.nn.utils import parametrizations
        if self.weight_norm:
            module = parametrizations.weight_norm(module)
        if self.spectral_norm:
            module = parametrizations.spectral_norm(module)
        return module

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

from .base import n, numel


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

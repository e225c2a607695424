"""flatten, identity, dropout, permute: shape-only layers with no figures of their own."""
from __future__ import annotations

from typing import Annotated

from pydantic import NonNegativeInt, WithJsonSchema, confloat

from ..errors import LayerError
from .base import Layer, RFStep, Saved, fmt_shape, numel


class Flatten(Layer):
    kinds = ("flatten",)
    in_place = True

    def output_shape(self, ins):
        return (numel(ins[0]),)

    def rf_steps(self, ins):
        # what follows a flatten mixes the whole map: count it as seeing all of it
        return tuple(RFStep(size, 1, 0) for size in ins[0][1:]) if len(ins[0]) >= 2 else None

    def aliases_input(self, training):
        return True  # a view

    def explain(self, ins, out):
        return [f"output: {fmt_shape(ins[0])} = {out[0]:,} values in a vector; params: 0"]

    def torch_module(self, ins):
        from torch import nn
        return nn.Flatten()


class Identity(Layer):
    kinds = ("identity",)
    in_place = True

    def aliases_input(self, training):
        return True

    def torch_module(self, ins):
        from torch import nn
        return nn.Identity()


class Dropout(Layer):
    kinds = ("dropout",)
    in_place = True
    p: confloat(ge=0, le=1) = 0.5

    def config(self):
        return f"p={self.p:g}"

    def aliases_input(self, training):
        return not training or self.p == 0  # torch returns its input itself

    def saved(self, ins, out, batch, grads):
        if self.p == 0:
            return []
        if self.p == 1:
            return [Saved("new", 1)]  # torch multiplies by a zero scalar
        return [Saved("new", numel(out) * batch, "mask")]

    def torch_module(self, ins):
        from torch import nn
        return nn.Dropout(self.p)


class Permute(Layer):
    """The axes reordered (torch's x.permute), so a network can end time-major (C×L → L×C). `dims`: the
    per-sample axes in their new order ([1, 0] for C×L → L×C), or PyTorch's with the batch first ([0, 2, 1]).
    No params, no work; a contiguous copy (as .contiguous() after it), so what follows takes one path. What
    follows reads the new first axis as the channels, as PyTorch reads dim 1:
    a conv after C×L → L×C convolves over C with L channels. The new axes no longer line up with the input's,
    so every unit of the output is counted as seeing the whole input on each axis (as after a flatten): exact
    on a C×L map (each unit reads one input channel at every position), an upper bound on larger maps."""
    kinds = ("permute",)
    dims: Annotated[tuple[NonNegativeInt, ...], WithJsonSchema(
        {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1, "maxItems": 5})]

    def order(self, ins) -> tuple[int, ...]:
        """The per-sample permutation (PyTorch's form, batch first, read without its leading 0)."""
        k = len(ins[0])
        return tuple(d - 1 for d in self.dims[1:]) if len(self.dims) == k + 1 and self.dims[0] == 0 else self.dims

    def check_input(self, ins):
        k = len(ins[0])
        if len(self.dims) == k + 1 and self.dims[0] != 0 and sorted(self.dims) == list(range(k + 1)):
            raise LayerError(f"dims {list(self.dims)} would move the batch axis (PyTorch's form keeps 0 first)")
        if sorted(self.order(ins)) != list(range(k)):
            raise LayerError(f"dims {list(self.dims)} is not an order of the {k} axes of {fmt_shape(ins[0])} "
                             f"(0 … {k - 1}; or PyTorch's, batch included: 0 first, then 1 … {k})")

    def output_shape(self, ins):
        return tuple(ins[0][d] for d in self.order(ins))

    def moved(self, ins) -> bool:
        return self.order(ins) != tuple(range(len(ins[0])))

    def rf_steps(self, ins):
        if not self.moved(ins):
            return None
        return tuple(RFStep(size, 0, 0) for size in ins[0][1:])  # every unit sees the whole axis: stride 0

    def rf_bound(self, ins):
        return self.moved(ins) and len(ins[0]) > 2   # on C×L the whole input is exactly what a unit sees

    def config(self):
        return "(" + ", ".join(map(str, self.dims)) + ")"

    def notes(self, ins, out):
        if not self.moved(ins) or len(out) < 2:
            return []
        return [f"what follows reads {out[0]:,} channels (the input's axis {self.order(ins)[0]}), as PyTorch reads "
                "dim 1; the field is counted as the whole input"]

    def explain(self, ins, out):
        return [f"output: {fmt_shape(ins[0])} permuted ({', '.join(map(str, self.order(ins)))}) → {fmt_shape(out)}; "
                "params: 0, no ops (a contiguous copy)"]

    def torch_module(self, ins):
        from ..pytorch.ops import Permute as M
        return M((0,) + tuple(d + 1 for d in self.order(ins)))

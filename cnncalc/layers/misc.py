"""flatten, identity, dropout: shape-only layers with no figures of their own."""
from __future__ import annotations

from pydantic import confloat

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

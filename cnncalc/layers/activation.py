"""Element-wise activations: one op per element by convention (reported as other ops)."""
from __future__ import annotations

from typing import ClassVar

from ..errors import LayerError
from .base import Layer, PosInt, Saved, fmt_shape, n, numel

_TORCH = {"relu": "ReLU", "relu6": "ReLU6", "sigmoid": "Sigmoid", "tanh": "Tanh", "leaky_relu": "LeakyReLU",
          "gelu": "GELU", "silu": "SiLU", "swish": "SiLU", "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid",
          "elu": "ELU", "softmax": "Softmax", "mish": "Mish"}


class Activation(Layer):
    kinds = tuple(k for k in _TORCH if k != "leaky_relu")
    in_place = True

    def other_ops(self, ins, out):
        return numel(out)

    def saved(self, ins, out, batch, grads):
        # ReLU, sigmoid, tanh and softmax differentiate from their result, the others from their input
        return [Saved("out" if self.type in ("relu", "sigmoid", "tanh", "softmax") else "in0")]

    def explain(self, ins, out):
        return [f"output: same shape {'×'.join(map(str, out))}; params: 0",
                f"other ops: 1 per element = {n(numel(out))}"]

    def torch_module(self, ins):
        from torch import nn
        cls = getattr(nn, _TORCH[self.type])
        return cls(dim=1) if self.type == "softmax" else cls()


class LeakyReLU(Activation):
    kinds = ("leaky_relu",)
    slope: float = 0.01

    def config(self):
        return f"slope {self.slope:g}"

    def torch_module(self, ins):
        from torch import nn
        return nn.LeakyReLU(self.slope)


class PReLU(Activation):
    """max(0, x) + a·min(0, x) with a learnable slope a: one shared by every channel (num_parameters 1, as
    PyTorch's default) or one per channel (num_parameters = C)."""
    kinds = ("prelu",)
    num_parameters: PosInt = 1

    def check_input(self, ins):
        c = ins[0][0]
        if self.num_parameters not in (1, c):
            raise LayerError(f"num_parameters {self.num_parameters} must be 1 or the {c} input channels (as PyTorch)")

    def params(self, ins, out):
        return self.num_parameters

    def config(self):
        return f"{self.num_parameters} slope{'s' if self.num_parameters > 1 else ''}"

    def explain(self, ins, out):
        return [f"output: same shape {fmt_shape(out)}",
                f"params: {self.num_parameters} (the negative slope, "
                f"{'one per channel' if self.num_parameters > 1 else 'shared'})",
                f"other ops: 1 per element = {n(numel(out))}"]

    def torch_module(self, ins):
        from torch import nn
        return nn.PReLU(self.num_parameters)

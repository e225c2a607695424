"""Element-wise activations: one op per element by convention (reported as other ops)."""
from __future__ import annotations

from typing import ClassVar

from .base import Layer, n, numel

_TORCH = {"relu": "ReLU", "relu6": "ReLU6", "sigmoid": "Sigmoid", "tanh": "Tanh", "leaky_relu": "LeakyReLU",
          "gelu": "GELU", "silu": "SiLU", "swish": "SiLU", "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid",
          "elu": "ELU", "softmax": "Softmax", "mish": "Mish"}


class Activation(Layer):
    kinds = tuple(_TORCH)
    slope: float = 0.01  # leaky_relu only

    def other_ops(self, ins, out):
        return numel(out)

    def explain(self, ins, out):
        return [f"output: same shape {'×'.join(map(str, out))}; params: 0",
                f"other ops: 1 per element = {n(numel(out))}"]

    def torch_module(self, ins):
        from torch import nn
        cls = getattr(nn, _TORCH[self.type])
        if self.type == "leaky_relu":
            return cls(self.slope)
        if self.type == "softmax":
            return cls(dim=1)
        return cls()

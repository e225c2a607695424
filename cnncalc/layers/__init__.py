"""Layer kinds, one class each, registered by their YAML `type` (see base.REGISTRY)."""
from . import activation, channel, conv, linear, merge, misc, norm, pool  # noqa: F401  (registration)
from .base import REGISTRY, Layer, RFStep, Shape, fmt_shape, numel

__all__ = ["REGISTRY", "Layer", "RFStep", "Shape", "fmt_shape", "numel"]

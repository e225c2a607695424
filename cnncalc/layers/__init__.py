"""Layer kinds, one class each, registered by their YAML `type` (see base.REGISTRY): shape, params,
MACs, other ops, receptive-field step, notes, explanation and the torch module of that kind.

May import: errors, analysis.formulas; torch only inside a layer's torch-module method (lazily, with
cnncalc.pytorch.ops). Never: exam, render, cli.
"""
from . import activation, channel, conv, linear, merge, misc, norm, pad, pool, shuffle, transposed, upsample  # noqa: F401
from . import rbf, sparse_conv, subsample  # noqa: F401  (LeNet-5 as printed in 1998)
from .base import REGISTRY, Layer, RFStep, Saved, Shape, fmt_shape, numel

__all__ = ["REGISTRY", "Layer", "RFStep", "Saved", "Shape", "fmt_shape", "numel"]

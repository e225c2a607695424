"""Conv and fully connected leaves as the count formulas see them: a conv's kernel, input and output
channels and groups, the map a fully connected layer flattens, and the phrase naming the layer a
slip changed. Shared by the leaf rules (bias_slips.py, kernel_slips.py) and layer_slips.py.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from ..layers import numel
from .labels import label
from .subject import Leaf, Subject, input_of


@dataclass(frozen=True)
class ConvParts:
    kernel: tuple[int, ...]
    c_in: int
    groups: int
    c_out: int

    @property
    def kk(self) -> int:
        return numel(self.kernel)

    @property
    def k_text(self) -> str:
        return "·".join(map(str, self.kernel))


def conv_parts(subject: Subject, leaf: Leaf) -> Optional[ConvParts]:
    if leaf.type != "conv":
        return None
    node = subject.graph.nodes[leaf.idx]
    layer = node.layer
    kernel = tuple(layer.kernel) if isinstance(layer.kernel, (tuple, list)) else (layer.kernel,)
    return ConvParts(kernel, node.in_shapes[0][0], getattr(layer, "groups", 1), node.out_shape[0])


def per_filter(p: ConvParts) -> str:
    return f"{p.k_text}·{p.c_in // p.groups}" if p.groups > 1 else f"{p.k_text}·{p.c_in}"


def in_layer(subject: Subject, changed: list[Leaf]) -> str:
    """` in C3` (or ` in the 3×3 conv of layer1`) when the subject has several leaves, else nothing."""
    name = label(subject, changed[0].idx) if len(subject.nodes) > 1 and changed else ""
    return f" in {name}" if name else ""


def with_cin(lf: Leaf, p: ConvParts, c_in: int) -> Leaf:
    per = c_in // p.groups if c_in % p.groups == 0 else c_in
    return replace(lf, w=p.kk * per * p.c_out, macs=p.kk * per * p.c_out * lf.pos)


def map_before(subject: Subject, idx: int) -> Optional[tuple]:
    """The C×H×W map a linear layer flattens (directly, or through flatten/dropout/activations)."""
    shape = input_of(subject.graph, idx)
    node = subject.graph.nodes[idx]
    while len(shape) == 1 and node.inputs[0] >= 0:
        node = subject.graph.nodes[node.inputs[0]]
        if node.layer.type not in ("flatten", "dropout", "identity"):
            return None
        shape = input_of(subject.graph, subject.graph.nodes.index(node))
    return shape if len(shape) == 3 and numel(shape[1:]) > 1 else None

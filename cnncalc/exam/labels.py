"""Layers named as the student knows them: the name the file gave, else what the layer is — never a
generated path (`residual1.downsample.conv3`) the student did not write."""
from __future__ import annotations

from ..analysis.graph import Graph
from .subject import Subject


def label(subject: Subject, idx: int) -> str:
    """A layer as the student knows it: its own name where the file gave it (top level), else what it is
    (`the 3×3/2 conv`), in the block or layer they answered — never a generated path."""
    node = subject.graph.nodes[idx]
    if subject.kind == "question":
        return ""
    if node.name == subject.resolved and subject.kind == "layer":
        return node.name
    if "." not in node.name and node.name in written_names(subject.graph):
        return node.name
    where, scope = "", range(len(subject.graph.nodes))
    if subject.kind in ("block", "layer"):
        where = f" of {subject.name}" if idx in subject.nodes else f" before {subject.name}"
        scope = subject.nodes if idx in subject.nodes else scope
    desc = _distinct(subject.graph, idx, describe(node), scope)
    return f"the {desc}{where}"


def at(subject: Subject, idx: int) -> str:
    """`conv2: ` before a layer's formula, nothing for a one-layer question."""
    name = label(subject, idx)
    return f"{name}: " if name else ""


def _distinct(graph: Graph, idx: int, desc: str, scope, limit: int = 2000) -> str:
    """Where another layer in scope (the block answered, or the network) is also a `1×1 conv` (an Inception
    block's four): `1×1 conv after the 3×3 max pool`, else `1×1 conv to 32 channels`; the description alone
    where it is the only one (or the scope is too large to look)."""
    node = graph.nodes[idx]
    if len(scope) > limit:
        return desc
    same = [i for i in scope if i != idx and graph.nodes[i].layer.type == node.layer.type
            and describe(graph.nodes[i]) == desc]
    if not same:
        return desc
    after = _before(graph, idx)
    if all(_before(graph, i) != after for i in same):
        return f"{desc} after the {after}" if after else f"{desc} on the input"
    return f"{desc} to {plural(node.out_shape[0], 'channel')}" if node.out_shape else desc


def _before(graph: Graph, idx: int) -> str:
    """What the layer feeding this one is (nothing for the input)."""
    src = graph.nodes[idx].inputs[0] if graph.nodes[idx].inputs else -1
    return describe(graph.nodes[src]) if src >= 0 else ""


def written_names(graph: Graph) -> set:
    """The layer names the architecture file writes at its top level."""
    doc = graph.doc if isinstance(graph.doc, dict) else {}
    layers = doc.get("layers") or []
    return {str(lay.get("name")) for lay in layers if isinstance(lay, dict) and lay.get("name") is not None}


def describe(node) -> str:
    """`3×3/2 conv`, `2×2 max pool`, `fully connected layer`, `batch norm` …"""
    layer = node.layer
    t = layer.type
    k = getattr(layer, "kernel", None)
    ks = ("×".join(map(str, k)) if len(set(k)) > 1 else f"{k[0]}×{k[0]}" if len(k) == 2 else str(k[0])) \
        if isinstance(k, tuple) and k else ""
    s = getattr(layer, "stride", None) or getattr(layer, "strides", None)
    st = f"/{s[0]}" if isinstance(s, tuple) and s and s[0] > 1 and t.startswith("conv") else ""
    kind = {"maxpool": "max pool", "avgpool": "average pool", "linear": "fully connected layer",
            "batchnorm": "batch norm", "conv_transpose": "transposed conv", "pad": "pad layer",
            "concat": "concat"}.get(t, t)
    if t == "conv" and getattr(layer, "groups", 1) > 1:
        kind = "depthwise conv" if layer.groups == node.in_shapes[0][0] else f"grouped conv ({layer.groups} groups)"
    return f"{ks}{st} {kind}".strip()


def plural(n: int, word: str, many: str = "") -> str:
    """`1 filter`, `96 filters` (`many` for an irregular plural)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"

"""The text and figures in a network diagram's boxes: titles, settings, folded BN/activations, shapes, the
--color figure, the subtitle. Used by cnncalc/analysis/layout.py, which sizes the boxes from these lines.
"""
from __future__ import annotations

from ..errors import quote
from ..layers import fmt_shape
from .diagram_nodes import _Unit, instances
from .graph import INPUT, Graph
from .report import Report

METRICS = {"macs": "MACs", "params": "params", "memory": "activation memory", "rf": "receptive field"}


def short(x: float) -> str:
    """118.0M, 34.9k, 16: three significant figures at most."""
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def _name(name: str, limit: int = 32) -> str:
    """A long dotted name keeps its last components: a.very_long_block_name.layer.0.conv1 → …layer.0.conv1."""
    parts = name.split(".")
    while len(".".join(parts)) > limit and len(parts) > 1:
        parts = parts[1:]
    text = ".".join(parts)
    return text if text == name else "…" + text


def _type(graph: Graph, u: _Unit) -> str:
    if u.kind == "input":
        return "input"
    return graph.groups[u.group].type if u.kind == "block" else graph.nodes[u.first].layer.type


def _train_only(graph: Graph, u: _Unit) -> bool:
    return u.kind != "input" and all(graph.nodes[i].train_only for i in u.nodes)


SHORT = {"batchnorm": "BN", "batchnorm1d": "BN", "batchnorm2d": "BN", "batchnorm3d": "BN", "relu": "ReLU",
         "relu6": "ReLU6", "leaky_relu": "LeakyReLU", "gelu": "GELU", "silu": "SiLU", "hardswish": "hardswish"}


def _lines(graph: Graph, report: Report, u: _Unit, color: str | None) -> list[str]:
    if u.kind == "input":
        return ["input", fmt_shape(graph.input)]
    rows = [report.layers[i] for i in u.nodes]
    if u.kind == "block":
        grp = graph.groups[u.group]
        parts = instances(graph, u.group)
        what = f"{graph.groups[parts[0]].type} ×{len(parts)}" if parts and u.id == grp.name else grp.type
        times = f"×{u.times} · " if u.times > 1 else ""
        lines = [_name(u.id), f"[{what}] {times}{len(rows)} layers", fmt_shape(graph.nodes[u.nodes[-1]].out_shape),
                 f"params {short(sum(r.params for r in rows))} · MACs {short(sum(r.macs for r in rows))}"]
    else:
        node, row = graph.nodes[u.first], rows[0]
        title = _name(u.id) + (f" ×{u.times}" if u.times > 1 else "")
        detail = f"{row.type} {row.config}".strip()
        # `relu1` needs no second line saying `relu`
        folded = rows[1:len(rows) // u.times]          # a repeat's instances drawn once: one instance's
        same = not folded and (detail == title or (not row.config and title.split(".")[-1].rstrip("0123456789") == row.type))
        detail = " · ".join(([] if same else [detail]) + [SHORT.get(r.type, r.type) for r in folded])
        lines = [title] + ([detail] if detail else []) + crop_lines(node) + [fmt_shape(graph.nodes[u.nodes[-1]].out_shape)]
    if color and not (u.kind == "block" and color in ("macs", "params")):
        lines.append(_figure(color, _value(report, graph, u, color)))
    return lines


def crop_lines(node) -> list[str]:
    """What a copy-and-crop concat cuts: 'crop 64→56' per larger input (H×W where they differ)."""
    if node.layer.type != "concat" or not getattr(node.layer, "crop", None):
        return []
    side = lambda s: str(s[0]) if len(set(s)) == 1 else "×".join(map(str, s))   # noqa: E731
    out = tuple(node.out_shape[1:])
    return [f"crop {side(tuple(s[1:]))}→{side(out)}" for s in dict.fromkeys(tuple(s) for s in node.in_shapes)
            if tuple(s[1:]) != out]


def _value(report: Report, graph: Graph, u: _Unit, color: str) -> float | None:
    if u.kind == "input":
        return None
    rows = [report.layers[i] for i in u.nodes]
    if color == "rf":
        return float(rows[-1].rf.size)
    if color == "memory":
        return float(sum(r.activations for r in rows) * 4)
    if color in ("macs", "params"):
        return float(sum(getattr(r, color) for r in rows))
    raise ValueError(f"color must be one of {', '.join(METRICS)}, got {quote(color)}")


def _figure(color: str, value: float | None) -> str:
    if color == "rf":
        return f"RF {value:g}"
    if color == "memory":
        return f"act {short(value)}B"
    return f"{METRICS[color]} {short(value)}"


def _subtitle(graph: Graph, depth: int | None) -> str:
    outs = [graph.nodes[i] for i in graph.output_nodes if i != INPUT]
    text = f"input {fmt_shape(graph.input)} → output{'s' if len(outs) > 1 else ''} "
    text += ", ".join(fmt_shape(n.out_shape) for n in outs) + " (thick border)"
    if any(n.train_only for n in graph.nodes):
        text += "; dashed: training only"
    return text + (f"; blocks at level {depth} collapsed" if depth else "")

"""`cnncalc verify net.yaml --against SOURCE`: a hand-written architecture against the real model.

Both sides become graphs of cnncalc layers (the model through the importer, every layer of it proved
against the model's own shapes and parameters), then are compared layer by layer in execution order:
each layer's kind, output shape, parameters and MACs. Layers that hold no figure and that a capture
may or may not keep (identity, flatten, dropout) are left out of the comparison. The first divergence
is named in one line: a run of layers one side has and the other lacks (a projection shortcut the
model does not have), or the first layer whose figures differ, with what differs.
"""
from __future__ import annotations

import difflib
from typing import Optional

from pydantic import BaseModel

from ..analysis.analyze import report_of
from ..analysis.graph import Graph
from ..layers import fmt_shape

SKIPPED = {"identity", "flatten", "dropout"}
SAME_KIND = {"GlobalAvgPool": "AdaptiveAvgPool"}   # an adaptive average pool to 1×1 is a global one


class Side(BaseModel):
    name: str
    params: int
    macs: int
    layers: int


class Against(BaseModel):
    yaml: Side
    model: Side
    compared: int                     # layers compared (those with a figure on either side)
    ok: bool
    divergence: Optional[str] = None  # the first difference, in one line


class Row:
    """One compared layer: its name, kind, shape and figures (and where the YAML made it)."""

    def __init__(self, graph: Graph, index: int):
        node = graph.nodes[index]
        self.name = node.name
        self.type = node.layer.type
        cls = type(node.layer).__name__
        self.kind = SAME_KIND.get(cls, cls)
        self.shape = tuple(node.out_shape)
        self.params = node.layer.params(node.in_shapes, node.out_shape)
        self.macs = node.layer.macs(node.in_shapes, node.out_shape)
        self.config = node.layer.config()
        self.shortcut = "shortcut" in (node.path or "") or ".downsample." in f".{node.name}."
        self.group = graph.groups[node.groups[-1]].name if node.groups else None

    def key(self):
        return self.kind, self.shape, self.params, self.macs

    def describe(self) -> str:
        return f"{self.type} {self.config}".strip()


def rows(graph: Graph) -> list[Row]:
    return [Row(graph, i) for i, nd in enumerate(graph.nodes) if nd.layer.type not in SKIPPED and not nd.train_only]


def side(graph: Graph, label: str) -> Side:
    t = report_of(graph).totals
    return Side(name=label, params=t.params, macs=t.macs, layers=len(graph.nodes))


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def extra(run: list[Row], has: str, lacks: str) -> str:
    """'layer1.0: the YAML has a projection shortcut (4,224 params) the model lacks'."""
    params = sum(r.params for r in run)
    where = run[0].group or run[0].name
    what = ("a projection shortcut" if all(r.shortcut for r in run) else
            run[0].describe() if len(run) == 1 else f"{len(run)} layers ({', '.join(r.type for r in run[:4])}"
            f"{', …' if len(run) > 4 else ''})")
    return f"{where}: the {has} has {what} ({plural(params, 'param')}) the {lacks} lacks"


def differ(a: Row, b: Row) -> str:
    """The first thing that differs between a YAML layer and the model's layer at the same place."""
    where = a.name if a.name == b.name else f"{a.name} (the model's {b.name})"
    if a.kind != b.kind:
        return f"{where}: the YAML has {a.describe()}, the model {b.describe()} here"
    if a.shape != b.shape:
        return (f"{where}: the YAML gives {fmt_shape(a.shape)} ({a.describe()}), the model {fmt_shape(b.shape)} "
                f"({b.describe()})")
    if a.params != b.params:
        hint = ""
        if a.type in ("conv", "linear", "conv_transpose") and abs(a.params - b.params) == a.shape[0]:
            hint = " (a bias the model lacks)" if a.params > b.params else " (the model has a bias the YAML lacks)"
        return f"{where}: the YAML has {a.params:,} params, the model {b.params:,}{hint}"
    return f"{where}: the YAML counts {a.macs:,} MACs, the model {b.macs:,}"


def against(yaml_graph: Graph, model_graph: Graph, yaml_label: str, model_label: str) -> Against:
    a, b = rows(yaml_graph), rows(model_graph)
    divergence = first_divergence(a, b)
    ya, mo = side(yaml_graph, yaml_label), side(model_graph, model_label)
    if divergence is None and (ya.params, ya.macs) != (mo.params, mo.macs):
        divergence = (f"totals: the YAML has {ya.params:,} params and {ya.macs:,} MACs, the model {mo.params:,} and "
                      f"{mo.macs:,}")
    return Against(yaml=ya, model=mo, compared=max(len(a), len(b)), ok=divergence is None, divergence=divergence)


def swapped(other: list[Row], row: Row, has: str, window: int = 8) -> str | None:
    """A layer one side has here that the other side has a little later: the order differs."""
    later = next((r for r in other[1:window] if r.key() == row.key()), None)
    if later is None or not other:
        return None
    yaml_row, model_row = (other[0], row) if has == "model" else (row, other[0])
    return (f"{yaml_row.name}: the layers are in another order: the YAML has {yaml_row.type} here, the model "
            f"{model_row.type} ({model_row.name})")


def first_divergence(a: list[Row], b: list[Row]) -> str | None:
    matcher = difflib.SequenceMatcher(None, [r.key() for r in a], [r.key() for r in b], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert":
            return swapped(a[i1:], b[j1], "model") or extra(b[j1:j2], "model", "YAML")
        if tag == "delete":
            return swapped(b[j1:], a[i1], "YAML") or extra(a[i1:i2], "YAML", "model")
        if i2 - i1 != j2 - j1 and all(r.shortcut for r in a[i1:i2]):
            return extra(a[i1:i2], "YAML", "model")
        return differ(a[i1], b[j1])
    return None

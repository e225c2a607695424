"""Worked formulas for one layer (or each leaf of a block), written the way the course does."""
from __future__ import annotations

from ..errors import SpecError, closest, quote
from .graph import INPUT, Graph
from ..layers import fmt_shape
from ..layers.base import AXES
from .receptive import receptive_fields, start_of


def find_nodes(graph: Graph, name: str) -> list[int]:
    """Exact leaf name; else every leaf of the block/group so named; else a unique dotted suffix."""
    names = [nd.name for nd in graph.nodes]
    if name in names:
        return [names.index(name)]
    inside = [i for i, nm in enumerate(names) if nm.startswith(name + ".")]
    if inside:
        return inside
    suffix = [i for i, nm in enumerate(names) if nm.endswith("." + name)]
    if len(suffix) == 1:
        return suffix
    near = suggestions(name, [g.name for g in graph.groups] + names)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    if len(suffix) > 1:
        hint = f"; it is ambiguous: {', '.join(names[i] for i in suffix[:5])}"
    raise SpecError(f"no layer named {quote(name)} in {graph.name}{hint}")


def suggestions(name: str, candidates: list[str], n: int = 5) -> list[str]:
    """Names that start with `name` first (outermost only: conv1_1, not also conv1_1.conv), then the closest."""
    seen = list(dict.fromkeys(candidates))
    prefix = [c for c in seen if c.startswith(name)]
    prefix = [c for c in prefix if not any(c.startswith(p + ".") for p in prefix if p != c)]
    rest = [c for c in closest(name, seen, n=n) if c not in prefix]
    return (prefix + rest)[:n]


def explain(graph: Graph, name: str) -> list[tuple[str, list[str]]]:
    """[(title, lines)] for each layer matched by `name`."""
    states, _ = receptive_fields(graph)
    out = []
    for idx in find_nodes(graph, name):
        node = graph.nodes[idx]
        layer = node.layer
        ins = node.in_shapes
        title = f"{node.name} ({layer.type}{' ' + layer.config() if layer.config() else ''}): " \
                f"{', '.join(fmt_shape(s) for s in ins)} → {fmt_shape(node.out_shape)}"
        lines = list(layer.explain(ins, node.out_shape))
        if node.shares is not None:
            lines.append(f"shares the parameters of {graph.nodes[node.shares].name} (share:): they count there, "
                         "once; this use adds its MACs only")
        before = [start_of(graph) if i == INPUT else states[i] for i in node.inputs]
        steps = layer.rf_steps(ins)
        after = states[idx]
        if steps is None:
            lines.append(f"RF: unchanged, r = {after[0].r}, j = {after[0].j}, P = {after[0].P}"
                         + (" (the larger of the joined paths)" if len(before) > 1 else ""))
        else:
            for axis, a, s, b, (k, d) in zip(AXES.get(len(steps), "HW"), before[0], steps, after,
                                             _kernel_dilation(layer)):
                lines.append(f"RF {axis}: r = {a.r} + ({s.k} − 1)·{a.j} = {b.r}; j = {a.j}·{s.s} = {b.j}; "
                             f"P = {a.P} + {s.p}·{a.j} = {b.P}"
                             + (f"  (dilated kernel d·(k − 1) + 1 = {d}·({k} − 1) + 1 = {s.k})" if d > 1 else ""))
                if len(set(steps)) == 1 and len(set(before[0])) == 1:
                    lines[-1] = lines[-1].replace(f"RF {axis}:", "RF:")
                    break
        out.append((title, lines))
    return out


def _kernel_dilation(layer) -> list[tuple[int, int]]:
    """(k, d) per spatial axis for a layer with a dilation (conv, maxpool); (1, 1) elsewhere."""
    d = getattr(layer, "dilation", None)
    k = getattr(layer, "kernel", None)
    if layer.type.startswith("conv_transpose"):  # its step is in its input's units, not d·(k − 1) + 1
        return [(1, 1)] * 3
    if not isinstance(d, (tuple, list)) or not isinstance(k, (tuple, list)) or len(d) != len(k):
        return [(1, 1), (1, 1), (1, 1)]
    return [(int(a), int(b)) for a, b in zip(k, d)] + [(1, 1)]

"""Which boxes a network diagram has, and which arrows join them: Graph → units and unit edges.

- a unit per leaf layer, with the batch norms, activations and dropouts that follow it one to one folded
  into its box (conv · BN · ReLU);
- or, at `depth`, one unit per collapsed block (as `analyze --depth` rows); a residual block keeps its
  paths and its add, and a repeat of residual blocks draws consecutive identical instances once (×N);
- the edges between units in data order, and those that carry only a size (an upsample's `size_of`),
  the far-reaching ones named in their box rather than drawn.
Used by cnncalc/analysis/layout.py, which places and routes them.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..layers.activation import Activation
from ..layers.misc import Dropout
from ..layers.norm import BatchNorm
from .graph import INPUT, Graph


@dataclass
class _Unit:
    id: str
    kind: str               # 'input', 'layer' (a layer and the BN/activations folded into it) or 'block'
    nodes: list[int]        # node indices, ascending (empty for the input)
    group: int | None = None
    row: str = ""           # the `analyze --depth` row it belongs to
    times: int = 1          # identical instances of a repeat drawn once

    @property
    def first(self) -> int:
        return self.nodes[0] if self.nodes else -1


def _units(graph: Graph, depth: int | None, fold: bool) -> tuple[list[_Unit], dict[int, int]]:
    """The input, then one unit per leaf layer (with the BN/activations after it when folding) or per block
    at `depth` (as `analyze --depth` rows); a residual block keeps its add and skip, a repeat of residual
    blocks draws identical instances once (×N)."""
    units = [_Unit("input", "input", [], row="input")]
    consumers = _consumers(graph)
    i = 0
    while i < len(graph.nodes):
        g = next((g for g in graph.nodes[i].groups if graph.groups[g].level == depth), None) if depth else None
        if g is None:
            nodes = _chain(graph, i, consumers) if fold else [i]
            units.append(_Unit(graph.nodes[i].name, "layer", nodes, row=graph.nodes[i].name))
            i = nodes[-1] + 1
            continue
        last = graph.groups[g].last
        units += _block_units(graph, g, list(range(i, last + 1)), consumers)
        i = last + 1
    owner: dict[int, int] = {INPUT: 0}
    for k, u in enumerate(units):
        owner.update((n, k) for n in u.nodes)
    return units, owner


def _consumers(graph: Graph) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in graph.nodes]
    for i, node in enumerate(graph.nodes):
        for s in node.inputs:
            if s != INPUT:
                out[s].append(i)
    return out


FOLLOWS = (BatchNorm, Activation, Dropout)     # drawn in the box of the layer before them


def _chain(graph: Graph, i: int, consumers: list[list[int]]) -> list[int]:
    """Node i and the batch norms, activations and dropouts that follow it one to one (conv · BN · ReLU)."""
    nodes, outs = [i], set(graph.outputs)
    while True:
        j = nodes[-1]
        k = j + 1
        if (k >= len(graph.nodes) or not isinstance(graph.nodes[k].layer, FOLLOWS) or graph.nodes[k].inputs != [j]
                or consumers[j] != [k] or j in outs or graph.nodes[k].groups != graph.nodes[i].groups
                or graph.nodes[k].train_only != graph.nodes[i].train_only):
            return nodes
        nodes.append(k)


def _block_units(graph: Graph, g: int, nodes: list[int], consumers) -> list[_Unit]:
    """A block collapsed at its level: one unit, or (a residual) its paths and its add; a repeat of residual
    blocks: each instance so, and consecutive identical instances as one (×N)."""
    grp = graph.groups[g]
    parts = instances(graph, g)
    if not any(graph.nodes[n].layer.type == "add" for n in nodes):
        return [_Unit(grp.name, "block", nodes, g, row=grp.name)]
    if grp.type != "repeat" or not parts:
        return _residual_units(graph, grp.name, g, nodes, consumers, grp.name)
    out: list[_Unit] = []
    sig, run, ids = None, "", []
    for c in parts:
        part = graph.groups[c]
        inst = list(range(part.first, part.last + 1))
        here = _residual_units(graph, part.name, c, inst, consumers, grp.name)
        mine = _signature(graph, inst)
        if mine == sig:
            for u, v, first_id in zip(out[-len(here):], here, ids):
                u.nodes += v.nodes
                u.times += 1
                u.id = f"{run}–{part.name.rsplit('.', 1)[-1]}{first_id[len(run):]}"   # layer1.1–3 body
        else:
            out += here
            run, ids = part.name, [u.id for u in here]
        sig = mine
    return out


def instances(graph: Graph, g: int) -> list[int]:
    """A repeat's instances (the groups one level below it that tile it), else []."""
    grp = graph.groups[g]
    if grp.type != "repeat":
        return []
    parts = [c for c in range(g + 1, len(graph.groups)) if graph.groups[c].level == grp.level + 1
             and grp.first <= graph.groups[c].first <= grp.last]
    tiles = parts and parts[0] and graph.groups[parts[0]].first == grp.first and graph.groups[parts[-1]].last == grp.last
    return parts if tiles else []


def _residual_units(graph: Graph, name: str, g: int, nodes: list[int], consumers, row: str) -> list[_Unit]:
    """A residual block's paths (connected runs of layers: the body, a projection) and each add with the
    activations after it, in data order."""
    merges, seen = [], set()
    for n in nodes:
        if graph.nodes[n].layer.type == "add" and n not in seen:
            chain = [c for c in _chain(graph, n, consumers) if c <= nodes[-1]]
            merges.append(chain)
            seen.update(chain)
    parent = {n: n for n in nodes if n not in seen}
    def root(n):
        while parent[n] != n:
            n = parent[n]
        return n
    for n in parent:
        for s in graph.nodes[n].inputs:
            if s in parent:
                parent[root(n)] = root(s)
    paths: dict[int, list[int]] = {}
    for n in parent:
        paths.setdefault(root(n), []).append(n)
    units = [_Unit(_path_name(graph, p, name), "block", p, g, row=row) for p in paths.values()]
    units += [_Unit(graph.nodes[m[0]].name, "layer", m, g, row=row) for m in merges]
    return sorted(units, key=lambda u: u.first)


def _path_name(graph: Graph, nodes: list[int], block: str) -> str:
    """The dotted prefix its layers share (layer1.0.downsample), or the block's name + ' body'."""
    parts = [graph.nodes[n].name.split(".") for n in nodes]
    common = []
    for column in zip(*parts):
        if len(set(column)) > 1:
            break
        common.append(column[0])
    text = ".".join(common)
    return text if len(nodes) > 1 and text != block and text.startswith(block + ".") else block + " body"


def _signature(graph: Graph, nodes: list[int]) -> tuple:
    """What makes two instances of a repeat draw alike: kinds, settings, shapes, wiring relative to the first."""
    first = nodes[0]
    return tuple((graph.nodes[n].layer.type, graph.nodes[n].layer.config(), graph.nodes[n].out_shape,
                  tuple(s - first if s >= first else -1 for s in graph.nodes[n].inputs)) for n in nodes)


def _unit_edges(graph: Graph, owner: dict[int, int]) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """Edges between units in data order (a repeat's instances drawn once drop their loop back), and those
    that carry only a size (an upsample's `size_of`)."""
    seen: dict[tuple[int, int], bool] = {}
    for i, node in enumerate(graph.nodes):
        used = node.layer.rf_inputs or len(node.inputs)
        for k, s in enumerate(node.inputs):
            a, b = owner[s], owner[i]
            if a < b:
                seen[(a, b)] = seen.get((a, b), True) and k >= used
    return list(seen), {p for p, size in seen.items() if size}


SIZE_REACH = 4      # a size-only edge spanning more ranks than this is named in its box, not drawn


def _far(pairs, size_only: set, n: int) -> set:
    """The size-only edges (an upsample's `size_of`) that would run a long way beside the network: DeepLab's
    heads take the input's size, and a line from the top of the page into them reads as data."""
    rank = [0] * n
    ins: dict[int, list[int]] = {}
    for a, b in pairs:
        if (a, b) not in size_only:
            ins.setdefault(b, []).append(a)
    for v in range(1, n):
        rank[v] = max((rank[a] + 1 for a in ins.get(v, [])), default=1)
    return {(a, b) for a, b in size_only if rank[b] - rank[a] > SIZE_REACH}

"""Where every box and arrow of a network diagram goes: Graph + Report → Diagram (geometry only).

A layered DAG layout (Sugiyama's scheme, kept small):
- units: one per leaf layer, or one per block collapsed at `depth`, plus the input;
- ranks: the longest path from the input (so parallel branches sit side by side);
- an edge spanning several ranks gets one invisible waypoint per rank it crosses (a residual skip,
  a dense concatenation, a U-Net skip), so it runs beside the boxes, never through them;
- each rank is ordered by the barycentre of its upper neighbours (waypoints after boxes on ties);
- positions across the ranks: alternating sweeps pull each box toward its neighbours while the order
  and the gaps are kept exactly (isotonic regression by pool-adjacent-violators);
- edges are routed orthogonally: along a rank's band only inside the column of their own box or
  waypoint, across only in the gaps between bands.
So no two boxes overlap and no arrow enters a box by construction; tests/test_draw.py checks both
for every built-in. The renderers (cnncalc/render/svg.py, html.py) only format this geometry.
Which boxes and arrows exist (folding, --depth collapse, repeats ×N, size-only edges) is
cnncalc/analysis/diagram_nodes.py; the text in the boxes is diagram_text.py; the U layout fold.py;
wrapping a tall diagram into columns wrap.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .diagram_nodes import _far, _Unit, _unit_edges, _units
from .diagram_text import METRICS, _lines, _subtitle, _train_only, _type, _value, short
from .fold import LANE, blocked, crossing_route, fold_rank, levels, spread
from .graph import INPUT, Graph
from .report import Report
from .wrap import simplify, wrap
from ..errors import quote

# text metrics the renderers must use (a monospace font: every character has the same advance)
FONT_SIZE = 11
CHAR_W = 6.8          # ≥ 0.6 em, the advance of common monospace fonts at 11 px
LINE_H = 14
PAD_X, PAD_Y = 8, 6
GAP = {"TB": (14, 34), "LR": (12, 40)}   # (across, along) between boxes / ranks
MARGIN = 16


@dataclass(frozen=True, slots=True)
class Box:
    id: str                    # the layer's or block's dotted name ('input' for the input)
    kind: str                  # 'input', 'layer' or 'block'
    type: str                  # layer kind or block type (conv, relu, bottleneck, …)
    lines: tuple[str, ...]     # the text, first line the title
    x: float
    y: float
    w: float
    h: float
    value: float | None = None  # the --color figure
    shade: float = 0.0          # 0 for zero; 0.1..1 on a log scale from the smallest positive value to the largest
    output: bool = False        # nothing reads it: a network output
    train_only: bool = False
    layers: int = 1             # leaf layers inside (a block's count)
    nodes: tuple[int, ...] = ()  # the graph's node indices it stands for (its rows of Report.layers)
    row: str = ""               # the row of `analyze --depth` it belongs to (a block's name, or its first layer)


@dataclass(frozen=True, slots=True)
class Edge:
    src: str
    dst: str
    points: tuple[tuple[float, float], ...]   # polyline, first point on src's border, last on dst's
    size_only: bool = False     # dst takes only src's size (upsample `size_of`), no data


@dataclass(frozen=True, slots=True)
class Legend:
    metric: str
    label: str
    low: str
    high: str


@dataclass
class Diagram:
    title: str
    subtitle: str
    direction: str
    boxes: list[Box]
    edges: list[Edge]
    width: float
    height: float
    legend: Legend | None = None
    folded: bool = False      # the U layout: the decoder's arrows rise, the skips run across
    columns: int = 1          # a tall diagram wrapped into columns (cnncalc/analysis/wrap.py)


@dataclass
class _Layout:
    """Vertices 0..U-1 are the units; waypoints follow. Coordinates are (across, along)."""
    rank: list[int] = field(default_factory=list)
    size: list[tuple[float, float]] = field(default_factory=list)   # (across, along); waypoints (0, 0)
    up: list[list[int]] = field(default_factory=list)
    down: list[list[int]] = field(default_factory=list)
    pos: list[float] = field(default_factory=list)                  # across centre
    ranks: list[list[int]] = field(default_factory=list)
    band: list[tuple[float, float]] = field(default_factory=list)   # (start, end) along, per rank

    def add(self, rank: int, size: tuple[float, float]) -> int:
        self.rank.append(rank)
        self.size.append(size)
        self.up.append([])
        self.down.append([])
        self.pos.append(0.0)
        return len(self.rank) - 1


def layout(graph: Graph, report: Report, depth: int | None = None, color: str | None = None,
           direction: str = "TB", fold: bool = True) -> Diagram:
    """The diagram of `graph` (figures from its `report`): boxes and orthogonal edge polylines. With `fold`,
    a layer's batch norm and activations share its box (conv · BN · ReLU)."""
    if direction not in GAP:
        raise ValueError(f"direction must be TB or LR, got {quote(direction)}")
    units, owner = _units(graph, depth, fold)
    pairs, size_only = _unit_edges(graph, owner)
    far = _far(pairs, size_only, len(units))
    pairs = [p for p in pairs if p not in far]
    texts = [_lines(graph, report, u, color) for u in units]
    values = [_value(report, graph, u, color) for u in units] if color else [None] * len(units)
    sizes = []
    for t in texts:
        w = max(len(s) for s in t) * CHAR_W + 2 * PAD_X
        h = len(t) * LINE_H + 2 * PAD_Y
        sizes.append((w, h) if direction == "TB" else (h, w))
    geo = _folded(sizes, pairs, units) if direction == "TB" else None
    folded = geo is not None
    corners, routes, extent, columns = (*geo, 1) if geo else _plain(sizes, pairs, units, direction)
    flip = (lambda a, b: (a, b)) if direction == "TB" else (lambda a, b: (b, a))
    positive = [v for v in values if v]
    lo, top = min(positive, default=0), max(positive, default=0)
    outputs = {owner[i] for i in graph.output_nodes if i != INPUT}
    boxes = []
    for i, u in enumerate(units):
        (x, y), (w, h) = flip(*corners[i]), flip(*sizes[i])
        v = values[i]
        shade = 0.0 if not v else 1.0 if top == lo else 0.1 + 0.9 * math.log(v / lo) / math.log(top / lo)
        boxes.append(Box(u.id, u.kind, _type(graph, u), tuple(texts[i]), x, y, w, h, v, shade,
                         output=i in outputs, train_only=_train_only(graph, u), layers=len(u.nodes),
                         nodes=tuple(u.nodes), row=u.row))
    edges = [Edge(units[a].id, units[b].id, tuple(flip(*p) for p in pts), (a, b) in size_only) for a, b, pts in routes]
    width, height = flip(*extent)
    subtitle = _subtitle(graph, depth) + ("; U layout: the decoder rises on the right" if folded else "")
    subtitle += f"; read down each of the {columns} columns, left to right" if columns > 1 else ""
    subtitle += "; a size taken from far above (size_of) is named in its box, not drawn" if far else ""
    return Diagram(graph.name, subtitle, direction, boxes, edges, width, height, _legend(color, lo, top), folded,
                   columns)


def _plain(sizes, pairs, units, direction):
    """Every rank a band, top to bottom (or left to right): (corners, routes, extent), all (across, along)."""
    L = _Layout()
    for size in sizes:
        L.add(0, size)
    _rank(L, pairs)
    chains = _chains(L, pairs)
    _order(L, units)
    _place(L, GAP[direction][0])
    _bands(L, GAP[direction][1])
    corners, routes, extent = _finish(L, len(units), chains, GAP[direction][1])
    wrapped = wrap([(*corners[i], *sizes[i]) for i in range(len(units))], L.rank[:len(units)], L.band, routes,
                   GAP[direction][1], MARGIN) if direction == "TB" else None
    if wrapped is None:
        return corners, routes, extent, 1
    rects, routes, extent, columns = wrapped
    return [r[:2] for r in rects], routes, extent, columns


def _finish(L: _Layout, n: int, chains, gap: float):
    corners = [_corner(L, i) for i in range(n)]
    routes = [(c[0], c[-1], _route(L, c, gap)) for c in chains]
    extent = (max(L.pos[i] + L.size[i][0] / 2 for i in range(len(L.rank))) + MARGIN, L.band[-1][1] + MARGIN)
    return corners, routes, extent


def _folded(sizes, pairs, units):
    """The U layout (cnncalc/analysis/fold.py), or None when the skips are not nested or a run is blocked."""
    L = _Layout()
    for size in sizes:
        L.add(0, size)
    _rank(L, pairs)
    m = fold_rank(L.rank, pairs) if len(units) <= 5000 else None
    if m is None:
        return None
    crossing = [(a, b) for a, b in pairs if L.rank[a] <= m < L.rank[b]]
    chains = _chains(L, [(a, b) for a, b in pairs if (a, b) not in set(crossing)])
    _order(L, units)
    gap, gap_along = GAP["TB"]
    _place(L, gap)
    right = [v for v in range(len(L.rank)) if L.rank[v] > m]
    edge = max(L.pos[v] + L.size[v][0] / 2 for v in range(len(L.rank)) if L.rank[v] <= m)
    shift = edge + 2 * gap + LANE * (len(crossing) - 1) - min(L.pos[v] - L.size[v][0] / 2 for v in right)
    for v in right:
        L.pos[v] += shift
    L.rank = levels(L.rank, m)
    L.ranks = [[] for _ in range(max(L.rank) + 1)]
    for v in sorted(range(len(L.rank)), key=lambda v: L.pos[v]):
        L.ranks[L.rank[v]].append(v)
    _bands(L, gap_along)
    corners, routes, extent = _finish(L, len(units), chains, gap_along)
    rects = [(*corners[i], *sizes[i]) for i in range(len(units))]
    crossing.sort(key=lambda e: (corners[e[0]][1], corners[e[1]][1]))
    out, into = spread([a for a, _ in crossing]), spread([b for _, b in crossing])
    for k, (a, b) in enumerate(crossing):
        pts = crossing_route(rects[a], rects[b], edge + gap + k * LANE, out[k], into[k])
        if blocked(pts, rects):
            return None
        routes.append((a, b, pts))
    return corners, routes, extent


# -- ranks and waypoints --------------------------------------------------------------------------
def _rank(L: _Layout, pairs: list[tuple[int, int]]) -> None:
    """Longest-path layering; units come in topological order (blocks are contiguous node ranges)."""
    ins: dict[int, list[int]] = {}
    for a, b in pairs:
        ins.setdefault(b, []).append(a)
    for v in range(1, len(L.rank)):
        L.rank[v] = max((L.rank[a] + 1 for a in ins.get(v, [])), default=1)


def _chains(L: _Layout, pairs: list[tuple[int, int]]) -> list[list[int]]:
    """The vertices each edge a → b passes: a, one waypoint per rank in between, b. The edges leaving one
    unit share its trunk of waypoints (a dense block's features run down one line, branching off to
    each reader), so the waypoints grow with the units' reach, not with the number of edges."""
    trunk: dict[int, list[int]] = {}
    chains = []
    for a, b in pairs:
        t = trunk.setdefault(a, [])
        need = L.rank[b] - L.rank[a] - 1
        while len(t) < need:
            w = L.add(L.rank[a] + 1 + len(t), (0.0, 0.0))
            _link(L, t[-1] if t else a, w)
            t.append(w)
        chain = [a] + t[:need] + [b]
        _link(L, chain[-2], b)
        chains.append(chain)
    return chains


def _link(L: _Layout, u: int, v: int) -> None:
    L.down[u].append(v)
    L.up[v].append(u)


# -- order and position ---------------------------------------------------------------------------
def _order(L: _Layout, units: list[_Unit]) -> None:
    """Each rank sorted by the mean order of its upper neighbours; boxes before waypoints on ties."""
    L.ranks = [[] for _ in range(max(L.rank) + 1)]
    for v, r in enumerate(L.rank):
        L.ranks[r].append(v)
    order = [0.0] * len(L.rank)
    for r, vs in enumerate(L.ranks):
        def key(v):
            bary = sum(order[u] for u in L.up[v]) / len(L.up[v]) if L.up[v] else 0.0
            return (bary, v >= len(units), units[v].first if v < len(units) else v)
        vs.sort(key=key)
        for i, v in enumerate(vs):
            order[v] = i


def _place(L: _Layout, gap: float, rounds: int = 4) -> None:
    """Across positions: pack each rank, then sweep down and up pulling boxes toward their neighbours."""
    for vs in L.ranks:
        _fit(L, vs, [0.0] * len(vs), gap)
    for _ in range(rounds):
        for vs in L.ranks[1:]:
            _pull(L, vs, L.up, gap)
        for vs in reversed(L.ranks[:-1]):
            _pull(L, vs, L.down, gap)
    for vs in L.ranks[1:]:
        _pull(L, vs, L.up, gap)
    for _ in range(2):
        _straighten(L, gap)
    left = min(L.pos[v] - L.size[v][0] / 2 for v in range(len(L.rank)))
    L.pos = [p - left + MARGIN for p in L.pos]


def _straighten(L: _Layout, gap: float) -> None:
    """Remove small jogs: a vertex linked one-to-one to its neighbour moves onto the neighbour's line
    wherever its rank has room for it there."""
    for order, near, far in ((L.ranks, L.up, L.down), (L.ranks[::-1], L.down, L.up)):
        for vs in order:
            for k, v in enumerate(vs):
                if len(near[v]) != 1 or len(far[near[v][0]]) != 1:
                    continue
                want = L.pos[near[v][0]]
                half = L.size[v][0] / 2
                lo = L.pos[vs[k - 1]] + L.size[vs[k - 1]][0] / 2 + gap + half if k else -math.inf
                hi = L.pos[vs[k + 1]] - L.size[vs[k + 1]][0] / 2 - gap - half if k + 1 < len(vs) else math.inf
                if lo <= want <= hi:
                    L.pos[v] = want


def _pull(L: _Layout, vs: list[int], nbrs: list[list[int]], gap: float) -> None:
    want = [sum(L.pos[u] for u in nbrs[v]) / len(nbrs[v]) if nbrs[v] else L.pos[v] for v in vs]
    _fit(L, vs, want, gap)


def _fit(L: _Layout, vs: list[int], want: list[float], gap: float) -> None:
    """Centres as close to `want` as possible (least squares) with the order kept and ≥ gap between
    neighbours: subtract each one's minimal offset, then pool adjacent violators (isotonic regression)."""
    if len(vs) == 1:
        L.pos[vs[0]] = want[0]
        return
    offsets, acc = [], 0.0
    for i, v in enumerate(vs):
        if i:
            acc += (L.size[vs[i - 1]][0] + L.size[v][0]) / 2 + gap
        offsets.append(acc)
    blocks: list[list[float]] = []   # [mean, count]
    for w, o in zip(want, offsets):
        blocks.append([w - o, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks[-1]
            blocks[-1] = [(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2]
    i = 0
    for mean, count in blocks:
        for _ in range(count):
            L.pos[vs[i]] = mean + offsets[i]
            i += 1


def _bands(L: _Layout, gap: float) -> None:
    start = MARGIN
    for vs in L.ranks:
        thick = max(L.size[v][1] for v in vs)
        L.band.append((start, start + thick))
        start += thick + gap


def _corner(L: _Layout, v: int) -> tuple[float, float]:
    (sa, sl), (b0, b1) = L.size[v], L.band[L.rank[v]]
    return L.pos[v] - sa / 2, (b0 + b1 - sl) / 2


# -- edges ----------------------------------------------------------------------------------------
def _port(L: _Layout, v: int, other: int, side: list[list[int]]) -> float:
    """Where an edge leaves or enters v: spread along v's side in the order of the other ends."""
    peers = sorted(side[v], key=lambda u: L.pos[u])
    k, span = len(peers), L.size[v][0]
    if k < 2 or span == 0:
        return L.pos[v]
    step = min(12.0, (span - 2 * PAD_X) / (k - 1))
    return L.pos[v] + (peers.index(other) - (k - 1) / 2) * step


def _route(L: _Layout, chain: list[int], gap: float) -> list[tuple[float, float]]:
    """Orthogonal polyline (across, along): inside a band only in its own column, jogs in the gaps.
    A chain runs down the bands, or up them (the rising half of a U layout)."""
    up = L.rank[chain[1]] < L.rank[chain[0]]
    s = -1 if up else 1
    out = lambda v: L.band[L.rank[v]][0 if up else 1]           # noqa: E731  the band side it leaves by
    into = lambda v: L.band[L.rank[v]][1 if up else 0]          # noqa: E731
    side = lambda v, leaving: _corner(L, v)[1] + (L.size[v][1] if leaving != up else 0)   # noqa: E731
    a0 = chain[0]
    x = _port(L, a0, chain[1], L.down)
    pts = [(x, side(a0, True))]
    for a, b in zip(chain, chain[1:]):
        end, start = out(a), into(b)
        xb = _port(L, b, a, L.up)
        pts.append((x, end))
        if abs(xb - x) <= 1e-6:
            xb = x
        else:
            fan_out, fan_in = len(L.down[a]) > 1, len(L.up[b]) > 1
            mid = end + s * gap * (0.5 if fan_out == fan_in else 0.3 if fan_out else 0.7)
            pts += [(x, mid), (xb, mid)]
        pts.append((xb, start))
        x = xb
        pts.append((x, side(b, False) if b == chain[-1] else out(b)))
    return simplify(pts)


# -- legend ---------------------------------------------------------------------------------------
def _legend(color: str | None, low: float, top: float) -> Legend | None:
    """What the shades mean: white is zero, the lightest shade the smallest positive figure."""
    if not color:
        return None
    unit = "B" if color == "memory" else ""
    return Legend(color, METRICS[color] + (" (fp32, per layer output)" if color == "memory" else ""),
                  short(low) + unit, short(top) + unit)

"""The course's feature-map figure (`cnncalc draw ARCH --style maps`): geometry only.

What the course notes and the LeNet-5 paper draw: each stage's output as a stack of feature-map planes
(a block when there are many channels), left to right, its height following H×W and its depth following
C, both on log scales (so VGG's 224×224×64 and 7×7×512 both read); between two maps the operation
("5×5 conv", "2×2 pool") and the kernel window drawn on the map it slides over, with lines to the
unit it produces; flatten and fully connected layers as vectors. A top-level block (VGG's conv3, NIN's
mlpconv, a ResNet stage) is one labelled unit; consecutive convolutions of one shape (VGG's conv1_1 and
conv1_2) share one block. Stages that would run past the page's width wrap onto the next row.
The renderer (cnncalc/render/maps.py) only draws this.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..layers import fmt_shape
from .diagram_nodes import instances
from .diagram_text import crop_lines
from .graph import INPUT, Graph
from .layout import CHAR_W, LINE_H, MARGIN

WIDTH = 1400          # the page: LeNet-5 … VGG-16 fit it on one row
FACE_MIN, FACE_MAX = 12.0, 150.0   # a map's front face, 1×1 … the largest H
DEPTH_MIN, DEPTH_MAX = 3.0, 40.0   # the oblique depth, 1 … the most channels
SLANT = (0.8, -0.55)  # the depth axis: right and up
GAP = 14.0
PLANES = 8            # up to this many channels each drawn as a plane; more: a block
HEADER = 40.0         # title and subtitle


@dataclass(frozen=True, slots=True)
class Map:
    id: str
    kind: str                   # 'input', 'conv', 'pool', 'merge', 'vector', 'block', 'other'
    label: tuple[str, ...]      # above it: the name, then C@H×W (or N for a vector)
    note: str                   # under the label: the other inputs it reads ('+ down4', 'size of input')
    x: float                    # the front face's top-left corner
    y: float
    w: float
    h: float
    depth: float                # the oblique offset along SLANT
    planes: int                 # planes drawn (a block when 0)
    nodes: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """The operation from one map to the next, with its kernel window on the map it slides over."""
    label: str
    x: float                    # the label's centre
    y: float
    window: tuple[float, float, float, float] | None    # x, y, w, h on the source's front face
    apex: tuple[float, float] | None                    # where the window's lines meet on the target


@dataclass
class MapsDiagram:
    title: str
    subtitle: str
    maps: list[Map]
    steps: list[Step]
    width: float
    height: float


def maps(graph: Graph) -> MapsDiagram:
    units = _stages(graph)
    shapes = [graph.input] + [graph.nodes[u[-1]].out_shape for u in units]
    sides = [s[1:] for s in shapes if len(s) > 1]
    biggest = max((max(s) for s in sides), default=1)
    channels = max((s[0] for s in shapes if len(s) > 1), default=1)
    vec = max((s[0] for s in shapes if len(s) == 1), default=1)
    owner = {INPUT: 0} | {n: k + 1 for k, u in enumerate(units) for n in u}
    labels = [("input", _shape_label(graph.input))] + [(_unit_name(graph, u), _shape_label(graph.nodes[u[-1]].out_shape))
                                                    for u in units]
    notes = [""] + [_note(graph, u, owner, k + 1, [lb[0] for lb in labels]) for k, u in enumerate(units)]
    ops = [_op(graph, u) for u in units]
    for scale in (1.0, 0.9, 0.8, 0.7, 0.6):      # shrink the maps to keep one row where that reads
        geo = [_size(s, biggest, channels, vec, scale) for s in shapes]
        spans = [max(w + d * SLANT[0], max(len(t) for t in lb + (nt,)) * CHAR_W) for (w, _, d, _), lb, nt
                 in zip(geo, labels, notes)]
        if sum(spans) + GAP * (len(spans) - 1) <= WIDTH - 2 * MARGIN:
            break
    else:                                        # too many stages for one row even so: full size, rows
        geo = [_size(s, biggest, channels, vec, 1.0) for s in shapes]
        spans = [max(w + d * SLANT[0], max(len(t) for t in lb + (nt,)) * CHAR_W) for (w, _, d, _), lb, nt
                 in zip(geo, labels, notes)]
    rise = -SLANT[1]
    row_h = 3 * LINE_H + DEPTH_MAX * rise + FACE_MAX + 3.5 * LINE_H
    out, steps = [], []
    x, row = MARGIN, 0
    for k, ((w, h, d, planes), label, note, span) in enumerate(zip(geo, labels, notes, spans)):
        if x + span > WIDTH - MARGIN and k:
            x, row = MARGIN, row + 1
        cy = HEADER + row * row_h + 3 * LINE_H + DEPTH_MAX * rise + FACE_MAX / 2
        m = Map(label[0], _kind(graph, units[k - 1]) if k else "input", label, note, x, cy - h / 2, w, h, d, planes,
                tuple(units[k - 1]) if k else ())
        if k:
            below = cy + FACE_MAX / 2 + LINE_H * (1.3 if k % 2 else 2.5)
            steps.append(_step(graph, ops[k - 1], out[-1], m, below) if x > MARGIN
                         else Step(ops[k - 1] + " →", x + span / 2, below, None, None))
        out.append(m)
        x += span + GAP
    width = max(m.x + max(m.w + m.depth * SLANT[0], max(len(t) for t in m.label + (m.note,)) * CHAR_W)
                for m in out) + MARGIN
    height = HEADER + (row + 1) * row_h + MARGIN
    subtitle = (f"input {fmt_shape(graph.input)}: each map's side follows √H, its depth log C; "
                "C@H×W above, the operation and its kernel window below")
    return MapsDiagram(graph.name, subtitle, out, steps, width, height)


def _stages(graph: Graph) -> list[list[int]]:
    """Node groups drawn as one map each: a top-level block; a layer with the shape-keeping, weightless
    layers after it (ReLU, LRN, dropout, an identity pooling); consecutive convolutions of one shape."""
    units: list[list[int]] = []
    i = 0
    while i < len(graph.nodes):
        node = graph.nodes[i]
        g = node.groups[0] if node.groups else None
        nodes = list(range(i, graph.groups[g].last + 1)) if g is not None else [i]
        while nodes[-1] + 1 < len(graph.nodes) and _rides(graph, nodes[-1] + 1):
            nodes.append(nodes[-1] + 1)
        same = units and _kind(graph, units[-1]) == "conv" == _kind(graph, nodes) and \
            graph.nodes[units[-1][-1]].out_shape == graph.nodes[nodes[-1]].out_shape and \
            graph.nodes[nodes[0]].inputs == [units[-1][-1]]
        if same:
            units[-1] += nodes
        else:
            units.append(nodes)
        i = nodes[-1] + 1
    return units


def _rides(graph: Graph, k: int) -> bool:
    """Drawn with the map before it: one input (the node before), same shape, no weights, not in a block."""
    node = graph.nodes[k]
    weightless = node.layer.params(node.in_shapes, node.out_shape) == 0 or node.layer.type == "batchnorm"
    return (node.inputs == [k - 1] and not node.groups and node.out_shape == node.in_shapes[0] and weightless
            and node.layer.type not in ("conv", "linear"))


def _kind(graph: Graph, nodes: list[int]) -> str:
    first = graph.nodes[nodes[0]]
    if first.groups:
        return "conv" if all(graph.nodes[n].layer.type in ("conv", "relu", "batchnorm") for n in nodes) else "block"
    if len(graph.nodes[nodes[-1]].out_shape) == 1:
        return "vector"
    t = first.layer.type
    if t in ("concat", "add", "mul"):
        return "merge"
    return "conv" if t in ("conv", "conv_transpose") else "pool" if "pool" in t or t == "subsample" else "other"


def _size(shape, biggest: int, channels: int, vec: int, scale: float) -> tuple[float, float, float, int]:
    """(front width, front height, depth, planes) of a map or a vector, the largest face FACE_MAX × scale."""
    top = FACE_MAX * scale
    def face(n: int) -> float:       # √: 224 and 112 differ as much as 14 and 7, and 7×7 still reads
        return max(FACE_MIN, top * math.sqrt(n / biggest))
    if len(shape) == 1:
        n = shape[0]
        return 10.0, FACE_MIN + (top - FACE_MIN) * math.log(n) / math.log(vec) if vec > 1 else FACE_MIN, 0.0, 1
    c, sides = shape[0], shape[1:]
    h = face(sides[0])
    w = face(sides[-1]) if len(sides) > 1 else h
    d = DEPTH_MIN + (DEPTH_MAX - DEPTH_MIN) * math.log(c) / math.log(channels) if channels > 1 else DEPTH_MIN
    return w, h, d, c if c <= PLANES else 0


def _shape_label(shape) -> str:
    """The course's C@H×W (6@28×28), or N for a vector."""
    return str(shape[0]) if len(shape) == 1 else f"{shape[0]}@{'×'.join(map(str, shape[1:]))}"


def _unit_name(graph: Graph, nodes: list[int]) -> str:
    heads = [graph.groups[graph.nodes[n].groups[0]].name if graph.nodes[n].groups else graph.nodes[n].name
             for n in nodes if graph.nodes[n].layer.type == "conv" or n == nodes[0]]
    names, end = heads[:1], heads[-1]
    if end != names[0]:       # conv1_1 … conv1_2 → conv1_1–2, conv3 … conv4 → conv3–4
        k = 0
        while k < min(len(end), len(names[0])) and end[k] == names[0][k]:
            k += 1
        return f"{names[0]}–{end[k:]}"
    return names[0]


def _note(graph: Graph, nodes: list[int], owner: dict[int, int], me: int, names: list[str]) -> str:
    """The inputs a map reads besides the map before it: '+ down4, crop 64→56' (a skip), 'size of input'."""
    extra = []
    for n in nodes:
        used = graph.nodes[n].layer.rf_inputs or len(graph.nodes[n].inputs)
        for k, s in enumerate(graph.nodes[n].inputs):
            if owner[s] in (me, me - 1):
                continue
            extra.append(f"size of {names[owner[s]]}" if k >= used else f"+ {names[owner[s]]}")
        extra += crop_lines(graph.nodes[n])
    return ", ".join(dict.fromkeys(extra))


def _op(graph: Graph, nodes: list[int]) -> str:
    """What makes this map from the one before: '5×5 conv', '2× 3×3 conv', '2×2 pool', 'full', a block's type."""
    first = graph.nodes[nodes[0]]
    heads = [n for n in nodes if graph.nodes[n].layer.type == "conv"]
    if first.groups and _kind(graph, nodes) == "block":
        g = first.groups[0]
        parts = instances(graph, g)
        return f"{graph.groups[parts[0]].type} ×{len(parts)}" if parts else graph.groups[g].type
    layer = graph.nodes[heads[0]].layer if heads else first.layer
    kernel = getattr(layer, "kernel", None)
    stride = getattr(layer, "stride", None)
    if layer.type == "linear":
        return "full"
    if kernel is None:
        return graph.groups[first.groups[0]].type if first.groups else layer.type.replace("_", " ")
    k = "×".join(map(str, kernel)) if len(set(kernel)) > 1 else f"{kernel[0]}×{kernel[0]}"
    s = f"/{stride[0]}" if stride and max(stride) > 1 and tuple(stride) != tuple(kernel) else ""
    what = {"conv": "conv", "maxpool": "max pool", "avgpool": "avg pool"}.get(layer.type, layer.type.replace("_", " "))
    count = f"{len(heads)}× " if len(heads) > 1 else ""
    return f"{count}{k}{s} {what}"


def _step(graph: Graph, op: str, a: Map, b: Map, y: float) -> Step:
    """The label under the gap between two maps, and the kernel window on a with its lines to b."""
    x = (a.x + a.w + a.depth * SLANT[0] + b.x) / 2
    kernel = _kernel(graph, b)
    source = INPUT if a.kind == "input" else a.nodes[-1]
    side = graph.shape_of(source)[1:]
    if kernel is None or source not in graph.nodes[b.nodes[0]].inputs or len(side) != len(kernel):
        return Step(op, x, y, None, None)        # no window: b does not slide over a
    kh = min(a.h, max(3.0, a.h * kernel[0] / side[0]))
    kw = min(a.w, max(3.0, a.w * kernel[-1] / side[-1]))
    wx = a.x + min(max(a.w * 0.6 - kw / 2, 0.0), a.w - kw)
    wy = a.y + min(max(a.h * 0.6 - kh / 2, 0.0), a.h - kh)
    return Step(op, x, y, (wx, wy, kw, kh), (b.x + b.w * 0.45, b.y + b.h * 0.45))


def _kernel(graph: Graph, b: Map):
    for n in b.nodes:
        k = getattr(graph.nodes[n].layer, "kernel", None)
        if k is not None:
            return k
    return None

"""Every input size at once: one validated Graph re-evaluated per input size with integer arithmetic.

The architecture is parsed and validated once (spec.builder). For each input size the graph is walked
in order calling each layer's own `check_input`, `output_shape`, `params`, `macs`, … on the new shapes
(memoised per layer instance and input shapes within a size: repeated blocks cost one call), and the
choices the builder took from shapes (auto shortcuts, projection strides, `Graph.rules`) are re-checked;
only where one of them would change is that size built again from the parsed document, exactly as
`analyze --input` does. A size at which a layer collapses is a row naming the layer and why.
"""
from __future__ import annotations

from bisect import bisect_left
from itertools import chain, compress
from operator import itemgetter
from typing import Any, Iterable

from pydantic import BaseModel

from ..errors import CnncalcError, LayerError, SpecError
from ..layers import Shape, fmt_shape, numel
from ..spec.builder import build_graph
from ..spec.composites import auto_shortcut, projection_strides
from ..spec.files import MAX_SIZE
from .graph import INPUT, Graph, Group, Node
from .liveness import peak_live, segments
from .receptive import covers, num, propagate, spatial_paths
from .report import CONVENTIONS

BYTES_FP32 = 4


class Collapse(BaseModel):
    """Where and why the network cannot run at an input size."""
    layer: str
    path: str | None = None
    line: int | None = None
    reason: str


class Uneven(BaseModel):
    """A layer whose windows do not fit its input evenly at this size, or a merge whose crop is off-centre."""
    layer: str
    leftover: list[int]   # per spatial axis: > 0 input rows floor ignores (or a crop takes after the kept
                          # window beyond those before it), < 0 rows ceil pads implicitly


class SweepRow(BaseModel):
    """One input size. Where the network collapses only `input`, `ok` (false) and `collapse` are set."""
    input: list[int]
    ok: bool = True
    output: list[int] | None = None
    outputs: list[list[int]] = []         # every output's shape, when the network has several
    params: int | None = None
    buffers: int | None = None
    macs: int | None = None
    flops: int | None = None
    other_ops: int | None = None
    activations: int | None = None        # sum of every layer's output (the course's count), per sample
    activation_bytes: int | None = None
    peak_activations: int | None = None   # peak live activations, each tensor freed after its last consumer
    peak_bytes: int | None = None
    rf: list[int | str] | None = None           # field size per spatial axis of the last feature map's units
    covers: bool | None = None            # every unit of the last feature map sees the whole input
    first_covering: str | None = None     # first layer whose every unit sees the whole input
    uneven: list[Uneven] = []             # layers that drop or implicitly pad rows at this size
    misaligned: list[str] = []            # merges whose paths' fields are misaligned (as analyze says)
    exact: bool = False                   # valid, no rows dropped or padded implicitly, crops centred
    collapse: Collapse | None = None


class SweepReport(BaseModel):
    name: str
    file: str | None = None
    input: list[int]                # the architecture's own input
    conventions: str = CONVENTIONS + "; peak = live activations, each tensor freed after its last consumer"
    rows: list[SweepRow]


# -- one size ----------------------------------------------------------------------------

class Sweeper:
    """One validated Graph, evaluated at any input size.

    The graph is split at its cut points (liveness.segments): given the shape entering a segment,
    everything inside it follows, so each (segment structure, entering shape) is computed once — the 36
    equal blocks of a ResNet-152 stage once per size, and sizes that agree deep down (224 and 225 after a
    stride-32 stem) share those segments. Inside a segment each distinct (layer, input shapes) pair is
    computed once with the layer's own methods. The receptive-field pass resumes from the first node whose
    field inputs differ from the previous size's (on a plain CNN: only the head's)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        nodes = graph.nodes
        self.names = [nd.name for nd in nodes]
        self.inputs = [nd.inputs for nd in nodes]
        self.skip = [nd.train_only for nd in nodes]
        self.owned = [nd.shares is None for nd in nodes]  # a node reusing another's parameters counts none
        canon: dict = {}  # equal layers share a key (the builder makes a new `add` per residual)
        self.keys = [_canonical(canon, nd.layer) for nd in nodes]
        self.outputs = graph.output_nodes
        self.segs = segments(self.inputs, self.keys, self.skip, self.outputs)
        self.merges = [i for i, nd in enumerate(nodes) if len(nd.inputs) > 1]
        self.memo: dict = {}      # (layer key, *input shapes) → figures, across sizes
        self.seg_memo: dict = {}  # (segment sig, entering shape) → (outputs, figures, peak), across sizes
        # the previous size's ((steps, merges' spatial paths), states, misaligned, reach, misaligned axes)
        self._rf: tuple = ()

    def shapes(self, shape: Shape) -> tuple[list[Shape], list[tuple], int] | Graph | Collapse:
        """Every node's output shape and figures at `shape` and the peak live activations; or, where a
        choice the builder took from shapes changes, the full build's Graph (or Collapse) at that size;
        or where a layer collapses."""
        outs: list[Shape] = []
        figs: list[tuple] = []
        peak = 0
        memo = self.seg_memo
        if len(memo) > 100_000 or len(self.memo) > 500_000:
            memo.clear()
            self.memo.clear()
        for seg in self.segs:
            at = outs[-1] if outs else shape
            got = memo.get((seg.sig, at))
            if got is None:
                got = self._segment(seg, at)
                if got.__class__ is Collapse:
                    return _checked(self.graph, shape, outs, len(outs)) or got
                memo[(seg.sig, at)] = got
            outs += got[0]
            figs += got[1]
            if got[2] > peak:
                peak = got[2]
        return _checked(self.graph, shape, outs, len(outs)) or (outs, figs, peak)

    def _segment(self, seg, at: Shape) -> tuple[list[Shape], list[tuple], int] | Collapse:
        start, memo, nodes = seg.start, self.memo, self.graph.nodes
        outs: list[Shape] = []
        figs: list[tuple] = []
        for j in range(start, seg.end):
            key = (self.keys[j], *[at if i < start else outs[i - start] for i in self.inputs[j]])
            fig = memo.get(key)
            if fig is None:
                fig = figures(nodes[j], list(key[1:]))
                if fig.__class__ is Collapse:  # not memoised: it names this node
                    return fig
                memo[key] = fig
            outs.append(fig[0])
            figs.append(fig)
        return outs, figs, peak_live([numel(at)] + [f[7] for f in figs], seg.frees, seg.skip)

    def verdict(self, shape: Shape, axis: int | None = None) -> str | bool:
        """'layer: why' where the network collapses at `shape`; else whether it takes `shape` exactly (no layer
        drops or implicitly pads rows, no merge crops unevenly) — on every spatial axis, or only on `axis`."""
        got = self.shapes(shape)
        if isinstance(got, Collapse):
            return f"{got.layer}: {got.reason}"
        if isinstance(got, Graph):
            return Sweeper(got).verdict(shape, axis)
        left = [f[5] for f in got[1] if f[5]]
        return not (any(x[axis] for x in left) if axis is not None else left)

    def row(self, shape: Shape) -> SweepRow:
        got = self.shapes(shape)
        if isinstance(got, Collapse):
            return SweepRow(input=list(shape), ok=False, collapse=got)
        if isinstance(got, Graph):
            return Sweeper(got).row(shape)
        outs, figs, peak = got
        run = [f for f, skip in zip(figs, self.skip) if not skip] if any(self.skip) else figs
        macs = sum(map(itemgetter(3), run))
        acts = sum(map(itemgetter(7), run))
        states, misaligned = self.fields(shape, outs, figs)
        rf, full, first = self.coverage(shape, outs, states)
        uneven = [Uneven(layer=self.names[i], leftover=list(figs[i][5]))
                  for i in compress(range(len(figs)), map(itemgetter(5), figs))]
        outputs = [list(outs[o]) for o in self.outputs] if len(self.outputs) > 1 else []
        owned = list(compress(figs, self.owned))
        return SweepRow(input=list(shape), output=list(outs[self.outputs[0]]), outputs=outputs,
                        params=sum(map(itemgetter(1), owned)), buffers=sum(map(itemgetter(2), owned)),
                        macs=macs, flops=2 * macs,
                        other_ops=sum(map(itemgetter(4), run)), activations=acts, activation_bytes=acts * BYTES_FP32,
                        peak_activations=peak, peak_bytes=peak * BYTES_FP32, rf=rf, covers=full,
                        first_covering=first, uneven=uneven,
                        misaligned=[f"{self.names[i]}: {m}" for i, m in misaligned.items()],
                        exact=not uneven)

    def fields(self, shape: Shape, outs: list[Shape], figs: list[tuple]):
        """The receptive-field states at this size, recomputed from the first node whose inputs to the
        field (its steps, or a merge's spatial paths) differ from the previous size's."""
        steps = list(map(itemgetter(6), figs))
        spatial = {i: figs[i][8] for i in self.merges}
        (old, old_spatial), states, misaligned, reach, bad = self._rf or (((), {}), [], {}, [], {})
        start = first_difference(old, steps)
        start = min([start] + [i for i in self.merges if spatial[i] != old_spatial.get(i)])
        propagate(self.inputs, steps, spatial, self.names, states, misaligned, start, bad)
        # running maximum over nodes of r − P on the first axis: where a node can first reach the last row
        del reach[start:]
        top = reach[-1] if reach else None
        for st in states[start:]:
            top = st[0].r - st[0].P if top is None else max(top, st[0].r - st[0].P)
            reach.append(top)
        self._rf = ((steps, spatial), states, misaligned, reach, bad)
        return states, misaligned

    def coverage(self, shape: Shape, outs: list[Shape], states: list) -> tuple[list, bool, str | None]:
        """(field size per axis of the last feature map's units — the last map larger than one position —,
        do they all see the whole input, the first layer whose units all do: a vector counts as one unit)."""
        spatial = shape[1:]
        if not spatial:
            return [], False, None
        one = (1,) * len(spatial)
        full = lambda st, out: all(covers(a, n, o) for a, n, o in  # noqa: E731
                                   zip(st, spatial, out[1:] if len(out) == len(shape) else one))
        first = None
        # a unit reaches the last row only where r − P ≥ n (covers' first condition): skip to there
        for i in range(bisect_left(self._rf[3], spatial[0]), len(outs)):
            if full(states[i], outs[i]):
                first = self.names[i]
                break
        maps = (i for i in range(len(outs) - 1, -1, -1) if len(outs[i]) == len(shape))
        last = next(maps, None)
        for i in chain([last], maps) if last is not None else ():
            if max(outs[i][1:]) > 1:
                last = i
                break
        if last is None:
            return [], False, first
        return [num(a.r) for a in states[last]], full(states[last], outs[last]), first


def _canonical(canon: dict, layer) -> int:
    """The id of the first layer equal to `layer` (layers are frozen: equal fields, equal figures)."""
    try:
        return id(canon.setdefault(layer, layer))
    except TypeError:  # a field that does not hash: the layer stands for itself
        return id(layer)


def first_difference(a: list, b: list) -> int:
    """The first index where two lists differ (the shorter length if one is a prefix of the other),
    by bisection on slices, which compare at C speed."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while hi - lo > 1:  # invariant: a[:lo] == b[:lo], a[:hi] != b[:hi]
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def figures(node: Node, ins: list[Shape]) -> tuple | Collapse:
    """(output, params, buffers, MACs, other ops, leftover (None if even), RF steps, output size, a merge's
    spatial paths) of one layer on `ins`, each from the layer's own method; or the collapse the builder
    reports there (Builder.add)."""
    layer = node.layer
    try:
        layer.check_input(ins)
        out = layer.output_shape(ins)
        if min(out) < 1:
            raise LayerError(f"{layer.type} on input {', '.join(fmt_shape(s) for s in ins)} gives "
                             f"{fmt_shape(out)}: the map shrinks to nothing")
        if max(out) > MAX_SIZE:
            raise LayerError(f"{layer.type} gives a size over the limit of {MAX_SIZE:,} ({max(out):.3g})")
    except LayerError as e:
        where = f"{node.path} ({node.name}, input {', '.join(fmt_shape(s) for s in ins)})"
        return Collapse(layer=node.name, path=where, line=node.line, reason=e.message)
    left = layer.leftover(ins, out) or uneven_crop(layer, ins, out)
    return (out, layer.params(ins, out), layer.buffers(ins, out), layer.macs(ins, out), layer.other_ops(ins, out),
            left if any(left) else None, layer.rf_steps(ins), numel(out),
            spatial_paths(ins, out, layer) if len(ins) > 1 else None)


def uneven_crop(layer, ins: list[Shape], out: Shape) -> tuple[int, ...]:
    """Per spatial axis, how many more rows a merge's centre crop takes after the kept window than before
    it (1 where an input is larger by an odd number): the inputs then do not line up. () if it crops none."""
    offsets = layer.rf_offsets(ins) if len(ins) > 1 and hasattr(layer, "rf_offsets") else None
    if not offsets:
        return ()
    return tuple(max((n - m) - 2 * o for s, off in zip(ins, offsets) for n, m, o in [(s[1 + a], out[1 + a], off[a])])
                 for a in range(len(out) - 1))


def reshape(graph: Graph, shape: Shape) -> Graph | Collapse:
    """The same layers on another input: a Graph with every shape re-inferred (as `load(…, input)` builds
    it), or where it collapses."""
    got = Sweeper(graph).shapes(shape)
    if not isinstance(got, tuple):
        return got
    outs = got[0]
    shape_of = lambda i: shape if i == INPUT else outs[i]  # noqa: E731
    nodes = [Node(nd.name, nd.layer, nd.inputs, [shape_of(i) for i in nd.inputs], out, nd.line, nd.path, nd.groups,
                  nd.train_only, nd.shares) for nd, out in zip(graph.nodes, outs)]
    groups = [Group(g.name, g.type, g.level, g.input, shape_of(g.input), g.first, g.last, shape_of(g.last))
              for g in graph.groups]
    return Graph(graph.name, graph.source, shape, graph.file, nodes, groups, outputs=graph.outputs, rules=graph.rules,
                 doc=graph.doc)


def _checked(graph: Graph, shape: Shape, outs: list[Shape], reached: int) -> Graph | Collapse | None:
    """None if every shape-dependent choice of the builder before node `reached` still holds at this size;
    otherwise the graph (or the collapse) of a full build at this size, as `analyze --input` makes it."""
    for rule in graph.rules:
        if rule.source >= reached or rule.body >= reached:
            continue
        a = shape if rule.source == INPUT else outs[rule.source]
        b = shape if rule.body == INPUT else outs[rule.body]
        try:
            now = auto_shortcut(a, b) if rule.kind == "auto" else projection_strides(a, b)
        except ValueError:
            now = None
        if now != rule.choice:
            return rebuild(graph, shape)
    return None


def rebuild(graph: Graph, shape: Shape) -> Graph | Collapse:
    try:
        return build_graph(graph.doc, graph.file, shape)
    except CnncalcError as e:
        return Collapse(layer=_layer_of(e.path), path=e.path, line=e.line, reason=e.message)


def _layer_of(path: str | None) -> str:
    """The layer name in a builder error's path ('layers[3] (conv1, input 3×2×2)' → 'conv1')."""
    if path and "(" in path:
        return path.split("(", 1)[1].split(",")[0].rstrip(")")
    return path or "input"


# -- peak memory and coverage ------------------------------------------------------------------

# -- many sizes ----------------------------------------------------------------------------

def load_for_sweep(spec: Any) -> Graph:
    """Parse and validate once (a path, a built-in name, a parsed dict or a Graph)."""
    from .analyze import display_name, resolve
    from ..spec.yamlio import load_file
    if isinstance(spec, Graph):
        return spec
    if isinstance(spec, dict):
        return build_graph(spec)
    path = resolve(spec)
    return build_graph(load_file(path), display_name(spec, path))


MAX_WORK = 2_000_000   # layers × input sizes of one sweep (about a microsecond each: a few seconds at most)


def sweep_rows(graph: Graph, shapes: Iterable[Shape]) -> Iterable[SweepRow]:
    """One row per input shape; refused at once (SpecError) when layers × sizes exceed MAX_WORK."""
    shapes = list(shapes)
    work = len(graph.nodes) * len(shapes)
    if work > MAX_WORK:
        raise SpecError(f"sweep: {len(graph.nodes):,} layers × {len(shapes):,} input sizes = {work:,} layer "
                        f"evaluations; the limit is {MAX_WORK:,} (fewer sizes, or a coarser step)")
    return _rows(Sweeper(graph), shapes)


def _rows(sweeper, shapes: list) -> Iterable[SweepRow]:
    for shape in shapes:
        yield sweeper.row(shape)


def sweep(spec: Any, shapes: Iterable[Shape]) -> SweepReport:
    graph = load_for_sweep(spec)
    return SweepReport(name=graph.name, file=graph.file, input=list(graph.input), rows=list(sweep_rows(graph, shapes)))

"""Every input size at once: one validated Graph re-evaluated per input size with integer arithmetic.

The architecture is parsed and validated once (spec.builder). For each input size the graph is walked
in order calling each layer's own `check_input`, `output_shape`, `params`, `macs`, … on the new shapes
(memoised per layer instance and input shapes within a size: repeated blocks cost one call), and the
choices the builder took from shapes (auto shortcuts, projection strides, `Graph.rules`) are re-checked;
only where one of them would change is that size built again from the parsed document, exactly as
`analyze --input` does. A size at which a layer collapses is a row naming the layer and why.
"""
from __future__ import annotations

from operator import itemgetter
from typing import Any, Iterable

from pydantic import BaseModel

from ..errors import CnncalcError, LayerError
from ..layers import Shape, fmt_shape, numel
from ..spec.builder import auto_shortcut, build_graph, projection_strides
from .graph import INPUT, Graph, Group, Node
from .receptive import covers, propagate, spatial_paths
from .report import CONVENTIONS

BYTES_FP32 = 4


class Collapse(BaseModel):
    """Where and why the network cannot run at an input size."""
    layer: str
    path: str | None = None
    line: int | None = None
    reason: str


class Uneven(BaseModel):
    """A layer whose windows do not fit its input evenly at this size."""
    layer: str
    leftover: list[int]   # per spatial axis: > 0 input rows floor ignores, < 0 rows ceil pads implicitly


class SweepRow(BaseModel):
    input: list[int]
    ok: bool = True
    output: list[int] = []
    params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    other_ops: int = 0
    activations: int = 0            # sum of every layer's output (the course's count), per sample
    activation_bytes: int = 0
    peak_activations: int = 0       # peak live activations, each tensor freed after its last consumer
    peak_bytes: int = 0
    rf: list[int] = []              # field size per spatial axis of the last map's units
    covers: bool = False            # every unit of the last map sees the whole input
    first_covering: str | None = None  # first layer whose every unit sees the whole input
    uneven: list[Uneven] = []       # layers that drop or implicitly pad rows at this size
    misaligned: list[str] = []      # merges whose paths are misaligned
    exact: bool = False             # valid, nothing dropped or padded implicitly, every merge aligned
    collapse: Collapse | None = None


class SweepReport(BaseModel):
    name: str
    file: str | None = None
    input: list[int]                # the architecture's own input
    conventions: str = CONVENTIONS + "; peak = live activations, each tensor freed after its last consumer"
    rows: list[SweepRow]


# -- one size ----------------------------------------------------------------------------

class Sweeper:
    """One validated Graph, evaluated at any input size. Per size, each distinct (layer, input shapes)
    pair is computed once with the layer's own methods; the receptive-field pass resumes from the first
    node whose field inputs differ from the previous size's (on a plain CNN: only the head's)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.names = [nd.name for nd in graph.nodes]
        self.inputs = [nd.inputs for nd in graph.nodes]
        # per node: (its layer's key, its one input's index or the tuple of a merge's inputs, the node);
        # equal layers share a key (the builder makes a new `add` per residual, a new projection per block)
        canon: dict = {}
        self.plan = [(_canonical(canon, nd.layer), nd.inputs[0] if len(nd.inputs) == 1 else tuple(nd.inputs), nd)
                     for nd in graph.nodes]
        self.merges = [i for i, nd in enumerate(graph.nodes) if len(nd.inputs) > 1]
        self.frees = liveness(graph)
        self.skip = [nd.train_only for nd in graph.nodes]
        self.memo: dict = {}  # (layer id, *input shapes) → figures, across sizes (sizes share deep shapes)
        self.cuts = cut_points(self.inputs)
        self.suffix: dict = {}  # (cut, shape there) → the outputs and figures of every node after it
        self._rf: tuple = ()  # the previous size's ((steps, merges' spatial paths), states, misaligned)

    def shapes(self, shape: Shape) -> tuple[list[Shape], list[tuple]] | Graph | Collapse:
        """Every node's output shape and figures at `shape`; or, where a choice the builder took from shapes
        changes, the full build's Graph (or Collapse) at that size; or where a layer collapses.

        Past a cut point (a node whose output is all that later nodes read) everything depends on that
        output's shape alone: sizes that agree there (224 and 225 after a stride-32 stem…) share the rest."""
        outs: list[Shape] = []
        figs: list[tuple] = []
        memo, cuts, suffix, seen = self.memo, self.cuts, self.suffix, []
        if len(memo) > 500_000 or len(suffix) > 20_000:
            memo.clear()
            suffix.clear()
        for idx, (lid, src, node) in enumerate(self.plan):
            if src.__class__ is int:
                key = (lid, shape if src < 0 else outs[src])
            else:
                key = (lid, *[shape if i < 0 else outs[i] for i in src])
            fig = memo.get(key)
            if fig is None:
                fig = figures(node, list(key[1:]))
                if fig.__class__ is Collapse:  # not memoised: it names this node
                    return _checked(self.graph, shape, outs, len(outs)) or fig
                memo[key] = fig
            outs.append(fig[0])
            figs.append(fig)
            if idx in cuts:
                rest = suffix.get((idx, fig[0]))
                if rest is not None:
                    outs += rest[0]
                    figs += rest[1]
                    break
                seen.append(idx)
        for k in seen:
            suffix[(k, outs[k])] = (outs[k + 1:], figs[k + 1:])
        return _checked(self.graph, shape, outs, len(outs)) or (outs, figs)

    def verdict(self, shape: Shape) -> str | bool:
        """'layer: why' where the network collapses at `shape`; else whether it takes `shape` exactly."""
        got = self.shapes(shape)
        if isinstance(got, Collapse):
            return f"{got.layer}: {got.reason}"
        if isinstance(got, Graph):
            return Sweeper(got).verdict(shape)
        outs, figs = got
        if any(map(itemgetter(5), figs)):
            return False
        return not self.fields(shape, outs, figs)[1]

    def row(self, shape: Shape) -> SweepRow:
        got = self.shapes(shape)
        if isinstance(got, Collapse):
            return SweepRow(input=list(shape), ok=False, collapse=got)
        if isinstance(got, Graph):
            return Sweeper(got).row(shape)
        outs, figs = got
        run = [f for f, skip in zip(figs, self.skip) if not skip] if any(self.skip) else figs
        macs = sum(map(itemgetter(3), run))
        acts = sum(map(itemgetter(7), run))
        sizes = list(map(itemgetter(7), figs))
        peak = peak_live(numel(shape), sizes, self.frees, self.skip)
        states, misaligned = self.fields(shape, outs, figs)
        rf, full, first = coverage(self.names, states, shape, outs)
        uneven = [Uneven(layer=self.names[i], leftover=list(f[5])) for i, f in enumerate(figs) if f[5]]
        return SweepRow(input=list(shape), output=list(outs[-1]), params=sum(map(itemgetter(1), figs)),
                        buffers=sum(map(itemgetter(2), figs)), macs=macs, flops=2 * macs,
                        other_ops=sum(map(itemgetter(4), run)), activations=acts, activation_bytes=acts * BYTES_FP32,
                        peak_activations=peak, peak_bytes=peak * BYTES_FP32, rf=rf, covers=full,
                        first_covering=first, uneven=uneven,
                        misaligned=[f"{self.names[i]}: {m}" for i, m in misaligned.items()],
                        exact=not uneven and not misaligned)

    def fields(self, shape: Shape, outs: list[Shape], figs: list[tuple]):
        """The receptive-field states at this size, recomputed from the first node whose inputs to the
        field (its steps, or a merge's spatial paths) differ from the previous size's."""
        steps = list(map(itemgetter(6), figs))
        spatial = {i: spatial_paths([shape if j == INPUT else outs[j] for j in self.inputs[i]], outs[i])
                   for i in self.merges}
        (old, old_spatial), states, misaligned = self._rf or (((), {}), [], {})
        start = first_difference(old, steps)
        start = min([start] + [i for i in self.merges if spatial[i] != old_spatial.get(i)])
        propagate(self.inputs, steps, spatial, self.names, states, misaligned, start)
        self._rf = ((steps, spatial), states, misaligned)
        return states, misaligned


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


def cut_points(inputs: list[list[int]], keep: int = 16) -> set[int]:
    """Up to `keep` nodes, spread along the graph, whose output is all that the nodes after them read."""
    n = len(inputs)
    lowest, low = [n] * (n + 1), n
    for j in range(n - 1, -1, -1):
        low = min(low, *inputs[j])
        lowest[j] = low
    cuts = [k for k in range(n - 1) if lowest[k + 1] >= k]
    if len(cuts) <= keep:
        return set(cuts)
    return {cuts[round(i * (len(cuts) - 1) / (keep - 1))] for i in range(keep)}


def figures(node: Node, ins: list[Shape]) -> tuple | Collapse:
    """(output, params, buffers, MACs, other ops, leftover (None if even), RF steps, output size) of one layer on `ins`,
    each from the layer's own method; or the collapse the builder would report there (Builder.add)."""
    layer = node.layer
    try:
        layer.check_input(ins)
        out = layer.output_shape(ins)
        if min(out) < 1:
            raise LayerError(f"{layer.type} on input {', '.join(fmt_shape(s) for s in ins)} gives "
                             f"{fmt_shape(out)}: the map shrinks to nothing")
    except LayerError as e:
        return Collapse(layer=node.name, path=f"{node.path} ({node.name}, input {', '.join(fmt_shape(s) for s in ins)})",
                        line=node.line, reason=e.message)
    left = layer.leftover(ins, out)
    return (out, layer.params(ins, out), layer.buffers(ins, out), layer.macs(ins, out), layer.other_ops(ins, out),
            left if any(left) else None, layer.rf_steps(ins), numel(out))


def reshape(graph: Graph, shape: Shape) -> Graph | Collapse:
    """The same layers on another input: a Graph with every shape re-inferred (as `load(…, input)` builds
    it), or where it collapses."""
    got = Sweeper(graph).shapes(shape)
    if not isinstance(got, tuple):
        return got
    outs = got[0]
    shape_of = lambda i: shape if i == INPUT else outs[i]  # noqa: E731
    nodes = [Node(nd.name, nd.layer, nd.inputs, [shape_of(i) for i in nd.inputs], out, nd.line, nd.path, nd.groups,
                  nd.train_only) for nd, out in zip(graph.nodes, outs)]
    groups = [Group(g.name, g.type, g.level, g.input, shape_of(g.input), g.first, g.last, shape_of(g.last))
              for g in graph.groups]
    return Graph(graph.name, graph.source, shape, graph.file, nodes, groups, graph.rules, graph.doc)


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

def liveness(graph: Graph) -> list[list[int]]:
    """Per node, the tensors (node indices, INPUT for the network input) freed once it has run: those it
    is the last to read, and its own output if nothing reads it. The network output is never freed."""
    n = len(graph.nodes)
    last: dict[int, int] = {}
    for idx, node in enumerate(graph.nodes):
        if not node.train_only:  # a training-only head keeps nothing alive at inference
            for i in node.inputs:
                last[i] = idx
    frees: list[list[int]] = [[] for _ in range(n)]
    for t in (INPUT, *range(n - 1)):
        if t in last or t != INPUT:
            frees[last.get(t, t)].append(t)
    return frees


def peak_live(input_size: int, sizes: list[int], frees: list[list[int]], skip: list[bool]) -> int:
    """Peak of the activation elements alive at once in an inference forward that allocates each layer's
    output anew and frees every tensor after its last consumer: while a layer runs, its inputs, its output
    and every earlier tensor a later layer still reads are held (the network input from the start)."""
    held = sizes + [input_size]  # INPUT (−1) is the last entry
    live = peak = input_size
    for size, gone, off in zip(sizes, frees, skip):
        if off:
            continue
        live += size
        if live > peak:
            peak = live
        for i in gone:
            live -= held[i]
    return peak


def coverage(names: list[str], states: list, shape: Shape, outs: list[Shape]) -> tuple[list[int], bool, str | None]:
    """(field size per axis of the last feature map's units — the last map larger than one position —,
    do they all see the whole input, the first layer whose units all do)."""
    spatial = shape[1:]
    if not spatial:
        return [], False, None
    full = lambda st, out: all(covers(a, n, o) for a, n, o in zip(st, spatial, out[1:]))  # noqa: E731
    n0, first = spatial[0], None
    for name, st, out in zip(names, states, outs):
        a = st[0]
        # r − P ≥ n on the first axis (unit 0 reaches the last row) rules most layers out before covers()
        if a.r - a.P >= n0 and len(out) == len(shape) and covers(a, n0, out[1]) and full(st, out):
            first = name
            break
    last = next((i for i in range(len(outs) - 1, -1, -1) if len(outs[i]) == len(shape) and max(outs[i][1:]) > 1),
                next((i for i in range(len(outs) - 1, -1, -1) if len(outs[i]) == len(shape)), None))
    if last is None:
        return [], False, first
    return [a.r for a in states[last]], full(states[last], outs[last]), first


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


def sweep_rows(graph: Graph, shapes: Iterable[Shape]) -> Iterable[SweepRow]:
    sweeper = Sweeper(graph)
    for shape in shapes:
        yield sweeper.row(shape)


def sweep(spec: Any, shapes: Iterable[Shape]) -> SweepReport:
    graph = load_for_sweep(spec)
    return SweepReport(name=graph.name, file=graph.file, input=list(graph.input), rows=list(sweep_rows(graph, shapes)))

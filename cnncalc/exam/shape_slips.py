"""Slips in output shapes, receptive fields and same padding.

An output shape is recomputed with one change to one term of a layer's formula (terms.py: the
stride, padding, dilation or the + 1 left out, one side padded, the division rounded the other
way, the other kind's formula, the depth kept, …), at one layer or at every layer where the term
exists, or with a layer or a concat's branch left out — and `propagate` carries the change through
the real graph to the output asked about, every other layer computing its shape by its own
formula. The layers of what was asked are tried first, then the layers before it, then two
changes at the deciding layer; a `Budget` bounds the layer evaluations. A receptive field is
recomputed along the chain with the strides' product left out, each layer grown by k instead of
k − 1 (from 1, or from 0: the sum of the kernels), its own stride counted, or the dilation ignored
or taken as d·k. Texts are the changed formulas with the layer's own numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Optional

from ..analysis import formulas as f
from ..analysis.graph import INPUT, Graph
from .numbers import ShapeAnswer, fmt_dims, from_chw, layout_text, shape_matches
from .slip import Slip, join_slips, simplest
from .subject import Subject
from .labels import at as _at, label
from .terms import MISTAKES, Mistake, Terms, terms_of


# --------------------------------------------------------------------------------------
# Output shapes


def hwc_order_swapped(given: ShapeAnswer, exp: tuple) -> Optional[Slip]:
    """The right sizes in another order: written in the other layout, or shuffled."""
    g, lay = tuple(given.dims), given.layout
    right = from_chw(tuple(exp), lay)
    if len(g) != len(exp) or g == right:
        return None
    other = "CHW" if lay == "HWC" else "HWC"
    rank = len(exp) - 1
    if g == from_chw(tuple(exp), other):
        return Slip(name="H/W/C order swapped",
                    detail=f"{given.text} is right read as {layout_text(other, rank)}, but this file writes shapes "
                           f"as {layout_text(lay, rank)}: {fmt_dims(right)} (or set layout: {other})")
    if sorted(g) == sorted(exp):
        return Slip(name="H/W/C order swapped",
                    detail=f"the right sizes in the wrong order: {layout_text(lay, rank)} is {fmt_dims(right)}")
    return None


class Budget:
    """How many layer evaluations one answer's search may spend (a 99,999-layer net stays quick)."""

    def __init__(self, steps: int = 20000):
        self.left = steps
        self.exhausted = False

    def spend(self, n: int = 1) -> bool:
        self.left -= n
        if self.left < 0:
            self.exhausted = True
        return not self.exhausted


def propagate(graph: Graph, first: int, end: int, override: dict, budget: Budget, every: bool = False):
    """The output of node `end` when the layers in `override` compute their outputs another way
    (idx → ins → shape), every other layer by its own formula; None where a layer refuses its input.
    `every`: the shapes that changed, by node, instead."""
    shapes: dict[int, tuple] = {}
    for i in range(first, end + 1):
        node = graph.nodes[i]
        ins = [shapes.get(j, graph.shape_of(j)) for j in node.inputs]
        if i in override:
            out = override[i](ins)
        elif all(a == tuple(b) for a, b in zip(ins, node.in_shapes)):
            out = tuple(node.out_shape)
        else:
            if not budget.spend():
                return None
            try:
                node.layer.check_input(ins)
                out = tuple(node.layer.output_shape(ins))
            except Exception:   # noqa: BLE001 — the mistaken shape does not fit a later layer: no candidate
                return None
        if out is None or min(out) < 1:
            return None
        if not every or out != tuple(node.out_shape) or i in override:
            shapes[i] = out
    return shapes if every else shapes.get(end)


def subject_end(subject: Subject) -> int:
    """The node whose output is the subject's output."""
    if subject.kind in ("layer", "block"):
        return subject.nodes[-1]
    return subject.graph.output_nodes[0]


@dataclass(frozen=True)
class Candidate:
    """A mistaken shape, with the slip's name, how common it is (prior: 1 most) and what it computed."""
    shape: tuple
    name: str
    prior: int
    detail: str


def _mistaken(layer, ins: list, mistake: Mistake) -> Optional[tuple]:
    t = terms_of(layer, ins[0])
    alt = mistake.apply(t) if t is not None else None
    return alt.shape() if alt is not None else (t.shape() if t is not None else None)


def _targets(subject: Subject, end: int) -> list[tuple[int, Terms]]:
    """Layers whose terms a mistake may change: the subject's own and the ones before it, nearest first."""
    graph = subject.graph
    out = []
    for i in range(end, -1, -1):
        node = graph.nodes[i]
        t = terms_of(node.layer, tuple(node.in_shapes[0])) if node.in_shapes else None
        if t is not None:
            out.append((i, t))
        if len(out) >= MAX_TARGETS:
            break
    return out


MAX_TARGETS = 400     # layers tried, nearest first (the budget bounds the work as well)
MAX_EVERY = 60        # layers one slip "at every layer" is tried over (each is described on its own input)


def _single(subject, end, i, t, m: Mistake, budget, layout) -> Optional[Candidate]:
    alt = m.apply(t)
    if alt is None:
        return None
    out = propagate(subject.graph, i, end, {i: lambda ins, s=alt.shape(): s}, budget)    # i's inputs are true
    if out is None:
        return None
    carried = "" if i == end else f", carried through to {subject.name}: {fmt_dims(from_chw(out, layout))}"
    detail = f"{_at(subject, i)}{alt.text()}{carried}; {m.why(t)}: {t.text()}"
    return Candidate(out, m.name, m.prior + (0 if i == end else 1), detail)


def _everywhere(subject, end, targets, m: Mistake, budget, layout) -> Optional[Candidate]:
    first = subject.nodes[0] if subject.kind == "block" else 0     # a block's own layers; a chain's, all before
    kinds = {t.kind for _, t in targets if m.apply(t) is not None}
    every = [(i, t) for i, t in targets if i >= first and t.kind in kinds]   # the term exists: where it may apply
    if len(every) < 2 or len(every) > MAX_EVERY:
        return None
    graph = subject.graph
    override = {i: (lambda ins, lay=graph.nodes[i].layer: _mistaken(lay, ins, m)) for i, _ in every}
    out = propagate(graph, min(override), end, override, budget)
    if out is None:
        return None
    changed = [(i, alt) for i, alt in ((i, _on_propagated(graph, i, override, budget, m)) for i, _ in sorted(every))
               if alt is not None]
    if len(changed) < 2:
        return None
    texts = [f"{_at(subject, i)}{alt.text()}" for i, alt in changed[:2]]
    detail = (f"at each of the {len(changed)} layers where it applies: " + "; ".join(texts)
              + (f"; … ({len(changed) - len(texts)} more)" if len(changed) > len(texts) else "")
              + f"; {m.why(every[0][1])}")
    return Candidate(out, f"{m.name} at every layer", m.prior + 1, detail)


def _on_propagated(graph, i, override, budget, m) -> Optional[Terms]:
    """Layer i's mistaken terms on the input the earlier mistakes gave it."""
    first = min(override)
    ins = graph.nodes[i].inputs
    shape = propagate(graph, first, ins[0], override, budget) if ins[0] >= first else graph.shape_of(ins[0])
    t = terms_of(graph.nodes[i].layer, tuple(shape)) if shape is not None else None
    return m.apply(t) if t is not None else None


def _left_out(subject, end, budget, layout) -> list[tuple[int, Candidate]]:
    """A shape-changing layer (or a concat's branch) left out, the change carried to the subject's output."""
    graph = subject.graph
    out = []
    lo = subject.nodes[0] if subject.kind == "block" else max(0, end - 60)
    for i in range(end, lo - 1, -1):
        node = graph.nodes[i]
        if len(node.inputs) == 1 and tuple(node.out_shape) != tuple(node.in_shapes[0]):
            shape = propagate(graph, i, end, {i: lambda ins: tuple(ins[0])}, budget)
            if shape is not None:
                out.append((i, Candidate(shape, "a layer left out", 3,
                                         f"leaves out {label(subject, i)} "
                                         f"({fmt_dims(from_chw(node.in_shapes[0], layout))}"
                                         f" → {fmt_dims(from_chw(node.out_shape, layout))})")))
        elif node.layer.type == "concat" and len(node.inputs) >= 2:
            for j, src in enumerate(node.inputs):
                rest = [k for k in range(len(node.inputs)) if k != j]
                def drop(ins, rest=rest, layer=node.layer):
                    kept = [ins[k] for k in rest]
                    return tuple(kept[0]) if len(kept) == 1 else tuple(layer.output_shape(kept))
                shape = propagate(graph, i, end, {i: drop}, budget)
                if shape is not None:
                    own_input = subject.kind == "block" and src == graph.nodes[subject.nodes[0]].inputs[0]
                    what = "the block's input" if own_input else (label(subject, src) if src >= 0 else "the input")
                    c = graph.shape_of(src)[0]
                    chans = " + ".join(str(graph.shape_of(k)[0]) for k in node.inputs)
                    kept = " + ".join(str(graph.shape_of(node.inputs[k])[0]) for k in rest)
                    name = "the block's input not concatenated" if own_input else "a branch left out of the concat"
                    out.append((i, Candidate(shape, name, 3,
                                             f"concatenates {kept} channels, leaving out {what} ({c} channels); "
                                             f"the concat joins {chans} = {node.out_shape[0]}")))
    return out


def _neighbour(subject, end, layout) -> list[Candidate]:
    """The output of the shape-changing layer just before (or after) the one asked: an off-by-one layer."""
    if subject.kind != "layer":
        return []
    graph = subject.graph
    out = []
    changing = [i for i, nd in enumerate(graph.nodes)
                if nd.in_shapes and tuple(nd.out_shape) != tuple(nd.in_shapes[0])]
    before = [i for i in changing if i < end]
    after = [i for i in changing if i > end]
    for i, word in ((before[-1] if before else None, "before"), (after[0] if after else None, "after")):
        if i is not None:
            out.append(Candidate(tuple(graph.nodes[i].out_shape), "the layer " + word + "'s output", 4,
                                 f"is the output of {label(subject, i)}, the shape-changing layer {word} "
                                 f"{subject.name}"))
    return out


def _pairs(subject, end, budget, layout) -> list[Candidate]:
    """Two mistakes in the layer that decides the subject's output."""
    node = _shape_layer(subject)
    if node is None:
        return []
    t = terms_of(node.layer, tuple(node.in_shapes[0]))
    if t is None:
        return []
    graph = subject.graph
    i = graph.nodes.index(node) if subject.kind != "layer" else subject.nodes[-1]
    out = []
    for a, b in combinations(MISTAKES, 2):
        t1 = a.apply(t)
        t2 = b.apply(t1) if t1 is not None else None
        if t2 is None or b.apply(t) is None:
            continue
        shape = propagate(graph, i, end, {i: lambda ins, s=t2.shape(): s}, budget)
        if shape is not None:
            out.append(Candidate(shape, f"{a.name} and {b.name}", a.prior + b.prior,
                                 f"{_at(subject, i)}{t2.text()}; {a.why(t)}, and {b.why(t)}: {t.text()}"))
    return out


def _shape_layer(subject: Subject):
    """The conv/pool leaf that decides the subject's output size (walking back over shape-keeping layers)."""
    graph = subject.graph
    i = subject_end(subject)
    while i >= 0:
        node = graph.nodes[i]
        if terms_of(node.layer, tuple(node.in_shapes[0])) is not None if node.in_shapes else False:
            return node
        if len(node.inputs) != 1 or tuple(node.out_shape) != tuple(node.in_shapes[0]):
            return None
        i = node.inputs[0]
    return None


def own_first(subject: Subject) -> int:
    """The first layer that is the subject's own (a layer's or a block's; all of a chain or network)."""
    return subject.nodes[0] if subject.kind in ("layer", "block") else 0


def shape_candidates(subject: Subject, layout: str, budget: Budget, before: bool) -> list[Candidate]:
    """Every mistaken output shape the search reaches within its budget: in the subject's own layers, or
    (`before`) in the layers before it (a layer's "at every layer" too), carried to its output."""
    end = subject_end(subject)
    lo = own_first(subject)
    targets = [(i, t) for i, t in _targets(subject, end) if (i < lo) == before]
    everywhere = _targets(subject, end) if subject.kind == "layer" else targets
    out: list[Candidate] = []
    for m in MISTAKES:
        for i, t in targets:
            c = _single(subject, end, i, t, m, budget, layout)
            if c is not None:
                out.append(c)
            if budget.exhausted:
                return out
        c = _everywhere(subject, end, everywhere, m, budget, layout) if before == (subject.kind == "layer") \
            else None
        if c is not None:
            out.append(c)
    out += [c for i, c in _left_out(subject, end, budget, layout) if (i < lo) == before]
    return out + ([] if before else _neighbour(subject, end, layout))


def shape_slip(subject: Subject, given: ShapeAnswer, exp: tuple, budget: Optional[Budget] = None) \
        -> tuple[Optional[Slip], bool]:
    """The slips (all of the simplest rank that fit) behind a wrong output shape; and whether the search ran
    out of budget before it found one."""
    slip = hwc_order_swapped(given, exp)
    if slip is not None:
        return slip, False
    budget = budget or Budget()
    layout = given.layout
    for make in (lambda: shape_candidates(subject, layout, budget, before=False),
                 lambda: shape_candidates(subject, layout, budget, before=True),
                 lambda: _pairs(subject, subject_end(subject), budget, layout)):
        hits = [c for c in make() if c.shape != tuple(exp) and shape_matches(given, c.shape)]
        if hits:
            hits = simplest(hits, value=lambda c: c.shape, prior=lambda c: c.prior)
            return join_slips([Slip(name=c.name, detail=f"{fmt_dims(from_chw(c.shape, layout))}: {c.detail}")
                               for c in hits]), False
        if budget.exhausted:
            break
    return None, budget.exhausted


# --------------------------------------------------------------------------------------
# Receptive fields

RF_MISTAKES = ("stride product forgotten", "RF grown by k", "RF as the sum of the kernels", "own stride counted",
               "dilation ignored", "dilation taken as d·k")


def _kd(layer) -> tuple[int, int]:
    k = getattr(layer, "kernel", None)
    d = getattr(layer, "dilation", None) or getattr(layer, "dilations", None) or 1
    k = k[0] if isinstance(k, (tuple, list)) else k
    d = d[0] if isinstance(d, (tuple, list)) else d
    return (k or 1), (d or 1)


def mistaken_rfs(graph: Graph, mistakes: tuple[str, ...]) -> list[int]:
    """RF (H axis) per node with these mistakes made along the whole chain."""
    rs: list[int] = []
    js: list[int] = []
    for node in graph.nodes:
        start = 0 if "RF as the sum of the kernels" in mistakes else 1
        pairs = [(start, 1) if i == INPUT else (rs[i], js[i]) for i in node.inputs]
        r, j = max(pairs)
        steps = node.layer.rf_steps(node.in_shapes)
        if steps is not None:
            step = steps[0]
            k, d = _kd(node.layer)
            span = step.k
            if d > 1 and "dilation ignored" in mistakes:
                span = k
            if d > 1 and "dilation taken as d·k" in mistakes:
                span = d * k
            grow = span if {"RF grown by k", "RF as the sum of the kernels"} & set(mistakes) else span - 1
            own = step.s if "own stride counted" in mistakes else 1
            literal = {"stride product forgotten", "RF as the sum of the kernels"} & set(mistakes)
            r += grow * (1 if literal else j * own)
            j *= step.s
        rs.append(r)
        js.append(j)
    return rs


def _rf_what(name: str) -> str:
    return {"stride product forgotten": "ignores the strides: each layer adds (k − 1) times the product of the "
                                        "strides before it, RF_l = RF_(l−1) + (k_l − 1)·∏ s_i",
            "RF grown by k": "grows the field by k per layer; a k-wide window adds k − 1 positions: "
                             "RF_l = RF_(l−1) + (k_l − 1)·∏ s_i",
            "own stride counted": "multiplies each layer's k − 1 by the strides up to and including its own; only "
                                  "the strides before it count: RF_l = RF_(l−1) + (k_l − 1)·∏_(i<l) s_i",
            "RF as the sum of the kernels": "adds up the kernel sizes (k₁ + k₂ + …); the field starts at 1 and each "
                                            "layer adds k − 1 positions: RF_l = RF_(l−1) + (k_l − 1)·∏ s_i",
            "dilation ignored": "leaves out the dilation; a dilated kernel spans d·(k − 1) + 1",
            "dilation taken as d·k": "takes a dilated kernel as d·k; it spans d·(k − 1) + 1"}[name]


def rf_slip(subject: Subject, given: list[int], right: list[int], per_layer: bool = False) -> Optional[Slip]:
    """Mistakes that give these receptive fields (the last one, or one per layer for per_layer)."""
    graph = subject.graph
    dilated = any(_kd(nd.layer)[1] > 1 for nd in graph.nodes)
    names = [m for m in RF_MISTAKES if dilated or not m.startswith("dilation")]
    for size in (1, 2):
        hits = []
        for combo in combinations(names, size):
            rs = mistaken_rfs(graph, combo)
            alt = rs if per_layer else [rs[subject.nodes[-1]]]
            if alt == right or list(given) != alt:
                continue
            shown = ", ".join(map(str, rs)) if per_layer else str(alt[0])
            hits.append(Slip(name=" and ".join(combo),
                             detail=f"{shown} " + "; and ".join(_rf_what(m) for m in combo)))
        if hits:
            return join_slips(hits)
        if size == 1 and not per_layer:
            hit = _neighbour_rf(subject, given[0])
            if hit is not None:
                return hit
    return None


def _neighbour_rf(subject: Subject, given: int) -> Optional[Slip]:
    """A layer's receptive field answered with the one of the layer just before or after it (an off-by-one
    layer: the pool after a conv counted in, or the conv's own kernel left out)."""
    if subject.kind not in ("layer", "block"):
        return None
    rs = mistaken_rfs(subject.graph, ())
    idx = subject.nodes[-1]
    for word, order in (("before", range(min(subject.nodes) - 1, -1, -1)), ("after", range(idx + 1, len(rs)))):
        j = next((i for i in order if rs[i] != rs[idx]), None)
        if j is not None and rs[j] == given:
            name = label(subject, j) or subject.graph.nodes[j].name
            return Slip(name=f"the layer {word}'s rf",
                        detail=f"{given} is the receptive field of {name}, the layer {word} {subject.name}; "
                               f"{subject.name}'s is {rs[idx]}")
    return None


# --------------------------------------------------------------------------------------
# Same padding (`p` is the one number answered)


def padding_slip(given: list, k: int, d: int) -> Optional[Slip]:
    """The classic mistakes behind a wrong same-padding answer (one number only), if any."""
    if len(given) != 1:
        return None
    p = given[0]
    span = f.effective_kernel(k, d)
    right = (span - 1) / 2
    show = _plain_num(right)
    hits = []
    if p * 2 == span + 1:
        hits.append(Slip(name="same padding (f+1)/2",
                         detail=f"(f + 1)/2 = ({span} + 1)/2 = {_plain_num(p)} makes the output grow by 2·{_plain_num(p)} − "
                                f"{span} + 1 = {_plain_num(2 * p - span + 1)}; keeping the size needs "
                                f"n + 2p − f + 1 = n, so p = (f − 1)/2 = {show} (some notes print (f + 1)/2)"))
    if p == span - 1 and span > 1:
        hits.append(Slip(name="both sides' padding",
                         detail=f"{span - 1} is the padding of both sides together; p is per side: "
                                f"({span - 1})/2 = {show}"))
    if d > 1 and p * 2 == k - 1:
        hits.append(Slip(name="dilation ignored",
                         detail=f"({k} − 1)/2 = {_plain_num(p)} leaves out the dilation {d}: "
                                f"p = d·(k − 1)/2, here {d}·({k} − 1)/2 = {show}"))
    if d > 1 and p * 2 == d * k - 1:
        hits.append(Slip(name="dilation taken as d·k",
                         detail=f"(d·k − 1)/2 = ({d}·{k} − 1)/2 = {_plain_num(p)} takes the dilated kernel as "
                                f"d·k; it spans d·(k − 1) + 1 = {span}: p = {show}"))
    return join_slips(hits) if hits else None


def _plain_num(v) -> str:
    return str(int(v)) if v == int(v) else str(v)

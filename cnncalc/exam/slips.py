"""Which slips explain a wrong count: every one of the simplest rank that reproduces the answer is named.

A slip is recognised only when its value rounds to the answer at the precision written (or
lies within the answer's tolerance). The search runs in stages: one slip in what was asked
(a term of its layers' formulas, a layer left out, the figure's convention or unit), then one in
a layer before it carried through the graph (terms.py, shape_slips.propagate), then pairs. Within
a stage the lowest prior wins, and every other slip giving exactly the same value is said with
it ("BN γ/β forgotten, or a layer left out"); a slip of the writing (truncated, one significant
figure, MB for MiB, the unit off) counts as prior 1. Layers alike are searched once (`Subject.alike`),
and a `Budget` bounds the rest: a search cut short says so.

The rules themselves live in count_slips.py (counts, with bias_slips.py, kernel_slips.py,
value_slips.py and layer_slips.py) and shape_slips.py (shapes, receptive fields, same padding).
Nothing here imports torch.
"""
from __future__ import annotations

from decimal import Decimal
from itertools import combinations
from typing import Iterator, Optional

from ..layers import numel
from .count_slips import LEAF_SLIPS, VALUE_SLIPS, LeafSlip
from .labels import at, label
from .layer_slips import kind_left_out, layer_left_out, neighbour_layer, wrong_layer_channels
from .numbers import BYTE_UNITS, Number
from .shape_slips import Budget, hwc_order_swapped, padding_slip, propagate, rf_slip, shape_slip
from .slip import Slip, join_slips, simplest
from .subject import DTYPES, Leaf, Subject, leaf_at, leaf_figure, scaled
from .terms import MISTAKES, terms_of

__all__ = ["Slip", "Subject", "find_slip", "leaf_figure", "shape_slip", "rf_slip", "padding_slip",
           "hwc_order_swapped", "join_slips"]

COMPOSABLE = ("FLOPs vs MACs", "bytes vs params")   # value slips that apply to any value, a slip's too


def _fmt(v) -> str:
    return f"{int(v):,}" if v == int(v) else f"{v:,}"


def _altered(subject: Subject, rule: LeafSlip, groups: list[tuple[Leaf, int]], budget: Budget) \
        -> tuple[list[tuple[Leaf, int]], list[Leaf]]:
    """The groups of layers alike with the rule applied to each, and the leaves it changed (as they were,
    each standing for its group)."""
    budget.spend(len(groups))
    out, changed = [], []
    for lf, m in groups:
        new = rule.alter(subject, lf)
        if new is not None and new != lf:
            out.append((new, m))
            changed.append(scaled(lf, m))
        else:
            out.append((lf, m))
    return out, changed


def _value(subject: Subject, figure: str, groups: list[tuple[Leaf, int]]) -> int:
    return subject.value(figure, [scaled(lf, m) for lf, m in groups])


Candidate = tuple[int, str, str, int]      # (mistaken value, slip name, what it did, prior)


STAGES = ("single", "before", "pairs")   # one slip in what was asked; one in a layer before it; two slips


def candidates(subject: Subject, figure: str, true: int, stage: str, budget: Budget) -> Iterator[Candidate]:
    """Each slip of this stage that applies, within the budget."""
    rules = [r for r in LEAF_SLIPS + tuple(wrong_layer_channels(subject)) if figure in r.figures]
    values = [r for r in VALUE_SLIPS if figure in r.figures]
    base = subject.alike
    if stage == "before":
        yield from shape_count_candidates(subject, figure, true, budget, before=True)
        return
    if stage == "single":
        for vr in values:
            v = vr.value(subject, figure, true)
            if v is not None:
                yield v, vr.name, vr.what(subject, figure, true), vr.prior
        for rule in rules:
            if budget.exhausted:
                return
            groups, changed = _altered(subject, rule, base, budget)
            if changed:
                yield _value(subject, figure, groups), rule.name, rule.what(subject, changed), rule.prior
        yield from layer_left_out(subject, figure, true)
        yield from kind_left_out(subject, figure, true)
        yield from neighbour_layer(subject, figure)
        yield from ((v, n, w, 1) for v, n, w in _size_slips(subject, figure, true))
        yield from shape_count_candidates(subject, figure, true, budget, before=False)
        return
    first: dict[str, LeafSlip] = {}
    for r in rules:       # pairs of the general slips (not one layer's lookup), each name in its first form
        if r in LEAF_SLIPS:
            first.setdefault(r.name, r)
    rules = list(first.values())
    for a, b in combinations(rules, 2):
        if a.name == b.name or budget.exhausted:
            continue
        groups, ch_a = _altered(subject, a, base, budget)
        groups, ch_b = _altered(subject, b, groups, budget)
        if ch_a and ch_b:
            yield (_value(subject, figure, groups), f"{a.name} and {b.name}",
                   f"{a.what(subject, ch_a)}; and {b.what(subject, ch_b)}", a.prior + b.prior)
    for rule in rules:
        if budget.exhausted:
            return
        groups, changed = _altered(subject, rule, base, budget)
        if not changed:
            continue
        v0 = _value(subject, figure, groups)
        for vr in values:
            if vr.name in COMPOSABLE:
                v = vr.value(subject, figure, v0)
                if v is not None:
                    yield v, f"{rule.name} and {vr.name}", f"{rule.what(subject, changed)}; and it " \
                                                            f"{vr.what(subject, figure, v0)}", rule.prior + vr.prior


def shape_count_candidates(subject: Subject, figure: str, true: int, budget: Budget, before: bool) \
        -> Iterator[Candidate]:
    """A mistake in an output size carried into the counts after it (the MACs of every layer whose map
    changed, a fully connected layer's inputs): each mistake at each layer of the subject and at the few
    before it, and each weightless layer there left out (a global pool forgotten before an fc layer)."""
    if figure not in ("macs", "flops", "params", "weights", "connections", "activations", "memory"):
        return
    graph = subject.graph
    lo, end = subject.nodes[0], subject.nodes[-1]
    if end - lo > MAX_SPAN:
        return
    for i, change, name, what, prior in _shape_changes(subject, lo, end):
        if (i < lo) != before:
            continue
        if budget.exhausted:
            return
        shapes = propagate(graph, i, end, {i: change}, budget, every=True)
        if not shapes:
            continue
        leaves = [_carried(graph, lf, shapes) for lf in subject.leaves]
        v = subject.value(figure, leaves)
        if v != true:
            yield v, name, f"{what} (every count after it follows): {figure} {v:,}", prior


MAX_SPAN, BEFORE = 400, 12     # the layers a subject may span for this search; layers tried before it


def _shape_changes(subject: Subject, lo: int, end: int) -> Iterator[tuple]:
    """(layer, its mistaken output, slip name, what it did, prior), nearest the subject's end first."""
    graph = subject.graph
    for i in range(end, max(-1, lo - BEFORE), -1):
        node = graph.nodes[i]
        if not node.in_shapes:
            continue
        t = terms_of(node.layer, tuple(node.in_shapes[0]))
        for m in MISTAKES if t is not None else ():
            alt = m.apply(t)
            if alt is not None:
                yield i, (lambda ins, s=alt.shape(): s), m.name, f"with {at(subject, i)}{alt.text()}", m.prior + 1
        row = subject.report.layers[i]
        if len(node.inputs) == 1 and not row.params and tuple(node.out_shape) != tuple(node.in_shapes[0]):
            yield i, (lambda ins: tuple(ins[0])), "a layer left out", f"leaving out {label(subject, i)}", 3


def _carried(graph, lf: Leaf, shapes: dict) -> Leaf:
    """A leaf recomputed where a changed shape reaches it (its input or its output), else as it was."""
    inputs = graph.nodes[lf.idx].inputs
    if lf.idx not in shapes and not any(j in shapes for j in inputs):
        return lf
    ins = [shapes.get(j, graph.shape_of(j)) for j in inputs]
    return leaf_at(graph, lf.idx, ins, shapes.get(lf.idx, tuple(graph.nodes[lf.idx].out_shape)), lf)


def _size_slips(subject: Subject, figure: str, true: int) -> Iterator[tuple[int, str, str]]:
    """Activations and memory: the other total convention, the input left out, elements for bytes."""
    if figure not in ("activations", "memory", "param_memory"):
        return
    conv = subject.conventions
    per = conv.bytes if figure != "activations" else 1
    if figure == "param_memory":
        yield from _bytes_slips(conv, figure, true, per)
        return
    if subject.sums:
        other = "every_layer" if conv.activations == "lecture" else "lecture"
        v = subject.elements(subject.leaves, other) * per
        what = ("adds every layer's output, in-place activations too; a lecture table counts the input and each "
                "conv/pool/fc output once (or declare conventions: {activations: every_layer})"
                if other == "every_layer" else
                "counts the input and each conv/pool/fc output once (the lecture convention); this file declares "
                "activations: every_layer")
        yield v, "activations convention", what
        if conv.activations == "lecture":
            inp = numel(subject.graph.input)
            yield (true // per - inp) * per, "input not counted", \
                f"leaves out the input's {inp:,} values, which a lecture table counts as its first row"
    yield 2 * true, "backward pass counted", f"is twice the forward {figure} (2 × {true:,}), the forward and " \
                                             f"backward passes together; asked: the forward pass"
    if figure == "memory":
        yield from _bytes_slips(conv, figure, true, per)


def _bytes_slips(conv, figure: str, true: int, per: int) -> Iterator[tuple[int, str, str]]:
    """A memory figure given as the number of values, or at another number of bytes per value."""
    values = "parameter count" if figure == "param_memory" else "number of values"
    yield true // per, "elements vs bytes", f"is the {values}; at {conv.dtype} each takes " \
                                            f"{per} bytes: {per} × {true // per:,}"
    for name, size in (("fp32", 4), ("fp16", 2), ("fp64", 8), ("int8", 1)):
        if size != per and name in DTYPES:
            yield true // per * size, "wrong bytes per value", \
                f"takes {size} byte{'s' if size > 1 else ''} per value ({name}); this file counts " \
                f"{conv.dtype}, {per} bytes"


def _matches(num: Number, value, tol) -> bool:
    if tol is not None:
        return num.matches(value, tol)
    return num.rounds_to(value)


def _precision_slips(subject: Subject, figure: str, num: Number, true: int, tol) -> list[Slip]:
    """Slips of the writing itself: truncated, one significant figure, MB for MiB."""
    out = []
    if tol is None and not num.exact and num.truncates(true) and not num.rounds_to(true):
        out.append(Slip(name="truncated instead of rounded",
                        detail=f"{num.text} cuts {true:,} off at the last digit written; rounded it is "
                               f"{num.rounded(true)}"))
    if tol is None and num.too_coarse and num.rounds_to(true):
        out.append(Slip(name="one significant figure",
                        detail=f"{true:,} does round to {num.text}, but one significant figure cannot tell a right "
                               f"answer from a wrong one; write at least two: {num.suggest(true)}"))
    if figure in ("memory", "param_memory") and num.unit in BYTE_UNITS.keys() | {"KiB", "MiB", "GiB", "TiB"}:
        out += _mib_vs_mb(num, true, tol)
    if num.too_coarse:       # one significant figure: too many values round to it to say more
        return out
    return out + _unit_slips(num, true, tol) + _unit_left_out(num, true, tol) + _binary_count(figure, num, true, tol) \
        + _decimal_point(num, true, tol)


def _decimal_point(num: Number, true: int, tol) -> list[Slip]:
    """The right digits with the decimal point one to three places off, in a number written with a unit
    (702.8万 for 7028万, 5.898亿 for 58.98亿: a slip converting to the unit)."""
    if not num.unit:
        return []
    for places in (1, 2, 3, -1, -2, -3):
        f = Decimal(10) ** places
        alt = Number(text=num.text, value=num.value * f, quantum=num.quantum * f, unit=num.unit,
                     scale=num.scale, figures=num.figures)
        if _matches(alt, true, tol):
            n = abs(places)
            return [Slip(name="decimal point off",
                         detail=f"{num.text} has the right digits with the decimal point {n} place{'s' * (n > 1)} "
                                f"to the {'left' if places > 0 else 'right'}: {true:,} is {alt.rounded(true)}")]
    return []


def _binary_count(figure: str, num: Number, true: int, tol) -> list[Slip]:
    """A count divided by 1024ⁿ for K/M/G (the bytes' binary units used for a count of parameters or MACs)."""
    if figure in ("memory", "param_memory") or num.unit not in ("K", "k", "M", "G"):
        return []
    power = {"K": 1, "k": 1, "M": 2, "G": 3}[num.unit]
    f = Decimal(1024 ** power) / Decimal(1000 ** power)
    alt = Number(text=num.text, value=num.value * f, quantum=num.quantum * f, unit=num.unit, scale=num.scale * f,
                 figures=num.figures)
    if not _matches(alt, true, tol):
        return []
    return [Slip(name="1024 for 1000", detail=f"{num.text} divides {true:,} by 1024^{power}; a count's "
                                              f"{num.unit} is 1000^{power}: {num.rounded(true)}")]


def _unit_left_out(num: Number, true: int, tol) -> list[Slip]:
    """A plain number that is the answer in thousands, millions or billions with its unit left out: 138 for 138M."""
    if num.unit or true < 1000:
        return []
    for unit, f in (("K", 10**3), ("M", 10**6), ("G", 10**9)):
        alt = Number(text=num.text, value=num.value * f, quantum=num.quantum * f, unit=unit, scale=Decimal(f),
                     figures=len(str(num.value).replace(".", "").strip("0")) or 1)
        if not alt.too_coarse and _matches(alt, true, tol):
            words = {"K": "thousands", "M": "millions", "G": "billions"}[unit]
            return [Slip(name="unit left out", detail=f"{num.text} is {true:,} counted in {words}, written without "
                                                       f"its unit: {alt.rounded(true)}")]
    return []


UNIT_STEPS = (("万", "亿", 10**4), ("K", "M", 10**3), ("k", "M", 10**3), ("M", "G", 10**3), ("G", "T", 10**3),
              ("千", "万", 10), ("M", "B", 10**3))


def _unit_slips(num: Number, true: int, tol) -> list[Slip]:
    """The right digits with the unit one step off: 1.2万 for 1.2亿, 15.5M for 15.5G."""
    out = []
    for small, big, factor in UNIT_STEPS:
        for wrote, meant, f in ((small, big, Decimal(factor)), (big, small, 1 / Decimal(factor))):
            if num.unit != wrote:
                continue
            alt = Number(text=num.text, value=num.value * f, quantum=num.quantum * f, unit=meant,
                         scale=num.scale * f, figures=num.figures)
            if _matches(alt, true, tol):
                out.append(Slip(name=f"{meant} written as {wrote}",
                                detail=f"{num.text} has the right digits in the wrong unit: {true:,} is "
                                       f"{alt.rounded(true)}; a {big} is {factor:,} {small}"))
    return out


def _mib_vs_mb(num: Number, true: int, tol) -> list[Slip]:
    unit = num.unit
    binary = unit.endswith("iB")
    power = "KMGT".index(unit[0].upper()) + 1
    other = f"{unit[0]}B" if binary else f"{unit[0]}iB"
    ratio = Decimal(1000 ** power) / Decimal(1024 ** power) if binary else Decimal(1024 ** power) / Decimal(
        1000 ** power)
    alt = Number(text=num.text, value=num.value * ratio, quantum=num.quantum * ratio, unit=other,
                 scale=num.scale * ratio, figures=num.figures)
    if not _matches(alt, true, tol):
        return []
    in_other = Decimal(true) / Decimal((1000 if binary else 1024) ** power)
    return [Slip(name=f"{other} vs {unit}",
                 detail=f"{num.text} is {true:,} bytes in {other} ({in_other:.4g} {other}), written as {unit}; "
                        f"a {unit} is {'1024' if binary else '1000'}^{power} bytes")]


def staged(subject: Subject, figure: str, true: int, stage: str, budget: Budget, memo: Optional[dict]) \
        -> list[Candidate]:
    """The candidates of one stage, computed once per run for a subject asked about again (the same layers of
    the same loaded network, named alike, under the same conventions: 200 answers files' copies of one net)."""
    if memo is None:
        return list(candidates(subject, figure, true, stage, budget))
    key = (id(subject.graph), subject.name, subject.resolved, subject.kind, tuple(subject.nodes), subject.output,
           subject.rf, subject.note, subject.explain_name, repr(subject.conventions), figure, true, stage)
    hit = memo.get(key)
    if hit is None:     # the graph is kept with the entry, so its id cannot be reused by another while cached
        hit = memo[key] = (subject.graph, list(candidates(subject, figure, true, stage, budget)), budget.exhausted)
    elif hit[2]:
        budget.exhausted = True
    return hit[1]


def find_slip(subject: Subject, figure: str, num: Number, true: int, tol,
              budget: Optional[Budget] = None, memo: Optional[dict] = None) -> tuple[Optional[Slip], bool]:
    """Every slip of the simplest rank (single slips, else pairs) whose value the answer reproduces, most
    common first — never one asserted where another fits equally; and whether the search ran out of budget.
    `memo`: a dict kept for one run, where a subject asked about again reuses its candidates.

    An answer rounded to one significant figure is named as such and not explained further (too many values
    round to it); a slip whose value lies within one unit of the last digit of the true value is never
    asserted alone.
    """
    budget = budget or Budget()
    hits = _precision_slips(subject, figure, num, true, tol)
    if num.too_coarse and tol is None:
        return (join_slips(hits) if hits else None), False
    close = num.quantum if tol is None else tol * abs(true)
    found: list[Candidate] = []
    for stage in STAGES:
        seen = set()
        for v, name, what, prior in staged(subject, figure, true, stage, budget, memo):
            if v is None or v == true or not _matches(num, v, tol) or (v, name) in seen:
                continue
            seen.add((v, name))
            found.append((v, name, what, prior))
        if found or budget.exhausted:
            break
    if hits:     # a slip of the writing (truncated, MB for MiB) is as common as the commonest: prior 1
        found = [c for c in found if c[3] <= 1]
    found = simplest(found, value=lambda c: c[0], prior=lambda c: c[3])
    hits += [Slip(name=name, detail=f"{_fmt(v)} {what}; right: {true:,}") for v, name, what, _ in found]
    if found and len(hits) == len(found) and all(abs(v - true) < close for v, *_ in found):
        hits.append(Slip(name="a slip in the last digit",
                         detail=f"{num.text} is {num.suggest(true)} with its last digit off; at this precision the "
                                f"slip above is only a guess"))
    return (join_slips(hits) if hits else None), budget.exhausted and not hits

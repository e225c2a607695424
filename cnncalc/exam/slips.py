"""Which classic slips explain a wrong count: every one that reproduces the answer is named.

A slip is recognised only when its value rounds to the answer at the precision written (or
lies within the answer's tolerance). Single slips are tried first, then pairs (input channels
and bias both forgotten); when several fit, each is said ("bias forgotten, or truncated
instead of rounded"), never one asserted. Two more need no value: the true number cut off
instead of rounded, and an answer rounded to one significant figure. A memory answer may also
mix MB (10⁶ bytes) and MiB (2²⁰ bytes).

The rules themselves live in count_slips.py (counts) and shape_slips.py (shapes, receptive
fields, same padding). Nothing here imports torch.
"""
from __future__ import annotations

from decimal import Decimal
from itertools import combinations
from typing import Iterator, Optional

from .count_slips import LEAF_SLIPS, VALUE_SLIPS, LeafSlip, layer_left_out, wrong_layer_channels
from .numbers import BYTE_UNITS, Number
from .shape_slips import hwc_order_swapped, padding_slip, rf_slip, shape_slip
from .slip import Slip, join_slips
from ..layers import numel
from .subject import DTYPES, Leaf, Subject, leaf_figure

__all__ = ["Slip", "Subject", "find_slip", "leaf_figure", "shape_slip", "rf_slip", "padding_slip",
           "hwc_order_swapped", "join_slips"]

COMPOSABLE = ("FLOPs vs MACs", "bytes vs params")   # value slips that apply to any value, a slip's too


def _fmt(v) -> str:
    return f"{int(v):,}" if v == int(v) else f"{v:,}"


def _altered(subject: Subject, rule: LeafSlip, leaves: list[Leaf]) -> tuple[list[Leaf], list[Leaf]]:
    """The leaves with the rule applied, and the leaves it changed (as they were)."""
    out, changed = [], []
    for lf in leaves:
        new = rule.alter(subject, lf)
        if new is not None and new != lf:
            out.append(new)
            changed.append(lf)
        else:
            out.append(lf)
    return out, changed


def candidates(subject: Subject, figure: str, true: int, pairs: bool) -> Iterator[tuple[int, str, str]]:
    """(mistaken value, name, what it did) for each slip (pairs: each pair of slips) that applies."""
    extra = tuple(wrong_layer_channels(subject)) + tuple(layer_left_out(subject))
    rules = [r for r in LEAF_SLIPS + extra if figure in r.figures]
    values = [r for r in VALUE_SLIPS if figure in r.figures]
    base = subject.leaves
    if not pairs:
        for rule in rules:
            leaves, changed = _altered(subject, rule, base)
            if changed:
                yield subject.value(figure, leaves), rule.name, rule.what(subject, changed)
        for vr in values:
            v = vr.value(subject, figure, true)
            if v is not None:
                yield v, vr.name, vr.what(subject, figure, true)
        yield from _size_slips(subject, figure, true)
        return
    rules = [r for r in rules if r in LEAF_SLIPS]      # pairs of the general slips (not one layer's lookup)
    for a, b in combinations(rules, 2):
        if a.name == b.name:
            continue
        leaves, ch_a = _altered(subject, a, base)
        leaves, ch_b = _altered(subject, b, leaves)
        if ch_a and ch_b:
            yield (subject.value(figure, leaves), f"{a.name} and {b.name}",
                   f"{a.what(subject, ch_a)}; and {b.what(subject, ch_b)}")
    for rule in rules:
        leaves, changed = _altered(subject, rule, base)
        if not changed:
            continue
        v0 = subject.value(figure, leaves)
        for vr in values:
            if vr.name in COMPOSABLE:
                v = vr.value(subject, figure, v0)
                if v is not None:
                    yield v, f"{rule.name} and {vr.name}", f"{rule.what(subject, changed)}; and it " \
                                                            f"{vr.what(subject, figure, v0)}"


def _size_slips(subject: Subject, figure: str, true: int) -> Iterator[tuple[int, str, str]]:
    """Activations and memory: the other total convention, the input left out, elements for bytes."""
    if figure not in ("activations", "memory"):
        return
    conv = subject.conventions
    per = conv.bytes if figure == "memory" else 1
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
    if figure == "memory":
        yield true // per, "elements vs bytes", f"is the number of values; at {conv.dtype} each takes " \
                                                f"{per} bytes: {per} × {true // per:,}"
        for name, size in (("fp16", 2), ("fp64", 8), ("int8", 1)):
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
                        f"1 {unit} = {'1024' if binary else '1000'}^{power} bytes")]


def find_slip(subject: Subject, figure: str, num: Number, true: int, tol) -> Optional[Slip]:
    """Every classic slip (or else pair of slips) whose value the answer reproduces; None if none does.

    Of values closer together than the answer's last digit only the first is named (they are one
    explanation at this precision); an answer rounded to one significant figure is named as such and
    not explained further (too many values round to it); a slip whose value lies within one unit of
    the last digit of the true value is never asserted alone.
    """
    hits = _precision_slips(subject, figure, num, true, tol)
    if num.too_coarse and tol is None:
        return join_slips(hits) if hits else None
    close = num.quantum if tol is None else tol * abs(true)
    values: list[int] = []
    for pairs in (False, True):
        for v, name, what in candidates(subject, figure, true, pairs):
            if v is None or v == true or not _matches(num, v, tol) or any(abs(v - u) < close for u in values):
                continue
            values.append(v)
            hits.append(Slip(name=name, detail=f"{_fmt(v)} {what}; right: {true:,}"))
        if values:
            break
    if values and len(hits) == len(values) and all(abs(v - true) < close for v in values):
        hits.append(Slip(name="a slip in the last digit",
                         detail=f"{num.text} is {num.suggest(true)} with its last digit off; at this precision the "
                                f"slip above is only a guess"))
    return join_slips(hits) if hits else None

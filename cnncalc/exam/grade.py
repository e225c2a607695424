"""Grading one answered figure: the true value, the rule that compares, the slip, the worked formula.

`Grader.answer` takes one figure of one entry (an output shape, a count, a receptive field)
for a `Subject` (a layer, a block, `total` or a question's small graph) and records an `Item`.
"""
from __future__ import annotations

import re
from typing import Optional

from ..analysis.explain import explain
from ..errors import CnncalcError
from .answers import Ctx, Reader, text_of
from .numbers import fmt_dims, from_chw, layout_text, parse_number, parse_shape, shape_matches
from .result import Item
from .slips import Slip, Subject, find_slip, leaf_figure, shape_slip, stride_product_forgotten
from ..spec.yamlio import line_of

NUMERIC = ("params", "weights", "biases", "macs", "flops")


class Grader:
    """Grades figures against their subjects and keeps the items in file order."""

    def __init__(self, reader: Reader):
        self.r = reader
        self.items: list[Item] = []

    def grade(self, subject: Subject, figures: tuple[str, ...], entry, ctx: Ctx):
        """Each of these figures that the entry answers, in this order."""
        for figure in figures:
            if figure in entry:
                self.answer(subject, figure, entry, ctx)

    def answer(self, subject: Subject, figure: str, entry, ctx: Ctx):
        value = entry[figure]
        line = line_of(entry, figure)
        path = f"{ctx.path}.{figure}"
        tol = ctx.tolerance
        if isinstance(value, dict):
            extra = set(value) - {"value", "tolerance"}
            if extra or "value" not in value:
                raise self.r.err("expected a figure, or {value: …, tolerance: …}", line, path)
            tol = self.r.tolerance(value, tol, path)
            value = value["value"]
        if figure == "output":
            self.output_answer(subject, value, ctx, line, path)
        elif figure == "rf":
            self.rf_answer(subject, value, ctx, line, path, tol)
        else:
            self.count_answer(subject, figure, value, ctx, line, path, tol)

    def count_answer(self, subject: Subject, figure: str, value, ctx: Ctx, line, path, tol):
        """params, weights, biases, macs or flops: a number, right by the rounding rule or the tolerance."""
        num = self.r.parsed(parse_number, value, line, path)
        true = subject.total(figure)
        ok = num.matches(true, tol)
        slip = None if ok else find_slip(subject, figure, num, true, tol)
        expected = f"{true:,}"
        if not num.exact and tol is None and not ok:
            expected += f" ≈ {num.rounded(true)}"
        self.add(subject, figure, ctx, line, given_text=num.text, expected=expected, expected_value=true, ok=ok,
                 rule=num.rule(tol), slip=slip)

    def output_answer(self, subject: Subject, value, ctx: Ctx, line, path):
        given = self.r.parsed(parse_shape, value, line, path, ctx.layout)
        exp = tuple(subject.output)
        ok = shape_matches(given, exp)
        note = ""
        if ok and len(given.dims) == 2 and len(exp) == 3:
            note = "spatial size H×W only"
        slip = None if ok else shape_slip(subject, given, exp)
        expected = fmt_dims(from_chw(exp, ctx.layout)) + (f" ({layout_text(ctx.layout)})" if len(exp) == 3 else "")
        self.add(subject, "output", ctx, line, given_text=given.text, expected=expected, expected_value=list(exp),
                 ok=ok, slip=slip, note=note)

    def rf_answer(self, subject: Subject, value, ctx: Ctx, line, path, tol):
        h, w = subject.rf
        if isinstance(value, (list, str)) and not (isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value)):
            dims = self.r.parsed(parse_shape, value, line, path, "CHW").dims
            if len(dims) not in (1, 2):
                raise self.r.err(f"expected one size or [h, w], got {text_of(value)!r}", line, path)
            given = dims if len(dims) == 2 else (dims[0], dims[0])
            text = text_of(value)
        else:
            num = self.r.parsed(parse_number, value, line, path)
            if not num.exact:
                raise self.r.err(f"expected a whole number, got {num.text!r}", line, path)
            given = (int(num.value), int(num.value))
            text = num.text
        ok = given == (h, w)
        slip = None if ok else stride_product_forgotten(subject, given)
        expected = str(h) if h == w else f"{h}×{w}"
        self.add(subject, "rf", ctx, line, given_text=text, expected=expected,
                 expected_value=h if h == w else [h, w], ok=ok, slip=slip)

    def add(self, subject: Subject, figure: str, ctx: Ctx, line, *, given_text: str, expected: str,
            expected_value, ok: bool, slip: Optional[Slip], rule: str = "exact",
            formula: Optional[list[str]] = None, note: str = ""):
        """Record one graded figure; a wrong one carries its worked formula (the subject's, unless given)."""
        if ok:
            formula = []
        elif formula is None:
            formula = worked_formula(subject, figure)
        notes = [n for n in (subject.note, note) if n]
        self.items.append(Item(
            id=f"{subject.name}.{figure}", group=ctx.group, subject=subject.name, figure=figure, file=self.r.file,
            line=line, given=given_text, expected=expected, expected_value=expected_value, ok=ok, rule=rule,
            slip=slip, formula=formula, note="; ".join(notes)))


# --------------------------------------------------------------------------------------
# Worked formulas


def worked_formula(subject: Subject, figure: str) -> list[str]:
    """The lines of `cnncalc explain` that compute this figure for this subject."""
    graph = subject.graph
    if subject.kind == "total" and figure in NUMERIC + ("output", "rf"):
        return total_formula(subject, figure)
    try:
        parts = explain(graph, subject.explain_name) if subject.explain_name else \
            [explain(graph, graph.nodes[i].name)[0] for i in subject.nodes]
    except CnncalcError:
        return []
    wanted = {"output": ("output",), "params": ("params", "N_in"), "weights": ("params", "N_in"),
              "biases": ("params", "N_in"), "macs": ("MACs",), "flops": ("MACs", "FLOPs"),
              "rf": ("RF",)}[figure]
    picked = [(title, [ln for ln in lines if ln.startswith(wanted)]) for title, lines in parts]
    picked = [(t, ls) for t, ls in picked if ls]
    if not picked:
        return []
    if len(parts) == 1:
        return picked[0][1]
    if figure == "rf" and subject.kind == "chain":
        return _titled(picked)
    if figure in ("output", "rf"):
        return _titled(picked[-1:])
    out = _titled(picked)
    vals = _terms(subject, figure)
    if len(vals) > 1:
        out.append(f"{figure}: " + " + ".join(f"{v:,}" for _, v in vals) + f" = {subject.total(figure):,}")
    return out


def total_formula(subject: Subject, figure: str) -> list[str]:
    report = subject.report
    if figure == "output":
        return [f"network output: {fmt_dims(subject.output)} (C×H×W), from {report.layers[-1].name}"]
    if figure == "rf":
        last = report.layers[-1]
        return [f"receptive field of {last.name}: {last.rf.size}, effective stride {last.rf.stride}"]
    vals = _terms(subject, figure)
    shown = vals if len(vals) <= 8 else vals[:7]
    terms = " + ".join(f"{n} {v:,}" for n, v in shown) + (f" + … ({len(vals) - 7} more)" if len(vals) > 8 else "")
    what = {"params": "params", "weights": "weights (params − biases)", "biases": "biases", "macs": "MACs",
            "flops": "FLOPs = 2·MACs"}[figure]
    return [f"{what}: Σ over layers = {terms} = {subject.total(figure):,}"]


def _terms(subject: Subject, figure: str) -> list[tuple[str, int]]:
    """(leaf name, value) of the subject's leaves that contribute to the figure."""
    vals = [(subject.graph.nodes[i].name, leaf_figure(subject.graph, subject.report, i, figure))
            for i in subject.nodes]
    return [(n, v) for n, v in vals if v]


def _titled(picked: list[tuple[str, list[str]]]) -> list[str]:
    """Formula lines, each prefixed with its layer's name (the first word of the explain title)."""
    return [f"{title.split(' ')[0]}: {ln}" for title, lines in picked for ln in lines]

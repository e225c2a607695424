"""Grading one answered figure: the true value, the rule that compares, the slip, the worked formula.

`Grader.answer` takes one figure of one entry (an output shape, a count, a size, a receptive
field) for a `Subject` (a layer, a block, `total` or a question's small graph) and records an
`Item`. A wrong answer that no known slip explains says so in its rule.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Optional

from ..spec.yamlio import line_of
from .answers import Ctx, Reader, text_of
from .formula import worked_formula
from .numbers import fmt_dims, from_chw, layout_text, parse_bytes, parse_number, parse_shape, shape_matches
from .result import Item
from .slips import Slip, Subject, find_slip, rf_slip, shape_slip
from ..errors import quote

COUNT_FIGURES = ("params", "weights", "biases", "macs", "flops", "connections", "activations", "memory",
                 "param_memory")
BYTE_FIGURES = ("memory", "param_memory")


def either_convention(subject: Subject, figure: str, num, true: int, tol) -> tuple[bool, str, int]:
    """A total of activations (or their memory) where the file states no convention: right under either;
    the note names the one it matches (lecture, the default, or every_layer), whose figure is expected."""
    conv = subject.conventions
    other = "every_layer" if conv.activations == "lecture" else "lecture"
    alt = subject.value(figure, subject.leaves, replace(conv, activations=other))
    if alt == true:
        return num.matches(true, tol), "", true
    if num.matches(true, tol):
        return True, f"right under the {conv.activations} convention (the default); {other} gives {alt:,}", true
    if num.matches(alt, tol):
        return True, f"right under `conventions: {{activations: {other}}}`; the default, lecture, gives {true:,}", alt
    return False, "", true


class Grader:
    """Grades figures against their subjects and keeps the items in file order."""

    def __init__(self, reader: Reader):
        self.r = reader
        self.items: list[Item] = []
        self.memo: dict = {}      # the slip search's candidates, per subject asked about (slips.staged)

    def grade(self, subject: Subject, figures: tuple[str, ...], entry, ctx: Ctx):
        """Each of these figures that the entry answers, in this order."""
        subject.conventions = ctx.conventions
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
        """A count or a size: a number, right by the rounding rule or the tolerance."""
        num = self.r.parsed(parse_bytes if figure in BYTE_FIGURES else parse_number, value, line, path)
        true = subject.total(figure)
        ok = num.matches(true, tol)
        note = ""
        if figure in ("activations", "memory") and subject.sums and "activations" not in ctx.conventions.declared:
            ok, note, true = either_convention(subject, figure, num, true, tol)
        slip, spent = (None, False) if ok else find_slip(subject, figure, num, true, tol, memo=self.memo)
        expected = f"{true:,}" + (" bytes" if figure in BYTE_FIGURES else "")
        if not num.exact and tol is None and not ok:
            expected += f" ≈ {num.suggest(true)}"
        self.add(subject, figure, ctx, line, given_text=num.text, expected=expected, expected_value=true, ok=ok,
                 rule=num.rule(tol), slip=slip, spent=spent, note=note)

    def output_answer(self, subject: Subject, value, ctx: Ctx, line, path):
        given = self.r.parsed(parse_shape, value, line, path, ctx.layout)
        exp = tuple(subject.output)
        ok = shape_matches(given, exp)
        note = ""
        if ok and len(given.dims) == 2 and len(exp) == 3:
            note = "spatial size H×W only"
        slip, spent = (None, False) if ok else shape_slip(subject, given, exp)
        expected = fmt_dims(from_chw(exp, ctx.layout)) + (f" ({layout_text(ctx.layout, len(exp) - 1)})"
                                                          if len(exp) > 1 else "")
        self.add(subject, "output", ctx, line, given_text=given.text, expected=expected, expected_value=list(exp),
                 ok=ok, slip=slip, note=note, spent=spent)

    def rf_answer(self, subject: Subject, value, ctx: Ctx, line, path, tol):
        h, w = subject.rf
        if isinstance(value, (list, str)) and not (isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value)):
            dims = self.r.parsed(parse_shape, value, line, path, "CHW").dims
            if len(dims) not in (1, 2):
                raise self.r.err(f"expected one size or [h, w], got {quote(text_of(value))}", line, path)
            given = dims if len(dims) == 2 else (dims[0], dims[0])
            text = text_of(value)
        else:
            num = self.r.parsed(parse_number, value, line, path)
            if not num.exact:
                raise self.r.err(f"expected a whole number, got {quote(num.text)}", line, path)
            given = (int(num.value), int(num.value))
            text = num.text
        ok = given == (h, w)
        slip = None
        if not ok and given[0] == given[1] and h == w:
            slip = rf_slip(subject, [given[0]], [h])
        expected = str(h) if h == w else f"{h}×{w}"
        self.add(subject, "rf", ctx, line, given_text=text, expected=expected,
                 expected_value=h if h == w else [h, w], ok=ok, slip=slip)

    def add(self, subject: Subject, figure: str, ctx: Ctx, line, *, given_text: str, expected: str,
            expected_value, ok: bool, slip: Optional[Slip], rule: str = "exact",
            formula: Optional[list[str]] = None, note: str = "", spent: bool = False):
        """Record one graded figure; a wrong one carries its worked formula (the subject's, unless given)."""
        if ok:
            formula = []
        elif formula is None:
            formula = worked_formula(subject, figure, ctx.layout)
        if not ok and slip is None:
            rule = f"no known slip {'within the search budget ' if spent else ''}explains {given_text}"
        notes = [n for n in (subject.note, note) if n]
        self.items.append(Item(
            id=f"{subject.name}.{figure}", group=ctx.group, subject=subject.name, figure=figure, file=self.r.file,
            line=line, given=given_text, expected=expected, expected_value=expected_value, ok=ok, rule=rule,
            slip=slip, formula=formula, note="; ".join(notes)))

"""Input sizes: the range grammar of `sweep`, and `cnncalc sizes` — which sizes a network accepts, and
which it takes exactly (no layer drops or implicitly pads rows, every merge's inputs line up: equal
sizes, or a centre crop taking as many rows on each side), described as a
progression where they form one.
"""
from __future__ import annotations

import itertools
import re
from typing import Any

from pydantic import BaseModel

from ..errors import SpecError, quote
from ..layers import Shape, fmt_shape
from ..spec.files import MAX_SIZE
from ..spec.order import in_order
from .sweep import Sweeper, load_for_sweep

MAX_SIZES = 5_000   # sizes in one sweep or one `sizes` range (a few milliseconds each at most)
PART = re.compile(r"""\s*(?:
      \{(?P<a>\d+)\.\.(?P<b>\d+)(?:\.\.(?P<s>\d+))?\}     # {64..512..32}, as the shell writes it
    | \{(?P<list>\d+(?:\s*,\s*\d+)*)\}                   # {64,96,128}
    | (?P<ca>\d+)(?::|\.\.)(?P<cb>\d+)(?:(?::|\.\.)(?P<cs>\d+))?   # 64:512:32 or 64..512..32
    | (?P<one>\d+)
    )\s*$""", re.X)


def values(part: str, what: str) -> list[int]:
    """One axis of a size spec: 224, {64..512..32}, {64,96}, 64:512:32 or 64..512..32 (ends included)."""
    if re.search(r"\d{19}", part):
        raise SpecError(f"{what}: a size larger than {MAX_SIZE:,}")
    m = PART.fullmatch(part)
    if not m:
        raise SpecError(f"{what}: cannot read {quote(part)}: expected a size (224), a range ({{64..512..32}}, "
                        "64:512:32) or a list ({64,96,128})")
    if m["one"]:
        out = [int(m["one"])]
    elif m["list"]:
        out = [int(x) for x in m["list"].split(",")]
    else:
        a, b, s = (int(x) for x in (m["a"] or m["ca"], m["b"] or m["cb"], m["s"] or m["cs"] or 1))
        if s < 1:
            raise SpecError(f"{what}: the step must be ≥ 1, got {s}")
        if (abs(b - a) // s) + 1 > MAX_SIZES:
            raise SpecError(f"{what}: {part} holds more than {MAX_SIZES:,} sizes")
        out = list(range(a, b + 1, s)) if a <= b else list(range(a, b - 1, -s))
    if min(out) < 1:
        raise SpecError(f"{what}: sizes must be ≥ 1, got {min(out)}")
    if max(out) > MAX_SIZE:
        raise SpecError(f"{what}: a size larger than {MAX_SIZE:,}")
    return out


def shapes_of(specs: list[str], base: Shape, *, channels: bool = True, what: str = "--input",
              layout: str | None = None) -> list[Shape]:
    """Every input shape the specs name, in order. With `channels` a spec of two or more parts starts with
    C (`3x{64..512..32}`, `3x{64..128..32}x{96..160..32}`); one part (`{64..512..32}`), or any spec
    without `channels`, gives the spatial sizes and keeps the architecture's channels. The last part
    fills the remaining spatial axes: `3x{64..512..32}` is square, `3x16x{112..224..16}` is D=16, H=W.
    A spec with every axis is channels first unless `layout` is HWC, and refused where its order is ambiguous."""
    rank = len(base) - 1
    out: list[Shape] = []
    for spec in specs:
        parts = re.split(r"\s*[x×]\s*", spec.strip())
        lists = [values(p, what) for p in parts]
        if channels and rank and len(lists) == rank + 1:
            lists = full_order(lists, layout, f"{what} {spec}")
        c = [base[0]]
        if channels and len(parts) > 1 or rank == 0:
            c, lists = lists[0], lists[1:]
        if len(lists) > rank or (rank and not lists):
            axes = "×".join(axis_names(rank)) if rank else "N"
            want = (f"C×{axes}, C×size or one size" if channels else f"{axes} or one size") if rank else "N"
            raise SpecError(f"{what} {spec}: the input is {fmt_shape(base)}: expected {want}, got {len(parts)} parts")
        tied = rank - len(lists) + 1  # the last list fills the remaining axes
        count = len(c)
        for vs in lists:
            count *= len(vs)
        if len(out) + count > MAX_SIZES:
            raise SpecError(f"{what}: more than {MAX_SIZES:,} input sizes")
        for combo in itertools.product(c, *lists):
            out.append(tuple(combo[:-1]) + (combo[-1],) * tied if rank else (combo[0],))
    return out


def full_order(lists: list[list[int]], layout: str | None, what: str) -> list[list[int]]:
    """The value lists of a spec that names every axis, channels first (spec/order.py's rule on each size)."""
    try:
        for combo in itertools.product(*lists):
            in_order(combo, layout, "CHW", flag=True)
    except SpecError as e:
        raise SpecError(f"{what}: {e.message}") from None
    return lists[-1:] + lists[:-1] if layout == "HWC" else lists


# -- cnncalc sizes ---------------------------------------------------------------------------

class AxisSizes(BaseModel):
    axis: str                   # "H=W" (square), "H", "W", "L", "D", …
    valid: list[int]
    exact: list[int]
    valid_text: str
    exact_text: str
    smallest_collapse: str | None = None   # why the largest invalid size below the first valid one fails


class SizesReport(BaseModel):
    name: str
    file: str | None = None
    input: list[int]
    range: list[int]            # [first, last]
    axes: list[AxisSizes]


def sizes(spec: Any, lo: int = 32, hi: int = 1024, per_axis: bool = False) -> SizesReport:
    """Valid and exact input sizes in [lo, hi]: all spatial axes together (square), or one axis at a time
    with the others at the architecture's own size (`per_axis`, the default for a non-square input) —
    then exact means exact on that axis (the others may be uneven at the architecture's own size)."""
    if not 1 <= lo <= hi <= MAX_SIZE or hi - lo >= MAX_SIZES:
        raise SpecError(f"--range {lo}..{hi}: expected 1 ≤ first ≤ last ≤ {MAX_SIZE:,}, at most {MAX_SIZES:,} sizes")
    graph = load_for_sweep(spec)
    base = graph.input
    spatial = base[1:]
    if not spatial:
        raise SpecError(f"{graph.name} takes a vector input ({fmt_shape(base)}): it has no spatial size to vary")
    names = axis_names(len(spatial))
    if per_axis or len(set(spatial)) > 1:  # one axis at a time, the others at the architecture's size
        plans = [(names[a], a, lambda n, a=a: base[:a + 1] + (n,) + base[a + 2:]) for a in range(len(spatial))]
    else:
        plans = [("=".join(names), None, lambda n: (base[0],) + (n,) * len(spatial))]
    axes = []
    sweeper = Sweeper(graph)
    for label, axis, make in plans:
        valid, exact, why = [], [], None
        for n in range(lo, hi + 1):
            v = sweeper.verdict(make(n), axis)
            if isinstance(v, str):
                if not valid:
                    why = f"{n}: {v}"
                continue
            valid.append(n)
            if v:
                exact.append(n)
        own = spatial[axis or 0]
        axes.append(AxisSizes(axis=label, valid=valid, exact=exact, valid_text=describe(valid, own),
                              exact_text=describe(exact, own), smallest_collapse=why))
    return SizesReport(name=graph.name, file=graph.file, input=list(base), range=[lo, hi], axes=axes)


def axis_names(rank: int) -> list[str]:
    return {1: ["L"], 2: ["H", "W"], 3: ["D", "H", "W"]}.get(rank, [f"axis{i + 1}" for i in range(rank)])


def describe(vals: list[int], mark: int | None = None, show: int = 3) -> str:
    """'every 16 from 188: 188, 204, 220, …, 572, …, 1004' — a progression, a run, residues, or the list."""
    if not vals:
        return "none"
    a, last = vals[0], vals[-1]
    if len(vals) == 1:
        return str(a)
    d = vals[1] - a
    if all(y - x == d for x, y in zip(vals, vals[1:])):
        if d == 1:
            return f"all from {a} to {last}"
        head = [a + i * d for i in range(min(show, len(vals)))]
        text = ", ".join(map(str, head))
        if mark is not None and mark in vals and mark > head[-1] and mark != last:
            text += f", …, {mark}"
        if last > head[-1]:
            text += f", …, {last}" if last - head[-1] > d else f", {last}"
        return f"every {d} from {a} ({len(vals)} sizes): {text}"
    period = _period(vals)
    if period:
        residues = sorted({(v - a) % period for v in vals if v < a + period})
        starts = ", ".join(str(a + r) for r in residues)
        return f"every {period} from each of {starts} up to {last} ({len(vals)} sizes)"
    runs = _runs(vals)
    text = ", ".join(f"{x}–{y}" if y > x else str(x) for x, y in runs[:8])
    return text + (f", … ({len(vals)} sizes in {len(runs)} runs)" if len(runs) > 8 else f" ({len(vals)} sizes)")


def _period(vals: list[int]) -> int | None:
    """The smallest p ≤ a third of the span with n in vals ⇔ n + p in vals across the span, if any."""
    s, a, last = set(vals), vals[0], vals[-1]
    for p in range(2, (last - a) // 3 + 1):
        if all((n + p in s) == (n in s) for n in range(a, last - p + 1)) and all(n - p < a or n - p in s for n in vals):
            return p
    return None


def _runs(vals: list[int]) -> list[tuple[int, int]]:
    runs = [[vals[0], vals[0]]]
    for v in vals[1:]:
        if v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    return [tuple(r) for r in runs]

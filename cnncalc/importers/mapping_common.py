"""What every part of the op → kind mapping shares: `Mapped` (one layer found), `Unmapped` (ops without a kind),
`Context` (what a mapper may ask about values) and small helpers that write fields as a person would
(`simple`, `split_pads`, `pad_layer`), plus `readers` for the patterns that look at who reads a value."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .ops import Captured, ModelError, Op


ALIASES = {"Identity", "Cast", "Contiguous"}   # ops that pass their input on unchanged


class Unmapped(ModelError):
    """Ops that map to no layer kind: one line per op type, its count and the first node names."""

    def __init__(self, ops: list[tuple[str, str]]):
        counts = Counter(kind for kind, _ in ops)
        lines = []
        for kind, count in counts.most_common():
            names = [name for k, name in ops if k == kind][:3]
            lines.append(f"{kind} ×{count} ({', '.join(names)}{', …' if count > 3 else ''})")
        super().__init__("cannot import: no layer kind for " + "; ".join(lines))
        self.ops = ops


@dataclass
class Mapped:
    name: str
    layer: dict                   # the fields an architecture file writes (type first)
    reads: list[str]              # activation values it reads, in order
    output: str                   # the value it produces
    params: int = 0               # parameters the model holds for it (Σ numel)
    module: str = ""
    notes: list[str] = field(default_factory=list)


class Context:
    """What a mapper may ask about values: constants (shape, small contents), activation shapes."""

    def __init__(self, cap: Captured):
        self.cap = cap
        self.consts = cap.consts
        self.shapes = cap.shapes

    def is_const(self, v: str) -> bool:
        return v == "" or v in self.consts

    def value(self, v: str):
        c = self.consts.get(v)
        if c is None or c.value is None:
            return None
        return c.value

    def ints(self, v: str) -> list[int] | None:
        a = self.value(v)
        return None if a is None else [int(x) for x in np.asarray(a).reshape(-1)]

    def floats(self, v: str) -> list[float] | None:
        a = self.value(v)
        return None if a is None else [float(x) for x in np.asarray(a).reshape(-1)]

    def shape(self, v: str) -> tuple[int, ...]:
        """An activation's shape without the batch."""
        return tuple(self.shapes[v][1:])

    def numel(self, v: str) -> int:
        return self.cap.numel(v) if v in self.consts else 0


def simple(values) -> int | list[int]:
    """[3, 3] → 3 (one value when every axis agrees), as a person writes it."""
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def split_pads(pads: list[int], rank: int) -> tuple[list[int], list[int]]:
    pads = list(pads) if pads else [0] * (2 * rank)
    return pads[:rank], pads[rank:]


SIDES = (("front", "back"), ("top", "bottom"), ("left", "right"))


def pad_layer(before: list[int], after: list[int], mode: str = "zeros", value: float = 0.0) -> dict:
    """A `pad` layer: one int when every side agrees, else the sides (left out where 0)."""
    rank = len(before)
    if len(set(before) | set(after)) == 1:
        padding: int | dict = before[0]
    else:
        padding = {}
        for (b_name, a_name), b, a in zip(SIDES[3 - rank:], before, after):
            if b:
                padding[b_name] = int(b)
            if a:
                padding[a_name] = int(a)
    layer = {"type": "pad", "padding": padding}
    if mode != "zeros":
        layer["mode"] = mode
    if value:
        layer["value"] = float(value)
    return layer


def readers(ops: list[Op]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, op in enumerate(ops):
        for v in op.inputs:
            out.setdefault(v, []).append(i)
    return out

"""pad: explicit padding of a map, per side (darknet's ZeroPad2d((0, 1, 0, 1)), a causal 1-D conv's left pad)."""
from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BeforeValidator, Field, model_validator
from typing import Annotated

from ..errors import LayerError, quote
from .base import Saved, Layer, RFStep, axis_letters, fmt_shape

# the sides of each spatial axis, outermost axis first; PyTorch's F.pad lists them from the last axis
SIDES = (("front", "back"), ("top", "bottom"), ("left", "right"))
LIMITS = {  # PyTorch's rule per mode: (the largest padding allowed on an axis of size n, how it says so)
    "reflect": (lambda size: size - 1, "smaller than"),
    "circular": (lambda size: size, "at most"),
}


def _padding(v: Any):
    if isinstance(v, bool):
        raise ValueError("expected a whole number or a mapping of sides such as {left: 1, right: 0}")
    if isinstance(v, int):
        if v < 0:
            raise ValueError(f"must be ≥ 0, got {v}")
        return v
    if not isinstance(v, dict) or not v:
        raise ValueError("expected a whole number or a mapping of sides such as {left: 1, right: 0}")
    names = [s for pair in SIDES for s in pair]
    for side, x in v.items():
        if side not in names:
            raise ValueError(f"unknown side {quote(side)} (sides: {', '.join(names)})")
        if isinstance(x, bool) or not isinstance(x, int) or x < 0:
            raise ValueError(f"{side}: expected a whole number ≥ 0, got {quote(x)}")
    return tuple(sorted(v.items(), key=lambda kv: names.index(kv[0])))


class Pad(Layer):
    """`padding` as an int (every side) or per side — {left, right}; {top, bottom, left, right};
    {front, back, top, bottom, left, right} — a side left out gets 0. Modes as PyTorch's F.pad."""
    kinds = ("pad",)
    needs_map = True
    ranks = (1, 2, 3)
    padding: Annotated[Union[int, tuple[tuple[str, int], ...]], BeforeValidator(_padding)] = Field(
        description="An int (every side) or a mapping of sides: {left, right}, {top, bottom, left, right}, "
                    "{front, back, top, bottom, left, right}; a side left out is 0.")
    mode: Literal["zeros", "reflect", "replicate", "circular"] = "zeros"
    value: float = 0.0

    @model_validator(mode="after")
    def _check(self):
        if self.value != 0 and self.mode != "zeros":
            raise ValueError(f"value is for mode zeros; {self.mode} padding takes no value (as PyTorch)")
        return self

    def sides(self, rank: int) -> tuple[tuple[int, int], ...]:
        """(before, after) per spatial axis."""
        if isinstance(self.padding, int):
            return ((self.padding, self.padding),) * rank
        given = dict(self.padding)
        return tuple((given.get(b, 0), given.get(a, 0)) for b, a in SIDES[3 - rank:])

    def check_input(self, ins):
        super().check_input(ins)
        rank = len(ins[0]) - 1
        if not isinstance(self.padding, int):
            allowed = [s for pair in SIDES[3 - rank:] for s in pair]
            for side, _ in self.padding:
                if side not in allowed:
                    raise LayerError(f"padding side {quote(side)} does not exist on a {fmt_shape(ins[0])} map "
                                     f"(its sides: {', '.join(allowed)})")
        if self.mode in LIMITS:
            most, words = LIMITS[self.mode]
            for axis, size, (b, a) in zip(axis_letters(rank), ins[0][1:], self.sides(rank)):
                if max(b, a) > most(size):
                    raise LayerError(f"{self.mode} padding {max(b, a)} on {axis} must be {words} the input size "
                                     f"{size} (as PyTorch)")

    def output_shape(self, ins):
        return (ins[0][0],) + tuple(size + b + a for size, (b, a) in zip(ins[0][1:], self.sides(len(ins[0]) - 1)))

    def rf_steps(self, ins):
        return tuple(RFStep(1, 1, b) for b, _ in self.sides(len(ins[0]) - 1))

    def config(self):
        if isinstance(self.padding, int):
            text = str(self.padding)
        else:
            text = " ".join(f"{side[0]}{x}" for side, x in self.padding)
        return f"{text} {self.mode}" + (f" {self.value:g}" if self.value else "")

    def explain(self, ins, out):
        rank = len(ins[0]) - 1
        parts = [f"{axis}: {size} + {b} + {a} = {size + b + a}"
                 for axis, size, (b, a) in zip(axis_letters(rank), ins[0][1:], self.sides(rank))]
        return [f"output: {fmt_shape(out)} ({'; '.join(parts)}); params: 0, no ops (copies)"]

    def saved(self, ins, out, batch, grads):
        return [Saved("in0")] if self.mode in ("reflect", "replicate") else []  # their backward reads the input

    def torch_module(self, ins):
        from ..pytorch.ops import Pad as M
        flat = tuple(x for b, a in reversed(self.sides(len(ins[0]) - 1)) for x in (b, a))  # F.pad: last axis first
        return M(flat, "constant" if self.mode == "zeros" else self.mode, self.value)

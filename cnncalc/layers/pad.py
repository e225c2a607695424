"""pad and crop: explicit padding of a map, per side (darknet's ZeroPad2d((0, 1, 0, 1)), a causal 1-D conv's left
pad), and its opposite, a crop per side (a TCN's Chomp1d: {right: 4})."""
from __future__ import annotations

from typing import Any, ClassVar, Literal, Union

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


def _per_side(kind: str):
    """The validator of pad's `padding` and crop's `cropping`: an int (every side) or {side: n}, n ≥ 0."""
    other = "crop" if kind == "pad" else "pad"
    hint = f" ({'to remove rows and columns' if kind == 'pad' else 'to add rows and columns'} use `{other}`)"

    def check(v: Any):
        if isinstance(v, bool):
            raise ValueError("expected a whole number or a mapping of sides such as {left: 1, right: 0}")
        if isinstance(v, int):
            if v < 0:
                raise ValueError(f"must be ≥ 0, got {v}{hint}")
            return v
        if not isinstance(v, dict) or not v:
            raise ValueError("expected a whole number or a mapping of sides such as {left: 1, right: 0}")
        names = [s for pair in SIDES for s in pair]
        for side, x in v.items():
            if side not in names:
                raise ValueError(f"unknown side {quote(side)} (sides: {', '.join(names)})")
            whole = isinstance(x, int) and not isinstance(x, bool)
            if not whole or x < 0:
                raise ValueError(f"{side}: expected a whole number ≥ 0, got {quote(x)}" + (hint if whole else ""))
        return tuple(sorted(v.items(), key=lambda kv: names.index(kv[0])))
    return check


SIDES_DOC = ("An int (every side) or a mapping of sides: {left, right}, {top, bottom, left, right}, "
             "{front, back, top, bottom, left, right}; a side left out is 0.")
PerSide = Union[int, tuple[tuple[str, int], ...]]


class _Sides(Layer):
    """A per-side amount on each spatial axis (pad's `padding`, crop's `cropping`)."""
    needs_map = True
    ranks = (1, 2, 3)
    sides_field: ClassVar[str]

    def sides(self, rank: int) -> tuple[tuple[int, int], ...]:
        """(before, after) per spatial axis."""
        v = getattr(self, self.sides_field)
        if isinstance(v, int):
            return ((v, v),) * rank
        given = dict(v)
        return tuple((given.get(b, 0), given.get(a, 0)) for b, a in SIDES[3 - rank:])

    def check_input(self, ins):
        super().check_input(ins)
        v = getattr(self, self.sides_field)
        if not isinstance(v, int):
            allowed = [s for pair in SIDES[3 - (len(ins[0]) - 1):] for s in pair]   # the sides of its spatial axes
            for side, _ in v:
                if side not in allowed:
                    raise LayerError(f"{self.sides_field} side {quote(side)} does not exist on a "
                                     f"{fmt_shape(ins[0])} map (its sides: {', '.join(allowed)})")

    def sides_text(self) -> str:
        v = getattr(self, self.sides_field)
        return str(v) if isinstance(v, int) else " ".join(f"{side[0]}{x}" for side, x in v)


class Pad(_Sides):
    """`padding` as an int (every side) or per side — {left, right}; {top, bottom, left, right};
    {front, back, top, bottom, left, right} — a side left out gets 0. Modes as PyTorch's F.pad."""
    kinds = ("pad",)
    sides_field = "padding"
    padding: Annotated[PerSide, BeforeValidator(_per_side("pad"))] = Field(description=SIDES_DOC)
    mode: Literal["zeros", "reflect", "replicate", "circular"] = "zeros"
    value: float = 0.0

    @model_validator(mode="after")
    def _check(self):
        if self.value != 0 and self.mode != "zeros":
            raise ValueError(f"value is for mode zeros; {self.mode} padding takes no value (as PyTorch)")
        return self

    def check_input(self, ins):
        super().check_input(ins)
        rank = len(ins[0]) - 1
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
        return f"{self.sides_text()} {self.mode}" + (f" {self.value:g}" if self.value else "")

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


class Crop(_Sides):
    """`cropping` as an int (every side) or per side, as pad's `padding` — {left, right}; {top, bottom, left,
    right}; {front, back, top, bottom, left, right} — removed from the map (torch: x[..., a:n − b], a view;
    a TCN's Chomp1d is {right: 4}). No params, no work."""
    kinds = ("crop",)
    sides_field = "cropping"
    cropping: Annotated[PerSide, BeforeValidator(_per_side("crop"))] = Field(description=SIDES_DOC)

    def check_input(self, ins):
        super().check_input(ins)
        for axis, size, (b, a) in zip(axis_letters(len(ins[0]) - 1), ins[0][1:], self.sides(len(ins[0]) - 1)):
            if b + a >= size:
                raise LayerError(f"cropping {b} + {a} on {axis} leaves nothing of the input size {size}")

    def output_shape(self, ins):
        return (ins[0][0],) + tuple(size - b - a for size, (b, a) in zip(ins[0][1:], self.sides(len(ins[0]) - 1)))

    def rf_steps(self, ins):
        return tuple(RFStep(1, 1, -b) for b, _ in self.sides(len(ins[0]) - 1))  # unit u is input unit u + b

    def aliases_input(self, training):
        return True  # a slice is a view

    def config(self):
        return self.sides_text()

    def explain(self, ins, out):
        rank = len(ins[0]) - 1
        parts = [f"{axis}: {size} − {b} − {a} = {size - b - a}"
                 for axis, size, (b, a) in zip(axis_letters(rank), ins[0][1:], self.sides(rank))]
        return [f"output: {fmt_shape(out)} ({'; '.join(parts)}); params: 0, no ops (a view)"]

    def torch_module(self, ins):
        from ..pytorch.ops import Crop as M
        return M(tuple((b, size - a) for size, (b, a) in zip(ins[0][1:], self.sides(len(ins[0]) - 1))))

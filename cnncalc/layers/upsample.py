"""upsample: resize a map by a scale, to a size, or to the size of another layer (PyTorch's interpolate)."""
from __future__ import annotations

import math
from fractions import Fraction
import struct
from typing import Annotated, Any, Literal, Optional

from pydantic import BeforeValidator, ValidationInfo, model_validator

from ..errors import LayerError
from .base import RANK_NAMES, Layer, Pair, RFStep, context_rank, axis_letters, fmt_pair, fmt_shape, n, numel

# one multiply-add per tap and output element: nearest copies; linear 2 taps per axis, bicubic 4
TAPS = {"nearest": 1, "nearest-exact": 1, "linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}
MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _scales(v: Any, info: ValidationInfo):
    if isinstance(v, bool) or not isinstance(v, (int, float, list, tuple)):
        raise ValueError("expected a number or a list with one per spatial axis")
    v = (v,) * context_rank(info) if isinstance(v, (int, float)) else tuple(v)
    if not 1 <= len(v) <= 3 or any(isinstance(x, bool) or not isinstance(x, (int, float)) or x <= 0 for x in v):
        raise ValueError("expected numbers > 0, one per spatial axis")
    return tuple(float(x) for x in v)


Scales = Annotated[tuple[float, ...], BeforeValidator(_scales)]


class Upsample(Layer):
    """Exactly one of `scale` (output ⌊n·scale⌋ per axis, as PyTorch), `size`, or `size_of: NAME` (the spatial
    size of that layer's output, or of `input`: the builder passes that layer in as a second input, as
    `interpolate(x, size=feat.shape[2:])` reads it). Other ops: one multiply-add per tap and output element
    (nearest 0, linear 2, bilinear 4, bicubic 16, trilinear 8); no MACs, as FlopCounterMode counts none."""
    kinds = ("upsample",)
    needs_map = True
    ranks = (1, 2, 3)
    axis_fields = ("scale", "size")
    rf_inputs = 1           # a size_of layer gives only its size

    scale: Optional[Scales] = None
    size: Optional[Pair] = None
    size_of: Optional[str] = None
    mode: Literal["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"] = "nearest"
    align_corners: Optional[bool] = None

    @model_validator(mode="after")
    def _check(self):
        given = [f for f in ("scale", "size", "size_of") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of scale, size or size_of" + (f" (got {', '.join(given)})" if given
                                                                              else ""))
        if self.align_corners is not None and TAPS[self.mode] == 1:
            raise ValueError(f"align_corners needs an interpolating mode (linear, bilinear, bicubic, trilinear), "
                             f"not {self.mode} (as PyTorch)")
        return self

    def check_input(self, ins):
        super().check_input(ins)
        rank = len(ins[0]) - 1
        if self.mode in MODE_RANK and MODE_RANK[self.mode] != rank:
            raise LayerError(f"mode {self.mode} needs a {RANK_NAMES[MODE_RANK[self.mode]]} map, got "
                             f"{RANK_NAMES[rank]} {fmt_shape(ins[0])}")
        if self.size_of is not None and len(ins[1]) != len(ins[0]):
            raise LayerError(f"size_of {self.size_of}: its output {fmt_shape(ins[1])} is not a "
                             f"{RANK_NAMES[rank]} map like the input {fmt_shape(ins[0])}")

    def sizes(self, ins) -> tuple[int, ...]:
        if self.size_of is not None:
            return ins[1][1:]
        if self.size is not None:
            return self.size
        return tuple(int(math.floor(float(size) * s)) for size, s in zip(ins[0][1:], self.scale))  # PyTorch's rule

    def output_shape(self, ins):
        return (ins[0][0],) + self.sizes(ins)

    def other_ops(self, ins, out):
        return TAPS[self.mode] ** (len(out) - 1) * numel(out) if TAPS[self.mode] > 1 else 0

    def rf_steps(self, ins):
        # an output unit moves n_in/n_out input units (a fractional stride) and reads `taps` neighbours
        taps = TAPS[self.mode]
        return tuple(RFStep(taps, Fraction(i, o), (taps - 1) // 2) for i, o in zip(ins[0][1:], self.sizes(ins)))

    def rf_taps(self, ins, axis, u):
        # PyTorch's source index, in its float32 arithmetic (a weight of 1e-8 is still a tap): nearest ⌊u·r⌋,
        # nearest-exact ⌊(u + ½)·r⌋, the interpolating modes the taps around (u + ½)·r − ½ (u·(n − 1)/(o − 1)
        # with align_corners) that get a non-zero weight; r = 1/scale where a scale is given, else n/o
        n, o = ins[0][1 + axis], self.sizes(ins)[axis]
        r = _f32(1 / self.scale[axis]) if self.scale else _f32(n / o)
        if self.mode == "nearest":
            return [min(int(_f32(u * r)), n - 1)]
        if self.mode == "nearest-exact":
            return [min(int(_f32(_f32(u + 0.5) * r)), n - 1)]
        if self.align_corners:
            src = _f32(_f32((n - 1) / (o - 1)) * u) if o > 1 else 0.0
        else:
            src = _f32(r * _f32(u + 0.5) - 0.5)      # one rounding: the kernel fuses the multiply-add
            src = max(src, 0.0) if TAPS[self.mode] == 2 else src
        i0 = math.floor(src)
        if _f32(src - i0) == 0:
            return [min(max(i0, 0), n - 1)]
        near = (i0, i0 + 1) if TAPS[self.mode] == 2 else (i0 - 1, i0, i0 + 1, i0 + 2)
        return sorted({min(max(i, 0), n - 1) for i in near})

    def config(self):
        what = (f"×{fmt_pair(tuple(f'{s:g}' for s in self.scale))}" if self.scale
                else f"→{fmt_pair(self.size)}" if self.size else f"→size of {self.size_of}")
        return f"{what} {self.mode}" + (" align_corners" if self.align_corners else "")

    def explain(self, ins, out):
        letters, sizes = axis_letters(len(ins[0]) - 1), self.sizes(ins)
        if self.scale is not None:
            how = ", ".join(f"{a}: ⌊{size}·{s:g}⌋ = {o}" for a, size, s, o in zip(letters, ins[0][1:], self.scale, sizes))
        elif self.size is not None:
            how = f"size {fmt_pair(self.size)}"
        else:
            how = f"the size of {self.size_of}, {'×'.join(map(str, sizes))}"
        taps = TAPS[self.mode] ** len(sizes)
        return [f"output: {fmt_shape(out)} ({how}); params: 0, MACs: 0",
                f"other ops: {taps if taps > 1 else 0} per output element ({self.mode}) = {n(self.other_ops(ins, out))}"]

    def torch_module(self, ins):
        from ..pytorch.ops import Interpolate
        size = None if self.size is None else tuple(self.size)
        return Interpolate(size=size, scale=self.scale, mode=self.mode, align_corners=self.align_corners)


def _f32(x: float) -> float:
    """x rounded to float32, as PyTorch computes interpolation indices for float32 maps."""
    return struct.unpack("f", struct.pack("f", x))[0]

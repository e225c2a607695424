"""pixel_shuffle and pixel_unshuffle: channels ↔ space (ESPCN's sub-pixel convolution), no params, no MACs.

PyTorch shuffles the last three axes of a tensor, (*, C·r², H, W) ↔ (*, C, r·H, r·W), the axes before them
being batch axes: on a C×H×W map that is the shuffle one means. On a C×L map it would shuffle the batch, and
on a C×D×H×W map it would read D as the channels and keep C as a batch axis — not a 3-D shuffle, and no
per-axis receptive field describes it (the D position read depends on the H and W position): both refused.
"""
from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

from ..errors import LayerError
from .base import RANK_NAMES, Layer, PosInt, RFStep, axis_letters, fmt_shape

WHY = {1: "on a C×L map PyTorch would shuffle the batch axis",
       3: "on a C×D×H×W map PyTorch would read D as the channels and keep C as a batch axis, not shuffle in 3-D"}


class _Shuffle(Layer):
    """What the two directions share: the factor, the map they need."""
    needs_map = True
    factor_name: ClassVar[str]     # the field holding r

    def factor(self) -> int:
        return getattr(self, self.factor_name)

    def check_input(self, ins):
        rank = len(ins[0]) - 1
        if rank in WHY:
            raise LayerError(f"{self.type} needs a C×H×W map, got {RANK_NAMES[rank]} {fmt_shape(ins[0])} "
                             f"({WHY[rank]})")
        super().check_input(ins)

    def config(self):
        return f"r={self.factor()}"


class PixelShuffle(_Shuffle):
    """C·r² × H × W → C × rH × rW (torch.nn.PixelShuffle): output (c, r·h + i, r·w + j) is input
    (c·r² + r·i + j, h, w), so each output unit reads one input unit: a fractional stride 1/r."""
    kinds = ("pixel_shuffle",)
    factor_name = "upscale"
    upscale: PosInt

    def check_input(self, ins):
        super().check_input(ins)
        r = self.upscale
        if ins[0][0] % (r * r):
            raise LayerError(f"upscale {r}: the {ins[0][0]} channels are not divisible by r² = {r * r}")

    def output_shape(self, ins):
        (c, h, w), r = ins[0], self.upscale
        return (c // (r * r), h * r, w * r)

    def rf_steps(self, ins):
        return (RFStep(1, Fraction(1, self.upscale), 0),) * 2

    def rf_taps(self, ins, axis, u):
        return range(u // self.upscale, u // self.upscale + 1)     # r output units in a row read one input unit

    def explain(self, ins, out):
        (c, h, w), r = ins[0], self.upscale
        return [f"output: {c}/{r}² = {out[0]} channels, {h}·{r} = {out[1]} × {w}·{r} = {out[2]} → {fmt_shape(out)}; "
                "params: 0, MACs: 0 (a permutation)"]

    def torch_module(self, ins):
        from torch import nn
        return nn.PixelShuffle(self.upscale)


class PixelUnshuffle(_Shuffle):
    """C × rH × rW → C·r² × H × W (torch.nn.PixelUnshuffle): each output unit reads one unit of an r×r
    window, the windows r apart (a stride-r r×r window, as the receptive field sees it)."""
    kinds = ("pixel_unshuffle",)
    factor_name = "downscale"
    downscale: PosInt

    def check_input(self, ins):
        super().check_input(ins)
        r = self.downscale
        for axis, size in zip(axis_letters(2), ins[0][1:]):
            if size % r:
                raise LayerError(f"downscale {r}: {axis} = {size} is not divisible by {r}")

    def output_shape(self, ins):
        (c, h, w), r = ins[0], self.downscale
        return (c * r * r, h // r, w // r)

    def rf_steps(self, ins):
        return (RFStep(self.downscale, self.downscale, 0),) * 2

    def explain(self, ins, out):
        (c, h, w), r = ins[0], self.downscale
        return [f"output: {c}·{r}² = {out[0]} channels, {h}/{r} = {out[1]} × {w}/{r} = {out[2]} → {fmt_shape(out)}; "
                "params: 0, MACs: 0 (a permutation)"]

    def torch_module(self, ins):
        from torch import nn
        return nn.PixelUnshuffle(self.downscale)

"""slice and channel_shuffle: channel bookkeeping for ShuffleNet-style units (no params, no MACs), on maps of
every rank (C×L, C×H×W, C×D×H×W)."""
from __future__ import annotations

from typing import Optional

from pydantic import NonNegativeInt

from ..errors import LayerError
from .base import Layer, PosInt, fmt_shape


class Slice(Layer):
    """Channels [start, end) of the input (torch: x[:, start:end]); ShuffleNet v2's channel split."""
    kinds = ("slice",)
    needs_map = True
    ranks = (1, 2, 3)
    start: NonNegativeInt = 0
    end: Optional[PosInt] = None   # default: the last channel

    def stop(self, c: int) -> int:
        return c if self.end is None else self.end

    def check_input(self, ins):
        super().check_input(ins)
        c = ins[0][0]
        if not self.start < self.stop(c) <= c:
            raise LayerError(f"channels [{self.start}, {self.stop(c)}) are not inside the input's {c} channels")

    def output_shape(self, ins):
        return (self.stop(ins[0][0]) - self.start,) + ins[0][1:]

    def config(self):
        return f"[{self.start}:{'' if self.end is None else self.end}]"

    def aliases_input(self, training):
        return True  # x[:, start:end] is a view

    def explain(self, ins, out):
        return [f"output: channels {self.start}…{self.stop(ins[0][0]) - 1} of {ins[0][0]} → {fmt_shape(out)}; params: 0"]

    def torch_module(self, ins):
        from ..pytorch.ops import Slice as M
        return M(self.start, self.stop(ins[0][0]))


class ChannelShuffle(Layer):
    """Interleave channel groups (ShuffleNet): a permutation, so no params, MACs or ops."""
    kinds = ("channel_shuffle",)
    needs_map = True
    ranks = (1, 2, 3)
    groups: PosInt

    def check_input(self, ins):
        super().check_input(ins)
        if ins[0][0] % self.groups:
            raise LayerError(f"groups={self.groups} does not divide the {ins[0][0]} channels")

    def config(self):
        return f"g{self.groups}"

    def torch_module(self, ins):
        from torch import nn
        return nn.ChannelShuffle(self.groups)

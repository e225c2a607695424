"""The few torch modules that torch.nn lacks (imported only by the torch builder)."""
from __future__ import annotations

import torch
from torch import nn


class Concat(nn.Module):
    def forward(self, *xs):
        return torch.cat(xs, dim=1)


class Add(nn.Module):
    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mul(nn.Module):
    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Slice(nn.Module):
    """Channels [start, end) of the input."""

    def __init__(self, start: int, end: int):
        super().__init__()
        self.start, self.end = start, end

    def forward(self, x):
        return x[:, self.start:self.end]

    def extra_repr(self):
        return f"start={self.start}, end={self.end}"

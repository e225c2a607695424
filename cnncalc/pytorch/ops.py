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


# Modules with weights that torch.nn lacks: `cnncalc export` copies their source into the exported
# file and calls them with `args` (their constructor's arguments), so the code stays standalone.
EXPORTED = ("TableConv", "Subsample", "RBF")


class TableConv(nn.Module):
    """A convolution through a connection table: one dense conv per output map over its input maps."""

    def __init__(self, table, kernel, stride, padding, bias: bool):
        super().__init__()
        self.args = (tuple(tuple(r) for r in table), tuple(kernel), tuple(stride), tuple(padding), bias)
        self.table = [list(row) for row in table]
        self.maps = nn.ModuleList(nn.Conv2d(len(row), 1, tuple(kernel), tuple(stride), tuple(padding), bias=bias)
                                  for row in self.table)

    def forward(self, x):
        return torch.cat([conv(x[:, row]) for row, conv in zip(self.table, self.maps)], dim=1)


class Subsample(nn.Module):
    """LeNet's trainable subsampling: (Σ window)·coefficient + bias per map, as a depthwise conv whose
    k·k weights are the one shared coefficient (so torch counts k·k multiply-adds per output)."""

    def __init__(self, channels: int, kernel, stride, bias: bool):
        super().__init__()
        self.args = (channels, tuple(kernel), tuple(stride), bias)
        self.kernel, self.stride = tuple(kernel), tuple(stride)
        self.weight = nn.Parameter(torch.randn(channels))
        self.bias = nn.Parameter(torch.randn(channels)) if bias else None

    def forward(self, x):
        c = self.weight.shape[0]
        w = self.weight.view(c, 1, 1, 1).expand(c, 1, *self.kernel)
        return nn.functional.conv2d(x, w, self.bias, self.stride, groups=c)


class RBF(nn.Module):
    """Euclidean RBF units: y_i = Σ_j (x_j − w_ij)² = |x|² − 2·x·w_i + |w_i|², the centres fixed (a buffer)."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.args = (n_in, n_out)
        self.register_buffer("centres", torch.randn(n_out, n_in).sign())

    def forward(self, x):
        x = x.flatten(1)
        return (x * x).sum(1, keepdim=True) - 2 * x @ self.centres.t() + (self.centres * self.centres).sum(1)

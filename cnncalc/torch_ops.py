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

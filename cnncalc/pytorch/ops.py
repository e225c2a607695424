"""The few torch modules that torch.nn lacks (imported only by the torch builder)."""
from __future__ import annotations

import torch
from torch import nn


def center_crop(xs):
    """Each tensor center-cropped to the smallest spatial size: ⌊(n − n_min)/2⌋ dropped before, the rest after."""
    keep = [min(sizes) for sizes in zip(*(x.shape[2:] for x in xs))]
    out = []
    for x in xs:
        index = [slice(None), slice(None)] + [slice((n - k) // 2, (n - k) // 2 + k) for n, k in zip(x.shape[2:], keep)]
        out.append(x[tuple(index)])
    return out


class Concat(nn.Module):
    def __init__(self, crop: bool = False):
        super().__init__()
        self.crop = crop

    def forward(self, *xs):
        return torch.cat(center_crop(xs) if self.crop else xs, dim=1)


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


class Reuse(nn.Module):
    """A later use of another node's module (`share:`): it calls that module's forward and holds nothing of
    its own, so the shared parameters are registered (and counted) once, at their first use. The module is
    kept in a tuple, not as a submodule, and called through `forward`, so hooks on it see only its own use."""

    def __init__(self, target: nn.Module, key: str):
        super().__init__()
        self._target = (target,)
        self.key = key  # the attribute name of the module it reuses

    def forward(self, *xs):
        return self._target[0].forward(*xs)

    def extra_repr(self):
        return f"reuses {self.key}"


# Modules with weights that torch.nn lacks: `cnncalc export` copies their source into the exported
# file and calls them with `args` (their constructor's arguments), so the code stays standalone.
EXPORTED = ("TableConv", "Subsample", "RBF", "LayerNorm2d", "Scale", "L2Norm", "FrozenBatchNorm", "ChannelLinear")


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


class Interpolate(nn.Module):
    """F.interpolate to a size, by a scale, or to the spatial size of a second input (`size_of`)."""

    def __init__(self, size=None, scale=None, mode: str = "nearest", align_corners=None):
        super().__init__()
        self.size, self.scale, self.mode, self.align_corners = size, scale, mode, align_corners

    def forward(self, x, ref=None):
        size = tuple(ref.shape[2:]) if ref is not None else self.size
        return nn.functional.interpolate(x, size=size, scale_factor=None if size else self.scale, mode=self.mode,
                                         align_corners=self.align_corners)

    def extra_repr(self):
        return f"size={self.size}, scale={self.scale}, mode={self.mode!r}, align_corners={self.align_corners}"


class Pad(nn.Module):
    """F.pad with the sides in F.pad's order (last axis first: left, right, top, bottom, front, back)."""

    def __init__(self, pad: tuple, mode: str = "constant", value: float = 0.0):
        super().__init__()
        self.pad, self.mode, self.value = tuple(pad), mode, value

    def forward(self, x):
        if self.mode == "constant":
            return nn.functional.pad(x, self.pad, value=self.value)
        return nn.functional.pad(x, self.pad, mode=self.mode)

    def extra_repr(self):
        return f"pad={self.pad}, mode={self.mode!r}, value={self.value}"


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels at each position of a map (ConvNeXt's LayerNorm2d), for any rank."""

    def __init__(self, channels: int, eps: float = 1e-5, elementwise_affine: bool = True):
        super().__init__(channels, eps=eps, elementwise_affine=elementwise_affine)
        self.args = (channels, eps, elementwise_affine)

    def forward(self, x):
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


class Scale(nn.Module):
    """A learnable multiplier per channel (ConvNeXt's layer scale), broadcast over the positions."""

    def __init__(self, channels: int, rank: int = 2, init: float = 1e-6):
        super().__init__()
        self.channels, self.rank, self.init = channels, rank, init
        self.args = (channels, rank, init)
        self.weight = nn.Parameter(torch.full((channels,) + (1,) * rank, init))

    def forward(self, x):
        return x * self.weight

    def extra_repr(self):
        return f"{self.channels}, rank={self.rank}, init={self.init}"


class L2Norm(nn.Module):
    """Each position's channels divided by their Euclidean length (F.normalize over dim 1), times a learnable
    per-channel scale when `scale` is its initial value (SSD's L2Norm on conv4_3: 20)."""

    def __init__(self, channels: int, rank: int = 2, scale=None, eps: float = 1e-12):
        super().__init__()
        self.args = (channels, rank, scale, eps)
        self.eps = eps
        self.weight = None if scale is None else nn.Parameter(torch.full((channels,) + (1,) * rank, float(scale)))

    def forward(self, x):
        y = nn.functional.normalize(x, dim=1, eps=self.eps)
        return y if self.weight is None else y * self.weight


class FrozenBatchNorm(nn.Module):
    """Batch norm with fixed statistics and affine terms, all buffers (torchvision's FrozenBatchNorm2d, any rank)."""

    def __init__(self, channels: int, rank: int = 2, eps: float = 1e-5):
        super().__init__()
        self.args = (channels, rank, eps)
        self.shape, self.eps = (channels,) + (1,) * rank, eps
        for name, value in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0), ("running_var", 1.0)):
            self.register_buffer(name, torch.full((channels,), value))

    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.reshape(self.shape) + shift.reshape(self.shape)


class Crop(nn.Module):
    """x[:, :, a:b, …]: the spatial window [a, b) on each axis (a crop per side, Chomp1d's x[:, :, :-4])."""

    def __init__(self, window: tuple):
        super().__init__()
        self.window = tuple(tuple(w) for w in window)

    def forward(self, x):
        return x[(slice(None), slice(None)) + tuple(slice(a, b) for a, b in self.window)]

    def extra_repr(self):
        return f"window={self.window}"


class Permute(nn.Module):
    """x.permute(dims), the batch axis first, copied to a contiguous tensor: what follows takes one path at every
    batch size (a Linear on a permuted view copies it, or not, depending on the batch)."""

    def __init__(self, dims: tuple):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x):
        return x.permute(self.dims).clone(memory_format=torch.contiguous_format)

    def extra_repr(self):
        return f"dims={self.dims}"


class ChannelLinear(nn.Linear):
    """nn.Linear on the channels at each position of a map (linear `over: channels`): moved last, multiplied,
    moved back: a 1×1 convolution's figures with a Linear's weight (N_out × C)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__(in_features, out_features, bias)
        self.args = (in_features, out_features, bias)

    def forward(self, x):
        # made contiguous first, so torch takes one path at every batch size: a copy (unless the move leaves x
        # contiguous), then one fused multiply-add over all positions
        return super().forward(x.movedim(1, -1).contiguous()).movedim(-1, 1)

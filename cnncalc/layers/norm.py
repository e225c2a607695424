"""batchnorm, layernorm, groupnorm, instancenorm, lrn and scale (a learnable per-channel multiplier)."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import BeforeValidator, PositiveFloat, WithJsonSchema, model_validator

from ..errors import LayerError
from .base import RANK_NAMES, Layer, PosInt, Saved, alias_rank, fmt_shape, n, numel


class BatchNorm(Layer):
    """Batch normalisation over the channels of a vector or a 1-, 2- or 3-D map (BatchNorm1d/2d/3d).

    `frozen: true` is torchvision's FrozenBatchNorm2d (detection backbones): γ, β and the running statistics
    are all buffers, 4 per channel, none trainable, and no num_batches_tracked."""
    kinds = ("batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d")
    eps: PositiveFloat = 1e-5
    affine: bool = True
    frozen: bool = False

    @model_validator(mode="after")
    def _check(self):
        if self.frozen and not self.affine:
            raise ValueError("frozen: true keeps γ and β as buffers; with affine: false there are none to freeze")
        return self

    def check_input(self, ins):
        # PyTorch's BatchNorm1d takes a vector (N, C) or a 1-D map (N, C, L); 2d and 3d one rank each
        rank, wanted = len(ins[0]) - 1, alias_rank(self.type)
        if wanted is not None and rank != wanted and not (wanted == 1 and rank == 0):
            want = "vector N or a C×L map" if wanted == 1 else RANK_NAMES[wanted] + " map"
            got = f"a vector of {ins[0][0]:,}" if rank == 0 else f"{RANK_NAMES.get(rank)} {fmt_shape(ins[0])}"
            raise LayerError(f"{self.type} needs a {want}, got {got}")

    def params(self, ins, out):
        return 2 * ins[0][0] if self.affine and not self.frozen else 0  # γ and β per channel

    def buffers(self, ins, out):
        if self.frozen:
            return 4 * ins[0][0]  # γ, β, running mean and variance per channel
        return 2 * ins[0][0] + 1  # running mean and variance per channel + PyTorch's num_batches_tracked

    def other_ops(self, ins, out):
        return 2 * numel(out)  # inference: one multiply and one add per element (folded scale/shift)

    def saved(self, ins, out, batch, grads):
        c = ins[0][0]
        if self.frozen:  # x·scale + shift with fixed statistics: the product keeps its scale (C values)
            return [Saved("new", c)] if grads[0] else []
        # training: its input and the batch statistics (save_mean, save_invstd: C each, fp32), besides
        # γ and the running stats, which are parameters and buffers
        return [Saved("in0"), Saved("new", c, "fp32"), Saved("new", c, "fp32")]

    def notes(self, ins, out):
        return ["frozen: γ, β as buffers"] if self.frozen else []

    def temp_elements(self, ins, out, batch):
        # frozen, inference: the scale and shift (C each) and x·scale before the shift is added
        return numel(out) * batch + 2 * ins[0][0] if self.frozen else 0

    def explain(self, ins, out):
        c = ins[0][0]
        if self.frozen:
            return [f"output: same shape {'×'.join(map(str, out))}", "params: 0 (frozen)",
                    f"buffers (not trainable): 4·C = 4·{c} = {4 * c} (γ, β, running mean, running var)",
                    f"other ops: 2 per element = {n(self.other_ops(ins, out))}"]
        return [f"output: same shape {'×'.join(map(str, out))}",
                f"params: 2·C = 2·{c} = {2 * c} (γ, β)" if self.affine else "params: 0 (affine: false)",
                f"buffers (not trainable): 2·C + 1 = {2 * c + 1} (running mean, running var, num_batches_tracked)",
                f"other ops: 2 per element = {n(self.other_ops(ins, out))}"]

    def torch_module(self, ins):
        from torch import nn
        if self.frozen:
            from ..pytorch.ops import FrozenBatchNorm
            return FrozenBatchNorm(ins[0][0], len(ins[0]) - 1, self.eps)
        cls = (nn.BatchNorm1d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)[len(ins[0]) - 1]
        return cls(ins[0][0], eps=self.eps, affine=self.affine)


class LRN(Layer):
    """Local response normalisation across channels (AlexNet), as torch.nn.LocalResponseNorm."""
    kinds = ("lrn",)
    needs_map = True
    size: PosInt = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def other_ops(self, ins, out):
        # per element: `size` squares summed (size multiply-adds), then scale, power and divide
        return (self.size + 3) * numel(out)

    def config(self):
        return f"size {self.size}"

    def saved(self, ins, out, batch, grads):
        # torch composes it: x², zero-padded on channels (C + size − 1) and averaged, scaled, raised to β,
        # then x / that; autograd keeps x, the padded squares, the base of the power and its result
        c, *spatial = ins[0]
        per = numel(tuple(spatial)) * batch
        return [Saved("in0"), Saved("new", (c + self.size - 1) * per), Saved("new", c * per), Saved("new", c * per)]

    def temp_elements(self, ins, out, batch):
        # inference, besides x and (counted apart) the output: first x² with its padded copy (C + size − 1
        # channels), later the average and its scaled and shifted copies (3·C) — less the output's C
        c, *spatial = ins[0]
        return max(c + self.size - 1, 2 * c) * numel(tuple(spatial)) * batch

    def explain(self, ins, out):
        return [f"output: same shape {'×'.join(map(str, out))}; params: 0",
                f"other ops: (size + 3) per element = ({self.size} + 3)·{n(numel(out))} = {n(self.other_ops(ins, out))}"]

    def torch_module(self, ins):
        from torch import nn
        return nn.LocalResponseNorm(self.size, self.alpha, self.beta, self.k)


def norm_ops(out, affine: bool) -> int:
    """Per element: mean 1, variance 2 (subtract, square-add), normalise 2 (subtract, scale), affine 2."""
    return (7 if affine else 5) * numel(out)


def norm_ops_text(ins, out, affine: bool) -> str:
    return (f"other ops: {7 if affine else 5} per element (mean 1, variance 2, normalise 2"
            f"{', affine 2' if affine else ''}) = {n(norm_ops(out, affine))}")


class LayerNorm(Layer):
    """Over the channels at each position (ConvNeXt's LayerNorm2d: 2·C params) by default; `over: all`
    normalises the whole C×H×W sample as PyTorch's LayerNorm([C, H, W]) (2·C·H·W params); `over: last` the last
    axis at each position, as PyTorch's LayerNorm(N) on a map (after a permute to H×W×C). A vector: LayerNorm(N)."""
    kinds = ("layernorm",)
    over: Literal["channels", "all", "last"] = "channels"
    eps: PositiveFloat = 1e-5
    affine: bool = True

    def normalized(self, ins) -> tuple[int, ...]:
        return ins[0] if self.over == "all" else ins[0][-1:] if self.over == "last" else ins[0][:1]

    def params(self, ins, out):
        return 2 * numel(self.normalized(ins)) if self.affine else 0

    def other_ops(self, ins, out):
        return norm_ops(out, self.affine)

    def config(self):
        return f"over {'C' if self.over == 'channels' else self.over}"

    def explain(self, ins, out):
        shape = self.normalized(ins)
        return [f"output: same shape {fmt_shape(out)}; normalised over {fmt_shape(shape)} "
                + ("(each sample)" if self.over == "all" or len(ins[0]) == 1 else
                   "(the channels at each position)" if self.over == "channels" else "(the last axis at each position)"),
                f"params: 2·{'·'.join(map(str, shape))} = {n(self.params(ins, out))} (γ, β)" if self.affine
                else "params: 0 (affine: false)", norm_ops_text(ins, out, self.affine)]

    def stats(self, ins) -> int:
        """Per sample: how many (mean, 1/std) pairs torch computes — one per position, or one in all."""
        return 1 if self.over == "all" or len(ins[0]) == 1 else numel(ins[0]) // numel(self.normalized(ins))

    def saved(self, ins, out, batch, grads):
        # its input and the statistics (fp32) besides γ and β
        return [Saved("in0"), Saved("new", self.stats(ins) * batch, "fp32"), Saved("new", self.stats(ins) * batch, "fp32")]

    def temp_elements(self, ins, out, batch):
        return 2 * self.stats(ins) * batch  # inference: torch returns the statistics too, freed at once

    def torch_module(self, ins):
        from torch import nn
        if self.over != "channels" or len(ins[0]) == 1:
            return nn.LayerNorm(list(self.normalized(ins)), eps=self.eps, elementwise_affine=self.affine)
        from ..pytorch.ops import LayerNorm2d
        return LayerNorm2d(ins[0][0], eps=self.eps, elementwise_affine=self.affine)


class GroupNorm(Layer):
    """Normalise each group of C/groups channels over the group and the positions (nn.GroupNorm): 2·C params."""
    kinds = ("groupnorm",)
    groups: PosInt
    eps: PositiveFloat = 1e-5
    affine: bool = True

    def check_input(self, ins):
        if ins[0][0] % self.groups:
            raise LayerError(f"groups={self.groups} does not divide the {ins[0][0]} channels")
        if numel(ins[0]) // self.groups == 1:
            raise LayerError(f"each group holds one value ({ins[0][0]}/{self.groups} channels × {numel(ins[0][1:])} "
                             "positions): nothing to normalise (PyTorch refuses it)")

    def params(self, ins, out):
        return 2 * ins[0][0] if self.affine else 0

    def other_ops(self, ins, out):
        return norm_ops(out, self.affine)

    def config(self):
        return f"g{self.groups}"

    def explain(self, ins, out):
        c = ins[0][0]
        return [f"output: same shape {fmt_shape(out)}; {self.groups} groups of {c // self.groups} channels",
                f"params: 2·C = 2·{c} = {2 * c} (γ, β)" if self.affine else "params: 0 (affine: false)",
                norm_ops_text(ins, out, self.affine)]

    def saved(self, ins, out, batch, grads):
        # its input and the mean and 1/std of each group of each sample (fp32)
        return [Saved("in0"), Saved("new", self.groups * batch, "fp32"), Saved("new", self.groups * batch, "fp32")]

    def torch_module(self, ins):
        from torch import nn
        return nn.GroupNorm(self.groups, ins[0][0], eps=self.eps, affine=self.affine)


class InstanceNorm(Layer):
    """Normalise each channel of each sample over its positions (nn.InstanceNorm1d/2d/3d): as PyTorch, no
    affine parameters and no running statistics unless asked for (2·C params; 2·C + 1 buffers)."""
    kinds = ("instancenorm",)
    needs_map = True
    ranks = (1, 2, 3)
    eps: PositiveFloat = 1e-5
    affine: bool = False
    track_running_stats: bool = False

    def check_input(self, ins):
        super().check_input(ins)
        if numel(ins[0][1:]) == 1 and not self.track_running_stats:
            raise LayerError(f"a {fmt_shape(ins[0])} map has one position per channel: nothing to normalise "
                             "(PyTorch refuses it unless track_running_stats uses the running statistics)")

    def params(self, ins, out):
        return 2 * ins[0][0] if self.affine else 0

    def buffers(self, ins, out):
        return 2 * ins[0][0] + 1 if self.track_running_stats else 0

    def other_ops(self, ins, out):
        return norm_ops(out, self.affine)

    def explain(self, ins, out):
        c = ins[0][0]
        return [f"output: same shape {fmt_shape(out)}; each of the {c} channels over its own positions",
                f"params: 2·C = {2 * c} (γ, β)" if self.affine else "params: 0 (affine: false, as PyTorch)",
                f"buffers: 2·C + 1 = {2 * c + 1} (running mean, var, num_batches_tracked)" if self.track_running_stats
                else "buffers: 0 (track_running_stats: false)", norm_ops_text(ins, out, self.affine)]

    def saved(self, ins, out, batch, grads):
        # torch runs a batch norm over N·C channels: the input (a view), save_mean and save_invstd (N·C
        # fp32 each), γ repeated N times when affine, the running stats repeated when tracked
        nc = ins[0][0] * batch
        saved = [Saved("in0"), Saved("new", nc, "fp32"), Saved("new", nc, "fp32")]
        saved += [Saved("new", nc)] if self.affine else []
        return saved + ([Saved("new", nc, "fp32"), Saved("new", nc, "fp32")] if self.track_running_stats else [])

    def torch_module(self, ins):
        from torch import nn
        cls = (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)[len(ins[0]) - 2]
        return cls(ins[0][0], eps=self.eps, affine=self.affine, track_running_stats=self.track_running_stats)


class Scale(Layer):
    """A learnable multiplier per channel (ConvNeXt's layer scale, CaiT's LayerScale): C params, no MACs,
    one multiplication per element."""
    kinds = ("scale",)
    init: float = 1e-6

    def params(self, ins, out):
        return ins[0][0]

    def other_ops(self, ins, out):
        return numel(out)

    def explain(self, ins, out):
        return [f"output: same shape {fmt_shape(out)}; params: C = {ins[0][0]}",
                f"other ops: 1 multiplication per element = {n(numel(out))}"]

    def torch_module(self, ins):
        from ..pytorch.ops import Scale as M
        return M(ins[0][0], len(ins[0]) - 1, self.init)


def _scale(v):
    if v is None or v is False:
        return None
    if v is True or not isinstance(v, (int, float)):
        raise ValueError("expected false or the initial value of the per-channel scale (SSD: 20)")
    return float(v)


class L2Norm(Layer):
    """Each position's channel vector divided by its Euclidean length (SSD's L2Norm, F.normalize(x, dim=1));
    `scale`: false, or the initial value of a learnable per-channel scale (SSD: 20), C params. No MACs
    (FlopCounterMode counts none): other ops per element 2 for the sum of squares, 1 divide, 1 scale."""
    kinds = ("l2norm",)
    scale: Annotated[Optional[float], BeforeValidator(_scale), WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "boolean", "const": False}, {"type": "null"}]})] = None
    eps: PositiveFloat = 1e-12

    def params(self, ins, out):
        return ins[0][0] if self.scale is not None else 0

    def other_ops(self, ins, out):
        return (4 if self.scale is not None else 3) * numel(out)

    def config(self):
        return f"scale {self.scale:g}" if self.scale is not None else ""

    def positions(self, ins) -> int:
        return numel(ins[0][1:])

    def saved(self, ins, out, batch, grads):
        # x / ‖x‖.clamp_min(eps): the norm keeps x and its result, the division x and the clamped norm (one
        # value per position each); the scale keeps the normalised map
        per = self.positions(ins) * batch
        saved = [Saved("in0"), Saved("new", per), Saved("new", per)]
        return saved + ([Saved("new", numel(out) * batch)] if self.scale is not None else [])

    def temp_elements(self, ins, out, batch):
        # inference: the norm and its clamped copy (one per position each), then the normalised map before the scale
        per = self.positions(ins) * batch
        return max(2 * per, numel(out) * batch if self.scale is not None else 0)

    def explain(self, ins, out):
        c = ins[0][0]
        return [f"output: same shape {fmt_shape(out)}; each position's {c} channels divided by their length "
                f"√(Σ x²)", f"params: C = {c} (the scale, initialised to {self.scale:g})" if self.scale is not None
                else "params: 0 (no scale)",
                f"other ops: {4 if self.scale is not None else 3} per element (square-add 2, divide 1"
                f"{', scale 1' if self.scale is not None else ''}) = {n(self.other_ops(ins, out))}"]

    def torch_module(self, ins):
        from ..pytorch.ops import L2Norm as M
        return M(ins[0][0], len(ins[0]) - 1, self.scale, self.eps)

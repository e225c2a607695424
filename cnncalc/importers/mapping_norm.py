"""Mappers of the normalisations: BatchNormalization, InstanceNormalization, GroupNormalization, LayerNormalization
(over a sample, the last axis, or the channels: LayerNormChannels), LRN, L2Norm and a learned per-channel Scale;
and the patterns that find them spread over several ops (GroupNorm as Reshape–InstanceNorm–Reshape–Mul–Add,
ConvNeXt's LayerNorm2d as Transpose–LayerNorm–Transpose, x·(learned C×1×1))."""
from __future__ import annotations

import math

from .mapping_common import Context
from .ops import ModelError, Op


def batchnorm(op, ctx):
    layer = {"type": "batchnorm"}
    eps = float(op.attrs.get("epsilon", 1e-5))
    if not math.isclose(eps, 1e-5, rel_tol=1e-3):
        layer["eps"] = float(f"{eps:.6g}")
    if op.attrs.get("frozen"):
        layer["frozen"] = True     # γ, β and the statistics all buffers (torchvision's FrozenBatchNorm2d)
    elif op.inputs[1] not in ctx.consts or ctx.consts[op.inputs[1]].role != "param":
        layer["affine"] = False
    return [layer]


def l2norm(op, ctx):
    scale = op.attrs.get("scale")
    layer = {"type": "l2norm"} | ({} if scale is None else {"scale": float(scale)})
    eps = float(op.attrs.get("epsilon", 1e-12))
    return [layer | ({} if math.isclose(eps, 1e-12) else {"eps": eps})]


def lrn(op, ctx):
    return [{"type": "lrn", "size": int(op.attrs["size"]), "alpha": float(f"{op.attrs.get('alpha', 1e-4):.6g}"),
             "beta": float(f"{op.attrs.get('beta', 0.75):.6g}"), "k": float(f"{op.attrs.get('bias', 1.0):.6g}")}]


def instancenorm(op, ctx):
    layer = {"type": "instancenorm"}
    if op.inputs[1] in ctx.consts and ctx.consts[op.inputs[1]].role == "param":
        layer["affine"] = True
    return [layer]


def layernorm(op, ctx):
    """LayerNormalization over every axis but the batch → layernorm over: all (a vector: over its N), over the
    last axis of a map (PyTorch's LayerNorm(C) after a permute to H×W×C) → layernorm over: last;
    LayerNormChannels (channels moved last, normalised, moved back: ConvNeXt's LayerNorm2d) → layernorm."""
    shape = ctx.shapes[op.inputs[0]]
    layer = {"type": "layernorm"}
    if op.kind == "LayerNormalization":
        axis = int(op.attrs.get("axis", -1)) % len(shape)
        if axis not in (1, len(shape) - 1):
            raise ModelError(f"{op.name}: LayerNormalization from axis {axis} of {len(shape)}: only over a whole "
                             "sample, over the channels or over the last axis at each position has a layer kind")
        if len(shape) > 2:
            layer["over"] = "all" if axis == 1 else "last"
    return [eps_and_affine(layer, op, ctx)]


def scale(op, ctx):
    return [{"type": "scale"}]


def groupnorm(op, ctx):
    layer = {"type": "groupnorm", "groups": int(op.attrs["num_groups"])}
    return [eps_and_affine(layer, op, ctx)]


def eps_and_affine(layer: dict, op: Op, ctx: Context) -> dict:
    """A layernorm's or groupnorm's last fields: eps where it is not 1e-5, `affine: false` where the op holds no
    learned scale (its second input no parameter)."""
    eps = float(op.attrs.get("epsilon", 1e-5))
    if not math.isclose(eps, 1e-5, rel_tol=1e-3):
        layer["eps"] = float(f"{eps:.6g}")
    if len(op.inputs) < 2 or op.inputs[1] not in ctx.consts or ctx.consts[op.inputs[1]].role != "param":
        layer["affine"] = False
    return layer


# -- patterns: GroupNorm, LayerNorm2d and per-channel scales as their exporters write them -------------

def per_channel(op: Op, ctx: Context):
    """(x, weight) when a Mul multiplies a map by a learned per-channel parameter (C×1×1: layer scale)."""
    for x, w in (op.inputs, op.inputs[::-1]):
        c = ctx.consts.get(w)
        if c is not None and c.role == "param" and x in ctx.shapes and len(ctx.shapes[x]) > 2:
            dims = [d for d in c.shape]
            while dims and dims[0] == 1 and len(dims) >= len(ctx.shapes[x]):
                dims = dims[1:]
            if dims and dims[0] == ctx.shapes[x][1] and all(d == 1 for d in dims[1:]) \
                    and len(dims) == len(ctx.shapes[x]) - 1:
                return x, w
    return None


def channels_last(op: Op, ops, by_out, used, ctx: Context, outputs: set[str]):
    """(index of the Transpose before, index of the one after) when a LayerNormalization over the last axis
    sits between moving the channels last and moving them back (ConvNeXt's LayerNorm2d)."""
    j = by_out.get(op.inputs[0])
    users = used.get(op.outputs[0], [])
    if j is None or len(users) != 1 or op.outputs[0] in outputs:
        return None
    before, after = ops[j], ops[users[0]]
    if before is None or after is None or before.kind != "Transpose" or after.kind != "Transpose":
        return None
    rank = len(ctx.shapes.get(before.inputs[0], ()))
    last = [0] + list(range(2, rank)) + [1]
    back = [0, rank - 1] + list(range(1, rank - 1))
    perms = [[int(p) % max(rank, 1) for p in t.attrs.get("perm", [])] for t in (before, after)]
    if rank < 3 or perms != [last, back]:
        return None
    if int(op.attrs.get("axis", -1)) % rank != rank - 1 or len(used.get(before.outputs[0], [])) != 1:
        return None
    return j, users[0]


def only_user(v: str, ops, used, outputs: set[str]):
    """(index, op) of the one op that reads v, where v is no output of the model; else (None, None)."""
    users = used.get(v, [])
    if len(users) != 1 or v in outputs or ops[users[0]] is None:
        return None, None
    return users[0], ops[users[0]]


def group_norm(op: Op, ops, by_out, used, ctx: Context, outputs: set[str]):
    """(x, attributes, [weight, bias] or [], indices of the ops it replaces) when `op` is the
    InstanceNormalization of PyTorch's GroupNorm as its TorchScript exporter writes it: x reshaped to
    N×G×rest, normalised with constant unit scales, reshaped back, then (affine) × weight + bias, C×1×1 each."""
    j = by_out.get(op.inputs[0])
    before = ops[j] if j is not None else None
    if before is None or before.kind != "Reshape" or len(used.get(before.outputs[0], [])) != 1:
        return None
    x = before.inputs[0]
    src, mid = ctx.shapes.get(x), ctx.shapes.get(before.outputs[0])
    unit = [ctx.floats(v) if v else None for v in op.inputs[1:3]]
    if not src or not mid or len(src) < 3 or len(mid) != 3 or src[1] % mid[1] or len(unit) != 2 \
            or None in unit or set(unit[0]) != {1.0} or set(unit[1]) != {0.0}:
        return None   # an instance norm of its own (learned scales per group) is not a group norm
    k, after = only_user(op.outputs[0], ops, used, outputs)
    if after is None or after.kind != "Reshape" or tuple(ctx.shapes.get(after.outputs[0], ())) != tuple(src):
        return None
    attrs = {"num_groups": int(mid[1]), "epsilon": float(op.attrs.get("epsilon", 1e-5))}
    drop, affine = [j, k], []
    m, mul = only_user(after.outputs[0], ops, used, outputs)
    a, add = only_user(mul.outputs[0], ops, used, outputs) if mul is not None and mul.kind == "Mul" else (None, None)
    if add is not None and add.kind == "Add":
        w = per_channel(mul, ctx)
        b = per_channel(add, ctx)
        if w is not None and b is not None and w[0] == after.outputs[0] and b[0] == mul.outputs[0]:
            drop, affine = [j, k, m, a], [w[1], b[1]]
    return x, attrs, affine, drop

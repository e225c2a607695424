"""Mappers of the windowed and dense layers: Conv, ConvTranspose, the poolings (MaxPool, AveragePool, global and
adaptive ones, a ReduceMean/Max over every spatial axis), Gemm (linear) and the LeNet-5 paper's own layers;
with auto_pad resolved and unequal sides written as a `pad` layer first."""
from __future__ import annotations

import math

from .mapping_common import Context, pad_layer, simple, split_pads
from .ops import ModelError, Op


def same_pads(sizes, kernel, strides, dilations, lower: bool) -> tuple[list[int], list[int]]:
    """auto_pad SAME_UPPER/SAME_LOWER: per axis the total padding that gives ⌈n/s⌉ outputs, the odd
    one after (UPPER) or before (LOWER)."""
    before, after = [], []
    for n, k, s, d in zip(sizes, kernel, strides, dilations):
        total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        small, big = total // 2, total - total // 2
        before.append(big if lower else small)
        after.append(small if lower else big)
    return before, after


def windows(op: Op, ctx: Context, kernel: list[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """(strides, dilations, pads before, pads after) of a Conv/Pool, auto_pad resolved."""
    rank = len(kernel)
    strides = list(op.attrs.get("strides") or [1] * rank)
    dilations = list(op.attrs.get("dilations") or [1] * rank)
    auto = op.attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        before, after = same_pads(ctx.shape(op.inputs[0])[1:], kernel, strides, dilations, auto == "SAME_LOWER")
    elif auto == "VALID":
        before, after = [0] * rank, [0] * rank
    else:
        before, after = split_pads(op.attrs.get("pads"), rank)
    return strides, dilations, before, after


def with_padding(layer: dict, before: list[int], after: list[int]) -> list[dict]:
    """The layer with its padding, preceded by a `pad` layer where the sides differ (cnncalc's conv and
    pooling pad both sides alike)."""
    if before == after:
        if any(before):
            layer["padding"] = simple(before)
        return [layer]
    return [pad_layer(before, after), layer]


def conv(op, ctx):
    w = ctx.consts[op.inputs[1]].shape
    kernel = list(op.attrs.get("kernel_shape") or w[2:])
    strides, dilations, before, after = windows(op, ctx, kernel)
    groups = int(op.attrs.get("group", 1))
    layer = {"type": "conv", "filters": int(w[0]), "kernel": simple(kernel)}
    if set(strides) != {1}:
        layer["stride"] = simple(strides)
    layers = with_padding(layer, before, after)
    dilation_groups_bias(layer, dilations, groups, op, ctx)
    return layers


def conv_transpose(op, ctx):
    w = ctx.consts[op.inputs[1]].shape
    kernel = list(op.attrs.get("kernel_shape") or w[2:])
    rank = len(kernel)
    if op.attrs.get("output_shape") or op.attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise ModelError(f"{op.name}: ConvTranspose with output_shape or auto_pad SAME: write its pads instead")
    groups = int(op.attrs.get("group", 1))
    strides = list(op.attrs.get("strides") or [1] * rank)
    dilations = list(op.attrs.get("dilations") or [1] * rank)
    before, after = split_pads(op.attrs.get("pads"), rank)
    extra = list(op.attrs.get("output_padding") or [0] * rank)
    if before != after:   # torch pads both sides alike; more after is output_padding
        extra = [e + a - b for e, b, a in zip(extra, before, after)]
        if min(extra) < 0:
            raise ModelError(f"{op.name}: ConvTranspose pads more before than after: no PyTorch equivalent")
    layer = {"type": "conv_transpose", "filters": int(w[1]) * groups, "kernel": simple(kernel)}
    if set(strides) != {1}:
        layer["stride"] = simple(strides)
    if any(before):
        layer["padding"] = simple(before)
    if any(extra):
        layer["output_padding"] = simple(extra)
    dilation_groups_bias(layer, dilations, groups, op, ctx)
    return [layer]


def dilation_groups_bias(layer: dict, dilations: list, groups: int, op: Op, ctx: Context) -> None:
    """A conv's (or transposed conv's) fields after its padding, written only where they differ from the default."""
    if set(dilations) != {1}:
        layer["dilation"] = simple(dilations)
    if groups != 1:
        layer["groups"] = groups
    if not has_bias(op, ctx):
        layer["bias"] = False


def has_bias(op: Op, ctx: Context) -> bool:
    """Whether a Conv/ConvTranspose holds a bias: a third input that is a parameter (torch's dynamo exporter
    writes a conv without one as a bias of zeros computed in the graph)."""
    b = op.inputs[2] if len(op.inputs) > 2 else ""
    return b != "" and (b not in ctx.consts or ctx.consts[b].role != "const")


def pool(kind: str):
    def mapper(op, ctx):
        kernel = list(op.attrs["kernel_shape"])
        strides, dilations, before, after = windows(op, ctx, kernel)
        layer = {"type": kind, "kernel": simple(kernel)}
        if strides != kernel:
            layer["stride"] = simple(strides)
        if before != after:
            raise ModelError(f"{op.name}: {op.kind} pads its sides unequally ({before} before, {after} after): "
                             "PyTorch's pooling pads both sides alike")
        if any(before):
            layer["padding"] = simple(before)
        if op.attrs.get("ceil_mode"):
            layer["ceil_mode"] = True
        if kind == "maxpool" and set(dilations) != {1}:
            layer["dilation"] = simple(dilations)
        if kind == "avgpool" and any(before):
            layer["count_include_pad"] = bool(op.attrs.get("count_include_pad", 0))
        return [layer]
    return mapper


def adaptive(kind: str):
    def mapper(op, ctx):
        out = op.attrs.get("output")
        if out is None or set(out) == {1}:
            return [{"type": "global_avgpool"}] if kind == "adaptive_avgpool" else [{"type": kind, "output": 1}]
        return [{"type": kind, "output": simple(out)}]
    return mapper


def reduce(kind: str):
    """ReduceMean / ReduceMax over every spatial axis → global average / max pooling (and a flatten when it
    drops those axes)."""
    def mapper(op, ctx):
        rank = len(ctx.shape(op.inputs[0]))
        axes = op.attrs.get("axes")
        if axes is None and len(op.inputs) > 1:
            axes = ctx.ints(op.inputs[1])
        axes = sorted(a % (rank + 1) for a in (axes or []))
        if axes != list(range(2, rank + 1)):
            raise ModelError(f"{op.name}: {op.kind} over axes {axes}: only one over every spatial axis "
                             "(global pooling) has a layer kind")
        layer = {"type": "global_avgpool"} if kind == "avg" else {"type": "adaptive_maxpool", "output": 1}
        return [layer] if op.attrs.get("keepdims", 1) else [layer, {"type": "flatten"}]
    return mapper


def gemm(op, ctx):
    if op.attrs.get("transA", 0) or float(op.attrs.get("alpha", 1.0)) != 1.0 or float(op.attrs.get("beta", 1.0)) != 1.0:
        raise ModelError(f"{op.name}: Gemm with transA, alpha or beta: not a linear layer")
    w = ctx.consts[op.inputs[1]].shape
    out = w[0] if op.attrs.get("transB", 0) else w[1]
    layer = {"type": "linear", "out": int(out)}
    if len(ctx.shape(op.inputs[0])) > 1:
        layer["over"] = "last"   # PyTorch's Linear on a map acts on its last axis (a Gemm's input is a matrix)
    if len(op.inputs) < 3 or op.inputs[2] == "":
        layer["bias"] = False
    return [layer]


def lenet_paper(kind: str, fields: tuple[str, ...]):
    """The LeNet-5 paper's own layers (sparse_conv, subsample, rbf), from their modules' arguments."""
    def mapper(op, ctx):
        layer = {"type": kind}
        for f in fields:
            v = op.attrs[f]
            layer[f] = [list(r) for r in v] if f == "table" else simple(v) if isinstance(v, (list, tuple)) else v
        return [layer]
    return mapper

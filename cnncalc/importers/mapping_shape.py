"""Mappers of the ops that move, cut or join values: Concat, Flatten/Reshape, Resize, Pad, Slice (slice or crop),
Split, Transpose, depth ↔ space and channel shuffle; constant folding (shape arithmetic on constants, and weights
rearranged for their op); and the shape patterns (chains of reshapes, a mean of a mean, split_with_sizes as a
SplitToSequence, center-cropped Concat inputs, Reshape–Transpose–Reshape as a shuffle)."""
from __future__ import annotations

import math

import numpy as np

from ..layers import REGISTRY
from .mapping_common import ALIASES, Context, Mapped, Unmapped, pad_layer, readers, simple
from .ops import SMALL, Captured, Const, ModelError, Op


def concat(op, ctx):
    axis = int(op.attrs.get("axis", 1)) % (len(ctx.shape(op.inputs[0])) + 1)
    if axis != 1:
        raise ModelError(f"{op.name}: Concat on axis {axis}: the concat kind joins channels (axis 1)")
    return [{"type": "concat"} | ({"crop": "center"} if op.attrs.get("crop") else {})]


def flatten(op, ctx):
    if int(op.attrs.get("axis", 1)) != 1:
        raise ModelError(f"{op.name}: Flatten from axis {op.attrs['axis']}: the flatten kind keeps the batch only")
    return [{"type": "flatten"}]


def reshape(op, ctx):
    out = ctx.shapes.get(op.outputs[0])
    if out is not None and len(out) == 2:
        return [{"type": "flatten"}]
    raise ModelError(f"{op.name}: Reshape to {list(out) if out else '?'}: only a reshape to a vector (flatten) "
                     "has a layer kind")


MODES = {("nearest", 1): "nearest", ("nearest", 2): "nearest", ("nearest", 3): "nearest",
         ("linear", 1): "linear", ("linear", 2): "bilinear", ("linear", 3): "trilinear", ("cubic", 2): "bicubic"}


def resize(op, ctx):
    rank = len(ctx.shape(op.inputs[0])) - 1
    mode = op.attrs.get("mode", "nearest")
    if (mode, rank) not in MODES:
        raise ModelError(f"{op.name}: Resize mode {mode} on a {rank}-D map has no layer kind")
    layer = {"type": "upsample"}
    scales = ctx.floats(op.inputs[2]) if len(op.inputs) > 2 and op.inputs[2] else op.attrs.get("scales")
    sizes = ctx.ints(op.inputs[3]) if len(op.inputs) > 3 and op.inputs[3] else None
    if op.kind == "Upsample" and len(op.inputs) > 1:
        scales = ctx.floats(op.inputs[1])
    if scales:
        spatial = [float(s) for s in scales[2:]]
        layer["scale"] = int(spatial[0]) if len(set(spatial)) == 1 and spatial[0].is_integer() else spatial
    elif sizes:
        layer["size"] = simple(sizes[2:])
    else:
        layer["size"] = simple(ctx.shapes[op.outputs[0]][2:])
    layer["mode"] = MODES[(mode, rank)]
    if op.attrs.get("coordinate_transformation_mode") == "align_corners":
        layer["align_corners"] = True
    elif layer["mode"] != "nearest" and op.attrs.get("coordinate_transformation_mode") in (
            "half_pixel", "pytorch_half_pixel"):
        layer["align_corners"] = False
    return [layer]


PAD_MODES = {"constant": "zeros", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def pad(op, ctx):
    pads = op.attrs.get("pads") or (ctx.ints(op.inputs[1]) if len(op.inputs) > 1 else None)
    rank = len(ctx.shape(op.inputs[0])) + 1
    if pads is None or len(pads) != 2 * rank or any(pads[i] or pads[rank + i] for i in (0, 1)) or min(pads) < 0:
        raise ModelError(f"{op.name}: Pad {pads}: only padding of the spatial axes (≥ 0) has a layer kind")
    value = op.attrs.get("value", 0.0)
    if len(op.inputs) > 2 and op.inputs[2]:
        value = (ctx.floats(op.inputs[2]) or [0.0])[0]
    mode = op.attrs.get("mode", "constant")
    return [pad_layer(pads[2:rank], pads[rank + 2:], PAD_MODES[mode], value if mode == "constant" else 0.0)]


def slice_(op, ctx):
    """A range of channels → slice; a range of spatial axes → crop (what is cut on each side)."""
    shape = ctx.shapes[op.inputs[0]]
    ranges = slice_ranges(op, ctx)
    if ranges is None or 0 in ranges:
        raise ModelError(f"{op.name}: Slice with a step, unreadable bounds, or of the batch: no layer kind")
    if list(ranges) == [1]:
        start, end = ranges[1]
        return [{"type": "slice", "start": start} | ({} if end == shape[1] else {"end": end})]
    if 1 in ranges:
        raise ModelError(f"{op.name}: Slice of the channels and a spatial axis at once: no layer kind")
    rank = len(shape) - 2
    before = [ranges.get(2 + i, (0, 0))[0] for i in range(rank)]
    after = [shape[2 + i] - ranges[2 + i][1] if 2 + i in ranges else 0 for i in range(rank)]
    return [{"type": "crop", "cropping": pad_layer(before, after)["padding"]}]


def depth_space(kind: str):
    def mapper(op, ctx):
        if kind not in REGISTRY:
            raise Unmapped([(op.kind, op.name)])
        if op.kind == "DepthToSpace" and op.attrs.get("mode", "DCR") != "CRD":
            raise ModelError(f"{op.name}: DepthToSpace mode DCR: PyTorch's pixel_shuffle is mode CRD")
        return [{"type": kind, "upscale" if kind == "pixel_shuffle" else "downscale": int(op.attrs["blocksize"])}]
    return mapper


def split(op: Op, ctx: Context, name: str) -> list[Mapped]:
    """Split on the channels: one `slice` layer per part."""
    shape = ctx.shapes[op.inputs[0]]
    axis = int(op.attrs.get("axis", 0)) % len(shape)
    sizes = op.attrs.get("split") or (ctx.ints(op.inputs[1]) if len(op.inputs) > 1 and op.inputs[1] else None)
    if sizes is None:
        sizes = [shape[axis] // len(op.outputs)] * len(op.outputs)
    if axis != 1 or sum(sizes) != shape[1] or len(sizes) != len(op.outputs):
        raise ModelError(f"{op.name}: Split on axis {axis}: only a split of the channels has a layer kind")
    out, start = [], 0
    for k, (size, value) in enumerate(zip(sizes, op.outputs)):
        layer = {"type": "slice", "start": start} | ({} if start + size == shape[1] else {"end": start + size})
        out.append(Mapped(f"{name}.{k}", layer, [op.inputs[0]], value, 0, op.module))
        start += size
    return out


def permute(op, ctx):
    perm = [int(p) for p in op.attrs.get("perm") or reversed(range(len(ctx.shapes[op.inputs[0]])))]
    if perm[0] != 0:
        raise ModelError(f"{op.name}: Transpose {perm} moves the batch axis: no layer kind")
    return [{"type": "permute", "dims": perm}]


def channel_shuffle(op, ctx):
    return [{"type": "channel_shuffle", "groups": int(op.attrs["groups"])}]


# -- constant folding ----------------------------------------------------------------------------------

def _fold_one(op: Op, ins: list, ctx: Context):
    """The value of an op on constant inputs (numpy), or None if it is not one of the few folded."""
    k, a = op.kind, op.attrs
    if k == "Constant":   # a tensor, or since opset 12 a plain value_int(s) / value_float(s)
        for key, dtype in (("value", None), ("value_ints", np.int64), ("value_int", np.int64),
                           ("value_floats", np.float32), ("value_float", np.float32)):
            if a.get(key) is not None:
                return np.asarray(a[key], dtype=dtype)
        return None
    if k in ("Identity", "Cast"):
        return ins[0]
    if k == "Shape":
        v = op.inputs[0]
        shape = ctx.consts[v].shape if v in ctx.consts else ctx.shapes.get(v)   # a weight's too, read or not
        return None if shape is None else np.array(shape, dtype=np.int64)[a.get("start", 0):a.get("end")]
    if k == "CastLike":
        return ins[0] if ins[1] is None else ins[0].astype(ins[1].dtype)   # like an activation: its value as is
    if k == "Expand":   # bidirectional broadcasting
        shape = [int(x) for x in ins[1].reshape(-1)]
        return np.broadcast_to(ins[0], np.broadcast_shapes(ins[0].shape, tuple(shape))).copy()
    if k == "Gather":
        return np.take(ins[0], ins[1].astype(np.int64), axis=int(a.get("axis", 0)))
    if k == "Unsqueeze":
        axes = a.get("axes") if "axes" in a else [int(x) for x in ins[1].reshape(-1)]
        out = ins[0]
        for ax in sorted(int(x) % (out.ndim + len(axes)) for x in axes):
            out = np.expand_dims(out, ax)
        return out
    if k == "Squeeze":
        return np.squeeze(ins[0]) if len(ins) < 2 and "axes" not in a else np.squeeze(
            ins[0], axis=tuple(a.get("axes") or [int(x) for x in ins[1].reshape(-1)]))
    if k == "Concat":
        return np.concatenate(ins, axis=int(a.get("axis", 0)))
    if k in ("Add", "Sub", "Mul", "Div"):
        fn = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
              "Div": np.floor_divide if ins[0].dtype.kind in "iu" else np.divide}[k]
        return fn(ins[0], ins[1])
    if k == "Reshape":
        return ins[0].reshape([int(x) for x in ins[1].reshape(-1)])
    if k == "Transpose":
        return np.transpose(ins[0], a.get("perm"))
    if k == "Slice":
        starts, ends = ins[1].reshape(-1), ins[2].reshape(-1)
        axes = ins[3].reshape(-1) if len(ins) > 3 and ins[3] is not None else range(len(starts))
        steps = ins[4].reshape(-1) if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
        index = [slice(None)] * ins[0].ndim
        for st, en, ax, sp in zip(starts, ends, axes, steps):
            index[int(ax)] = slice(int(st), int(en), int(sp))
        return ins[0][tuple(index)]
    if k == "ConstantOfShape":
        shape = [int(x) for x in ins[0].reshape(-1)]
        if math.prod(shape) > SMALL:
            return None
        fill = a.get("value")
        return np.full(shape, fill.reshape(-1)[0] if fill is not None else 0.0)
    return None


FOLDABLE = {"Constant", "Identity", "Cast", "CastLike", "Expand", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Add", "Sub", "Mul",
            "Div", "Reshape", "ConstantOfShape", "Transpose", "Slice"}


def fold_constants(cap: Captured, ctx: Context) -> list[Op]:
    """Ops whose every input is a readable constant (shape arithmetic) become constants; `Shape` of an
    activation reads its known shape; a weight rearranged (a Linear's weight transposed for a MatMul, a
    PReLU's or GroupNorm's unsqueezed) stays that weight, whatever its size. Returns the ops left."""
    left = []
    for op in cap.ops:
        if op.kind in ALIASES and op.inputs and op.inputs[0] in cap.consts and len(op.outputs) == 1:
            cap.consts[op.outputs[0]] = cap.consts[op.inputs[0]]   # a copy of a weight is that weight
            continue
        consts = all(v == "" or (v in cap.consts and cap.consts[v].value is not None) for v in op.inputs)
        like = op.kind == "CastLike" and op.inputs[0] in cap.consts and cap.consts[op.inputs[0]].value is not None
        if op.kind in FOLDABLE and (consts or like or op.kind == "Shape") and len(op.outputs) == 1:
            try:
                ins = [cap.consts[v].value if v in cap.consts else None for v in op.inputs]
                value = _fold_one(op, ins, ctx)
            except (ValueError, TypeError, IndexError, KeyError, ArithmeticError):
                value = None
            if value is not None and np.size(value) <= SMALL:
                value = np.asarray(value)
                role = cap.consts[op.inputs[0]].role if op.kind in REARRANGING else "const"
                cap.consts[op.outputs[0]] = Const(tuple(value.shape), value, role)
                continue
        weight = rearranged_weight(op, cap, ctx)
        if weight is not None:
            cap.consts[op.outputs[0]] = weight
            continue
        left.append(op)
    return left


REARRANGING = {"Unsqueeze", "Squeeze", "Reshape", "Transpose"}


def rearranged_weight(op: Op, cap: Captured, ctx: Context) -> Const | None:
    """A parameter or buffer too large to read, rearranged by op (its other inputs readable): its new shape,
    found on a zero-stride stand-in (no memory), its role kept; else None."""
    first = cap.consts.get(op.inputs[0]) if op.inputs else None
    if op.kind not in REARRANGING or first is None or first.role == "const" or len(op.outputs) != 1 \
            or any(v and (v not in cap.consts or cap.consts[v].value is None) for v in op.inputs[1:]):
        return None
    stand_in = np.broadcast_to(np.zeros((), np.int8), first.shape)
    try:
        shape = np.shape(_fold_one(op, [stand_in] + [cap.consts[v].value if v else None for v in op.inputs[1:]],
                                   ctx))
    except (ValueError, TypeError, IndexError, KeyError, ArithmeticError):
        return None
    return Const(tuple(int(d) for d in shape), None, first.role)


# -- patterns: several shape ops that are one (or none) ------------------------------------------------

def sequence_split(op: Op, ctx: Context) -> Op:
    """SplitToSequence with readable sizes (the dynamo exporter's split_with_sizes, its parts read by SequenceAt)
    as a Split whose outputs are the sequence's items `seq#k`; else the op as it is."""
    shape = ctx.shapes.get(op.inputs[0])
    sizes = ctx.ints(op.inputs[1]) if len(op.inputs) > 1 and op.inputs[1] else None
    if shape is None or not sizes or not op.attrs.get("keepdims", 1):
        return op
    axis = int(op.attrs.get("axis", 0)) % len(shape)
    if len(sizes) == 1 and ctx.value(op.inputs[1]).ndim == 0:   # one size: equal parts, the last smaller
        sizes = [min(sizes[0], shape[axis] - s) for s in range(0, shape[axis], sizes[0])]
    parts = [f"{op.outputs[0]}#{k}" for k in range(len(sizes))]
    for part, size in zip(parts, sizes):
        ctx.shapes[part] = shape[:axis] + (size,) + shape[axis + 1:]
    return Op("Split", op.name, [op.inputs[0]], parts, {"split": sizes, "axis": axis}, module=op.module)


def whole_gather(op: Op, ctx: Context) -> bool:
    """A Gather of every element of a flat activation in order, into some shape: a reshape (the dynamo exporter's
    nn.Flatten, as_strided written Reshape to one axis–Gather–Reshape)."""
    if op.kind != "Gather" or len(op.inputs) != 2 or ctx.is_const(op.inputs[0]) or op.inputs[0] not in ctx.shapes:
        return False
    shape = ctx.shapes[op.inputs[0]]
    return len(shape) == 1 and ctx.ints(op.inputs[1]) == list(range(shape[0]))


RESHAPES = {"Reshape", "Squeeze", "Unsqueeze", "Flatten"}


def collapse_reshapes(ops: list[Op | None], outputs: set[str]) -> list[Op | None]:
    """A chain of reshapes is one reshape to its last shape (x.squeeze(-1).squeeze(-1) is a flatten)."""
    out = list(ops)
    by_out = {o: i for i, op in enumerate(out) for o in op.outputs}
    used = readers(out)
    for i, op in enumerate(out):
        j = by_out.get(op.inputs[0]) if op.kind in RESHAPES and op.inputs else None
        first = out[j] if j is not None else None
        if first is not None and first.kind in RESHAPES and used.get(first.outputs[0]) == [i] \
                and first.outputs[0] not in outputs:
            out[j] = None
            out[i] = Op("Reshape", op.name, [first.inputs[0]], op.outputs, module=op.module)
    return [op for op in out if op is not None]


def reduced_axes(op: Op, ctx: Context) -> list[int] | None:
    """The axes a ReduceMean averages (≥ 0, batch included), None when unreadable."""
    axes = op.attrs.get("axes")
    if axes is None and len(op.inputs) > 1 and op.inputs[1]:
        axes = ctx.ints(op.inputs[1])
    rank = len(ctx.shapes.get(op.inputs[0], ()))
    return None if not axes or not rank else sorted({int(a) % rank for a in axes})


def collapse_means(ops: list[Op], ctx: Context, outputs: set[str]) -> list[Op]:
    """A mean of a mean is one mean over both's axes (x.mean(-1).mean(-1) is a global average pool)."""
    out: list[Op | None] = list(ops)
    by_out = {o: i for i, op in enumerate(out) for o in op.outputs}
    used = readers(out)
    for i, op in enumerate(out):
        j = by_out.get(op.inputs[0]) if op.kind == "ReduceMean" else None
        first = out[j] if j is not None else None
        if first is None or first.kind != "ReduceMean" or used.get(first.outputs[0]) != [i] \
                or first.outputs[0] in outputs:
            continue
        a, b, keep = reduced_axes(first, ctx), reduced_axes(op, ctx), int(first.attrs.get("keepdims", 1))
        if a is None or b is None or keep != int(op.attrs.get("keepdims", 1)):
            continue
        left = list(range(len(ctx.shapes[first.inputs[0]]))) if keep else \
            [d for d in range(len(ctx.shapes[first.inputs[0]])) if d not in a]
        out[j] = None
        out[i] = Op("ReduceMean", op.name, [first.inputs[0]], op.outputs,
                    {"axes": sorted(set(a) | {left[d] for d in b}), "keepdims": keep}, module=op.module)
        by_out[op.outputs[0]] = i
    return [op for op in out if op is not None]


def slice_ranges(op: Op, ctx: Context) -> dict[int, tuple[int, int]] | None:
    """{axis: (start, end)} of a Slice with step 1 and readable bounds (axes ≥ 0, ends clamped), else None."""
    starts, ends = ctx.ints(op.inputs[1]), ctx.ints(op.inputs[2])
    axes = ctx.ints(op.inputs[3]) if len(op.inputs) > 3 and op.inputs[3] else list(range(len(starts or [])))
    steps = ctx.ints(op.inputs[4]) if len(op.inputs) > 4 and op.inputs[4] else [1] * len(axes or [])
    shape = ctx.shapes.get(op.inputs[0])
    if starts is None or ends is None or axes is None or shape is None or set(steps) != {1}:
        return None
    out = {}
    for a, st, en in zip(axes, starts, ends):
        n = shape[a % len(shape)]
        out[a % len(shape)] = tuple(max(0, min(n, x + n if x < 0 else x)) for x in (st, en))
    return out


def center_crops(op: Op, ops, by_out, used, ctx: Context, outputs: set[str]):
    """(the uncropped inputs, the Slice ops to drop) when a Concat reads maps center-cropped by spatial
    Slices to its own size (U-Net's copy and crop: `concat crop: center`)."""
    out = ctx.shapes.get(op.outputs[0])
    if out is None or len(out) < 3:
        return None
    sources, slices = [], []
    for v in op.inputs:
        keep: dict[int, tuple[int, int]] = {}
        j = by_out.get(v)
        while j is not None and ops[j] is not None and ops[j].kind == "Slice" and len(used.get(v, [])) == 1 \
                and v not in outputs:
            ranges = slice_ranges(ops[j], ctx)
            if ranges is None or any(a < 2 for a in ranges) or set(ranges) & set(keep):
                return None
            keep.update(ranges)
            slices.append(j)
            v = ops[j].inputs[0]
            j = by_out.get(v)
        shape = ctx.shapes.get(v)
        if shape is None:
            return None
        for a in range(2, len(out)):
            n, k = shape[a], out[a]
            if keep.get(a, (0, n)) != ((n - k) // 2, (n - k) // 2 + k):
                return None
        sources.append(v)
    return (sources, slices) if slices else None


def rearrangement(op: Op, ops, by_out, used, ctx: Context, outputs: set[str]):
    """(op kind, attributes, index of the first Reshape, index of the last) when `op` is the Transpose of
    Reshape–Transpose–Reshape that is a channel shuffle (N×g×C/g×H×W, axes 1 and 2 swapped), a pixel
    unshuffle (N×C×H/r×r×W/r×r → N×C·r²×H/r×W/r) or a pixel shuffle (N×C×r×r×H×W → N×C×rH×rW)."""
    j = by_out.get(op.inputs[0])
    before = ops[j] if j is not None else None
    users = used.get(op.outputs[0], [])
    after = ops[users[0]] if len(users) == 1 else None
    if before is None or after is None or before.kind != "Reshape" or after.kind != "Reshape":
        return None
    if len(used.get(before.outputs[0], [])) != 1 or before.outputs[0] in outputs or op.outputs[0] in outputs:
        return None
    src, mid, dst = (ctx.shapes.get(v) for v in (before.inputs[0], before.outputs[0], after.outputs[0]))
    if not src or not mid or not dst:
        return None
    perm = list(op.attrs.get("perm", []))
    if perm == [0, 2, 1, 3, 4] and len(mid) == 5 and tuple(src) == tuple(dst) and mid[1] * mid[2] == src[1]:
        return "ChannelShuffle", {"groups": mid[1]}, j, users[0]
    if len(mid) == 6 and len(dst) == 4:
        n, c, h, w = src
        if perm == [0, 1, 3, 5, 2, 4] and mid[3] == mid[5] and tuple(dst) == (n, c * mid[3] ** 2, h // mid[3], w // mid[3]):
            return "SpaceToDepth", {"blocksize": mid[3]}, j, users[0]
        if perm == [0, 1, 4, 2, 5, 3] and mid[2] == mid[3] and tuple(dst) == (n, mid[1], h * mid[2], w * mid[2]):
            return "DepthToSpace", {"blocksize": mid[2], "mode": "CRD"}, j, users[0]
    return None

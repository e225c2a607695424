"""One mapping for both front-ends: captured ops (ONNX's vocabulary) → cnncalc layers.

`layers_of(captured)` returns one `Mapped` per layer, in execution order: the layer's fields as an
architecture file writes them, the values it reads, and what the model itself says about it (the
output shape, the parameters it holds) so that the importer can prove the layer against the model.
First a few passes rewrite what is one layer spread over several ops (x·sigmoid(x) → silu,
MatMul + Add → linear, Reshape–Transpose–Reshape → channel_shuffle) and fold what is arithmetic on
constants (shape computations); an op that maps to nothing is never skipped: `Unmapped` collects
every such op type with its count and first node names.

This module holds the dispatch table (`MAPPERS`), the activation and merge mappers, the fusing pass and the
walk over the model; the rest lives beside it: mapping_common (Mapped, Unmapped, Context, shared helpers),
mapping_conv (conv, pooling, linear), mapping_norm (normalisations and their patterns), mapping_shape
(reshapes, slices, padding, resizing, constant folding and the shape patterns).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Callable

from ..layers import REGISTRY
from .mapping_common import ALIASES, Context, Mapped, Unmapped, readers
from .mapping_conv import adaptive, conv, conv_transpose, gemm, lenet_paper, pool, reduce
from .mapping_norm import (batchnorm, channels_last, group_norm, groupnorm, instancenorm, l2norm, layernorm, lrn,
                           per_channel, scale)
from .mapping_shape import (center_crops, channel_shuffle, collapse_means, collapse_reshapes, concat, depth_space,
                            flatten, fold_constants, pad, permute, rearrangement, reshape, resize, sequence_split,
                            slice_, split, whole_gather)
from .ops import Captured, ModelError, Op


ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hardswish", "Gelu": "gelu",
               "Mish": "mish", "Silu": "silu", "Swish": "silu", "Relu6": "relu6"}


# -- mappers: activations, merges, dropout, prelu (conv, norm and shape ops: mapping_*.py) -------------

def activation(op, ctx):
    return [{"type": ACTIVATIONS[op.kind]}]


def leaky_relu(op, ctx):
    slope = float(op.attrs.get("alpha", 0.01))
    return [{"type": "leaky_relu"} | ({} if math.isclose(slope, 0.01) else {"slope": float(f"{slope:.6g}")})]


def elu(op, ctx):
    if not math.isclose(float(op.attrs.get("alpha", 1.0)), 1.0):
        raise ModelError(f"{op.name}: Elu with alpha {op.attrs['alpha']}: the elu kind has alpha 1")
    return [{"type": "elu"}]


def hard_sigmoid(op, ctx):
    if not (math.isclose(float(op.attrs.get("alpha", 0.2)), 1 / 6, rel_tol=1e-4)
            and math.isclose(float(op.attrs.get("beta", 0.5)), 0.5)):
        raise ModelError(f"{op.name}: HardSigmoid with alpha {op.attrs.get('alpha', 0.2)}: PyTorch's Hardsigmoid "
                         "has alpha 1/6")
    return [{"type": "hardsigmoid"}]


def clip(op, ctx):
    lo = op.attrs.get("min", ctx.floats(op.inputs[1])[0] if len(op.inputs) > 1 and op.inputs[1] else None)
    hi = op.attrs.get("max", ctx.floats(op.inputs[2])[0] if len(op.inputs) > 2 and op.inputs[2] else None)
    if lo == 0 and hi == 6:
        return [{"type": "relu6"}]
    if lo == 0 and hi is None:
        return [{"type": "relu"}]
    raise ModelError(f"{op.name}: Clip({lo}, {hi}): only Clip(0, 6) (relu6) and Clip(0) (relu) have a layer kind")


def max_(op, ctx):
    """Max(x, 0): the dynamo exporter's clamp(min=0) → relu."""
    consts = [ctx.floats(v) for v in op.inputs if ctx.is_const(v)]
    if len(op.inputs) == 2 and len(consts) == 1 and consts[0] is not None and set(consts[0]) == {0.0}:
        return [{"type": "relu"}]
    raise Unmapped([(op.kind, op.name)])


def softmax(op, ctx):
    rank = len(ctx.shape(op.inputs[0]))
    axis = int(op.attrs.get("axis", -1)) % (rank + 1)
    if axis != 1:
        raise ModelError(f"{op.name}: Softmax over axis {axis}: the softmax kind is over the channels (axis 1)")
    return [{"type": "softmax"}]


def merge(kind: str):
    def mapper(op, ctx):
        return [{"type": kind}]
    return mapper


def dropout(op, ctx):
    p = op.attrs.get("ratio")
    if p is None and len(op.inputs) > 1 and op.inputs[1]:
        p = (ctx.floats(op.inputs[1]) or [0.5])[0]
    p = 0.5 if p is None else float(p)
    return [{"type": "dropout"} | ({} if p == 0.5 else {"p": float(f"{p:.6g}")})]


def prelu(op, ctx):
    if "prelu" not in REGISTRY:
        raise Unmapped([(op.kind, op.name)])
    n = ctx.numel(op.inputs[1])
    return [{"type": "prelu"} | ({} if n == 1 else {"num_parameters": n})]


# -- the dispatch table --------------------------------------------------------------------------------

MAPPERS: dict[str, Callable] = {
    "Conv": conv, "ConvTranspose": conv_transpose,
    "MaxPool": pool("maxpool"), "AveragePool": pool("avgpool"),
    "GlobalAveragePool": adaptive("adaptive_avgpool"), "GlobalMaxPool": adaptive("adaptive_maxpool"),
    "AdaptiveAvgPool": adaptive("adaptive_avgpool"), "AdaptiveMaxPool": adaptive("adaptive_maxpool"),
    "ReduceMean": reduce("avg"), "ReduceMax": reduce("max"), "Gemm": gemm, "BatchNormalization": batchnorm,
    **{k: activation for k in ACTIVATIONS}, "LeakyRelu": leaky_relu, "Elu": elu, "HardSigmoid": hard_sigmoid,
    "Clip": clip, "Max": max_, "Softmax": softmax, "Add": merge("add"), "Sum": merge("add"), "Mul": merge("mul"),
    "Concat": concat, "Flatten": flatten, "Reshape": reshape, "Squeeze": reshape, "Unsqueeze": reshape, "Dropout": dropout, "LRN": lrn,
    "InstanceNormalization": instancenorm, "GroupNormalization": groupnorm, "Resize": resize, "Upsample": resize,
    "Pad": pad, "Slice": slice_, "DepthToSpace": depth_space("pixel_shuffle"),
    "SpaceToDepth": depth_space("pixel_unshuffle"), "ChannelShuffle": channel_shuffle, "PRelu": prelu,
    "Transpose": permute,
    "LayerNormalization": layernorm, "LayerNormChannels": layernorm, "Scale": scale, "L2Norm": l2norm,
    "SparseConv": lenet_paper("sparse_conv", ("table", "kernel", "stride", "padding", "bias")),
    "Subsample": lenet_paper("subsample", ("kernel", "stride", "bias")), "RBF": lenet_paper("rbf", ("out",)),
}


# which inputs of an op are its parameters (the rest of its constant inputs are buffers or plain constants)
PARAM_SLOTS = {"Conv": (1, 2), "ConvTranspose": (1, 2), "Gemm": (1, 2), "BatchNormalization": (1, 2),
               "InstanceNormalization": (1, 2), "GroupNormalization": (1, 2), "PRelu": (1,),
               "LayerNormalization": (1, 2), "LayerNormChannels": (1, 2), "Scale": (1,)}


# -- patterns: several ops that are one layer ----------------------------------------------------------

def renamed(op: Op, kind: str) -> str:
    """A rewritten op's name: its node's name with the new kind in place of the old (mul_1 → silu)."""
    head = op.name.rsplit("/", 1)[0] + "/" if "/" in op.name else ""
    return head + re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", kind).lower()


def fuse(ops: list[Op], ctx: Context, outputs: set[str]) -> list[Op]:
    """Rewrite silu (x·sigmoid(x)), hardswish (x·hardsigmoid(x)), x·(learned C×1×1) (scale), MatMul + bias Add
    (linear), LayerNormalization between moving the channels last and back (layernorm over the channels), a
    Concat of center-cropping Slices (concat crop: center) and
    Reshape–Transpose–Reshape (channel shuffle, pixel shuffle and unshuffle); drop aliases (Identity, Cast)."""
    rename: dict[str, str] = {}
    kept: list[Op | None] = []
    for op in ops:
        op.inputs = [rename.get(v, v) for v in op.inputs]
        one = op.kind in ALIASES or (op.kind in ("Concat", "Sum") and len(op.inputs) == 1)   # torch.cat([x]) is x
        if one and op.inputs and not ctx.is_const(op.inputs[0]) and op.outputs[0] not in outputs:
            rename[op.outputs[0]] = op.inputs[0]
            continue
        if whole_gather(op, ctx):
            op = Op("Reshape", op.name, op.inputs[:1], op.outputs, module=op.module)
        if op.kind == "SplitToSequence":
            op = sequence_split(op, ctx)
        elif op.kind == "SequenceAt" and len(op.inputs) == 2 and (ctx.ints(op.inputs[1]) or [None])[0] is not None:
            rename[op.outputs[0]] = f"{op.inputs[0]}#{ctx.ints(op.inputs[1])[0]}"   # an item of a split: that part
            continue
        kept.append(op)
    kept = collapse_means(collapse_reshapes(kept, outputs), ctx, outputs)
    by_out = {o: i for i, op in enumerate(kept) for o in op.outputs}
    used = readers(kept)
    for i, op in enumerate(kept):
        if op is None:
            continue
        if op.kind == "Mul" and len(op.inputs) == 2:
            for x, g in (op.inputs, op.inputs[::-1]):
                j = by_out.get(g)
                gate = kept[j] if j is not None else None
                soft = kept[by_out[gate.inputs[0]]] if gate is not None and gate.kind == "Tanh" \
                    and by_out.get(gate.inputs[0]) is not None else None
                if soft is not None and soft.kind == "Softplus" and soft.inputs[0] == x and used.get(g) == [i] \
                        and used.get(gate.inputs[0]) == [j] and g not in outputs and gate.inputs[0] not in outputs:
                    kept[j] = kept[by_out[gate.inputs[0]]] = None   # x·tanh(softplus(x)): TorchScript's Mish
                    kept[i] = Op("Mish", renamed(op, "Mish"), [x], op.outputs, module=op.module)
                    break
                if (gate is not None and gate.kind in ("Sigmoid", "HardSigmoid") and gate.inputs[0] == x
                        and used.get(g) == [i] and g not in outputs and
                        (gate.kind == "Sigmoid" or math.isclose(float(gate.attrs.get("alpha", 0.2)), 1 / 6, rel_tol=1e-4))):
                    kept[j] = None
                    kind = "Silu" if gate.kind == "Sigmoid" else "HardSwish"
                    kept[i] = Op(kind, renamed(op, kind), [x], op.outputs,
                                 module=op.module)
                    break
            else:
                found = per_channel(op, ctx)
                if found is not None:
                    kept[i] = Op("Scale", renamed(op, "scale"), list(found), op.outputs, module=op.module)
        elif op.kind == "MatMul" and len(op.inputs) == 2 and ctx.is_const(op.inputs[1]) \
                and len(ctx.consts[op.inputs[1]].shape) == 2:
            users = used.get(op.outputs[0], [])
            add = kept[users[0]] if len(users) == 1 else None
            bias = None
            if add is not None and add.kind == "Add" and op.outputs[0] not in outputs:
                other = [v for v in add.inputs if v != op.outputs[0]]
                if len(other) == 1 and ctx.is_const(other[0]) and ctx.numel(other[0]) == ctx.consts[op.inputs[1]].shape[1]:
                    bias = other[0]
            inputs = [op.inputs[0], op.inputs[1]] + ([bias] if bias else [])
            if bias:
                kept[users[0]] = None
            kept[i] = Op("Gemm", renamed(op, "linear"), inputs, add.outputs if bias else op.outputs, module=op.module)
        elif op.kind == "Concat" and center_crops(op, kept, by_out, used, ctx, outputs) is not None:
            sources, slices = center_crops(op, kept, by_out, used, ctx, outputs)
            for j in slices:
                kept[j] = None
            kept[i] = Op("Concat", op.name, sources, op.outputs, {**op.attrs, "crop": "center"}, module=op.module)
        elif op.kind == "LayerNormalization" and channels_last(op, kept, by_out, used, ctx, outputs) is not None:
            j, k = channels_last(op, kept, by_out, used, ctx, outputs)
            first, last = kept[j], kept[k]
            kept[j] = kept[k] = None
            kept[i] = Op("LayerNormChannels", renamed(op, "layer_norm"), [first.inputs[0]] + op.inputs[1:], last.outputs, op.attrs,
                         module=op.module)
        elif op.kind == "InstanceNormalization" and group_norm(op, kept, by_out, used, ctx, outputs) is not None:
            x, attrs, affine, drop = group_norm(op, kept, by_out, used, ctx, outputs)
            last = kept[drop[-1]]
            for j in drop:
                kept[j] = None
            kept[i] = Op("GroupNormalization", renamed(op, "group_norm"), [x, *affine], last.outputs, attrs,
                         module=op.module)
        elif op.kind == "Transpose" and rearrangement(op, kept, by_out, used, ctx, outputs) is not None:
            kind, attrs, j, k = rearrangement(op, kept, by_out, used, ctx, outputs)
            first, last = kept[j], kept[k]
            kept[j] = kept[k] = None
            kept[i] = Op(kind, renamed(op, kind), [first.inputs[0]], last.outputs, attrs, module=op.module)
    return [op for op in kept if op is not None]


# -- the whole model -----------------------------------------------------------------------------------

def layer_names(ops: list[Op]) -> dict[int, str]:
    """Each op's layer name, from the module that made it: a module without submodules names its calls
    by its path (`layer1.0.conv1`; a module called twice `layer1.0.relu`, `layer1.0.relu_2`); an op of a
    module that has submodules, or of the model's own forward, is named under it by its kind
    (`layer1.0.add`, `cat`, `cat_2`). ONNX nodes without a module keep their node names."""
    parents = {p for op in ops if op.module for p in prefixes(op.module)}
    seen: Counter = Counter()
    out = {}
    for op in ops:
        short = op.name.rsplit("/", 1)[-1]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", short):   # aten's max_pool2d_3, ONNX's /layer1/Add_1: by kind
            short = re.sub(r"_\d+$", "", short).lower()
        if op.module and op.module not in parents:
            base = op.module
        elif op.module:
            base = f"{op.module}.{short}"
        else:
            base = short if op.name.startswith("/") or short != op.name.rsplit("/", 1)[-1] else op.name
        seen[base] += 1
        out[id(op)] = base if seen[base] == 1 else f"{base}_{seen[base]}"
    return out


def prefixes(path: str) -> list[str]:
    """'a.b.c' → ['a', 'a.b'] (the modules that contain it)."""
    parts = path.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts))]


def layers_of(cap: Captured) -> list[Mapped]:
    """Every op as layers, in execution order (see the module doc); Unmapped lists what has no kind."""
    ctx = Context(cap)
    ops = fold_constants(cap, ctx)
    ops = fuse(ops, ctx, set(cap.outputs))
    name_of = layer_names(ops)
    missing: list[tuple[str, str]] = []
    out: list[Mapped] = []
    for op in ops:
        if op.kind == "Split":
            out += split(op, ctx, name_of[id(op)])
            continue
        mapper = MAPPERS.get(op.kind)
        if mapper is None:
            missing.append((op.kind, op.name))
            continue
        try:
            layers = mapper(op, ctx)
        except Unmapped as e:
            missing += e.ops
            continue
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise ModelError(f"{op.name}: {op.kind} with inputs or attributes cnncalc cannot read "
                             f"({', '.join(sorted(op.attrs)) or 'no attributes'})") from None
        reads = [v for v in op.inputs if v and not ctx.is_const(v)]
        if not reads:
            missing.append((op.kind, op.name))
            continue
        params = op.attrs.get("held", sum(
            ctx.numel(op.inputs[s]) for s in PARAM_SLOTS.get(op.kind, ())
            if s < len(op.inputs) and op.inputs[s] in cap.consts and cap.consts[op.inputs[s]].role == "param"))
        if op.kind in ("Add", "Mul", "Sum") and len(reads) < len(op.inputs):
            missing.append((f"{op.kind} with a constant", op.name))
            continue
        for k, layer in enumerate(layers):
            last = k == len(layers) - 1
            suffix = "" if last else f"_{layer['type']}"
            out.append(Mapped(name_of[id(op)] + suffix, layer, reads if k == 0 else [out[-1].output],
                              op.outputs[0] if last else f"{op.outputs[0]}#{k}", params if last else 0, op.module))
    if missing:
        raise Unmapped(missing)
    return out

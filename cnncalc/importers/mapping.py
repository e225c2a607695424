"""One mapping for both front-ends: captured ops (ONNX's vocabulary) → cnncalc layers.

`layers_of(captured)` returns one `Mapped` per layer, in execution order: the layer's fields as an
architecture file writes them, the values it reads, and what the model itself says about it (the
output shape, the parameters it holds) so that the importer can prove the layer against the model.
First a few passes rewrite what is one layer spread over several ops (x·sigmoid(x) → silu,
MatMul + Add → linear, Reshape–Transpose–Reshape → channel_shuffle) and fold what is arithmetic on
constants (shape computations); an op that maps to nothing is never skipped: `Unmapped` collects
every such op type with its count and first node names.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..layers import REGISTRY
from .ops import SMALL, Captured, Const, ModelError, Op

ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hardswish", "Gelu": "gelu",
               "Mish": "mish", "Silu": "silu", "Swish": "silu", "Relu6": "relu6"}
ALIASES = {"Identity", "Cast", "Contiguous"}   # ops that pass their input on unchanged


class Unmapped(ModelError):
    """Ops that map to no layer kind: one line per op type, its count and the first node names."""

    def __init__(self, ops: list[tuple[str, str]]):
        counts = Counter(kind for kind, _ in ops)
        lines = []
        for kind, count in counts.most_common():
            names = [name for k, name in ops if k == kind][:3]
            lines.append(f"{kind} ×{count} ({', '.join(names)}{', …' if count > 3 else ''})")
        super().__init__("cannot import: no layer kind for " + "; ".join(lines))
        self.ops = ops


@dataclass
class Mapped:
    name: str
    layer: dict                   # the fields an architecture file writes (type first)
    reads: list[str]              # activation values it reads, in order
    output: str                   # the value it produces
    params: int = 0               # parameters the model holds for it (Σ numel)
    module: str = ""
    notes: list[str] = field(default_factory=list)


class Context:
    """What a mapper may ask about values: constants (shape, small contents), activation shapes."""

    def __init__(self, cap: Captured):
        self.cap = cap
        self.consts = cap.consts
        self.shapes = cap.shapes

    def is_const(self, v: str) -> bool:
        return v == "" or v in self.consts

    def value(self, v: str):
        c = self.consts.get(v)
        if c is None or c.value is None:
            return None
        return c.value

    def ints(self, v: str) -> list[int] | None:
        a = self.value(v)
        return None if a is None else [int(x) for x in np.asarray(a).reshape(-1)]

    def floats(self, v: str) -> list[float] | None:
        a = self.value(v)
        return None if a is None else [float(x) for x in np.asarray(a).reshape(-1)]

    def shape(self, v: str) -> tuple[int, ...]:
        """An activation's shape without the batch."""
        return tuple(self.shapes[v][1:])

    def numel(self, v: str) -> int:
        return self.cap.numel(v) if v in self.consts else 0


# -- small helpers ------------------------------------------------------------------------------

def simple(values) -> int | list[int]:
    """[3, 3] → 3 (one value when every axis agrees), as a person writes it."""
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def split_pads(pads: list[int], rank: int) -> tuple[list[int], list[int]]:
    pads = list(pads) if pads else [0] * (2 * rank)
    return pads[:rank], pads[rank:]


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


SIDES = (("front", "back"), ("top", "bottom"), ("left", "right"))


def pad_layer(before: list[int], after: list[int], mode: str = "zeros", value: float = 0.0) -> dict:
    """A `pad` layer: one int when every side agrees, else the sides (left out where 0)."""
    rank = len(before)
    if len(set(before) | set(after)) == 1:
        padding: int | dict = before[0]
    else:
        padding = {}
        for (b_name, a_name), b, a in zip(SIDES[3 - rank:], before, after):
            if b:
                padding[b_name] = int(b)
            if a:
                padding[a_name] = int(a)
    layer = {"type": "pad", "padding": padding}
    if mode != "zeros":
        layer["mode"] = mode
    if value:
        layer["value"] = float(value)
    return layer


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


# -- mappers: op → [layer dict, …] (more than one where a pad layer goes first) ---------------------

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


def lenet_paper(kind: str, fields: tuple[str, ...]):
    """The LeNet-5 paper's own layers (sparse_conv, subsample, rbf), from their modules' arguments."""
    def mapper(op, ctx):
        layer = {"type": kind}
        for f in fields:
            v = op.attrs[f]
            layer[f] = [list(r) for r in v] if f == "table" else simple(v) if isinstance(v, (list, tuple)) else v
        return [layer]
    return mapper


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


def dropout(op, ctx):
    p = op.attrs.get("ratio")
    if p is None and len(op.inputs) > 1 and op.inputs[1]:
        p = (ctx.floats(op.inputs[1]) or [0.5])[0]
    p = 0.5 if p is None else float(p)
    return [{"type": "dropout"} | ({} if p == 0.5 else {"p": float(f"{p:.6g}")})]


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
    eps = float(op.attrs.get("epsilon", 1e-5))
    if not math.isclose(eps, 1e-5, rel_tol=1e-3):
        layer["eps"] = float(f"{eps:.6g}")
    if len(op.inputs) < 2 or op.inputs[1] not in ctx.consts or ctx.consts[op.inputs[1]].role != "param":
        layer["affine"] = False
    return [layer]


def scale(op, ctx):
    return [{"type": "scale"}]


def groupnorm(op, ctx):
    layer = {"type": "groupnorm", "groups": int(op.attrs["num_groups"])}
    eps = float(op.attrs.get("epsilon", 1e-5))
    if not math.isclose(eps, 1e-5, rel_tol=1e-3):
        layer["eps"] = float(f"{eps:.6g}")
    if len(op.inputs) < 2 or op.inputs[1] not in ctx.consts or ctx.consts[op.inputs[1]].role != "param":
        layer["affine"] = False
    return [layer]


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


def prelu(op, ctx):
    if "prelu" not in REGISTRY:
        raise Unmapped([(op.kind, op.name)])
    n = ctx.numel(op.inputs[1])
    return [{"type": "prelu"} | ({} if n == 1 else {"num_parameters": n})]


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


# -- constant folding -------------------------------------------------------------------------------

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


# -- patterns: several ops that are one layer ---------------------------------------------------------

def renamed(op: Op, kind: str) -> str:
    """A rewritten op's name: its node's name with the new kind in place of the old (mul_1 → silu)."""
    head = op.name.rsplit("/", 1)[0] + "/" if "/" in op.name else ""
    return head + re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", kind).lower()


def readers(ops: list[Op]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, op in enumerate(ops):
        for v in op.inputs:
            out.setdefault(v, []).append(i)
    return out


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


# -- the whole model ----------------------------------------------------------------------------------

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

"""The Layer base class and the registry of layer kinds.

A layer kind is one Pydantic model registered under its YAML `type`. It knows its output
shape, parameters, buffers, MACs, other ops, receptive-field step, notes, explanation and
its torch module — adding a kind touches one file. Shapes are tuples: (C, L), (C, H, W) or
(C, D, H, W) for a 1-, 2- or 3-D map, (N,) for a vector. Every method is a pure function of the
layer's fields and input shapes.

Per-axis fields (kernel, stride, padding, …) are tuples with one entry per spatial axis. A single
int is spread over the axes of the layer's input: the builder validates each layer with the
context {"rank": spatial axes of its input}; without a context an int means two axes (H, W).
"""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, NamedTuple, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo

from ..errors import LayerError

Shape = tuple[int, ...]
REGISTRY: dict[str, type["Layer"]] = {}


AXES = {1: "L", 2: "HW", 3: "DHW"}          # axis letters by spatial rank
RANK_NAMES = {1: "C×L", 2: "C×H×W", 3: "C×D×H×W"}


def context_rank(info: ValidationInfo | None) -> int:
    rank = (info.context or {}).get("rank", 2) if info is not None else 2
    return rank if rank in AXES else 2


def _sizes(v: Any, rank: int) -> tuple[int, ...]:
    if isinstance(v, bool):
        raise ValueError("expected an integer or a list with one per spatial axis, not true/false")
    if isinstance(v, int):
        return (v,) * rank
    if (isinstance(v, (list, tuple)) and 1 <= len(v) <= 3
            and all(isinstance(x, int) and not isinstance(x, bool) for x in v)):
        return tuple(v)
    raise ValueError("expected an integer or a list with one per spatial axis ([h, w], [l], [d, h, w])")


def _check_sizes(minimum: int):
    def check(v, info: ValidationInfo):
        v = _sizes(v, context_rank(info))
        if min(v) < minimum:
            raise ValueError(f"must be ≥ {minimum}, got {v[0] if len(set(v)) == 1 else list(v)}")
        return v
    return check


Pair = Annotated[tuple[int, ...], BeforeValidator(_check_sizes(1))]
"""A size ≥ 1 per spatial axis given as an int or a list (kernel, stride, dilation)."""
Pad = Annotated[tuple[int, ...], BeforeValidator(_check_sizes(0))]
"""A padding ≥ 0 per spatial axis given as an int or a list."""


def _positive(v):
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError("expected a whole number")
    if v < 1:
        raise ValueError(f"must be ≥ 1, got {v}")
    return v


PosInt = Annotated[int, BeforeValidator(_positive)]


class RFStep(NamedTuple):
    """One axis of a layer as the receptive-field recursion sees it."""
    k: int      # effective kernel d·(k−1)+1
    s: int      # stride
    p: int      # padding before (left/top)
    d: int = 1  # dilation: the kernel's taps are d apart (holes in the field when d > stride product)


class Saved(NamedTuple):
    """One tensor autograd keeps for a layer's backward in training (parameters aside), as
    `torch.autograd.graph.saved_tensors_hooks` sees it. `source` "in0", "in1", …: that input (its
    storage, shared with whoever else keeps it); "out": the layer's own output; "new": a tensor of the
    layer's own (`elements` at the batch given, `dtype` "act" = the activations' dtype, "fp32",
    "int64", or "mask" = dropout's mask: 1 byte on CUDA, the activations' dtype on the CPU)."""
    source: str
    elements: int = 0
    dtype: str = "act"


def fmt_pair(v: tuple[int, ...], sep: str = "×") -> str:
    """One number when every axis agrees, else one per axis: 3, 3×5, 1×2×2."""
    return str(v[0]) if len(set(v)) == 1 else sep.join(str(x) for x in v)


def fmt_shape(shape: Shape) -> str:
    return "×".join(str(x) for x in shape)


def n(x: int) -> str:
    """Thousands separators, as the course writes 34,944."""
    return f"{x:,}"


AXIS_WORDS = {1: ("position",), 2: ("row", "col"), 3: ("frame", "row", "col")}


def axis_notes(what: str, counts: tuple[int, ...], template: str) -> list[str]:
    """'floor drops 1 input row and col' when every axis agrees, else one note per axis."""
    words = AXIS_WORDS[len(counts)]
    if len(set(counts)) == 1 and counts[0]:
        c = counts[0]
        names = [w + ("" if c == 1 else "s") for w in words]
        axes = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return [template.format(n=c, axes=axes)]
    return [template.format(n=c, axes=axis + ("" if c == 1 else "s")) for c, axis in zip(counts, words) if c]


def axis_letters(rank: int) -> str:
    return AXES.get(rank, "HW")


def alias_rank(kind: str) -> int | None:
    """conv3d → 3, maxpool1d → 1; None for the rank-free names (conv, maxpool)."""
    return int(kind[-2]) if len(kind) > 2 and kind[-1] == "d" and kind[-2] in "123" else None


# names users bring from PyTorch (and papers) → the kind here; the builder's "unknown layer kind" error says so
SYNONYMS = {
    **{f"{t}{d}d": kind for d in (1, 2, 3) for t, kind in (
        ("ConvTranspose", "conv_transpose"), ("Conv", "conv"), ("MaxPool", "maxpool"), ("AvgPool", "avgpool"),
        ("AdaptiveAvgPool", "adaptive_avgpool"), ("AdaptiveMaxPool", "adaptive_maxpool"),
        ("BatchNorm", "batchnorm"), ("InstanceNorm", "instancenorm"), ("ZeroPad", "pad"),
        ("ReflectionPad", "pad"), ("ReplicationPad", "pad"), ("CircularPad", "pad"), ("ConstantPad", "pad"))},
    "deconv": "conv_transpose", "deconvolution": "conv_transpose", "transposed_conv": "conv_transpose",
    "convtranspose": "conv_transpose", "conv_transposed": "conv_transpose", "upconv": "conv_transpose",
    "Upsample": "upsample", "upsampling": "upsample", "interpolate": "upsample", "resize": "upsample",
    "UpsamplingNearest2d": "upsample", "UpsamplingBilinear2d": "upsample", "zeropad": "pad", "padding": "pad",
    "LayerNorm": "layernorm", "layer_norm": "layernorm", "LayerNorm2d": "layernorm", "GroupNorm": "groupnorm",
    "group_norm": "groupnorm", "instance_norm": "instancenorm", "batch_norm": "batchnorm", "bn": "batchnorm",
    "LayerScale": "scale", "layer_scale": "scale", "Linear": "linear", "fc": "linear", "dense": "linear",
    "Flatten": "flatten", "Dropout": "dropout", "Identity": "identity", "ReLU": "relu", "GELU": "gelu",
    "SiLU": "silu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyReLU": "leaky_relu", "Softmax": "softmax",
    "LocalResponseNorm": "lrn", "ChannelShuffle": "channel_shuffle", "cat": "concat", "concatenate": "concat",
    "route": "concat", "shortcut": "add", "AdaptiveAvgPool": "adaptive_avgpool", "GlobalAvgPool": "global_avgpool",
    "gap": "global_avgpool", **{f"Dropout{d}d": "dropout" for d in (1, 2, 3)},
    "PixelShuffle": "pixel_shuffle", "PixelUnshuffle": "pixel_unshuffle", "depth_to_space": "pixel_shuffle",
    "space_to_depth": "pixel_unshuffle", "PReLU": "prelu", "L2Norm": "l2norm", "normalize": "l2norm",
    "transpose": "permute", "Permute": "permute",
}

# field names users bring from PyTorch → the field here (where the kind has that field)
FIELD_SYNONYMS = {"out_channels": "filters", "kernel_size": "kernel", "out_features": "out",
                  "scale_factor": "scale", "num_groups": "groups", "upscale_factor": "upscale",
                  "downscale_factor": "downscale"}


def check_in_channels(declared: int | None, ins: list[Shape]) -> None:
    """PyTorch's `in_channels`, where a file gives it: it must be the channels the layer really gets."""
    if declared is not None and declared != ins[0][0]:
        raise LayerError(f"in_channels {declared} but the input has {ins[0][0]} channels ({fmt_shape(ins[0])})")


def numel(shape: Shape) -> int:
    out = 1
    for x in shape:
        out *= x
    return out


class Layer(BaseModel):
    """Base of every layer kind. Subclasses set `kinds` (their YAML type names)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    type: str
    kinds: ClassVar[tuple[str, ...]] = ()
    arity: ClassVar[int] = 1           # inputs it takes; 0 = any number ≥ 2 (merges)
    weight_layer: ClassVar[bool] = False  # counts towards depth
    needs_map: ClassVar[bool] = False     # needs a map (C×L, C×H×W or C×D×H×W), not a vector
    ranks: ClassVar[tuple[int, ...]] = (2,)  # spatial ranks a map-needing kind accepts
    axis_fields: ClassVar[tuple[str, ...]] = ()  # per-axis fields, one entry per spatial axis
    rf_inputs: ClassVar[int] = 0          # inputs whose field it sees (0: all; 1: the rest give only a size)
    in_place: ClassVar[bool] = False      # applied in place or a view: a lecture table gives it no row of its own

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        for kind in cls.__dict__.get("kinds", ()):
            REGISTRY[kind] = cls

    # -- what every kind answers -------------------------------------------------------
    def check_input(self, ins: list[Shape]) -> None:
        if not self.needs_map:
            return
        rank, wanted = len(ins[0]) - 1, alias_rank(self.type)
        if rank == 0:
            want = RANK_NAMES[wanted or (2 if 2 in self.ranks else self.ranks[0])]
            raise LayerError(f"{self.type} needs a {want} map, got a vector of {ins[0][0]:,}"
                             " (a flatten or linear came before it)")
        if wanted is not None and wanted != rank or rank not in self.ranks:
            want = RANK_NAMES[wanted] if wanted else " or ".join(RANK_NAMES[r] for r in self.ranks)
            raise LayerError(f"{self.type} needs a {want} map, got {RANK_NAMES.get(rank, f'{rank}-D')} "
                             f"{fmt_shape(ins[0])}")
        for name in self.axis_fields:
            v = getattr(self, name)
            if isinstance(v, tuple) and len(v) != rank:
                raise LayerError(f"{name} {list(v)} has {len(v)} entries but the input {fmt_shape(ins[0])} has "
                                 f"{rank} spatial axes ({RANK_NAMES[rank]})")

    def output_shape(self, ins: list[Shape]) -> Shape:
        return ins[0]

    def params(self, ins: list[Shape], out: Shape) -> int:
        return 0

    def biases(self, ins: list[Shape], out: Shape) -> int:
        """How many of `params` are biases (the rest are weights)."""
        return 0

    def buffers(self, ins: list[Shape], out: Shape) -> int:
        return 0

    def macs(self, ins: list[Shape], out: Shape) -> int:
        return 0

    def other_ops(self, ins: list[Shape], out: Shape) -> int:
        """Non-MAC work (comparisons, normalisation, activations, adds), per sample."""
        return 0

    def leftover(self, ins: list[Shape], out: Shape) -> tuple[int, ...]:
        """Per spatial axis, input rows/cols (padding included) left after the last window: > 0 ignored by
        floor, < 0 padded implicitly by ceil. Empty for layers without sliding windows."""
        return ()

    # -- training (analysis/training.py aggregates; pytorch/verify_train.py proves) --------
    def backward_macs(self, ins: list[Shape], out: Shape, input_grad: bool) -> int:
        """MACs of the backward pass per sample: the weight gradient, plus the input gradient when the
        input needs one (the first weight layer's does not). Default, for a layer linear in its weights
        (conv, linear, transposed conv): each costs the forward's MACs. Layers without weights only
        pass gradients on (no MACs)."""
        return self.macs(ins, out) * (2 if input_grad else 1) if self.params(ins, out) else 0

    def saved(self, ins: list[Shape], out: Shape, batch: int, grads: tuple[bool, ...]) -> list[Saved]:
        """What autograd keeps for this layer's backward at this batch; `grads`: which inputs need a gradient.
        Default: a layer with parameters keeps its input (its weight gradient needs it), one without nothing;
        kinds that keep more (batch norm's statistics, max pooling's indices, …) say so."""
        return [Saved("in0")] if self.params(ins, out) else []

    def aliases_input(self, training: bool) -> bool:
        """The output is a view of input 0 (flatten, identity, slice, dropout at inference): no storage of its own."""
        return False

    def temp_elements(self, ins: list[Shape], out: Shape, batch: int) -> int:
        """At this batch: the most elements the inference forward of this layer holds at once besides its
        inputs, less its output (which is counted apart)."""
        return 0

    def rf_steps(self, ins: list[Shape]) -> tuple[RFStep, ...] | None:
        """Per spatial axis steps (H, W for a C×H×W map); None for layers that act per element."""
        return None

    def rf_offsets(self, ins: list[Shape]) -> list[tuple[int, ...]] | None:
        """Per input, units dropped before its first one on each axis (a merge that crops); None if none."""
        return None

    def rf_taps(self, ins: list[Shape], axis: int, u: int) -> range:
        """The input units that output unit `u` reads along spatial `axis`, padding included (< 0 or ≥ n):
        its kernel's taps, from the RF step; the unit itself for layers that act per element."""
        steps = self.rf_steps(ins)
        if steps is None:
            return range(u, u + 1)
        st = steps[axis]
        start = u * st.s - st.p
        return range(start, start + st.k, st.d)

    def rf_bound(self, ins: list[Shape]) -> bool:
        """Its field is a declared upper bound, not exact (a permute that moves the axes of a multi-axis map:
        no per-axis field describes it, so its units count as seeing the whole input)."""
        return False

    def config(self) -> str:
        """Short kernel/stride/padding text for the table."""
        return ""

    def notes(self, ins: list[Shape], out: Shape) -> list[str]:
        return []

    def remark(self, ins: list[Shape], out: Shape) -> str | None:
        """One line for the end of the report, where the layer does something its row alone may hide (a linear
        that flattens a map); None for most layers."""
        return None

    def explain(self, ins: list[Shape], out: Shape) -> list[str]:
        """Worked formulas, one line each (output, params, MACs, …)."""
        return [f"output: {fmt_shape(out)} (same as input)" if out == ins[0] else f"output: {fmt_shape(out)}"]

    def torch_module(self, ins: list[Shape]):
        raise NotImplementedError(f"{self.type} has no torch module")

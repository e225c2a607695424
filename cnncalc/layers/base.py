"""The Layer base class and the registry of layer kinds.

A layer kind is one Pydantic model registered under its YAML `type`. It knows its output
shape, parameters, buffers, MACs, other ops, receptive-field step, notes, explanation and
its torch module — adding a kind touches one file. Shapes are tuples: (C, H, W) for a map,
(N,) for a vector. Every method is a pure function of the layer's fields and input shapes.
"""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, NamedTuple, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict

from ..errors import LayerError

Shape = tuple[int, ...]
REGISTRY: dict[str, type["Layer"]] = {}


def _pair(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected an integer or [h, w], not true/false")
    if isinstance(v, int):
        return (v, v)
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return tuple(v)
    raise ValueError("expected an integer or [h, w]")


def _check_pair(minimum: int):
    def check(v):
        v = _pair(v)
        if min(v) < minimum:
            raise ValueError(f"must be ≥ {minimum}, got {v[0] if v[0] == v[1] else list(v)}")
        return v
    return check


Pair = Annotated[tuple[int, int], BeforeValidator(_check_pair(1))]
"""A size ≥ 1 given as an int or [h, w] (kernel, stride, dilation)."""
Pad = Annotated[tuple[int, int], BeforeValidator(_check_pair(0))]
"""A padding ≥ 0 given as an int or [h, w]."""


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


def fmt_pair(v: tuple[int, int], sep: str = "×") -> str:
    return str(v[0]) if v[0] == v[1] else f"{v[0]}{sep}{v[1]}"


def fmt_shape(shape: Shape) -> str:
    return "×".join(str(x) for x in shape)


def n(x: int) -> str:
    """Thousands separators, as the course writes 34,944."""
    return f"{x:,}"


def axis_notes(what: str, counts: tuple[int, int], template: str) -> list[str]:
    """'floor drops 1 input row and col' when both axes agree, else one note per axis."""
    h, w = counts
    if h == w and h:
        return [template.format(n=h, axes="row and col" if h == 1 else "rows and cols")]
    return [template.format(n=c, axes=axis + ("" if c == 1 else "s")) for c, axis in ((h, "row"), (w, "col")) if c]


def numel(shape: Shape) -> int:
    out = 1
    for x in shape:
        out *= x
    return out


class Layer(BaseModel):
    """Base of every layer kind. Subclasses set `kinds` (their YAML type names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    kinds: ClassVar[tuple[str, ...]] = ()
    arity: ClassVar[int] = 1           # inputs it takes; 0 = any number ≥ 2 (merges)
    weight_layer: ClassVar[bool] = False  # counts towards depth
    needs_map: ClassVar[bool] = False     # needs a C×H×W input

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        for kind in cls.__dict__.get("kinds", ()):
            REGISTRY[kind] = cls

    # -- what every kind answers -------------------------------------------------------
    def check_input(self, ins: list[Shape]) -> None:
        if self.needs_map and len(ins[0]) != 3:
            raise LayerError(f"{self.type} needs a C×H×W map, got a vector of {ins[0][0]:,}"
                             " (a flatten or linear came before it)")

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

    def rf_steps(self, ins: list[Shape]) -> tuple[RFStep, RFStep] | None:
        """Per-axis (H, W) steps; None for layers that act per element."""
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

    def config(self) -> str:
        """Short kernel/stride/padding text for the table."""
        return ""

    def notes(self, ins: list[Shape], out: Shape) -> list[str]:
        return []

    def explain(self, ins: list[Shape], out: Shape) -> list[str]:
        """Worked formulas, one line each (output, params, MACs, …)."""
        return [f"output: {fmt_shape(out)} (same as input)" if out == ins[0] else f"output: {fmt_shape(out)}"]

    def torch_module(self, ins: list[Shape]):
        raise NotImplementedError(f"{self.type} has no torch module")

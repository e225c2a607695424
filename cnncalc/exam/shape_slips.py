"""Slips in output shapes, receptive fields and same padding.

An output shape is recomputed with one mistake (or two) in the layer that decides it — the
stride, padding, dilation or the + 1 left out, one side padded, the division rounded the other
way, the input depth kept — and the answer is matched against each. A receptive field is
recomputed along the chain with the strides' product left out, each layer grown by k instead of
k − 1, or the dilation ignored or taken as d·k. Texts use the layer's own numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Optional

from ..analysis import formulas as f
from ..analysis.graph import INPUT, Graph
from .numbers import ShapeAnswer, fmt_dims, from_chw, layout_text, shape_matches
from .slip import Slip, join_slips
from .subject import Subject


# --------------------------------------------------------------------------------------
# Output shapes


def hwc_order_swapped(given: ShapeAnswer, exp: tuple) -> Optional[Slip]:
    """The right sizes in another order: written in the other layout, or shuffled."""
    g = given.chw
    if len(g) != len(exp) or g == exp:
        return None
    if given.other == tuple(exp):
        lay = layout_text(given.layout)
        other = layout_text("CHW" if given.layout == "HWC" else "HWC")
        return Slip(name="H/W/C order swapped",
                    detail=f"{given.text} is right read as {other}, but this file writes shapes as {lay}: "
                           f"{fmt_dims(from_chw(exp, given.layout))} (or set layout: "
                           f"{'CHW' if given.layout == 'HWC' else 'HWC'})")
    if sorted(g) == sorted(exp):
        return Slip(name="H/W/C order swapped",
                    detail=f"the right sizes in the wrong order: {layout_text(given.layout)} is "
                           f"{fmt_dims(from_chw(exp, given.layout))}")
    return None


@dataclass(frozen=True)
class Geometry:
    """The deciding layer's numbers: per spatial axis (n, k, s, d, p_before, p_after), and how it rounds."""
    axes: tuple[tuple[int, int, int, int, int, int], ...]
    c_in: int
    c_out: int
    ceil: bool
    conv: bool


def geometry(node) -> Optional[Geometry]:
    layer = node.layer
    spatial = node.in_shapes[0][1:]
    if layer.type == "conv":
        pads = [tuple(p) for p in layer.pads()]
        ks, ss, ds, ceil = layer.kernel, layer.stride, layer.dilation, False
    elif layer.type in ("maxpool", "avgpool"):
        pads = [(p, p) for p in layer.padding]
        ks, ss, ds, ceil = layer.kernel, layer.strides, layer.dilations, layer.ceil_mode
    else:
        return None
    axes = tuple((n, k, s, d, pb, pa) for n, k, s, d, (pb, pa) in zip(spatial, ks, ss, ds, pads))
    return Geometry(axes, node.in_shapes[0][0], node.out_shape[0], ceil, layer.type == "conv")


SHAPE_MISTAKES = ("floor vs ceil", "padding forgotten", "+1 forgotten", "stride forgotten", "padding on one side only",
                  "dilation ignored", "dilation taken as d·k", "output depth taken as input depth")


def _applies(name: str, g: Geometry) -> bool:
    return {"stride forgotten": any(a[2] > 1 for a in g.axes),
            "padding forgotten": any(a[4] or a[5] for a in g.axes),
            "padding on one side only": any(a[4] and a[5] for a in g.axes),
            "dilation ignored": any(a[3] > 1 for a in g.axes),
            "dilation taken as d·k": any(a[3] > 1 for a in g.axes),
            "output depth taken as input depth": g.conv and g.c_in != g.c_out}.get(name, True)


def _axis(axis, g: Geometry, mistakes: tuple[str, ...]) -> int:
    n, k, s, d, pb, pa = axis
    span = f.effective_kernel(k, d)
    if "stride forgotten" in mistakes:
        s = 1
    if "padding forgotten" in mistakes:
        pb = pa = 0
    if "padding on one side only" in mistakes:
        pa = 0
    if "dilation ignored" in mistakes:
        span = k
    if "dilation taken as d·k" in mistakes:
        span = d * k
    ceil = g.ceil != ("floor vs ceil" in mistakes)
    if mistakes == ("floor vs ceil",) and not g.conv:
        return f.pool_out(n, k, s, pb, d, ceil)       # PyTorch's rule for pools, last window included
    num = n + pb + pa - span
    out = -(-num // s) if ceil else num // s
    return out + (0 if "+1 forgotten" in mistakes else 1)


def mistaken_shape(g: Geometry, mistakes: tuple[str, ...]) -> tuple:
    c = g.c_in if "output depth taken as input depth" in mistakes else g.c_out
    return (c,) + tuple(_axis(a, g, mistakes) for a in g.axes)


def _what(name: str, g: Geometry) -> str:
    n, k, s, d, pb, pa = g.axes[0]
    pad = f"2·{pb}" if pb == pa else f"{pb} + {pa}"
    span = f"{d}·({k} − 1) + 1 = {f.effective_kernel(k, d)}" if d > 1 else str(k)
    right = f"⌊({n} + {pad} − {span if d == 1 else f.effective_kernel(k, d)})/{s}⌋ + 1"
    if name == "floor vs ceil":
        rule, other = ("ceil", "floor") if g.ceil else ("floor", "ceil")
        why = "conv output sizes use floor" if g.conv else \
            f"this pool uses {rule} (ceil_mode {'true' if g.ceil else 'false'}, PyTorch's default is floor)"
        return f"rounds the division with {other}; {why}"
    return {
        "stride forgotten": f"leaves out the stride {s}: the size is {right}",
        "padding forgotten": f"leaves out the padding: ⌊(n + 2p − k)/s⌋ + 1 = {right}",
        "padding on one side only": f"pads one side only ({n} + {pb} − …); the padding is on both sides: {right}",
        "+1 forgotten": f"leaves out the + 1 (the first window counts too): {right}",
        "dilation ignored": f"takes the kernel as {k}; dilated by {d} it spans {span}",
        "dilation taken as d·k": f"takes the dilated kernel as d·k = {d * k}; it spans d·(k − 1) + 1 = "
                                 f"{f.effective_kernel(k, d)}",
        "output depth taken as input depth": f"keeps the input's {g.c_in} channels; a conv has one output "
                                             f"channel per filter: {g.c_out}",
    }[name]


def shape_slip(subject: Subject, given: ShapeAnswer, exp: tuple) -> Optional[Slip]:
    """Every classic mistake (or pair of them) that explains a wrong output shape; None if none does."""
    slip = hwc_order_swapped(given, exp)
    if slip is not None:
        return slip
    node = _shape_layer(subject)
    g = geometry(node) if node is not None else None
    if g is None or len(exp) != 1 + len(g.axes):
        return None
    names = [m for m in SHAPE_MISTAKES if _applies(m, g)]
    for size in (1, 2):
        hits = []
        for combo in combinations(names, size):
            alt = mistaken_shape(g, combo)
            if alt != tuple(exp) and shape_matches(given, alt):
                hits.append(Slip(name=" and ".join(combo),
                                 detail=f"{fmt_dims(from_chw(alt, given.layout))} "
                                        + "; and ".join(_what(m, g) for m in combo)
                                        + f": {fmt_dims(from_chw(exp, given.layout))}"))
        if hits:
            return join_slips(hits)
    return None


def _shape_layer(subject: Subject):
    """The conv/pool leaf that decides the subject's output size (walking back over shape-keeping layers)."""
    for i in reversed(subject.nodes):
        node = subject.graph.nodes[i]
        if node.layer.type in ("conv", "maxpool", "avgpool"):
            return node
        if len(node.inputs) != 1 or node.out_shape != node.in_shapes[0]:
            return None
    return None


# --------------------------------------------------------------------------------------
# Receptive fields

RF_MISTAKES = ("stride product forgotten", "RF grown by k", "dilation ignored", "dilation taken as d·k")


def _kd(layer) -> tuple[int, int]:
    k = getattr(layer, "kernel", None)
    d = getattr(layer, "dilation", None) or getattr(layer, "dilations", None) or 1
    k = k[0] if isinstance(k, (tuple, list)) else k
    d = d[0] if isinstance(d, (tuple, list)) else d
    return (k or 1), (d or 1)


def mistaken_rfs(graph: Graph, mistakes: tuple[str, ...]) -> list[int]:
    """RF (H axis) per node with these mistakes made along the whole chain."""
    rs: list[int] = []
    js: list[int] = []
    for node in graph.nodes:
        pairs = [(1, 1) if i == INPUT else (rs[i], js[i]) for i in node.inputs]
        r, j = max(pairs)
        steps = node.layer.rf_steps(node.in_shapes)
        if steps is not None:
            step = steps[0]
            k, d = _kd(node.layer)
            span = step.k
            if d > 1 and "dilation ignored" in mistakes:
                span = k
            if d > 1 and "dilation taken as d·k" in mistakes:
                span = d * k
            grow = span if "RF grown by k" in mistakes else span - 1
            r += grow * (1 if "stride product forgotten" in mistakes else j)
            j *= step.s
        rs.append(r)
        js.append(j)
    return rs


def _rf_what(name: str) -> str:
    return {"stride product forgotten": "ignores the strides: each layer adds (k − 1) times the product of the "
                                        "strides before it, RF_l = RF_(l−1) + (k_l − 1)·∏ s_i",
            "RF grown by k": "grows the field by k per layer; a k-wide window adds k − 1 positions: "
                             "RF_l = RF_(l−1) + (k_l − 1)·∏ s_i",
            "dilation ignored": "leaves out the dilation; a dilated kernel spans d·(k − 1) + 1",
            "dilation taken as d·k": "takes a dilated kernel as d·k; it spans d·(k − 1) + 1"}[name]


def rf_slip(subject: Subject, given: list[int], right: list[int], per_layer: bool = False) -> Optional[Slip]:
    """Mistakes that give these receptive fields (the last one, or one per layer for per_layer)."""
    graph = subject.graph
    dilated = any(_kd(nd.layer)[1] > 1 for nd in graph.nodes)
    names = [m for m in RF_MISTAKES if dilated or not m.startswith("dilation")]
    for size in (1, 2):
        hits = []
        for combo in combinations(names, size):
            rs = mistaken_rfs(graph, combo)
            alt = rs if per_layer else [rs[subject.nodes[-1]]]
            if alt == right or list(given) != alt:
                continue
            shown = ", ".join(map(str, rs)) if per_layer else str(alt[0])
            hits.append(Slip(name=" and ".join(combo),
                             detail=f"{shown} " + "; and ".join(_rf_what(m) for m in combo)))
        if hits:
            return join_slips(hits)
    return None


# --------------------------------------------------------------------------------------
# Same padding (`p` is the one number answered)


def padding_slip(given: list, k: int, d: int, size: int) -> Optional[Slip]:
    """The classic mistakes behind a wrong same-padding answer (one number only), if any."""
    if len(given) != 1:
        return None
    p = given[0]
    span = f.effective_kernel(k, d)
    right = (span - 1) / 2
    show = _plain_num(right)
    hits = []
    if p * 2 == span + 1:
        hits.append(Slip(name="same padding (f+1)/2",
                         detail=f"(f + 1)/2 = ({span} + 1)/2 = {_plain_num(p)} makes the output "
                                f"{_plain_num(size + 2 * p - span + 1)} from {size}; keeping the size needs "
                                f"n + 2p − f + 1 = n, so p = (f − 1)/2 = {show} (some notes print (f + 1)/2)"))
    if p == span - 1 and span > 1:
        hits.append(Slip(name="both sides' padding",
                         detail=f"{span - 1} is the padding of both sides together; p is per side: "
                                f"({span - 1})/2 = {show}"))
    if d > 1 and p * 2 == k - 1:
        hits.append(Slip(name="dilation ignored",
                         detail=f"({k} − 1)/2 = {_plain_num(p)} leaves out the dilation {d}: "
                                f"p = d·(k − 1)/2 = {d}·({k} − 1)/2 = {show}"))
    if d > 1 and p * 2 == d * k - 1:
        hits.append(Slip(name="dilation taken as d·k",
                         detail=f"(d·k − 1)/2 = ({d}·{k} − 1)/2 = {_plain_num(p)} takes the dilated kernel as "
                                f"d·k; it spans d·(k − 1) + 1 = {span}: p = {show}"))
    return join_slips(hits) if hits else None


def _plain_num(v) -> str:
    return str(int(v)) if v == int(v) else str(v)

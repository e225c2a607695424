"""Classic slips: the wrong values a known mistake produces, each named and explained.

When `cnncalc check` finds a wrong answer it asks the rules here what each classic mistake
would have given (the FLOPs for the MACs, the weights without their biases, a size rounded
the other way, …); the first one the answer matches names the slip. Each rule is one small
function that only reads a `Subject`: the layers an answer is about, with their report.

check.py imports this module, never the reverse. Nothing here imports torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from pydantic import BaseModel

from ..analysis import formulas as f
from ..analysis.graph import INPUT, Graph
from .numbers import Number, ShapeAnswer, fmt_dims, from_chw, layout_text, shape_matches
from ..analysis.report import Report


class Slip(BaseModel):
    """A classic mistake that explains the gap between the answer and the true value."""
    name: str
    detail: str


# --------------------------------------------------------------------------------------
# What an answer is about: a layer, a block, the whole network, or a question's small graph


@dataclass
class Subject:
    name: str                    # as the answers file calls it
    resolved: str                # the graph's name for it ("conv1_1", "total", …)
    kind: str                    # layer | block | total | question | chain
    graph: Graph
    report: Report
    nodes: list[int]             # leaf indices covered, in order
    output: tuple
    rf: tuple[int, int]
    explain_name: Optional[str] = None
    note: str = ""

    @classmethod
    def whole(cls, name: str, resolved: str, kind: str, graph: Graph, report: Report, rf: tuple[int, int],
              explain_name: Optional[str] = None) -> Subject:
        """A subject covering every leaf of the graph: a network's `total`, a question's small graph."""
        return cls(name, resolved, kind, graph, report, list(range(len(graph.nodes))), tuple(graph.output), rf,
                   explain_name=explain_name)

    def total(self, figure: str) -> int:
        return sum(leaf_figure(self.graph, self.report, i, figure) for i in self.nodes)


def leaf_bias(node) -> int:
    return node.layer.biases(node.in_shapes, node.out_shape)


def leaf_figure(graph: Graph, report: Report, idx: int, figure: str) -> int:
    row = report.layers[idx]
    if figure == "params":
        return row.params
    if figure == "macs":
        return row.macs
    if figure == "flops":
        return row.flops
    if figure == "biases":
        return leaf_bias(graph.nodes[idx])
    if figure == "weights":
        return row.params - leaf_bias(graph.nodes[idx])
    raise KeyError(figure)


# --------------------------------------------------------------------------------------
# Counts (params, weights, biases, MACs, FLOPs): each rule yields (mistaken value, slip)

Candidates = Iterator[tuple[Optional[int], Slip]]
COUNTS = ("params", "weights", "macs", "flops")


def flops_vs_macs(subject: Subject, figure: str, true: int) -> Candidates:
    """MACs answered with the FLOP count (2×), or FLOPs with the MAC count (÷2)."""
    if figure == "macs":
        v = 2 * true
        yield v, Slip(name="FLOPs vs MACs",
                      detail=f"{v:,} = 2 × {true:,} is the FLOP count (a multiply and an add each); a MAC counts "
                             f"one multiply-accumulate: MACs = FLOPs/2 = {true:,}")
    if figure == "flops" and true % 2 == 0:
        v = true // 2
        yield v, Slip(name="FLOPs vs MACs",
                      detail=f"{v:,} is the MAC (multiply-add) count; FLOPs count the multiply and the add: "
                             f"FLOPs = 2 × MACs = {true:,}")


def sparse_lenet_c3(subject: Subject, figure: str, true: int) -> Candidates:
    """LeNet-5's dense C3 counted as the 1998 paper's sparse table; its connections count the bias too."""
    if figure not in COUNTS:
        return
    for with_bias in ((True, False) if figure in ("macs", "flops") else (True,)):
        v = _variant(subject, figure, _sparse_c3(with_bias))
        if v is not None:
            yield v, Slip(name="sparse LeNet C3",
                          detail=f"{v:,} comes from the 1998 paper's sparse C3, whose table connects each of the "
                                 f"16 maps to 3, 4 or all 6 S2 maps (1,516 params, 151,600 connections); this C3 "
                                 f"is dense, every map sees all 6 S2 maps: {true:,}")


def bias_forgotten(subject: Subject, figure: str, true: int) -> Candidates:
    """Params counted as the weights alone, without one bias per filter or output unit."""
    biases = subject.total("biases")
    if figure != "params" or not biases:
        return
    form = "; (N_in + 1)·N_out, not N_in·N_out" if _only(subject, "linear") else \
        "; (k·k·C_in + 1)·C_out, not k·k·C_in·C_out" if _only(subject, "conv") else ""
    v = true - biases
    yield v, Slip(name="bias forgotten",
                  detail=f"{v:,} counts the weights only; each filter (conv) or output unit (fc) also has a bias: "
                         f"+{biases:,} = {true:,}{form}")


def bias_included_in_weights(subject: Subject, figure: str, true: int) -> Candidates:
    """Weights answered with the params: the biases counted among the weights."""
    biases = subject.total("biases")
    if figure != "weights" or not biases:
        return
    v = true + biases
    yield v, Slip(name="bias included in weights",
                  detail=f"{v:,} is weights + {biases:,} biases (the params); the weights alone are {true:,}")


def input_channels_forgotten(subject: Subject, figure: str, true: int) -> Candidates:
    """Each conv filter taken as k×k, not k×k×C_in (the seeds' '26 params per 5×5 filter')."""
    if figure not in COUNTS:
        return
    v = _variant(subject, figure, _no_cin)
    if v is None:
        return
    seeds = " (the seeds' '26 params per 5×5 filter' on a 3-channel input: 5·5·3 + 1 = 76)" \
        if figure == "params" else ""
    yield v, Slip(name="input channels forgotten",
                  detail=f"{v:,} treats each filter as k×k; a filter spans all its input channels, k×k×C_in"
                         f"{seeds}: {true:,}")


def bytes_vs_params(subject: Subject, figure: str, true: int) -> Candidates:
    """The size in bytes at fp32 (4 per parameter) given as the parameter count."""
    if figure not in ("params", "weights"):
        return
    v = 4 * true
    yield v, Slip(name="bytes vs params",
                  detail=f"{v:,} = 4 × {true:,} is the size in bytes at fp32 (4 bytes per parameter), not the "
                         f"parameter count (the seeds' 'AlexNet ≈ 240M parameters' is AlexNet's ≈244 MB)")


def bias_counted_as_macs(subject: Subject, figure: str, true: int) -> Candidates:
    """One MAC added per bias per output position."""
    if figure not in ("macs", "flops"):
        return
    v = _variant(subject, figure, _bias_mac)
    if v is not None:
        yield v, Slip(name="bias counted as MACs",
                      detail=f"{v:,} adds one MAC per bias per output position; bias adds are not "
                             f"multiply-accumulates (MACs = k·k·C_in·H·W·C_out, N_in·N_out): {true:,}")


COUNT_SLIPS = (flops_vs_macs, sparse_lenet_c3, bias_forgotten, bias_included_in_weights, input_channels_forgotten,
               bytes_vs_params, bias_counted_as_macs)   # tried in this order


def find_slip(subject: Subject, figure: str, num: Number, true: int, tol) -> Optional[Slip]:
    """The first classic mistake whose value the answer matches (by the same rounding rule or tolerance)."""
    candidates = [(v, slip) for rule in COUNT_SLIPS for v, slip in rule(subject, figure, true)
                  if v is not None and v != true]
    for value, slip in candidates:
        if num.matches(value, tol):
            return slip
    return None


def _variant(subject: Subject, figure: str, repl: Callable) -> Optional[int]:
    """The subject's figure with some leaves' values replaced (None if no leaf is affected)."""
    total, changed = 0, False
    for i in subject.nodes:
        node = subject.graph.nodes[i]
        r = repl(node, figure)
        if r is None:
            total += leaf_figure(subject.graph, subject.report, i, figure)
        else:
            total += r
            changed = True
    return total if changed else None


def _conv_parts(node):
    """(k_h, k_w, C_in/groups, C_out, H_out, W_out, bias) of a conv leaf."""
    layer = node.layer
    c_in = node.in_shapes[0][0]
    return (layer.kernel[0], layer.kernel[1], c_in // layer.groups, layer.filters, node.out_shape[1],
            node.out_shape[2], layer.filters if layer.bias else 0)


def _no_cin(node, figure):
    """A conv leaf's figure with C_in taken as 1 (None for other leaves, or where C_in is 1)."""
    if node.layer.type != "conv":
        return None
    kh, kw, cin, cout, h, w, b = _conv_parts(node)
    if cin == 1:
        return None
    weights, macs = f.conv_weights(kh, kw, 1, cout), f.conv_macs(kh, kw, 1, cout, h, w)
    return {"params": weights + b, "weights": weights, "macs": macs, "flops": 2 * macs}.get(figure)


def _is_c3(node) -> bool:
    """LeNet-5's C3: 6 maps in, 16 out, dense; the 1998 paper connects it through a sparse table."""
    layer = node.layer
    return layer.type == "conv" and node.in_shapes[0][0] == 6 and layer.filters == 16 and layer.groups == 1


def _sparse_c3(with_bias: bool):
    """A leaf replacement: C3's figures under the paper's sparse table (None for other leaves)."""
    def repl(node, figure):
        if not _is_c3(node):
            return None
        kh, kw, _, cout, h, w, b = _conv_parts(node)
        weights = 60 * kh * kw      # paper's Table I: 6 maps × 3 inputs + 9 × 4 + 1 × 6 = 60 of the 96 pairs
        macs = (weights + (b if with_bias else 0)) * h * w  # "connections" count the bias too
        return {"params": weights + b, "weights": weights, "macs": macs, "flops": 2 * macs}.get(figure)
    return repl


def _bias_mac(node, figure):
    """A leaf's MACs (FLOPs) with one more per bias per output position (None without biases)."""
    b = leaf_bias(node)
    if not b or figure not in ("macs", "flops"):
        return None
    extra = b * (node.out_shape[1] * node.out_shape[2] if len(node.out_shape) == 3 else 1)
    row_macs = node.layer.macs(node.in_shapes, node.out_shape)
    return (row_macs + extra) * (2 if figure == "flops" else 1)


def _only(subject: Subject, kind: str) -> bool:
    """Every weight layer of the subject is of this type."""
    kinds = {subject.graph.nodes[i].layer.type for i in subject.nodes if subject.graph.nodes[i].layer.weight_layer}
    return kinds == {kind}


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


@dataclass
class _Sizes:
    """The deciding layer's output (C, H, W) under each mistake, and how that layer rounds and pads."""
    other: tuple                 # the division rounded the other way
    nopad: tuple                 # the padding left out
    noplus1: tuple               # the + 1 left out
    ceil: bool                   # the layer rounds up (a pool with ceil_mode)
    padded: bool


def _explains(given: ShapeAnswer, alt: tuple, exp: tuple) -> bool:
    """The answer is the mistaken shape, and the mistake changes the shape."""
    return shape_matches(given, alt) and alt != exp


def floor_vs_ceil(node, sizes: _Sizes, given: ShapeAnswer, exp: tuple) -> Optional[Slip]:
    """The output size's division rounded up where the layer floors, or down where it ceils."""
    if not _explains(given, sizes.other, exp):
        return None
    rule, other = ("ceil", "floor") if sizes.ceil else ("floor", "ceil")
    why = "conv output sizes use floor" if node.layer.type == "conv" else \
        f"this pool uses {rule} (ceil_mode {'true' if sizes.ceil else 'false'}, PyTorch's default is floor)"
    return Slip(name="floor vs ceil",
                detail=f"{fmt_dims(from_chw(sizes.other, given.layout))} rounds the division with {other}; "
                       f"{why}: {fmt_dims(from_chw(exp, given.layout))}")


def padding_forgotten(node, sizes: _Sizes, given: ShapeAnswer, exp: tuple) -> Optional[Slip]:
    """The output size computed as if the layer had no padding."""
    if not (sizes.padded and _explains(given, sizes.nopad, exp)):
        return None
    return Slip(name="padding forgotten",
                detail=f"{fmt_dims(from_chw(sizes.nopad, given.layout))} leaves out the padding: "
                       f"⌊(n + 2p − k)/s⌋ + 1")


def plus_one_forgotten(node, sizes: _Sizes, given: ShapeAnswer, exp: tuple) -> Optional[Slip]:
    """The output size as ⌊(n + 2p − k)/s⌋, without the + 1 for the first window."""
    if not _explains(given, sizes.noplus1, exp):
        return None
    return Slip(name="+1 forgotten",
                detail="the output size is ⌊(n + 2p − k)/s⌋ + 1: the first window counts too")


SIZE_SLIPS = (floor_vs_ceil, padding_forgotten, plus_one_forgotten)   # tried in this order


def shape_slip(subject: Subject, given: ShapeAnswer, exp: tuple) -> Optional[Slip]:
    """The first classic mistake that explains a wrong output shape."""
    slip = hwc_order_swapped(given, exp)
    if slip is not None:
        return slip
    node = _shape_layer(subject)
    if node is None or len(exp) != 3:
        return None
    sizes = _alt_sizes(node)
    for rule in SIZE_SLIPS:
        slip = rule(node, sizes, given, exp)
        if slip is not None:
            return slip
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


def _alt_sizes(node) -> _Sizes:
    """Output shapes under the other rounding / without padding / without the +1."""
    layer = node.layer
    _, h, w = node.in_shapes[0]
    if layer.type == "conv":
        pads = layer.pads()
        ks, ss, ds, ceil = layer.kernel, layer.stride, layer.dilation, False
    else:
        pads = tuple((p, p) for p in layer.padding)
        ks, ss, ds, ceil = layer.kernel, layer.strides, layer.dilations, layer.ceil_mode
    alts: dict[str, list] = {"other": [], "nopad": [], "noplus1": []}
    for n, k, s, d, (pb, pa) in zip((h, w), ks, ss, ds, pads):
        span = n + pb + pa - f.effective_kernel(k, d)
        if layer.type == "conv":
            other = -(-span // s) + 1              # ceil where conv floors
        else:
            other = f.pool_out(n, k, s, pb, d, not ceil)
        alts["other"].append(other)
        span0 = n - f.effective_kernel(k, d)
        alts["nopad"].append(f.conv_out(n, k, s, 0, 0, d) if span0 >= 0 else 0)
        alts["noplus1"].append(-(-span // s) if ceil else span // s)
    c = node.out_shape[0]
    shapes = {k: (c,) + tuple(v) for k, v in alts.items()}
    return _Sizes(shapes["other"], shapes["nopad"], shapes["noplus1"], ceil, pads != ((0, 0), (0, 0)))


# --------------------------------------------------------------------------------------
# Receptive fields


def rf_without_strides(graph: Graph) -> list[int]:
    """RF (H axis) per node if every stride were ignored: 1 + Σ (k − 1) along the largest path."""
    out: list[int] = []
    for node in graph.nodes:
        r = max(1 if i == INPUT else out[i] for i in node.inputs)
        steps = node.layer.rf_steps(node.in_shapes)
        if steps is not None:
            r += steps[0].k - 1
        out.append(r)
    return out


def stride_product_forgotten(subject: Subject, given: tuple[int, int]) -> Optional[Slip]:
    """One RF answered as 1 + Σ(k − 1): each layer's growth not multiplied by the strides before it."""
    alt = rf_without_strides(subject.graph)[subject.nodes[-1]]
    if given[0] != alt or alt == subject.rf[0]:
        return None
    return Slip(name="stride product forgotten",
                detail=f"{alt} = 1 + Σ(k − 1) ignores the strides; each layer adds (k − 1) times the "
                       f"product of the strides before it: RF_l = RF_(l−1) + (f_l − 1)·∏ s_i")


def stride_products_forgotten(graph: Graph, given: list[int], per_layer: list[int]) -> Optional[Slip]:
    """Per-layer RFs answered as 1 + Σ(k − 1) each: the growth not multiplied by the strides before."""
    alt = rf_without_strides(graph)
    if given != alt or alt == per_layer:
        return None
    return Slip(name="stride product forgotten",
                detail=f"{', '.join(map(str, alt))} adds (k − 1) per layer; each (k − 1) must be "
                       f"multiplied by the product of the strides before it: RF_l = RF_(l−1) + "
                       f"(f_l − 1)·∏ s_i")


# --------------------------------------------------------------------------------------
# Same padding (`p` is the one number answered; `span` the effective kernel d·(k − 1) + 1)


def same_padding_f_plus_1(p, span: int, size: int) -> Optional[Slip]:
    """(f + 1)/2, as seeds 003 §5.2 prints it, for the (f − 1)/2 that keeps the size."""
    if p * 2 != span + 1:
        return None
    return Slip(name="same padding (f+1)/2",
                detail=f"(f + 1)/2 = ({span} + 1)/2 = {_plain_num(p)} makes the output "
                       f"{_plain_num(size + 2 * p - span + 1)} "
                       f"from {size}; keeping the size needs n + 2p − f + 1 = n, so p = (f − 1)/2 = "
                       f"{(span - 1) // 2 if (span - 1) % 2 == 0 else (span - 1) / 2} "
                       f"(seeds 003 §5.2 prints (f+1)/2)")


def both_sides_padding(p, span: int, size: int) -> Optional[Slip]:
    """f − 1, the padding of both sides together, for the padding of one side."""
    if p != span - 1 or span <= 1:
        return None
    return Slip(name="both sides' padding",
                detail=f"{span - 1} is the padding of both sides together; p is per side: ({span - 1})/2")


def padding_slip(given: list, span: int, size: int) -> Optional[Slip]:
    """The classic mistake behind a wrong same-padding answer (one number only), if any."""
    if len(given) != 1:
        return None
    return same_padding_f_plus_1(given[0], span, size) or both_sides_padding(given[0], span, size)


def _plain_num(v) -> str:
    return str(int(v)) if v == int(v) else str(v)

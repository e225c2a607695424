"""Slips in counts (params, weights, MACs, FLOPs, connections, memory): each one changes a leaf's counts.

A `LeafSlip` rewrites some leaves (the biases left out, each filter taken as k×k, a depthwise
conv counted dense, …); the subject then recomputes the figure from the altered leaves, so one
rule serves every figure and two rules compose into a pair. A `ValueSlip` changes the figure as a
whole (MACs given as FLOPs, bytes as params, another convention). Every text is built from the
exercise's own numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterator, Optional

from ..layers import numel
from .labels import describe, label, plural, written_names
from .subject import FLOPS, Leaf, Subject, count, input_of, leaves_of

ALL = ("params", "weights", "biases", "macs", "flops", "connections", "param_memory")


@dataclass(frozen=True)
class LeafSlip:
    name: str
    figures: tuple[str, ...]
    alter: Callable[[Subject, Leaf], Optional[Leaf]]
    what: Callable[[Subject, list[Leaf]], str]     # the mistake, said with the changed leaves' numbers
    prior: int = 2                                 # lower = more common: the order names are said in


@dataclass(frozen=True)
class ValueSlip:
    name: str
    figures: tuple[str, ...]
    value: Callable[[Subject, str, int], Optional[int]]
    what: Callable[[Subject, str, int], str]
    prior: int = 1


# --------------------------------------------------------------------------------------
# conv and fc leaves as the formulas see them


@dataclass(frozen=True)
class ConvParts:
    kernel: tuple[int, ...]
    c_in: int
    groups: int
    c_out: int

    @property
    def kk(self) -> int:
        return numel(self.kernel)

    @property
    def k_text(self) -> str:
        return "·".join(map(str, self.kernel))


def conv_parts(subject: Subject, leaf: Leaf) -> Optional[ConvParts]:
    if leaf.type != "conv":
        return None
    node = subject.graph.nodes[leaf.idx]
    layer = node.layer
    kernel = tuple(layer.kernel) if isinstance(layer.kernel, (tuple, list)) else (layer.kernel,)
    return ConvParts(kernel, node.in_shapes[0][0], getattr(layer, "groups", 1), node.out_shape[0])


def _per_filter(p: ConvParts) -> str:
    return f"{p.k_text}·{p.c_in // p.groups}" if p.groups > 1 else f"{p.k_text}·{p.c_in}"


def _first(subject: Subject, changed: list[Leaf]) -> str:
    """` in C3` (or ` in the 3×3 conv of layer1`) when the subject has several leaves, else nothing."""
    name = label(subject, changed[0].idx) if len(subject.nodes) > 1 and changed else ""
    return f" in {name}" if name else ""


# --------------------------------------------------------------------------------------
# leaf slips


def _no_bias(subject, lf):
    return replace(lf, b=0) if lf.b else None


def _no_bias_what(subject, changed):
    conv = conv_parts(subject, changed[0])
    b = sum(lf.b for lf in changed)
    if len(changed) == 1 and conv:
        each = "the one filter also has" if conv.c_out == 1 else f"each of the {conv.c_out} filters also has"
        return (f"counts the weights only: {_per_filter(conv)}·{conv.c_out}; {each} a bias: "
                f"({_per_filter(conv)} + 1)·{conv.c_out}")
    if len(changed) == 1 and changed[0].type == "linear":
        n_in = changed[0].w // max(changed[0].b, 1)
        return f"counts the weights only: {n_in:,}·{changed[0].b:,}; each output unit also has a bias: " \
               f"({n_in:,} + 1)·{changed[0].b:,}"
    return f"leaves out the {b:,} biases (one per filter or output unit)"


def _one_bias(subject, lf):
    return replace(lf, b=1) if lf.b > 1 else None


def _one_bias_what(subject, changed):
    b = changed[0].b // changed[0].mult
    return (f"counts one bias per layer{_first(subject, changed)}; each of the "
            f"{plural(b, 'filter') if changed[0].type == 'conv' else plural(b, 'output unit')} has its own")


def _sharing(subject, lf):
    if lf.type != "conv" or lf.pos == 1:
        return None
    return replace(lf, w=lf.w * lf.pos, b=lf.b * lf.pos)


def _sharing_what(subject, changed):
    lf = changed[0]
    node = subject.graph.nodes[lf.idx]
    hw = "·".join(map(str, node.out_shape[1:]))
    return (f"gives every one of the {hw} = {lf.pos:,} output positions its own weights{_first(subject, changed)}; "
            f"a filter's weights are shared across the map (that product is the connections, not the params)")


def _sharing_in(subject, lf):
    node = subject.graph.nodes[lf.idx]
    if lf.type != "conv" or len(node.in_shapes[0]) < 2:
        return None
    pos_in = numel(node.in_shapes[0][1:])
    return replace(lf, w=lf.w * pos_in, b=lf.b * pos_in) if pos_in != lf.pos else None


def _sharing_in_what(subject, changed):
    node = subject.graph.nodes[changed[0].idx]
    hw = "·".join(map(str, node.in_shapes[0][1:]))
    return (f"gives every one of the {hw} = {numel(node.in_shapes[0][1:]):,} input positions its own "
            f"weights{_first(subject, changed)}; a filter's weights are shared across the map")


def _one_filter(subject, lf):
    p = conv_parts(subject, lf)
    if p is None or p.c_out == 1:
        return None
    return replace(lf, w=lf.w // p.c_out, b=1 if lf.b else 0)


def _one_filter_what(subject, changed):
    p = conv_parts(subject, changed[0])
    return (f"counts one filter{_first(subject, changed)}: {_per_filter(p)}{' + 1' if changed[0].b else ''}; "
            f"the layer has {p.c_out} of them: ({_per_filter(p)}{' + 1' if changed[0].b else ''})·{p.c_out}")


def _dense(subject, lf):
    p = conv_parts(subject, lf)
    if p is None or p.groups == 1:
        return None
    return replace(lf, w=lf.w * p.groups, macs=lf.macs * p.groups)


def _dense_what(subject, changed):
    p = conv_parts(subject, changed[0])
    kind = "a depthwise conv" if p.groups == p.c_in else f"a conv in {p.groups} groups"
    name = _first(subject, changed)
    return (f"counts {name[4:] if name else kind} as dense: each filter sees {p.c_in // p.groups} "
            f"of the {p.c_in} input channels ({p.c_in}/{p.groups}), not all {p.c_in}")


def _pointwise_after(subject: Subject, idx: int) -> Optional[int]:
    """The filters of the 1×1 conv that follows a depthwise conv (the separable pair), if one does."""
    for node in subject.graph.nodes[idx + 1:idx + 4]:
        if node.layer.type == "conv":
            return node.out_shape[0] if set(node.layer.kernel) == {1} else None
    return None


def _standard(subject, lf):
    """A depthwise conv of a separable pair counted as the standard conv it replaces (the pointwise's filters)."""
    p = conv_parts(subject, lf)
    if p is None or p.groups == 1 or p.groups != p.c_in:
        return None
    n = _pointwise_after(subject, lf.idx)
    if n is None or n == p.c_out:
        return None
    return replace(lf, w=p.kk * p.c_in * n, macs=p.kk * p.c_in * n * lf.pos, b=n if lf.b else 0)


def _standard_what(subject, changed):
    p = conv_parts(subject, changed[0])
    n = _pointwise_after(subject, changed[0].idx)
    return (f"counts the depthwise conv{_first(subject, changed)} as the standard conv it replaces, "
            f"{p.k_text}·{p.c_in}·{n} (the pointwise conv's {n} filters); it has one {p.k_text} filter per "
            f"channel: {p.k_text}·1·{p.c_out}")


def _with_cin(lf: Leaf, p: ConvParts, c_in: int) -> Leaf:
    per = c_in // p.groups if c_in % p.groups == 0 else c_in
    return replace(lf, w=p.kk * per * p.c_out, macs=p.kk * per * p.c_out * lf.pos)


def _no_cin(subject, lf):
    p = conv_parts(subject, lf)
    if p is None or p.c_in // p.groups == 1:
        return None
    return replace(lf, w=p.kk * p.c_out, macs=p.kk * p.c_out * lf.pos)


def _no_cin_what(subject, changed):
    p = conv_parts(subject, changed[0])
    per = p.kk * (p.c_in // p.groups)
    return (f"takes each filter{_first(subject, changed)} as {p.k_text} = {p.kk}; a filter spans its "
            f"{p.c_in // p.groups} input channels: {_per_filter(p)} = {per} weights"
            f"{f' ({per + 1} params with its bias)' if changed[0].b else ''}")


def _fc_for_conv(subject, lf):
    if lf.type != "conv":
        return None
    n_in = numel(subject.graph.nodes[lf.idx].in_shapes[0])
    return replace(lf, w=n_in * lf.outs, b=lf.outs if lf.b else 0, macs=n_in * lf.outs, pos=1)


def _fc_for_conv_what(subject, changed):
    node = subject.graph.nodes[changed[0].idx]
    n_in, n_out = numel(node.in_shapes[0]), numel(node.out_shape)
    return (f"uses the fully-connected formula for the conv{_first(subject, changed)}: "
            f"({'·'.join(map(str, node.in_shapes[0]))} = {n_in:,} inputs) × ({n_out:,} outputs); a conv filter "
            f"sees only its {'·'.join(map(str, conv_parts(subject, changed[0]).kernel))} window")


def _map_before(subject: Subject, idx: int) -> Optional[tuple]:
    """The C×H×W map a linear layer flattens (directly, or through flatten/dropout/activations)."""
    shape = input_of(subject.graph, idx)
    node = subject.graph.nodes[idx]
    while len(shape) == 1 and node.inputs[0] >= 0:
        node = subject.graph.nodes[node.inputs[0]]
        if node.layer.type not in ("flatten", "dropout", "identity"):
            return None
        shape = input_of(subject.graph, subject.graph.nodes.index(node))
    return shape if len(shape) == 3 and numel(shape[1:]) > 1 else None


def _fc_no_depth(subject, lf):
    """A fully connected layer on a C×H×W map counted with H·W inputs: the channels left out."""
    if lf.type != "linear":
        return None
    shape = _map_before(subject, lf.idx)
    if shape is None or shape[0] == 1:
        return None
    n_in = numel(shape[1:])
    return replace(lf, w=n_in * lf.outs, macs=n_in * lf.outs)


def _fc_no_depth_what(subject, changed):
    shape = _map_before(subject, changed[0].idx)
    return (f"counts the inputs of the fully connected layer{_first(subject, changed)} as "
            f"{'·'.join(map(str, shape[1:]))} = {numel(shape[1:]):,}; the map has {shape[0]} channels: "
            f"{'·'.join(map(str, shape))} = {numel(shape):,} inputs")


def _conv_for_fc(subject, lf):
    if lf.type != "linear":
        return None
    shape = _map_before(subject, lf.idx)
    if shape is None:
        return None
    return replace(lf, w=shape[0] * lf.outs, macs=shape[0] * lf.outs)


def _conv_for_fc_what(subject, changed):
    shape = _map_before(subject, changed[0].idx)
    return (f"counts the fully connected layer{_first(subject, changed)} like a 1×1 conv on the {shape[0]} "
            f"channels; it sees the whole {'×'.join(map(str, shape))} map: {numel(shape):,} inputs")


def _bias_of(kind: str):
    """Bias forgotten in one kind of layer only (the fully connected ones, or the convs)."""
    def alter(subject, lf):
        return replace(lf, b=0) if lf.b and lf.type == kind else None
    return alter


def _bias_of_what(kind: str):
    def what(subject, changed):
        b = sum(lf.b for lf in changed)
        where = "fully connected layers" if kind == "linear" else "conv layers"
        return f"leaves out the {b:,} biases of the {where}; the other layers' are counted"
    return what


def _running_stats(subject, lf):
    return replace(lf, w=lf.w * 2, b=lf.b * 2) if lf.type == "batchnorm" and (lf.w or lf.b) else None


def _running_stats_what(subject, changed):
    n = sum(lf.w + lf.b for lf in changed)
    return (f"counts each batch norm's running mean and variance too (+{n:,}); they are buffers, not trained "
            f"parameters: γ and β alone, two per channel")


def _one_position(subject, lf):
    return replace(lf, macs=lf.macs // lf.pos) if lf.type == "conv" and lf.pos > 1 and lf.macs else None


def _one_position_what(subject, changed):
    lf = changed[0]
    return (f"counts the multiply-adds of one output position{_first(subject, changed)}; a conv repeats them at "
            f"each of its {lf.pos:,} output positions")


def _bias_added(subject, lf):
    """A bias counted for a conv or fc layer that has none (bias: false, as before a batch norm)."""
    node = subject.graph.nodes[lf.idx]
    if lf.type not in ("conv", "linear", "conv_transpose") or lf.b or getattr(node.layer, "bias", True):
        return None
    return replace(lf, b=node.out_shape[0])


def _bias_added_what(subject, changed):
    b = sum(subject.graph.nodes[lf.idx].out_shape[0] * lf.mult for lf in changed)
    return f"adds {b:,} biases{_first(subject, changed)}; this layer has none (bias: false, a batch norm follows)"


def _transposed_as_conv(subject, lf):
    """A transposed conv's MACs counted like a conv's, at every output position (the zeros between inputs too)."""
    if lf.type != "conv_transpose" or not lf.macs:
        return None
    return replace(lf, macs=lf.w * lf.pos)


def _transposed_as_conv_what(subject, changed):
    lf = changed[0]
    return (f"counts the transposed conv{_first(subject, changed)} like a conv, weights × its {lf.pos:,} output "
            f"positions; it does the work at its input positions: each input element times each tap")


def _dilated_dense(subject, lf):
    """A dilated kernel's weights counted over its whole span, d·(k − 1) + 1 per side."""
    p = conv_parts(subject, lf)
    layer = subject.graph.nodes[lf.idx].layer if p is not None else None
    if p is None or set(layer.dilation) == {1}:
        return None
    span = numel(tuple(d * (k - 1) + 1 for k, d in zip(p.kernel, layer.dilation)))
    return replace(lf, w=lf.w // p.kk * span, macs=lf.macs // p.kk * span)


def _dilated_dense_what(subject, changed):
    p = conv_parts(subject, changed[0])
    d = subject.graph.nodes[changed[0].idx].layer.dilation
    spans = "·".join(str(dd * (k - 1) + 1) for k, dd in zip(p.kernel, d))
    return (f"counts the dilated kernel{_first(subject, changed)} as {spans} weights per channel; dilation "
            f"spreads the same {p.k_text} = {p.kk} taps, it adds none")


def _bias_mac(subject, lf):
    return replace(lf, macs=lf.macs + lf.b * lf.pos) if lf.b and lf.macs else None


def _bias_mac_what(subject, changed):
    extra = sum(lf.b * lf.pos for lf in changed)
    return (f"adds one MAC per bias per output position (+{extra:,}); a bias add is not a "
            f"multiply-accumulate")


def _bias_in_weights(subject, lf):
    return replace(lf, w=lf.w + lf.b) if lf.b else None


def _bias_in_weights_what(subject, changed):
    return f"counts the {sum(lf.b for lf in changed):,} biases among the weights (that is the params)"


def _is_lenet_c3(subject, lf):
    p = conv_parts(subject, lf)
    return p is not None and p.c_in == 6 and p.c_out == 16 and p.groups == 1 and p.kernel == (5, 5)


def _sparse_c3(subject, lf):
    """The 1998 paper's Table I connects C3's 16 maps to 6·3 + 9·4 + 1·6 = 60 of the 96 (S2, C3) pairs."""
    if not _is_lenet_c3(subject, lf):
        return None
    return replace(lf, w=60 * 25, macs=60 * 25 * lf.pos)


def _sparse_c3_what(subject, changed):
    return ("comes from the 1998 paper's sparse C3, whose table connects each of the 16 maps to 3, 4 or all 6 "
            "S2 maps (60 of the 96 pairs: 1,516 params, 151,600 connections); this C3 is dense, every map sees "
            "all 6 S2 maps")


def _sparse_c3_conn(subject, lf):
    """… with the paper's "connections", which count the bias too, given as the MACs."""
    if not _is_lenet_c3(subject, lf):
        return None
    return replace(lf, w=60 * 25, macs=(60 * 25 + lf.b) * lf.pos)


def _input_positions(subject, lf):
    node = subject.graph.nodes[lf.idx]
    if lf.type != "conv" or node.in_shapes[0][1:] == node.out_shape[1:]:
        return None
    pos_in = numel(node.in_shapes[0][1:])
    return replace(lf, macs=lf.macs // lf.pos * pos_in)


def _input_positions_what(subject, changed):
    node = subject.graph.nodes[changed[0].idx]
    hw_in, hw_out = "·".join(map(str, node.in_shapes[0][1:])), "·".join(map(str, node.out_shape[1:]))
    return (f"counts the work at the input's {hw_in} positions{_first(subject, changed)}; a conv computes "
            f"one output per output position: {hw_out}")


NORMS = ("batchnorm", "layernorm", "groupnorm", "instancenorm")


def _no_norm(subject, lf):
    return replace(lf, w=0, b=0) if lf.type in NORMS and (lf.w or lf.b) else None


def _no_norm_what(subject, changed):
    n = sum(lf.w + lf.b for lf in changed)
    layers = sum(lf.mult for lf in changed)
    return (f"leaves out the γ and β of the {plural(layers, 'normalisation layer')} ({n:,} params, two per "
            f"channel); they are trained like any weight")


def _image_fc(subject, lf) -> Optional[tuple]:
    """The input image a fully connected layer flattens, when it flattens the file's input itself."""
    shape = _map_before(subject, lf.idx) if lf.type == "linear" else None
    return shape if shape is not None and tuple(shape) == tuple(subject.graph.input) else None


def _rgb(subject, lf):
    """The first conv's (or an fc layer's on the image) input depth taken as 3 (an RGB image) where the file's
    input has another."""
    image = _image_fc(subject, lf)
    if image is not None:
        return None if image[0] == 3 else replace(lf, w=3 * numel(image[1:]) * lf.outs,
                                                  macs=3 * numel(image[1:]) * lf.outs)
    node = subject.graph.nodes[lf.idx]
    p = conv_parts(subject, lf)
    if p is None or node.inputs[0] != -1 or p.c_in == 3 or p.groups != 1:
        return None
    return _with_cin(lf, p, 3)


def _planar(subject, lf):
    """A 1-D or 3-D conv's kernel counted as a 2-D one (k·k for a 1-D kernel, k_h·k_w for a 3-D one)."""
    p = conv_parts(subject, lf)
    if p is None or len(p.kernel) == 2:
        return None
    w = _planar_kk(p) * (p.c_in // p.groups) * p.c_out
    return replace(lf, w=w, macs=w * lf.pos)


def _planar_kk(p: ConvParts) -> int:
    return p.kernel[0] ** 2 if len(p.kernel) == 1 else p.kernel[-2] * p.kernel[-1]


def _planar_what(subject, changed):
    p = conv_parts(subject, changed[0])
    flat = f"{p.kernel[0]}·{p.kernel[0]}" if len(p.kernel) == 1 else f"{p.kernel[-2]}·{p.kernel[-1]}"
    return (f"counts the {'×'.join(map(str, p.kernel))} kernel{_first(subject, changed)} as a 2-D one: "
            f"{flat}·{p.c_in // p.groups}·{p.c_out}; a {len(p.kernel)}-D kernel spans "
            f"{_per_filter(p)}·{p.c_out}")


def _rgb_what(subject, changed):
    image = _image_fc(subject, changed[0])
    if image is not None:
        hw = "·".join(map(str, image[1:]))
        return (f"takes the input as RGB, 3 channels{_first(subject, changed)}: {hw}·3 = {3 * numel(image[1:]):,} "
                f"inputs; the image has {plural(image[0], 'channel')}: {'·'.join(map(str, image))} = "
                f"{numel(image):,} inputs")
    p = conv_parts(subject, changed[0])
    return (f"takes the input as RGB, 3 channels{_first(subject, changed)}: {p.k_text}·3·{p.c_out}; the input "
            f"has {plural(p.c_in, 'channel')}: {_per_filter(p)}·{p.c_out}")


LEAF_SLIPS = (
    LeafSlip("bias forgotten", ("params", "param_memory", "connections", "flops"), _no_bias, _no_bias_what, 1),
    LeafSlip("BN γ/β forgotten", ("params", "param_memory"), _no_norm, _no_norm_what, 1),
    LeafSlip("input depth taken as 3 (RGB)", ALL, _rgb, _rgb_what, 2),
    LeafSlip("kernel taken as 2-D", ALL, _planar, _planar_what),
    LeafSlip("one bias per layer", ("params", "biases", "param_memory", "connections", "flops"), _one_bias,
             _one_bias_what),
    LeafSlip("parameter sharing forgotten", ("params", "weights", "param_memory"), _sharing, _sharing_what),
    LeafSlip("parameter sharing forgotten", ("params", "weights", "param_memory"), _sharing_in, _sharing_in_what),
    LeafSlip("one filter's weights only", ("params", "weights", "param_memory"), _one_filter, _one_filter_what),
    LeafSlip("groups ignored", ALL, _dense, _dense_what),
    LeafSlip("groups ignored", ALL, _standard, _standard_what),
    LeafSlip("input channels forgotten", ALL, _no_cin, _no_cin_what),
    LeafSlip("input channels forgotten", ALL, _fc_no_depth, _fc_no_depth_what),
    LeafSlip("fully-connected formula for a conv", ALL, _fc_for_conv, _fc_for_conv_what),
    LeafSlip("conv formula for a fully connected layer", ALL, _conv_for_fc, _conv_for_fc_what),
    LeafSlip("sparse LeNet C3", ALL, _sparse_c3, _sparse_c3_what),
    LeafSlip("sparse LeNet C3", ("macs", "flops"), _sparse_c3_conn, _sparse_c3_what),
    LeafSlip("bias counted as MACs", ("macs", "flops"), _bias_mac, _bias_mac_what),
    LeafSlip("bias counted where there is none", ("params", "param_memory", "biases"), _bias_added,
             _bias_added_what),
    LeafSlip("conv MACs for a transposed conv", ("macs", "flops"), _transposed_as_conv, _transposed_as_conv_what),
    LeafSlip("dilated kernel counted dense", ALL, _dilated_dense, _dilated_dense_what),
    LeafSlip("bias forgotten", ("params", "param_memory"), _bias_of("linear"), _bias_of_what("linear"), 2),
    LeafSlip("bias forgotten", ("params", "param_memory"), _bias_of("conv"), _bias_of_what("conv"), 2),
    LeafSlip("BN running statistics counted", ("params", "param_memory"), _running_stats, _running_stats_what),
    LeafSlip("output positions forgotten", ("macs", "flops"), _one_position, _one_position_what),
    LeafSlip("input size for the output size", ("macs", "flops", "connections"), _input_positions,
             _input_positions_what),
    LeafSlip("bias included in weights", ("weights",), _bias_in_weights, _bias_in_weights_what),
)


def wrong_layer_channels(subject: Subject) -> Iterator[LeafSlip]:
    """Input channels taken from the wrong layer: a conv's own output depth, or an earlier layer's input."""
    convs = [lf for lf in subject.leaves if lf.type == "conv"]
    if len(convs) > 3 or subject.kind == "total":     # one layer's lookup, not a whole network's
        return
    for target in convs:
        p = conv_parts(subject, target)
        options = {p.c_out: f"its own {p.c_out} output channels"}
        prev = _previous_conv_input(subject, target)
        if prev is not None:
            options.setdefault(prev[0], f"the {prev[0]} input channels of the layer before")
        for c, where in options.items():
            if c == p.c_in or c == 1:      # one channel is "input channels forgotten"
                continue
            yield LeafSlip(
                "input channels from the wrong layer", ALL,
                lambda s, lf, t=target, c=c, p=p: _with_cin(lf, p, c) if lf.idx == t.idx else None,
                lambda s, ch, t=target, c=c, where=where, p=p: (
                    f"takes the input channels{_first(s, [t]) or ''} as {where}: {p.k_text}·{c}; it sees the "
                    f"{p.c_in} channels of its input: {_per_filter(p)}"))


def _previous_conv_input(subject: Subject, target: Leaf) -> Optional[tuple[int, str]]:
    graph = subject.graph
    for i in range(target.idx - 1, -1, -1):
        node = graph.nodes[i]
        if node.layer.type == "conv":
            return node.in_shapes[0][0], node.name
    return None


# --------------------------------------------------------------------------------------
# value slips: the figure as a whole


def _flops_for_macs(subject, figure, true):
    return 2 * true if figure == "macs" else None


def _macs_for_flops(subject, figure, true):
    if figure != "flops" or subject.conventions.flops != "2mac" or true % 2:
        return None
    return true // 2


def _bytes_for_params(subject, figure, true):
    return subject.conventions.bytes * true if figure in ("params", "weights") else None


def _params_for_connections(subject, figure, true):
    return subject.value("params", subject.leaves) if figure == "connections" else None


def _other_flops(rule: str):
    def value(subject, figure, true):
        if figure != "flops" or subject.conventions.flops == rule:
            return None
        return count(subject.leaves, "flops", replace(subject.conventions, flops=rule))
    return value


def _other_flops_what(rule: str):
    text = {"2mac": "2·MACs (a multiply and an add per MAC)",
            "2mac+bias": "2·MACs plus one add per bias per output",
            "mul+add": "(2·n − 1) per output (n multiplications, n − 1 additions) plus the bias add"}[rule]
    return lambda subject, figure, true: (f"counts FLOPs as {text}; this file's convention is "
                                          f"{subject.conventions.flops} (declare conventions: {{flops: {rule}}} "
                                          f"to use that one)")


def _with_biases(subject, figure, true):
    if figure != "params" or subject.conventions.params != "weights_only":
        return None
    return count(subject.leaves, "params", replace(subject.conventions, params="with_bias"))


VALUE_SLIPS = (
    ValueSlip("FLOPs vs MACs", ("macs",), _flops_for_macs,
              lambda s, fig, true: f"is the FLOP count, 2 × {true:,} (a multiply and an add each); a MAC counts "
                                   f"one multiply-accumulate"),
    ValueSlip("FLOPs vs MACs", ("flops",), _macs_for_flops,
              lambda s, fig, true: f"is the MAC (multiply-add) count; FLOPs count the multiply and the add: "
                                   f"2 × {true // 2:,}"),
    ValueSlip("bytes vs params", ("params", "weights"), _bytes_for_params,
              lambda s, fig, true: f"is the size in bytes at {s.conventions.dtype} ({s.conventions.bytes} bytes per "
                                   f"parameter: {s.conventions.bytes} × {true:,}), not the parameter count"),
    ValueSlip("params vs connections", ("connections",), _params_for_connections,
              lambda s, fig, true: "is the parameter count; each weight is used at every output position, so the "
                                   "connections are (weights + biases) × H_out·W_out"),
    ValueSlip("biases counted", ("params",), _with_biases,
              lambda s, fig, true: "counts the biases too; this file's convention (params: weights_only) counts "
                                   "the weights alone"),
) + tuple(ValueSlip(f"FLOPs as {rule}", ("flops",), _other_flops(rule), _other_flops_what(rule)) for rule in FLOPS)


def layer_left_out(subject: Subject, figure: str, true: int) -> Iterator[tuple[int, str, str, int]]:
    """One weight layer of a network, block or chain left out of the sum (any one of layers alike)."""
    weighted = [(lf, m) for lf, m in subject.alike if lf.w or lf.b or lf.macs]
    if figure not in ALL or sum(m for _, m in weighted) < 2 or len(weighted) > 200:
        return
    for lf, m in weighted:
        own = count([lf], figure, subject.conventions)
        if own:
            alike = f" (or any one of the {m} layers like it)" if m > 1 else ""
            yield true - own, "a layer left out", f"leaves out {label(subject, lf.idx) or lf.name}{alike}: " \
                                                  f"{true:,} − {own:,}", 3


KINDS = (("conv", "conv layer"), ("linear", "fc layer"))


def kind_left_out(subject: Subject, figure: str, true: int) -> Iterator[tuple[int, str, str, int]]:
    """Every layer of one kind (the fc layers, or the convs) left out of a sum that has both kinds: the
    convs alone counted, as papers print a backbone's figures."""
    if figure not in ALL or subject.kind in ("question", "layer"):
        return
    sums = {kind: count([lf for lf in subject.leaves if lf.type.startswith(kind)], figure, subject.conventions)
            for kind, _ in KINDS}
    if not all(sums.values()):
        return
    for kind, word in KINDS:
        n = sum(lf.mult for lf in subject.leaves if lf.type.startswith(kind))
        yield true - sums[kind], f"{word.split()[0]} layers left out", \
            f"leaves out the {plural(n, word)} ({sums[kind]:,}): {true:,} − {sums[kind]:,}", 3


def neighbour_layer(subject: Subject, figure: str) -> Iterator[tuple[int, str, str, int]]:
    """A layer's figure answered with the weight layer's just before or after it (an off-by-one layer)."""
    if subject.kind != "layer" or figure not in ALL:
        return
    graph, idx = subject.graph, subject.nodes[0]
    report = subject.report
    weighted = [i for i, row in enumerate(report.layers) if row.params or row.macs]
    before = [i for i in weighted if i < idx]
    after = [i for i in weighted if i > idx]
    for i, word in ((before[-1] if before else None, "before"), (after[0] if after else None, "after")):
        if i is None:
            continue
        v = count(leaves_of(graph, report, [i]), figure, subject.conventions)
        name = graph.nodes[i].name
        shown = name if name in written_names(graph) else f"the {describe(graph.nodes[i])} {word} it"
        yield v, f"the layer {word}'s {figure}", f"is the {figure} of {shown}, the weight layer {word} " \
                                                 f"{subject.name}", 4

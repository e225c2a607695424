"""Leaf rules for the conv and fully connected formulas: parameter sharing forgotten, one filter only,
groups ignored, input channels forgotten, one layer's formula for the other, output positions
forgotten, transposed and dilated kernels, LeNet's sparse C3, the input taken as RGB, a 1-D or 3-D
kernel taken as 2-D. Registered in count_slips.LEAF_SLIPS.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from ..layers import numel
from .labels import plural
from .leaf_parts import ConvParts, conv_parts, in_layer, map_before, per_filter, with_cin
from .subject import Subject


def sharing(subject, lf):
    if lf.type != "conv" or lf.pos == 1:
        return None
    return replace(lf, w=lf.w * lf.pos, b=lf.b * lf.pos)


def sharing_what(subject, changed):
    lf = changed[0]
    node = subject.graph.nodes[lf.idx]
    hw = "·".join(map(str, node.out_shape[1:]))
    return (f"gives every one of the {hw} = {lf.pos:,} output positions its own weights{in_layer(subject, changed)}; "
            f"a filter's weights are shared across the map (that product is the connections, not the params)")


def sharing_in(subject, lf):
    node = subject.graph.nodes[lf.idx]
    if lf.type != "conv" or len(node.in_shapes[0]) < 2:
        return None
    pos_in = numel(node.in_shapes[0][1:])
    return replace(lf, w=lf.w * pos_in, b=lf.b * pos_in) if pos_in != lf.pos else None


def sharing_in_what(subject, changed):
    node = subject.graph.nodes[changed[0].idx]
    hw = "·".join(map(str, node.in_shapes[0][1:]))
    return (f"gives every one of the {hw} = {numel(node.in_shapes[0][1:]):,} input positions its own "
            f"weights{in_layer(subject, changed)}; a filter's weights are shared across the map")


def one_filter(subject, lf):
    p = conv_parts(subject, lf)
    if p is None or p.c_out == 1:
        return None
    return replace(lf, w=lf.w // p.c_out, b=1 if lf.b else 0)


def one_filter_what(subject, changed):
    p = conv_parts(subject, changed[0])
    return (f"counts one filter{in_layer(subject, changed)}: {per_filter(p)}{' + 1' if changed[0].b else ''}; "
            f"the layer has {p.c_out} of them: ({per_filter(p)}{' + 1' if changed[0].b else ''})·{p.c_out}")


def dense(subject, lf):
    p = conv_parts(subject, lf)
    if p is None or p.groups == 1:
        return None
    return replace(lf, w=lf.w * p.groups, macs=lf.macs * p.groups)


def dense_what(subject, changed):
    p = conv_parts(subject, changed[0])
    kind = "a depthwise conv" if p.groups == p.c_in else f"a conv in {p.groups} groups"
    name = in_layer(subject, changed)
    return (f"counts {name[4:] if name else kind} as dense: each filter sees {p.c_in // p.groups} "
            f"of the {p.c_in} input channels ({p.c_in}/{p.groups}), not all {p.c_in}")


def _pointwise_after(subject: Subject, idx: int) -> Optional[int]:
    """The filters of the 1×1 conv that follows a depthwise conv (the separable pair), if one does."""
    for node in subject.graph.nodes[idx + 1:idx + 4]:
        if node.layer.type == "conv":
            return node.out_shape[0] if set(node.layer.kernel) == {1} else None
    return None


def standard(subject, lf):
    """A depthwise conv of a separable pair counted as the standard conv it replaces (the pointwise's filters)."""
    p = conv_parts(subject, lf)
    if p is None or p.groups == 1 or p.groups != p.c_in:
        return None
    n = _pointwise_after(subject, lf.idx)
    if n is None or n == p.c_out:
        return None
    return replace(lf, w=p.kk * p.c_in * n, macs=p.kk * p.c_in * n * lf.pos, b=n if lf.b else 0)


def standard_what(subject, changed):
    p = conv_parts(subject, changed[0])
    n = _pointwise_after(subject, changed[0].idx)
    return (f"counts the depthwise conv{in_layer(subject, changed)} as the standard conv it replaces, "
            f"{p.k_text}·{p.c_in}·{n} (the pointwise conv's {n} filters); it has one {p.k_text} filter per "
            f"channel: {p.k_text}·1·{p.c_out}")


def no_cin(subject, lf):
    p = conv_parts(subject, lf)
    if p is None or p.c_in // p.groups == 1:
        return None
    return replace(lf, w=p.kk * p.c_out, macs=p.kk * p.c_out * lf.pos)


def no_cin_what(subject, changed):
    p = conv_parts(subject, changed[0])
    per = p.kk * (p.c_in // p.groups)
    return (f"takes each filter{in_layer(subject, changed)} as {p.k_text} = {p.kk}; a filter spans its "
            f"{p.c_in // p.groups} input channels: {per_filter(p)} = {per} weights"
            f"{f' ({per + 1} params with its bias)' if changed[0].b else ''}")


def fc_for_conv(subject, lf):
    if lf.type != "conv":
        return None
    n_in = numel(subject.graph.nodes[lf.idx].in_shapes[0])
    return replace(lf, w=n_in * lf.outs, b=lf.outs if lf.b else 0, macs=n_in * lf.outs, pos=1)


def fc_for_conv_what(subject, changed):
    node = subject.graph.nodes[changed[0].idx]
    n_in, n_out = numel(node.in_shapes[0]), numel(node.out_shape)
    return (f"uses the fully-connected formula for the conv{in_layer(subject, changed)}: "
            f"({'·'.join(map(str, node.in_shapes[0]))} = {n_in:,} inputs) × ({n_out:,} outputs); a conv filter "
            f"sees only its {'·'.join(map(str, conv_parts(subject, changed[0]).kernel))} window")


def fc_no_depth(subject, lf):
    """A fully connected layer on a C×H×W map counted with H·W inputs: the channels left out."""
    if lf.type != "linear":
        return None
    shape = map_before(subject, lf.idx)
    if shape is None or shape[0] == 1:
        return None
    n_in = numel(shape[1:])
    return replace(lf, w=n_in * lf.outs, macs=n_in * lf.outs)


def fc_no_depth_what(subject, changed):
    shape = map_before(subject, changed[0].idx)
    return (f"counts the inputs of the fully connected layer{in_layer(subject, changed)} as "
            f"{'·'.join(map(str, shape[1:]))} = {numel(shape[1:]):,}; the map has {shape[0]} channels: "
            f"{'·'.join(map(str, shape))} = {numel(shape):,} inputs")


def conv_for_fc(subject, lf):
    if lf.type != "linear":
        return None
    shape = map_before(subject, lf.idx)
    if shape is None:
        return None
    return replace(lf, w=shape[0] * lf.outs, macs=shape[0] * lf.outs)


def conv_for_fc_what(subject, changed):
    shape = map_before(subject, changed[0].idx)
    return (f"counts the fully connected layer{in_layer(subject, changed)} like a 1×1 conv on the {shape[0]} "
            f"channels; it sees the whole {'×'.join(map(str, shape))} map: {numel(shape):,} inputs")


def one_position(subject, lf):
    return replace(lf, macs=lf.macs // lf.pos) if lf.type == "conv" and lf.pos > 1 and lf.macs else None


def one_position_what(subject, changed):
    lf = changed[0]
    return (f"counts the multiply-adds of one output position{in_layer(subject, changed)}; a conv repeats them at "
            f"each of its {lf.pos:,} output positions")


def transposed_as_conv(subject, lf):
    """A transposed conv's MACs counted like a conv's, at every output position (the zeros between inputs too)."""
    if lf.type != "conv_transpose" or not lf.macs:
        return None
    return replace(lf, macs=lf.w * lf.pos)


def transposed_as_conv_what(subject, changed):
    lf = changed[0]
    return (f"counts the transposed conv{in_layer(subject, changed)} like a conv, weights × its {lf.pos:,} output "
            f"positions; it does the work at its input positions: each input element times each tap")


def dilated_dense(subject, lf):
    """A dilated kernel's weights counted over its whole span, d·(k − 1) + 1 per side."""
    p = conv_parts(subject, lf)
    layer = subject.graph.nodes[lf.idx].layer if p is not None else None
    if p is None or set(layer.dilation) == {1}:
        return None
    span = numel(tuple(d * (k - 1) + 1 for k, d in zip(p.kernel, layer.dilation)))
    return replace(lf, w=lf.w // p.kk * span, macs=lf.macs // p.kk * span)


def dilated_dense_what(subject, changed):
    p = conv_parts(subject, changed[0])
    d = subject.graph.nodes[changed[0].idx].layer.dilation
    spans = "·".join(str(dd * (k - 1) + 1) for k, dd in zip(p.kernel, d))
    return (f"counts the dilated kernel{in_layer(subject, changed)} as {spans} weights per channel; dilation "
            f"spreads the same {p.k_text} = {p.kk} taps, it adds none")


def _is_lenet_c3(subject, lf):
    p = conv_parts(subject, lf)
    return p is not None and p.c_in == 6 and p.c_out == 16 and p.groups == 1 and p.kernel == (5, 5)


def sparse_c3(subject, lf):
    """The 1998 paper's Table I connects C3's 16 maps to 6·3 + 9·4 + 1·6 = 60 of the 96 (S2, C3) pairs."""
    if not _is_lenet_c3(subject, lf):
        return None
    return replace(lf, w=60 * 25, macs=60 * 25 * lf.pos)


def sparse_c3_what(subject, changed):
    return ("comes from the 1998 paper's sparse C3, whose table connects each of the 16 maps to 3, 4 or all 6 "
            "S2 maps (60 of the 96 pairs: 1,516 params, 151,600 connections); this C3 is dense, every map sees "
            "all 6 S2 maps")


def sparse_c3_conn(subject, lf):
    """… with the paper's "connections", which count the bias too, given as the MACs."""
    if not _is_lenet_c3(subject, lf):
        return None
    return replace(lf, w=60 * 25, macs=(60 * 25 + lf.b) * lf.pos)


def input_positions(subject, lf):
    node = subject.graph.nodes[lf.idx]
    if lf.type != "conv" or node.in_shapes[0][1:] == node.out_shape[1:]:
        return None
    pos_in = numel(node.in_shapes[0][1:])
    return replace(lf, macs=lf.macs // lf.pos * pos_in)


def input_positions_what(subject, changed):
    node = subject.graph.nodes[changed[0].idx]
    hw_in, hw_out = "·".join(map(str, node.in_shapes[0][1:])), "·".join(map(str, node.out_shape[1:]))
    return (f"counts the work at the input's {hw_in} positions{in_layer(subject, changed)}; a conv computes "
            f"one output per output position: {hw_out}")


def _image_fc(subject, lf) -> Optional[tuple]:
    """The input image a fully connected layer flattens, when it flattens the file's input itself."""
    shape = map_before(subject, lf.idx) if lf.type == "linear" else None
    return shape if shape is not None and tuple(shape) == tuple(subject.graph.input) else None


def rgb(subject, lf):
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
    return with_cin(lf, p, 3)


def planar(subject, lf):
    """A 1-D or 3-D conv's kernel counted as a 2-D one (k·k for a 1-D kernel, k_h·k_w for a 3-D one)."""
    p = conv_parts(subject, lf)
    if p is None or len(p.kernel) == 2:
        return None
    w = _planar_kk(p) * (p.c_in // p.groups) * p.c_out
    return replace(lf, w=w, macs=w * lf.pos)


def _planar_kk(p: ConvParts) -> int:
    return p.kernel[0] ** 2 if len(p.kernel) == 1 else p.kernel[-2] * p.kernel[-1]


def planar_what(subject, changed):
    p = conv_parts(subject, changed[0])
    flat = f"{p.kernel[0]}·{p.kernel[0]}" if len(p.kernel) == 1 else f"{p.kernel[-2]}·{p.kernel[-1]}"
    return (f"counts the {'×'.join(map(str, p.kernel))} kernel{in_layer(subject, changed)} as a 2-D one: "
            f"{flat}·{p.c_in // p.groups}·{p.c_out}; a {len(p.kernel)}-D kernel spans "
            f"{per_filter(p)}·{p.c_out}")


def rgb_what(subject, changed):
    image = _image_fc(subject, changed[0])
    if image is not None:
        hw = "·".join(map(str, image[1:]))
        return (f"takes the input as RGB, 3 channels{in_layer(subject, changed)}: {hw}·3 = {3 * numel(image[1:]):,} "
                f"inputs; the image has {plural(image[0], 'channel')}: {'·'.join(map(str, image))} = "
                f"{numel(image):,} inputs")
    p = conv_parts(subject, changed[0])
    return (f"takes the input as RGB, 3 channels{in_layer(subject, changed)}: {p.k_text}·3·{p.c_out}; the input "
            f"has {plural(p.c_in, 'channel')}: {per_filter(p)}·{p.c_out}")

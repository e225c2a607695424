"""Leaf rules for biases and normalisation parameters: biases left out (all, or one kind of layer's),
one per layer, added where there are none, counted as MACs or among the weights; a norm's γ and
β left out, or its running statistics counted. Registered in count_slips.LEAF_SLIPS.
"""
from __future__ import annotations

from dataclasses import replace

from .labels import plural
from .leaf_parts import conv_parts, in_layer, per_filter


def no_bias(subject, lf):
    return replace(lf, b=0) if lf.b else None


def no_bias_what(subject, changed):
    conv = conv_parts(subject, changed[0])
    b = sum(lf.b for lf in changed)
    if len(changed) == 1 and conv:
        each = "the one filter also has" if conv.c_out == 1 else f"each of the {conv.c_out} filters also has"
        return (f"counts the weights only: {per_filter(conv)}·{conv.c_out}; {each} a bias: "
                f"({per_filter(conv)} + 1)·{conv.c_out}")
    if len(changed) == 1 and changed[0].type == "linear":
        n_in = changed[0].w // max(changed[0].b, 1)
        return f"counts the weights only: {n_in:,}·{changed[0].b:,}; each output unit also has a bias: " \
               f"({n_in:,} + 1)·{changed[0].b:,}"
    return f"leaves out the {b:,} biases (one per filter or output unit)"


def one_bias(subject, lf):
    return replace(lf, b=1) if lf.b > 1 else None


def one_bias_what(subject, changed):
    b = changed[0].b // changed[0].mult
    return (f"counts one bias per layer{in_layer(subject, changed)}; each of the "
            f"{plural(b, 'filter') if changed[0].type == 'conv' else plural(b, 'output unit')} has its own")


def bias_of(kind: str):
    """Bias forgotten in one kind of layer only (the fully connected ones, or the convs)."""
    def alter(subject, lf):
        return replace(lf, b=0) if lf.b and lf.type == kind else None
    return alter


def bias_of_what(kind: str):
    def what(subject, changed):
        b = sum(lf.b for lf in changed)
        where = "fully connected layers" if kind == "linear" else "conv layers"
        return f"leaves out the {b:,} biases of the {where}; the other layers' are counted"
    return what


def bias_added(subject, lf):
    """A bias counted for a conv or fc layer that has none (bias: false, as before a batch norm)."""
    node = subject.graph.nodes[lf.idx]
    if lf.type not in ("conv", "linear", "conv_transpose") or lf.b or getattr(node.layer, "bias", True):
        return None
    return replace(lf, b=node.out_shape[0])


def bias_added_what(subject, changed):
    b = sum(subject.graph.nodes[lf.idx].out_shape[0] * lf.mult for lf in changed)
    return f"adds {b:,} biases{in_layer(subject, changed)}; this layer has none (bias: false, a batch norm follows)"


def bias_mac(subject, lf):
    return replace(lf, macs=lf.macs + lf.b * lf.pos) if lf.b and lf.macs else None


def bias_mac_what(subject, changed):
    extra = sum(lf.b * lf.pos for lf in changed)
    return (f"adds one MAC per bias per output position (+{extra:,}); a bias add is not a "
            f"multiply-accumulate")


def bias_in_weights(subject, lf):
    return replace(lf, w=lf.w + lf.b) if lf.b else None


def bias_in_weights_what(subject, changed):
    return f"counts the {sum(lf.b for lf in changed):,} biases among the weights (that is the params)"


def running_stats(subject, lf):
    return replace(lf, w=lf.w * 2, b=lf.b * 2) if lf.type == "batchnorm" and (lf.w or lf.b) else None


def running_stats_what(subject, changed):
    n = sum(lf.w + lf.b for lf in changed)
    return (f"counts each batch norm's running mean and variance too (+{n:,}); they are buffers, not trained "
            f"parameters: γ and β alone, two per channel")


NORMS = ("batchnorm", "layernorm", "groupnorm", "instancenorm")


def no_norm(subject, lf):
    return replace(lf, w=0, b=0) if lf.type in NORMS and (lf.w or lf.b) else None


def no_norm_what(subject, changed):
    n = sum(lf.w + lf.b for lf in changed)
    layers = sum(lf.mult for lf in changed)
    return (f"leaves out the γ and β of the {plural(layers, 'normalisation layer')} ({n:,} params, two per "
            f"channel); they are trained like any weight")

"""Slips in counts (params, weights, MACs, FLOPs, connections, memory): each one changes a leaf's counts.

A `LeafSlip` rewrites some leaves (the biases left out, each filter taken as k×k, a depthwise
conv counted dense, …); the subject then recomputes the figure from the altered leaves, so one
rule serves every figure and two rules compose into a pair. A `ValueSlip` changes the figure as a
whole (MACs given as FLOPs, bytes as params, another convention). Every text is built from the
exercise's own numbers.

This module holds the two types and their registries, LEAF_SLIPS and VALUE_SLIPS; the rules
live in bias_slips.py and kernel_slips.py (leaves, read through leaf_parts.py) and value_slips.py,
and the slips of which layers are counted in layer_slips.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from .bias_slips import (bias_added, bias_added_what, bias_in_weights, bias_in_weights_what, bias_mac,
                         bias_mac_what, bias_of, bias_of_what, no_bias, no_bias_what, no_norm, no_norm_what,
                         one_bias, one_bias_what, running_stats, running_stats_what)
from .kernel_slips import (conv_for_fc, conv_for_fc_what, dense, dense_what, dilated_dense, dilated_dense_what,
                           fc_for_conv, fc_for_conv_what, fc_no_depth, fc_no_depth_what, input_positions,
                           input_positions_what, no_cin, no_cin_what, one_filter, one_filter_what, one_position,
                           one_position_what, planar, planar_what, rgb, rgb_what, sharing, sharing_in,
                           sharing_in_what, sharing_what, sparse_c3, sparse_c3_conn, sparse_c3_what, standard,
                           standard_what, transposed_as_conv, transposed_as_conv_what)
from .subject import FLOPS, Leaf, Subject
from .value_slips import (bytes_for_params, flops_for_macs, macs_for_flops, other_flops, other_flops_what,
                          params_for_connections, with_biases)


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


LEAF_SLIPS = (
    LeafSlip("bias forgotten", ("params", "param_memory", "connections", "flops"), no_bias, no_bias_what, 1),
    LeafSlip("BN γ/β forgotten", ("params", "param_memory"), no_norm, no_norm_what, 1),
    LeafSlip("input depth taken as 3 (RGB)", ALL, rgb, rgb_what, 2),
    LeafSlip("kernel taken as 2-D", ALL, planar, planar_what),
    LeafSlip("one bias per layer", ("params", "biases", "param_memory", "connections", "flops"), one_bias,
             one_bias_what),
    LeafSlip("parameter sharing forgotten", ("params", "weights", "param_memory"), sharing, sharing_what),
    LeafSlip("parameter sharing forgotten", ("params", "weights", "param_memory"), sharing_in, sharing_in_what),
    LeafSlip("one filter's weights only", ("params", "weights", "param_memory"), one_filter, one_filter_what),
    LeafSlip("groups ignored", ALL, dense, dense_what),
    LeafSlip("groups ignored", ALL, standard, standard_what),
    LeafSlip("input channels forgotten", ALL, no_cin, no_cin_what),
    LeafSlip("input channels forgotten", ALL, fc_no_depth, fc_no_depth_what),
    LeafSlip("fully-connected formula for a conv", ALL, fc_for_conv, fc_for_conv_what),
    LeafSlip("conv formula for a fully connected layer", ALL, conv_for_fc, conv_for_fc_what),
    LeafSlip("sparse LeNet C3", ALL, sparse_c3, sparse_c3_what),
    LeafSlip("sparse LeNet C3", ("macs", "flops"), sparse_c3_conn, sparse_c3_what),
    LeafSlip("bias counted as MACs", ("macs", "flops"), bias_mac, bias_mac_what),
    LeafSlip("bias counted where there is none", ("params", "param_memory", "biases"), bias_added,
             bias_added_what),
    LeafSlip("conv MACs for a transposed conv", ("macs", "flops"), transposed_as_conv, transposed_as_conv_what),
    LeafSlip("dilated kernel counted dense", ALL, dilated_dense, dilated_dense_what),
    LeafSlip("bias forgotten", ("params", "param_memory"), bias_of("linear"), bias_of_what("linear"), 2),
    LeafSlip("bias forgotten", ("params", "param_memory"), bias_of("conv"), bias_of_what("conv"), 2),
    LeafSlip("BN running statistics counted", ("params", "param_memory"), running_stats, running_stats_what),
    LeafSlip("output positions forgotten", ("macs", "flops"), one_position, one_position_what),
    LeafSlip("input size for the output size", ("macs", "flops", "connections"), input_positions,
             input_positions_what),
    LeafSlip("bias included in weights", ("weights",), bias_in_weights, bias_in_weights_what),
)


VALUE_SLIPS = (
    ValueSlip("FLOPs vs MACs", ("macs",), flops_for_macs,
              lambda s, fig, true: f"is the FLOP count, 2 × {true:,} (a multiply and an add each); a MAC counts "
                                   f"one multiply-accumulate"),
    ValueSlip("FLOPs vs MACs", ("flops",), macs_for_flops,
              lambda s, fig, true: f"is the MAC (multiply-add) count; FLOPs count the multiply and the add: "
                                   f"2 × {true // 2:,}"),
    ValueSlip("bytes vs params", ("params", "weights"), bytes_for_params,
              lambda s, fig, true: f"is the size in bytes at {s.conventions.dtype} ({s.conventions.bytes} bytes per "
                                   f"parameter: {s.conventions.bytes} × {true:,}), not the parameter count"),
    ValueSlip("params vs connections", ("connections",), params_for_connections,
              lambda s, fig, true: "is the parameter count; each weight is used at every output position, so the "
                                   "connections are (weights + biases) × H_out·W_out"),
    ValueSlip("biases counted", ("params",), with_biases,
              lambda s, fig, true: "counts the biases too; this file's convention (params: weights_only) counts "
                                   "the weights alone"),
) + tuple(ValueSlip(f"FLOPs as {rule}", ("flops",), other_flops(rule), other_flops_what(rule)) for rule in FLOPS)

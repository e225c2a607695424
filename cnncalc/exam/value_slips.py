"""Value rules: the figure changed as a whole, not its leaves: FLOPs given for MACs and back, bytes for
params, params for connections, another FLOP or params convention. Registered in
count_slips.VALUE_SLIPS.
"""
from __future__ import annotations

from dataclasses import replace

from .subject import count


def flops_for_macs(subject, figure, true):
    return 2 * true if figure == "macs" else None


def macs_for_flops(subject, figure, true):
    if figure != "flops" or subject.conventions.flops != "2mac" or true % 2:
        return None
    return true // 2


def bytes_for_params(subject, figure, true):
    return subject.conventions.bytes * true if figure in ("params", "weights") else None


def params_for_connections(subject, figure, true):
    return subject.value("params", subject.leaves) if figure == "connections" else None


def other_flops(rule: str):
    def value(subject, figure, true):
        if figure != "flops" or subject.conventions.flops == rule:
            return None
        return count(subject.leaves, "flops", replace(subject.conventions, flops=rule))
    return value


def other_flops_what(rule: str):
    text = {"2mac": "2·MACs (a multiply and an add per MAC)",
            "2mac+bias": "2·MACs plus one add per bias per output",
            "mul+add": "(2·n − 1) per output (n multiplications, n − 1 additions) plus the bias add"}[rule]
    return lambda subject, figure, true: (f"counts FLOPs as {text}; this file's convention is "
                                          f"{subject.conventions.flops} (declare conventions: {{flops: {rule}}} "
                                          f"to use that one)")


def with_biases(subject, figure, true):
    if figure != "params" or subject.conventions.params != "weights_only":
        return None
    return count(subject.leaves, "params", replace(subject.conventions, params="with_bias"))

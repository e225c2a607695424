"""Slips about which layers are counted: a conv's input channels taken from the wrong layer, one weight
layer (or every layer of one kind) left out of a sum, a layer answered with its neighbour's figure.
"""
from __future__ import annotations

from typing import Iterator, Optional

from .count_slips import ALL, LeafSlip
from .labels import describe, label, plural, written_names
from .leaf_parts import conv_parts, in_layer, per_filter, with_cin
from .subject import Leaf, Subject, count, leaves_of


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
                lambda s, lf, t=target, c=c, p=p: with_cin(lf, p, c) if lf.idx == t.idx else None,
                lambda s, ch, t=target, c=c, where=where, p=p: (
                    f"takes the input channels{in_layer(s, [t]) or ''} as {where}: {p.k_text}·{c}; it sees the "
                    f"{p.c_in} channels of its input: {per_filter(p)}"))


def _previous_conv_input(subject: Subject, target: Leaf) -> Optional[tuple[int, str]]:
    graph = subject.graph
    for i in range(target.idx - 1, -1, -1):
        node = graph.nodes[i]
        if node.layer.type == "conv":
            return node.in_shapes[0][0], node.name
    return None


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

"""Tensor lifetimes in an inference forward: which tensors are alive together, their peak, and the cut
points where a single tensor is all that the rest of the network reads.

Every layer writes a new tensor; a tensor is freed once its last reader has run (a tensor nobody reads
right after it is made); the network input is alive from the start, the network output to the end.
Training-only nodes (auxiliary heads) do not run at inference: they neither allocate nor keep anything.
Pure functions of the graph's wiring and the tensor sizes.
"""
from __future__ import annotations

from typing import NamedTuple

from .graph import INPUT, Graph


def liveness(inputs: list[list[int]], skip: list[bool], outputs: list[int] | None = None) -> list[list[int]]:
    """Per node, the tensors freed once it has run: indices into [network input, node 0's output, …]
    (so node i's output is i + 1). The outputs (default: the last node's) are never freed."""
    n = len(inputs)
    last: dict[int, int] = {}
    for idx, src in enumerate(inputs):
        if not skip[idx]:  # a training-only head keeps nothing alive at inference
            for i in src:
                last[i] = idx
    kept = set(outputs if outputs else [n - 1])
    frees: list[list[int]] = [[] for _ in range(n)]
    for t in (INPUT, *range(n)):
        if t not in kept and (t in last or t != INPUT):
            frees[last.get(t, t)].append(t + 1)
    return frees


def peak_live(sizes: list[int], frees: list[list[int]], skip: list[bool]) -> int:
    """Peak of the elements alive at once. `sizes[0]` is the tensor alive at the start (the input),
    `sizes[j + 1]` node j's output, `frees[j]` the indices freed once node j has run. While a node runs,
    its inputs, its output and every earlier tensor a later node still reads are held."""
    live = peak = sizes[0]
    for size, gone, off in zip(sizes[1:], frees, skip):
        if off:
            continue
        live += size
        if live > peak:
            peak = live
        for i in gone:
            live -= sizes[i]
    return peak


def peak_of(graph: Graph) -> int:
    """The peak live activation elements of a built graph, per sample."""
    from ..layers import numel
    inputs, skip = [nd.inputs for nd in graph.nodes], [nd.train_only for nd in graph.nodes]
    sizes = [numel(graph.input)] + [numel(nd.out_shape) for nd in graph.nodes]
    return peak_live(sizes, liveness(inputs, skip, graph.output_nodes), skip)


class Segment(NamedTuple):
    """Nodes start … end − 1, reading nothing made before node `cut` (= start − 1; INPUT for the first):
    given the shape of cut's output, everything inside follows. Equal `sig`, equal structure."""
    start: int
    end: int
    sig: int
    frees: list[list[int]]   # per node, as liveness() but indices into [cut's output, the segment's outputs…]
    skip: list[bool]


def segments(inputs: list[list[int]], keys: list, skip: list[bool], outputs: list[int] | None = None) -> list[Segment]:
    """Split the graph at every cut point: a node whose output is the only earlier tensor that later nodes
    read (a ResNet block's output, every layer of a plain chain); the outputs count as read at the end.
    `keys[i]` stands for node i's layer: segments with equal keys wired alike get the same `sig`."""
    n = len(inputs)
    lowest, low = [n] * (n + 1), min(outputs or [n])
    for j in range(n - 1, -1, -1):
        low = min(low, *inputs[j])
        lowest[j] = low
    ends = [k + 1 for k in range(n - 1) if lowest[k + 1] >= k] + [n]
    frees = liveness(inputs, skip, outputs)
    sigs: dict = {}
    out, start = [], 0
    for end in ends:
        cut = start - 1  # = INPUT for the first segment
        shape = tuple((keys[j], tuple(i - cut for i in inputs[j]), skip[j]) for j in range(start, end))
        local = [[i - start for i in frees[j]] for j in range(start, end)]  # tensor t + 1 → t − cut
        out.append(Segment(start, end, sigs.setdefault(shape, len(sigs)), local, skip[start:end]))
        start = end
    return out

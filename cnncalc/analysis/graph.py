"""The analyzed graph: leaf layers in topological order, each with its input nodes and shape.

The spec builder flattens sequences, branches, residuals, blocks and repeats into this one
DAG; the analyzer, the receptive-field pass and the torch builder all walk it in order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..layers import Layer, Shape

INPUT = -1  # index standing for the network input


@dataclass(slots=True)
class Node:
    name: str                 # dotted path, unique (inception_3a.b2.conv2)
    layer: Layer
    inputs: list[int]         # indices of producing nodes, INPUT for the network input
    in_shapes: list[Shape]
    out_shape: Shape
    line: int | None          # line in the YAML file (None for generated nodes: projections)
    path: str                 # YAML path (layers[4].branches[1][0])
    groups: tuple[int, ...] = ()  # indices into Graph.groups, outermost first
    train_only: bool = False  # runs only in training (an auxiliary classifier): not in inference totals
    shares: int | None = None  # the node whose parameters it reuses (`share:`): they count at that node only

    def own_params(self) -> int:
        """Its parameters as the totals count them: none where it reuses another node's."""
        return 0 if self.shares is not None else self.layer.params(self.in_shapes, self.out_shape)

    def own_buffers(self) -> int:
        return 0 if self.shares is not None else self.layer.buffers(self.in_shapes, self.out_shape)


@dataclass(slots=True)
class Group:
    """A named composite (block instance, branches, residual, repeat): aggregated in the report."""
    name: str
    type: str                 # block name, or 'branches' / 'residual' / 'repeat'
    level: int                # 1 = top level
    input: int                # producing node of its input (INPUT for the network input)
    in_shape: Shape
    first: int = 0            # first node index inside
    last: int = -1            # last node index inside (its output)
    out_shape: Shape = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """A choice the builder made from shapes (so it may differ at another input size).

    kind 'auto': `shortcut: auto` chose `choice` ('identity' or 'projection') for the residual from node
    `source` whose body ends at `body`; kind 'projection': the 1×1 projection got strides `choice`."""
    kind: str
    source: int
    body: int
    choice: object


@dataclass
class Graph:
    name: str
    source: str
    input: Shape
    file: str | None
    nodes: list[Node] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)  # the nodes the network returns, in order; [] = the last
    rules: list[Rule] = field(default_factory=list)   # shape-dependent choices (cnncalc sweep re-checks them)
    doc: Any = field(default=None, repr=False)          # the parsed document, to build it again at another size
    notes: list[str] = field(default_factory=list)      # remarks on the file as a whole (what it may not mean)

    def shape_of(self, idx: int) -> Shape:
        return self.input if idx == INPUT else self.nodes[idx].out_shape

    @property
    def output_nodes(self) -> list[int]:
        """The nodes the network returns: `outputs:` in the file's order, else the last node."""
        return list(self.outputs) or [len(self.nodes) - 1 if self.nodes else INPUT]

    @property
    def output(self) -> Shape:
        """The (first) output's shape."""
        return self.shape_of(self.output_nodes[0])

    def reaching(self) -> list[bool]:
        """Per node: does its value reach an output? (Walked backwards: the nodes are in topological order.)"""
        reach = [False] * len(self.nodes)
        for o in self.output_nodes:
            if o != INPUT:
                reach[o] = True
        for i in range(len(self.nodes) - 1, -1, -1):
            if reach[i]:
                for j in self.nodes[i].inputs:
                    if j != INPUT:
                        reach[j] = True
        return reach

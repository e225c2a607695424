"""What an answer is about (a `Subject`), its figures, and the conventions a course may declare.

A Subject is a layer, a block, a network's `total` or a question's small graph. Each of its
leaves is reduced to a few counts (`Leaf`: weights, biases, MACs, output positions, output
elements); every figure is a small formula of those counts under the file's `Conventions`,
so a slip can change one count (the biases, the input channels) and every figure follows.

    conventions:
      flops: 2mac | 2mac+bias | mul+add        # FLOPs = 2·MACs (default), + one add per bias
                                               # per output, or (2·n − 1) per output + the bias add
      params: with_bias | weights_only         # notes that ignore biases count weights only
      activations: lecture | every_layer       # a total: the input and each conv/pool/fc output
                                               # once (in-place activations add nothing), or
                                               # every layer's output added
      dtype: fp32 | fp16 | bf16 | fp64 | int8  # bytes per element of `memory`, `param_memory`
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from ..analysis.analyze import lecture_row
from ..analysis.graph import INPUT, Graph
from ..analysis.report import Report
from ..layers import numel
from .numbers import ParseError
from ..errors import quote

FLOPS = ("2mac", "2mac+bias", "mul+add")
PARAMS = ("with_bias", "weights_only")
ACTIVATIONS = ("lecture", "every_layer")
DTYPES = {"fp32": 4, "float32": 4, "fp16": 2, "float16": 2, "half": 2, "bf16": 2, "bfloat16": 2,
          "fp64": 8, "float64": 8, "double": 8, "int8": 1, "uint8": 1}


@dataclass(frozen=True)
class Conventions:
    flops: str = "2mac"
    params: str = "with_bias"
    activations: str = "lecture"
    dtype: str = "fp32"
    declared: frozenset = frozenset()     # the conventions the file states (the others are defaults)

    @property
    def bytes(self) -> int:
        return DTYPES[self.dtype]


CONVENTION_CHOICES = {"flops": FLOPS, "params": PARAMS, "activations": ACTIVATIONS, "dtype": tuple(DTYPES)}


def parse_conventions(value, base: Conventions) -> Conventions:
    """{flops: mul+add, params: weights_only, …} over the inherited conventions. Raises ParseError."""
    if not isinstance(value, dict):
        raise ParseError("expected a mapping such as {flops: 2mac, params: with_bias, activations: lecture, "
                         "dtype: fp32}")
    out = {}
    for key, v in value.items():
        if key not in CONVENTION_CHOICES:
            raise ParseError(f"unknown convention {quote(key)} (conventions: {', '.join(CONVENTION_CHOICES)})")
        text = str(getattr(v, "text", v)).strip().lower().replace(" ", "")
        text = {"2·mac": "2mac", "2*mac": "2mac", "with_biases": "with_bias", "weights": "weights_only",
                "every_output": "every_layer"}.get(text, text)
        if text not in CONVENTION_CHOICES[key]:
            raise ParseError(f"{key}: expected {' | '.join(CONVENTION_CHOICES[key])}, got {quote(v)}")
        out[key] = text
    return replace(base, **out, declared=base.declared | set(out))


@dataclass(frozen=True)
class Leaf:
    """One leaf layer reduced to the counts every figure is made of."""
    name: str
    type: str
    w: int               # weights (params − biases)
    b: int               # biases
    macs: int
    pos: int             # output positions per channel (H·W; 1 for a vector)
    outs: int            # output elements
    lecture: bool        # has a row of its own in a lecture table (not in place)
    train_only: bool
    idx: int = -1
    mult: int = 1        # layers alike that this leaf stands for (its counts are their sum)


def scaled(lf: Leaf, m: int) -> Leaf:
    """m layers alike as one leaf: every count times m."""
    return lf if m == 1 else replace(lf, w=lf.w * m, b=lf.b * m, macs=lf.macs * m, outs=lf.outs * m, mult=lf.mult * m)


def leaf_at(graph: Graph, idx: int, ins: list, out: tuple, base: Leaf) -> Leaf:
    """Leaf idx recomputed by its layer's own formulas on other shapes (a mistake carried to it)."""
    layer = graph.nodes[idx].layer
    b = layer.biases(ins, out)
    return replace(base, w=layer.params(ins, out) - b, b=b, macs=layer.macs(ins, out),
                   pos=numel(out[1:]) if len(out) > 1 else 1, outs=numel(out))


def leaves_of(graph: Graph, report: Report, nodes: list[int]) -> list[Leaf]:
    out = []
    for i in nodes:
        node, row = graph.nodes[i], report.layers[i]
        b = node.layer.biases(node.in_shapes, node.out_shape)
        shape = node.out_shape
        out.append(Leaf(node.name, node.layer.type, row.params - b, b, row.macs,
                        numel(shape[1:]) if len(shape) > 1 else 1, numel(shape),
                        lecture_row(node), row.train_only, i))
    return out


def count(leaves: list[Leaf], figure: str, conv: Conventions) -> int:
    """params, weights, biases, macs, flops, connections or param_memory of these leaves."""
    if figure == "param_memory":
        return count(leaves, "params", conv) * conv.bytes
    total = 0
    for lf in leaves:
        total += {"params": lf.w + (lf.b if conv.params == "with_bias" else 0), "weights": lf.w, "biases": lf.b,
                  "macs": lf.macs, "connections": lf.macs + lf.b * lf.pos,
                  "flops": flops(lf, conv.flops)}[figure]
    return total


def flops(lf: Leaf, rule: str) -> int:
    """A leaf's FLOPs under a convention: 2·MACs; + the bias adds; or (2·n − 1) per output + the bias adds."""
    if rule == "2mac" or not lf.macs:
        return 2 * lf.macs
    if rule == "2mac+bias":
        return 2 * lf.macs + lf.b * lf.pos
    return 2 * lf.macs - lf.outs + lf.b * lf.pos


COUNTS = ("params", "weights", "biases", "macs", "flops", "connections", "param_memory")
SIZES = ("activations", "memory")


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
    conventions: Conventions = field(default_factory=Conventions)
    _leaves: Optional[list[Leaf]] = None
    _alike: Optional[list[tuple[Leaf, int]]] = None

    @classmethod
    def whole(cls, name: str, resolved: str, kind: str, graph: Graph, report: Report, rf: tuple[int, int],
              explain_name: Optional[str] = None) -> Subject:
        """A subject covering every leaf of the graph: a network's `total`, a question's small graph."""
        return cls(name, resolved, kind, graph, report, list(range(len(graph.nodes))), tuple(graph.output), rf,
                   explain_name=explain_name)

    @property
    def leaves(self) -> list[Leaf]:
        if self._leaves is None:
            self._leaves = leaves_of(self.graph, self.report, self.nodes)
        return self._leaves

    @property
    def alike(self) -> list[tuple[Leaf, int]]:
        """The leaves grouped into layers alike (same layer, same shapes): (the first of them, how many).
        A slip changes every layer of a group the same way, so the search costs the groups, not the layers."""
        if self._alike is None:
            groups: dict = {}
            for lf in self.leaves:
                node = self.graph.nodes[lf.idx]
                key = (node.layer, tuple(map(tuple, node.in_shapes)), tuple(node.out_shape), lf.type, lf.w, lf.b,
                       lf.macs, lf.pos, lf.outs, lf.lecture, lf.train_only)
                if key in groups:
                    groups[key][1] += 1
                else:
                    groups[key] = [lf, 1]
            self._alike = [(lf, m) for lf, m in groups.values()]
        return self._alike

    @property
    def sums(self) -> bool:
        """A figure of the whole network (or chain) adds up every leaf; a layer's or block's is its output."""
        return self.kind in ("total", "chain")

    def total(self, figure: str) -> int:
        return self.value(figure, self.leaves)

    def value(self, figure: str, leaves: list[Leaf], conv: Optional[Conventions] = None) -> int:
        """The figure computed from these leaves (the subject's own, or a slip's altered ones)."""
        conv = conv or self.conventions
        if figure in COUNTS:
            return count(leaves, figure, conv)
        elements = self.elements(leaves, conv.activations)
        return elements * (conv.bytes if figure == "memory" else 1)

    def elements(self, leaves: list[Leaf], rule: str) -> int:
        """Activations: a layer's or block's output elements; a total's by the convention."""
        if not self.sums:
            return numel(self.output)
        rows = [lf for lf in leaves if not lf.train_only]
        if rule == "every_layer":
            return sum(lf.outs for lf in rows)
        return numel(self.graph.input) + sum(lf.outs for lf in rows if lf.lecture)


def leaf_figure(graph: Graph, report: Report, idx: int, figure: str) -> int:
    """One leaf's figure under the default conventions (the worked formulas' terms)."""
    return count(leaves_of(graph, report, [idx]), figure, Conventions())


def input_of(graph: Graph, idx: int) -> tuple:
    """The shape feeding leaf idx (its first input)."""
    src = graph.nodes[idx].inputs[0]
    return graph.input if src == INPUT else graph.nodes[src].out_shape

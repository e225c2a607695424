"""Where the work goes, as the report's charts show it: per row of `analyze --depth`, and per resolution
level (the pooling level a layer belongs to, so an unpadded net's shrinking convs stay with their level)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .compare import StageRow
from .graph import INPUT, Graph
from .report import Report


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    params: int
    macs: int
    activations: int      # elements of the outputs inside (×4 bytes at fp32)
    rf: float             # receptive field (H axis) at its output


def rows(report: Report, depth: int | None = None) -> list[Row]:
    """One row per leaf layer, or per block at `depth` (its layers' sums; the field at its last layer)."""
    at = {b.name for b in report.blocks if b.level == depth} if depth else set()
    out: dict[str, list] = {}
    for r in report.layers:
        parts = r.name.split(".")
        owner = next((p for p in (".".join(parts[:i]) for i in range(1, len(parts))) if p in at), r.name)
        out.setdefault(owner, []).append(r)
    return [Row(name, sum(r.params for r in rs), sum(r.macs for r in rs), sum(r.activations for r in rs),
                float(Fraction(rs[-1].rf.size))) for name, rs in out.items()]


def level(input_sides: list[int], sides: list[int]) -> int | None:
    """How many halvings below the input a map is: ⌊log2(input / size)⌋ (geometric mean over the axes), so
    U-Net's 568, 570 stay at level 0 and 284, 280 at level 1; None for a vector."""
    if not sides or not input_sides or len(sides) != len(input_sides):
        return None
    ratio = math.prod(i / s for i, s in zip(input_sides, sides)) ** (1 / len(sides))
    return math.floor(math.log2(ratio) + 1e-9)


def levels(graph: Graph, report: Report) -> list[StageRow]:
    """Layers grouped by resolution level, in order of first appearance; a decoder's levels (after an
    upsampling on the layer's own path) apart from the encoder's, so U-Net has 5 + 4. Each stage is labelled
    with its scale and the sizes it spans ('1/4: 140×140…136×136', '↑ 1/8: 56×56…52×52')."""
    out: dict[tuple, tuple[StageRow, list[str]]] = {}
    spatial = report.input[1:]
    rising = [False] * len(graph.nodes)
    for i, (node, r) in enumerate(zip(graph.nodes, report.layers)):
        ins = [graph.shape_of(j) for j in node.inputs]
        # an upsampling of a real map (not a global 1×1 broadcast back, as ASPP's pooling branch)
        grows = len(r.output) > 1 and any(len(s) == len(r.output) and 1 < math.prod(s[1:]) < math.prod(r.output[1:])
                                          for s in ins[:1])
        rising[i] = grows or any(rising[j] for j in node.inputs if j != INPUT)
        lv = level(spatial, r.output[1:]) if len(r.output) > 1 else None
        scale = ("vector" if lv is None else "global (1×1)" if max(r.output[1:]) == 1 else "full size" if lv == 0
                 else f"1/{2 ** lv}" if lv > 0 else f"×{2 ** -lv}")
        key = (scale, rising[i] and lv is not None)
        st, sizes = out.setdefault(key, (StageRow(resolution=("↑ " if key[1] else "") + scale, layers=0, params=0,
                                                  macs=0, flops=0), []))
        size = "×".join(map(str, r.output[1:]))
        if size not in sizes and lv is not None and max(r.output[1:]) > 1:
            sizes.append(size)
        st.layers += 1
        st.activations += r.activations
        st.params += r.params
        st.macs += r.macs
        st.flops += r.flops
    for st, sizes in out.values():
        if sizes:
            st.resolution += f": {sizes[0]}" + (f"…{sizes[-1]}" if len(sizes) > 1 else "")
    return [st for st, _ in out.values()]

"""Architectures side by side: `cnncalc compare vgg16 googlenet --flops`."""
from __future__ import annotations

from pydantic import BaseModel

from .analyze import analyze, load
from .graph import INPUT, Graph
from .report import Report
from ..layers import fmt_shape

class StageRow(BaseModel):
    """Layers grouped by output resolution (the natural stages of a CNN)."""
    resolution: str        # 56×56, or 'vector'
    layers: int
    params: int
    macs: int
    flops: int
    activations: int = 0   # elements of the layers' outputs (×4 bytes at fp32)


class CompareRow(BaseModel):
    name: str
    title: str
    input: list[int]
    params: int
    macs: int
    flops: int
    activation_bytes: int
    depth: int             # weight layers on the longest path
    final_rf: int          # receptive field of the last layer that still has a spatial map > 1×1
    final_rf_layer: str | None
    ratio: float           # chosen metric / the first architecture's
    stages: list[StageRow] = []


class CompareReport(BaseModel):
    metric: str
    rows: list[CompareRow]


def stages(report: Report) -> list[StageRow]:
    out: dict[str, StageRow] = {}
    for r in report.layers:
        key = fmt_shape(r.output[1:]) if len(r.output) > 1 else "vector"
        st = out.setdefault(key, StageRow(resolution=key, layers=0, params=0, macs=0, flops=0))
        st.layers += 1
        st.activations += r.activations
        st.params += r.params
        st.macs += r.macs
        st.flops += r.flops
    return list(out.values())


def final_rf(report: Report, graph: Graph) -> tuple[int, str | None]:
    """Per output, the receptive field of the last layer before it (itself included) that still has a
    spatial map larger than 1×1; with several outputs, the largest of them."""
    best: tuple[int, str | None] = (1, None)
    for out in graph.output_nodes:
        maps = [i for i in ancestors(graph, out)
                if len(report.layers[i].output) == 3 and report.layers[i].output[1] * report.layers[i].output[2] > 1]
        if maps and report.layers[maps[-1]].rf.size > best[0]:
            best = (report.layers[maps[-1]].rf.size, report.layers[maps[-1]].name)
    return best


def ancestors(graph: Graph, out: int) -> list[int]:
    """The nodes whose value reaches node `out` (itself included), in graph order."""
    seen = {out} if out != INPUT else set()
    for i in range(out, -1, -1):
        if i in seen:
            seen.update(j for j in graph.nodes[i].inputs if j != INPUT)
    return sorted(seen)


def compare(names: list[str], metric: str = "macs", input: str | None = None, batch: int = 1,
            with_stages: bool = False, layout: str | None = None) -> CompareReport:
    rows = []
    for name in names:
        graph = load(name, input, layout)
        rep = analyze(graph, batch=batch)
        rf, rf_layer = final_rf(rep, graph)
        t = rep.totals
        rows.append(CompareRow(name=name if isinstance(name, str) else graph.file or graph.name, title=rep.name, input=rep.input, params=t.params, macs=t.macs,
                               flops=t.flops, activation_bytes=t.activation_bytes, depth=t.depth,
                               final_rf=rf, final_rf_layer=rf_layer, ratio=1.0,
                               stages=stages(rep) if with_stages else []))
    base = getattr(rows[0], metric) or 1
    for row in rows:
        row.ratio = getattr(row, metric) / base
    return CompareReport(metric=metric, rows=rows)

"""The worked formula shown beside a wrong answer: the lines of `cnncalc explain` that compute the
figure, shapes in the answers file's layout, and the sums of a block or a total term by term."""
from __future__ import annotations

import re

from ..analysis.explain import explain
from ..errors import CnncalcError
from ..layers import numel
from .numbers import fmt_dims, from_chw, layout_text
from .subject import Leaf, Subject, count, flops

NUMERIC = ("params", "weights", "biases", "macs", "flops")
WANTED = {"output": ("output",), "params": ("params", "N_in"), "weights": ("params", "N_in"),
          "biases": ("params", "N_in"), "macs": ("MACs",), "flops": ("MACs", "FLOPs"), "rf": ("RF",)}
_TRIPLE = re.compile(r"\b(\d+)×(\d+)×(\d+)\b")
_PAIR = re.compile(r"^((?:\S+: )?output: )(\d+)×(\d+)(?![×\d])")     # a 1-D map's C×L


def in_layout(line: str, layout: str) -> str:
    """C×H×W (and C×L) shapes of an `output` line written in the file's layout (H×W×C, L×C by default)."""
    if layout != "HWC" or not re.match(r"(\S+: )?output", line):
        return line
    line = _PAIR.sub(lambda m: f"{m[1]}{m[3]}×{m[2]}", line)
    return _TRIPLE.sub(lambda m: f"{m[2]}×{m[3]}×{m[1]}", line)


def worked_formula(subject: Subject, figure: str, layout: str = "CHW") -> list[str]:
    """The lines that compute this figure for this subject."""
    if figure in ("connections", "activations", "memory", "param_memory") or \
            (figure in ("flops", "params") and not _default(subject, figure)):
        return size_formula(subject, figure, layout)
    if subject.kind == "total" and figure in NUMERIC + ("output", "rf"):
        return total_formula(subject, figure, layout)
    return [in_layout(ln, layout) for ln in _explained(subject, figure)]


def _default(subject: Subject, figure: str) -> bool:
    conv = subject.conventions
    return conv.flops == "2mac" if figure == "flops" else conv.params == "with_bias"


def _explained(subject: Subject, figure: str) -> list[str]:
    graph = subject.graph
    try:
        parts = explain(graph, subject.explain_name) if subject.explain_name else \
            [explain(graph, graph.nodes[i].name)[0] for i in subject.nodes]
    except CnncalcError:
        return []
    picked = [(title, [ln for ln in lines if ln.startswith(WANTED[figure])]) for title, lines in parts]
    picked = [(t, ls) for t, ls in picked if ls]
    if not picked:
        return []
    if len(parts) == 1:
        return picked[0][1]
    if figure == "rf" and subject.kind == "chain":
        return _titled(picked)
    if figure in ("output", "rf"):
        return _titled(picked[-1:])
    out = _titled(picked)
    vals = _terms(subject, figure)
    if len(vals) > 1:
        out.append(f"{figure}: " + " + ".join(f"{v:,}" for _, v in vals) + f" = {subject.total(figure):,}")
    return out


def total_formula(subject: Subject, figure: str, layout: str = "CHW") -> list[str]:
    report = subject.report
    if figure == "output":
        out = subject.output
        return [f"network output: {fmt_dims(from_chw(out, layout))} ({layout_text(layout) if len(out) == 3 else 'N'}), "
                f"from {report.layers[subject.graph.output_nodes[0]].name}"]
    if figure == "rf":
        last = report.layers[subject.graph.output_nodes[0]]
        return [f"receptive field of {last.name}: {last.rf.size}, effective stride {last.rf.stride}"]
    vals = _terms(subject, figure)
    what = {"params": "params", "weights": "weights (params − biases)", "biases": "biases", "macs": "MACs",
            "flops": "FLOPs = 2·MACs"}[figure]
    return [f"{what}: Σ over layers = {_sum(vals)} = {subject.total(figure):,}"]


def _sum(vals: list[tuple[str, int]]) -> str:
    shown = vals if len(vals) <= 8 else vals[:7]
    return " + ".join(f"{n} {v:,}" for n, v in shown) + (f" + … ({len(vals) - 7} more)" if len(vals) > 8 else "")


def _terms(subject: Subject, figure: str) -> list[tuple[str, int]]:
    """(leaf name, value) of the subject's leaves that contribute to the figure."""
    vals = [(lf.name, count([lf], figure, subject.conventions)) for lf in subject.leaves]
    return [(n, v) for n, v in vals if v]


def _titled(picked: list[tuple[str, list[str]]]) -> list[str]:
    """Formula lines, each prefixed with its layer's name (the first word of the explain title)."""
    return [f"{title.split(' ')[0]}: {ln}" for title, lines in picked for ln in lines]


# --------------------------------------------------------------------------------------
# Figures that `explain` does not print: connections, activations, memory, other conventions


def _leaf_line(lf: Leaf, figure: str, subject: Subject) -> str:
    conv = subject.conventions
    if figure == "connections":
        return f"{lf.macs:,} MACs + {lf.b:,} biases·{lf.pos:,} positions = {lf.macs + lf.b * lf.pos:,}"
    if figure == "flops":
        rule = conv.flops
        if rule == "2mac+bias":
            return f"2·{lf.macs:,} + {lf.b:,}·{lf.pos:,} bias adds = {flops(lf, rule):,}"
        return f"2·{lf.macs:,} − {lf.outs:,} outputs + {lf.b:,}·{lf.pos:,} bias adds = {flops(lf, rule):,}"
    return f"{count([lf], 'params', conv):,} ({'weights only' if conv.params == 'weights_only' else 'with biases'})"


def size_formula(subject: Subject, figure: str, layout: str) -> list[str]:
    conv = subject.conventions
    if figure in ("connections", "flops", "params"):
        title = {"connections": "connections = MACs + one per bias per output position (each weight and bias "
                                "used once per output)",
                 "flops": f"FLOPs ({conv.flops})", "params": f"params ({conv.params})"}[figure]
        lines = [f"{lf.name}: {_leaf_line(lf, figure, subject)}" for lf in subject.leaves
                 if count([lf], figure, conv)]
        if len(lines) > 8:
            lines = lines[:7] + [f"… ({len(lines) - 7} more)"]
        return [title] + lines + [f"{figure}: {subject.total(figure):,}"]
    if figure == "param_memory":
        params = subject.value("params", subject.leaves)
        return [f"param_memory: {params:,} params × {conv.bytes} bytes ({conv.dtype}) = {params * conv.bytes:,} "
                f"bytes = {_units(params * conv.bytes)}"]
    elems = subject.elements(subject.leaves, conv.activations)
    lines = [_elements_line(subject, elems, layout)]
    if figure == "memory":
        lines.append(f"memory: {elems:,} × {conv.bytes} bytes ({conv.dtype}) = {elems * conv.bytes:,} bytes = "
                     f"{_units(elems * conv.bytes)}")
    return lines


def _elements_line(subject: Subject, elems: int, layout: str) -> str:
    if not subject.sums:
        out = subject.output
        return f"activations: the output {fmt_dims(from_chw(out, layout))} = {'·'.join(map(str, out))} = {elems:,}"
    rows = [lf for lf in subject.leaves if not lf.train_only]
    if subject.conventions.activations == "every_layer":
        return f"activations (every layer's output added): {_sum([(lf.name, lf.outs) for lf in rows])} = {elems:,}"
    vals = [("input", numel(subject.graph.input))] + [(lf.name, lf.outs) for lf in rows if lf.lecture]
    return (f"activations (the input and each conv/pool/fc output once; in-place activations add nothing): "
            f"{_sum(vals)} = {elems:,}")


def _units(b: int) -> str:
    return f"{b / 1e6:,.4g} MB = {b / 2 ** 20:,.4g} MiB"

"""Static analysis: Graph → Report. Collect (spec), compute (here), render (render.py)."""
from __future__ import annotations

import functools
import gc
import warnings
from pathlib import Path
from typing import Any

from ..spec.builtins import BuiltinNote, builtin_names, builtin_path
from ..errors import SpecError, closest, printable, quote
from .graph import INPUT, Graph
from ..layers import numel
from .receptive import Axis, receptive_fields, rf_fields
from .report import Report
from ..spec.builder import build_graph, parse_shape, refuse_non_architecture
from ..spec.order import parse_layout
from ..spec.yamlio import load_file

BYTES_FP32 = 4


def gc_paused(fn):
    """Run `fn` with CPython's cyclic garbage collector paused (and restored after, even on errors).

    Parsing, building and reporting allocate a few dozen small objects per layer (YAML nodes, layer
    dicts, shape tuples, rows) and free almost none until the end, so each automatic collection
    re-scans everything allocated so far: on a 100,000-layer file that was half the run time and made
    the cost per layer grow with the layer count. The analyzer creates no reference cycles that need
    collecting; whatever garbage a call leaves is collected as usual once the collector is back on.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()
    return wrapper


def resolve(spec: str | Path) -> Path:
    """A path, or the name of a built-in (works from any directory)."""
    text = str(spec)
    p = Path(text)
    if _exists(p) or any(c in text for c in "/\\"):
        return p
    if p.suffix in (".yaml", ".yml"):
        found = builtin_path(p.stem)
        if found is not None:  # `cnncalc analyze lenet5.yaml` away from the repository: the built-in
            warnings.warn(BuiltinNote(f"no file {text} here: using the built-in {p.stem}"), stacklevel=2)
            return found
        return p
    found = builtin_path(text)
    if found is None:
        near = closest(text.lower(), builtin_names(), n=5)  # VGG16 → vgg16
        hint = f"; did you mean {', '.join(near)}?" if near else "; `cnncalc list` shows the built-ins"
        raise SpecError(f"{quote(text)} is neither a file nor a built-in architecture{hint}")
    return found


def _exists(p: Path) -> bool:
    """Whether a path exists; a name the system cannot even look up (too long, a NUL) does not."""
    try:
        return p.exists()
    except (OSError, ValueError):
        return False


def display_name(spec, path: Path) -> str:
    """What messages and reports call the file: as the user wrote it; a built-in by its package path."""
    builtin = builtin_path(str(spec)) == path or (builtin_path(path.stem) == path and not Path(str(spec)).exists())
    return f"cnncalc/architectures/{path.name}" if builtin else str(spec)


@gc_paused
def load(spec: Any, input: str | tuple | list | None = None, layout: str | None = None,
         foreign: bool = False) -> Graph:
    """Build the Graph of a path, a built-in name or a parsed dict; `input` overrides its input: a tuple
    channels first, or text as `--input` takes it (channels first, or channels last with layout="HWC").
    `foreign`: a file named by another file (an answers file's `architecture:`), refused without a word
    of its content unless it is an architecture (spec.builder.refuse_non_architecture)."""
    if isinstance(spec, Graph):
        return spec
    file = None
    if isinstance(spec, dict):
        doc = spec
    else:
        path = resolve(spec)
        file = printable(display_name(spec, path))   # a name the reports can show (no NUL, ESC, surrogate)
        doc = load_file(path)
        if foreign:
            refuse_non_architecture(doc, file)
    if layout is not None:
        layout = parse_layout(layout, "--layout")
        if not isinstance(input, str):
            raise SpecError(f"--layout {layout}: it says how --input is written; give --input too (a file says "
                            "its own with `layout:`)")
    shape = None if input is None or isinstance(input, str) else parse_shape(list(input))
    return build_graph(doc, file, shape, input if isinstance(input, str) else None, layout)


def rf_model(*st: Axis) -> dict:
    return rf_fields(st)


def layer_figures(layer, ins, out) -> tuple:
    """(config, params, buffers, MACs, other ops, notes, remark) of one layer on its inputs, per sample."""
    return (layer.config(), layer.params(ins, out), layer.buffers(ins, out), layer.macs(ins, out),
            layer.other_ops(ins, out), layer.notes(ins, out), layer.remark(ins, out))


@gc_paused
def analyze(spec: Any, *, input: str | tuple | list | None = None, batch: int = 1, train: Any = None,
            memory: bool = False, fit: int | None = None, layout: str | None = None) -> Report:
    """Analyze an architecture (path, built-in name, parsed dict or Graph) and return its Report.

    `train` (True, or a training.TrainConfig: dtype, optimizer) adds backward MACs and training memory;
    `memory` adds the peak live activations of inference; `fit` (bytes) the largest batch that fits;
    `layout="HWC"` reads a full `input` text channels last (224x224x3)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError(f"batch must be a whole number ≥ 1, got {quote(batch)}")
    graph = load(spec, input, layout)
    report = report_of(graph, batch)
    if train or fit is not None:
        from .training import TrainConfig
        cfg = train if isinstance(train, TrainConfig) else TrainConfig(batch)
        return with_training(graph, report, TrainConfig(batch, cfg.dtype, cfg.optimizer, cfg.device), fit)
    return with_memory(graph, report) if memory else report


def with_memory(graph: Graph, report: Report) -> Report:
    """The report with the inference peak of live activations (fp32) in its totals."""
    from .training import inference_peak
    totals = report.totals.model_copy(update={"peak_activation_bytes": inference_peak(graph, report.batch)})
    return report.model_copy(update={"totals": totals})


def with_training(graph: Graph, report: Report, cfg, fit: int | None = None) -> Report:
    """The report with the training figures per layer and in total (and the inference peak)."""
    from .report import LayerTraining, TrainingTotals
    from .training import training_section
    per, totals = training_section(graph, cfg, fit)
    rows = [r.model_copy(update={"training": LayerTraining(**t)}) for r, t in zip(report.layers, per)]
    blocks = [b.model_copy(update={"training": LayerTraining(
        **{f: sum(t[f] for t in per[g.first:g.last + 1]) for f in ("backward_macs", "saved_bytes")})})
        for b, g in zip(report.blocks, graph.groups)]
    report = with_memory(graph, report)
    return report.model_copy(update={"layers": rows, "blocks": blocks, "totals": report.totals.model_copy(
        update={"training": TrainingTotals.model_validate(totals)})})


@gc_paused
def report_of(graph: Graph, batch: int = 1) -> Report:
    states, misaligned = receptive_fields(graph)
    rows: list[dict] = []
    names = [nd.name for nd in graph.nodes]
    memo: dict = {}
    remarks: list[str] = []
    for idx, node in enumerate(graph.nodes):
        key = (node.layer, tuple(node.in_shapes))
        if key not in memo:  # equal layers on equal inputs (repeated blocks) are computed once
            memo[key] = layer_figures(node.layer, node.in_shapes, node.out_shape)
        cfg, params, buffers, macs, other, notes, remark = memo[key]
        if remark:
            remarks.append(f"{node.name}: {remark}")
        if idx in misaligned:
            notes = notes + [misaligned[idx]]
        if node.train_only:
            notes = notes + ["training only: not in the inference totals"]
        if node.shares is not None:  # its parameters are counted once, at their first use
            params, buffers = 0, 0
            notes = notes + [f"shares {names[node.shares]}"]
        # plain dicts, validated once as a whole Report in pydantic-core (the hot loop on 100k-layer nets)
        rows.append(dict(
            name=node.name, type=node.layer.type, input=list(node.in_shapes[0]), output=list(node.out_shape),
            config=cfg, params=params, buffers=buffers, macs=macs * batch, flops=2 * macs * batch,
            other_ops=other * batch, activations=numel(node.out_shape) * batch, rf=rf_model(*states[idx]),
            inputs=["input" if i == INPUT else names[i] for i in node.inputs] if len(node.inputs) > 1 else [],
            block=graph.groups[node.groups[0]].name if node.groups else None,
            line=node.line, notes=list(notes), train_only=node.train_only))
    blocks = [block_row(g, rows, states) for g in graph.groups]
    # params and buffers exist in every mode; work and activations are the inference forward's
    total = {f: sum(r[f] for r in rows) for f in ("params", "buffers")}
    total.update({f: sum(r[f] for r in rows if not r["train_only"]) for f in ("macs", "flops", "other_ops", "activations")})
    lecture = numel(graph.input) * batch + sum(r["activations"] for r, nd in zip(rows, graph.nodes)
                                               if lecture_row(nd) and not r["train_only"])
    totals = dict(
        total, trainable_params=total["params"], activation_bytes=total["activations"] * BYTES_FP32,
        lecture_activations=lecture,
        param_bytes=(total["params"] + total["buffers"]) * BYTES_FP32,
        weight_layers=sum(1 for nd in graph.nodes if nd.layer.weight_layer), depth=depth(graph), layers=len(rows))
    return Report.model_validate(dict(
        name=graph.name, source=graph.source, file=graph.file, input=list(graph.input), output=list(graph.output),
        outputs=outputs_of(graph), batch=batch, layers=rows, blocks=blocks, totals=totals,
        misaligned=[f"{names[i]}: {m}" for i, m in misaligned.items()], notes=list(graph.notes) + remarks))


def lecture_row(node) -> bool:
    """A lecture table gives this layer a row of its own: not applied in place (activations, dropout) nor a
    view (flatten, identity), and not a pooling that changes nothing (torchvision's adaptive 7×7 pool on a
    7×7 map). The lecture convention of activations counts the input and these rows' outputs."""
    if node.layer.in_place:
        return False
    return not (node.layer.type.startswith("adaptive") and tuple(node.out_shape) == tuple(node.in_shapes[0]))


def outputs_of(graph: Graph) -> list[dict]:
    """The network's outputs by name and shape when it has several (one output: `output` says it all)."""
    outs = graph.output_nodes
    return [dict(name=graph.nodes[o].name, output=list(graph.nodes[o].out_shape)) for o in outs] if len(outs) > 1 else []


def depth(graph: Graph) -> int:
    """Weight layers on the longest path from input to an output (the papers' depth: VGG-16 16, GoogLeNet 22)."""
    d: list[int] = []
    for node in graph.nodes:
        d.append(max((d[i] for i in node.inputs if i != INPUT), default=0) + node.layer.weight_layer)
    return max((d[o] for o in graph.output_nodes if o != INPUT), default=0)


def block_row(g, rows: list[dict], states) -> dict:
    inside = rows[g.first:g.last + 1]
    return dict(name=g.name, type=g.type, level=g.level, input=list(g.in_shape), output=list(g.out_shape),
                layers=len(inside), rf=rf_model(*states[g.last]),
                **{f: sum(r[f] for r in inside) for f in ("params", "macs", "flops", "other_ops")})

"""`cnncalc analyze` and `cnncalc list`."""
from __future__ import annotations

from typing import Optional

import typer

from ..spec.files import MAX_SIZE

from .common import JSON, LAYOUT, Format, chosen, console, emit_columns, emit_json, format_option, guarded, load_arch

ARCH_HELP = "A YAML file, a built-in name (`cnncalc list`), or a model to import (`cnncalc import -h`)."
INPUT_HELP = "Override the input: 3x64x64, 64x48 (H×W) or 64."


@guarded
def analyze_cmd(
    arch: str = typer.Argument(..., help=ARCH_HELP),
    input: Optional[str] = typer.Option(None, "--input", "-i", metavar="SHAPE", help=INPUT_HELP),
    layout: Optional[str] = LAYOUT,
    batch: int = typer.Option(1, "--batch", "-b", min=1, max=MAX_SIZE, metavar="N",
                              help="Batch size: scales MACs, FLOPs and activations."),
    format: Optional[Format] = format_option("the per-layer table"),
    json: bool = JSON,
    explain: Optional[str] = typer.Option(None, "--explain", "-e", metavar="LAYER",
                                          help="Print one layer's (or block's) worked formulas."),
    depth: Optional[int] = typer.Option(None, "--depth", "-d", min=1, max=1000, metavar="N",
                                        help="Collapse blocks below this nesting level into one row each."),
    html: Optional[str] = typer.Option(None, "--html", metavar="FILE",
                                       help="Write a self-contained HTML report (diagram, table, charts)."),
    train: bool = typer.Option(False, "--train", help="Add the training step: backward MACs, saved activations, "
                               "params/grads/optimizer memory and the peak (also --memory's figure)."),
    dtype: str = typer.Option("fp32", "--dtype", metavar="DTYPE", help="With --train: fp32, or fp16/bf16 mixed "
                              "precision (fp32 master weights)."),
    optimizer: str = typer.Option("adam", "--optimizer", metavar="NAME",
                                  help="With --train: sgd, momentum, adam or adamw."),
    fit: Optional[str] = typer.Option(None, "--fit", metavar="SIZE", help="With --train: the largest batch whose "
                                      "step fits, e.g. 16GB (10⁹ B) or 16GiB (2³⁰ B)."),
    memory: bool = typer.Option(False, "--memory", help="Add the peak live activations of inference."),
    device: str = typer.Option("cuda", "--device", metavar="cuda|cpu", help="With --train: whose kernels' saved "
                               "tensors to count (dropout keeps a 1-byte mask on CUDA, a full-size one on the CPU: "
                               "`verify --train` on the CPU proves the cpu figures)."),
):
    """Per-layer shapes, params, MACs, FLOPs and receptive field, with totals.

    Ends with where the work goes: MACs and params by output resolution.

    Examples:

      cnncalc analyze lenet5

      cnncalc analyze vgg16 --explain conv1_1

      cnncalc analyze resnet50 --depth 1 --format markdown

      cnncalc analyze my_net.yaml --input 3x64x64 --batch 8 --json

      cnncalc analyze resnet50 --depth 1 --html resnet50.html

      cnncalc analyze resnet50 --train --batch 32 --optimizer adam --fit 16GB
    """
    from ..analysis.analyze import report_of, with_memory, with_training

    fmt = chosen(format, json)
    graph = load_arch(arch, input, layout)
    if explain:
        from ..analysis.explain import explain as explain_fn
        from ..render.tables import print_explanation
        print_explanation(explain_fn(graph, explain), console())
        return
    report = report_of(graph, batch)
    if train or fit is not None:
        from ..analysis.training import TrainConfig, parse_bytes
        budget = parse_bytes(fit) if fit is not None else None
        report = with_training(graph, report, TrainConfig(batch, dtype, optimizer, device.lower()), budget)
    elif memory:
        report = with_memory(graph, report)
    if html:
        from .draw import write_html_report
        write_html_report(graph, report, depth, html, arch)
        return
    if fmt == "json":
        emit_json(report)
        return
    from ..render import tables
    if fmt != "table":
        emit_columns(fmt, tables.layer_columns(report, depth), footer=True)
        return
    from ..analysis.compare import stages
    if report.totals.training is not None or memory:
        from ..render.training import print_training
        print_training(report, console(), depth, stages(report))
        return
    tables.print_report(report, console(), depth, stages(report))


def first_sentence(text: str) -> str:
    """The citation part of a `source:`: up to the first parenthesis, semicolon, colon or ", as " that is not
    inside a quoted title (MnasNet's title has a colon)."""
    quoted = False
    for i, ch in enumerate(text):
        quoted ^= ch == '"'
        if not quoted and text.startswith((";", " (", ": ", ", as "), i):
            return text[:i].rstrip(",. ")
    return text.rstrip(",. ")


@guarded
def list_cmd(format: Optional[Format] = format_option("the list"), json: bool = JSON):
    """List the built-in architectures with their source and totals.

    A built-in's name works from any directory: cnncalc analyze vgg16.

    Examples:

      cnncalc list

      cnncalc list --format csv > builtins.csv
    """
    from ..analysis.analyze import analyze
    from ..spec.builtins import builtin_names

    fmt = chosen(format, json)
    rows = []
    for name in builtin_names():
        r = analyze(name)
        rows.append({"name": name, "title": r.name, "input": r.input, "params": r.totals.params,
                     "macs": r.totals.macs, "source": r.source})
    if fmt == "json":
        import json as js
        print(js.dumps(rows, indent=2, ensure_ascii=False))
        return
    from ..render.tables import list_columns, print_list
    short = [dict(r, source=first_sentence(r["source"])) for r in rows]
    if fmt != "table":
        emit_columns(fmt, list_columns(rows))
        return
    print_list(short, console())

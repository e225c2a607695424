"""`cnncalc analyze` and `cnncalc list`."""
from __future__ import annotations

from typing import Optional

import typer

from .common import console, emit_json, guarded

ARCH_HELP = "A YAML file, or a built-in name (`cnncalc list`)."


@guarded
def analyze_cmd(
    arch: str = typer.Argument(..., help=ARCH_HELP),
    input: Optional[str] = typer.Option(None, "--input", "-i", help="Override the input: 3x64x64, 64x48 (H×W) or 64."),
    batch: int = typer.Option(1, "--batch", "-b", min=1, help="Batch size: scales MACs, FLOPs and activations."),
    json: bool = typer.Option(False, "--json", help="Print the Report as JSON."),
    explain: Optional[str] = typer.Option(None, "--explain", "-e", help="Print one layer's (or block's) worked formulas."),
    depth: Optional[int] = typer.Option(None, "--depth", "-d", min=1, help="Collapse blocks below this nesting level."),
    html: Optional[str] = typer.Option(None, "--html", help="Write a self-contained HTML report (diagram, table, charts)."),
):
    """Per-layer shapes, params, MACs, FLOPs and receptive field, with totals.

    Examples:

      cnncalc analyze lenet5

      cnncalc analyze vgg16 --explain conv1_1

      cnncalc analyze my_net.yaml --input 3x64x64 --batch 8 --json

      cnncalc analyze resnet50 --depth 1 --html resnet50.html
    """
    from ..analysis.analyze import load, report_of

    graph = load(arch, input)
    if explain:
        from ..analysis.explain import explain as explain_fn
        from ..render.tables import print_explanation
        print_explanation(explain_fn(graph, explain), console())
        return
    report = report_of(graph, batch)
    if html:
        from .draw import write_html_report
        write_html_report(graph, report, depth, html, arch)
        return
    if json:
        emit_json(report)
        return
    from ..render.tables import print_report
    print_report(report, console(), depth)


def first_sentence(text: str, limit: int = 90) -> str:
    """The citation part of a `source:` (up to the first parenthesis, semicolon or colon)."""
    head = text.split(";")[0].split(" (")[0].split(": ")[0].rstrip(",. ")
    return head if len(head) <= limit else head[:limit - 1] + "…"


@guarded
def list_cmd(json: bool = typer.Option(False, "--json", help="Print as JSON.")):
    """List the built-in architectures with their source and totals.

    Example:

      cnncalc list
    """
    from ..analysis.analyze import analyze
    from ..spec.builtins import builtin_names

    rows = []
    for name in builtin_names():
        r = analyze(name)
        rows.append({"name": name, "title": r.name, "input": r.input, "params": r.totals.params,
                     "macs": r.totals.macs, "source": r.source})
    if json:
        import json as js
        print(js.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.table import Table

    from ..render.tables import human, shape
    t = Table(title="built-in architectures")
    for col in ("name", "input", "params", "MACs", "source"):
        t.add_column(col, justify="right" if col in ("params", "MACs") else "left",
                     overflow="fold", max_width=70 if col == "source" else None)
    for r in rows:
        t.add_row(r["name"], shape(r["input"]), f"{r['params']:,}", human(r["macs"]), first_sentence(r["source"]))
    console().print(t)

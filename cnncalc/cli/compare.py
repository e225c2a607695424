"""`cnncalc compare`: architectures side by side."""
from __future__ import annotations

from typing import List, Optional

import typer

from .common import console, emit_json, guarded


@guarded
def compare_cmd(
    archs: List[str] = typer.Argument(..., help="Two or more YAML files or built-in names."),
    params: bool = typer.Option(False, "--params", help="Rank by parameters."),
    macs: bool = typer.Option(False, "--macs", help="Rank by MACs (the default)."),
    flops: bool = typer.Option(False, "--flops", help="Rank by FLOPs."),
    memory: bool = typer.Option(False, "--memory", help="Rank by activation memory."),
    input: Optional[str] = typer.Option(None, "--input", "-i", help="Override every input (3x224x224, or 224)."),
    batch: int = typer.Option(1, "--batch", "-b", min=1),
    stages: bool = typer.Option(False, "--stages", help="Add a breakdown by output resolution."),
    json: bool = typer.Option(False, "--json", help="Print as JSON."),
    html: Optional[str] = typer.Option(None, "--html", help="Write a self-contained HTML page: the networks side by side."),
):
    """Params, MACs, FLOPs, activation memory, depth and final receptive field, side by side.

    Example:

      cnncalc compare vgg16 googlenet --flops

      cnncalc compare resnet50 densenet121 --html compare.html
    """
    from ..analysis.compare import compare
    from ..errors import CnncalcError
    chosen = [m for m, on in (("params", params), ("macs", macs), ("flops", flops), ("activation_bytes", memory)) if on]
    if len(chosen) > 1:
        raise CnncalcError("choose one of --params, --macs, --flops, --memory")
    rep = compare(archs, chosen[0] if chosen else "macs", input, batch, stages)
    if html:
        from .draw import write_html_compare
        write_html_compare(rep, archs, input, batch, html)
        return
    if json:
        emit_json(rep)
        return
    from ..render.tables import print_compare
    print_compare(rep, console())

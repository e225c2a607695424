"""`cnncalc compare`: architectures side by side."""
from __future__ import annotations

from typing import List, Optional

import typer

from ..spec.files import MAX_SIZE

from .common import JSON, LAYOUT, Format, chosen, console, emit_columns, emit_json, format_option, guarded, load_arch
from ..importers import is_source


@guarded
def compare_cmd(
    archs: List[str] = typer.Argument(..., metavar="ARCH...", help="Two or more YAML files, built-in names or models to import (`cnncalc import -h`)."),
    params: bool = typer.Option(False, "--params", help="Compare by parameters: the ratio column and the bars."),
    macs: bool = typer.Option(False, "--macs", help="Compare by MACs (the default)."),
    flops: bool = typer.Option(False, "--flops", help="Compare by FLOPs."),
    memory: bool = typer.Option(False, "--memory", help="Compare by activation memory."),
    input: Optional[str] = typer.Option(None, "--input", "-i", metavar="SHAPE",
                                        help="Override every input: 3x224x224, or 224."),
    layout: Optional[str] = LAYOUT,
    batch: int = typer.Option(1, "--batch", "-b", min=1, max=MAX_SIZE, metavar="N", help="Batch size: scales MACs, FLOPs and "
                              "activations."),
    stages: bool = typer.Option(False, "--stages", help="Add a breakdown by output resolution."),
    format: Optional[Format] = format_option("the comparison"),
    json: bool = JSON,
    html: Optional[str] = typer.Option(None, "--html", metavar="FILE",
                                       help="Write a self-contained HTML page: the networks side by side."),
):
    """Params, MACs, FLOPs, activation memory, depth and final receptive field, side by side.

    Give two or more architectures: rows keep the order given, and the first is the reference of the ratio column (--params, --macs, --flops or --memory choose the figure it divides). final RF: the receptive field of the last map larger than 1×1; the layers after it (fully connected, global pooling) see the whole input.

    Examples:

      cnncalc compare vgg16 googlenet --flops

      cnncalc compare resnet18 resnet50 mobilenet_v2 --params --format markdown

      cnncalc compare resnet50 densenet121 --html compare.html
    """
    from ..analysis.compare import compare
    from ..errors import CnncalcError
    if len(archs) < 2:
        raise CnncalcError(f"compare needs two or more architectures (cnncalc analyze {archs[0]} shows one)")
    fmt = chosen(format, json)
    chosen_metric = [m for m, on in (("params", params), ("macs", macs), ("flops", flops),
                                     ("activation_bytes", memory)) if on]
    if len(chosen_metric) > 1:
        raise CnncalcError("choose one of --params, --macs, --flops, --memory")
    specs = [load_arch(a, input, layout) if is_source(a) else a for a in archs]
    rep = compare(specs, chosen_metric[0] if chosen_metric else "macs", input, batch, stages, layout)
    if html:
        from .draw import write_html_compare
        write_html_compare(rep, archs, input, layout, batch, html)
        return
    if fmt == "json":
        emit_json(rep)
        return
    from ..render import tables
    if fmt != "table":
        emit_columns(fmt, tables.compare_columns(rep))
        return
    tables.print_compare(rep, console())

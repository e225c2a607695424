"""`cnncalc sweep` (figures at many input sizes) and `cnncalc sizes` (which input sizes a network takes)."""
from __future__ import annotations

import re
from typing import List, Optional

import typer

from ..errors import CnncalcError
from .common import JSON, LAYOUT, Format, chosen, console, emit_columns, emit_json, format_option, guarded, load_arch
from ..importers import is_source


@guarded
def sweep_cmd(
    arch: str = typer.Argument(..., help="A YAML file, a built-in name (`cnncalc list`), or a model to import (`cnncalc import -h`)."),
    more: Optional[List[str]] = typer.Argument(None, metavar="[SIZES]...",
                                               help="More --input sizes (what the shell makes of 3x{64..512..32})."),
    input: Optional[List[str]] = typer.Option(None, "--input", "-i",
                                              help="C×sizes with ranges: 3x{64..512..32}, 3x{64..128..32}x{96..160..32}."),
    layout: Optional[str] = LAYOUT,
    sizes: Optional[List[str]] = typer.Option(None, "--sizes", "-s",
                                              help="Spatial sizes, channels kept: 64:512:32, 64:128:32x96:160:32."),
    format: Optional[Format] = format_option("one row per size (csv: every figure)"),
    json: bool = JSON,
):
    """Shapes, params, MACs, memory and receptive-field coverage at every input size of a range.

    The architecture is parsed and validated once; each size is then re-evaluated with integer arithmetic. A size where a layer collapses is a row naming the layer and why.

    Examples:

      cnncalc sweep resnet50 --input '3x{64..512..32}'

      cnncalc sweep vgg16 --sizes 64:512:32 --format csv

      cnncalc sweep resnet18 --input '3x{64..128..32}x{96..160..32}' --json
    """
    from ..analysis.sizes import shapes_of
    from ..analysis.sweep import SweepReport, load_for_sweep, sweep_rows
    from ..spec.order import parse_layout

    fmt = chosen(format, json)
    if not (input or sizes or more):
        raise CnncalcError("give the sizes: --input '3x{64..512..32}' or --sizes 64:512:32")
    graph = load_for_sweep(load_arch(arch) if is_source(arch) else arch)
    layout = None if layout is None else parse_layout(layout, "--layout")
    shapes = shapes_of(list(input or []) + list(more or []), graph.input, layout=layout)
    shapes += shapes_of(list(sizes or []), graph.input, channels=False, what="--sizes")
    report = SweepReport(name=graph.name, file=graph.file, input=list(graph.input),
                         rows=list(sweep_rows(graph, shapes)))
    if fmt == "json":
        emit_json(report)
        return
    from ..render.sweep import print_sweep, sweep_columns
    if fmt == "table":
        print_sweep(report, console())
    else:
        emit_columns(fmt, [c for c in sweep_columns(report, every=fmt == "csv") if fmt == "csv" or not c.empty()])


@guarded
def sizes_cmd(
    arch: str = typer.Argument(..., help="A YAML file, a built-in name (`cnncalc list`), or a model to import (`cnncalc import -h`)."),
    range_: str = typer.Option("32..1024", "--range", "-r", help="First..last input size (ends included)."),
    per_axis: bool = typer.Option(False, "--per-axis", help="Vary one spatial axis at a time (default for a "
                                                            "non-square input)."),
    json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """The input sizes a network accepts, and among them the exact ones.

    Exact: no layer drops or implicitly pads rows, and every merge's inputs line up (equal sizes, or a centred crop). Progressions are named ("every 32 from 33: 33, 65, …").

    Examples:

      cnncalc sizes resnet50

      cnncalc sizes vgg16 --range 16..512 --per-axis
    """
    from ..analysis.sizes import sizes

    m = re.fullmatch(r"\s*(\d{1,18})\s*(?:\.\.|:|-)\s*(\d{1,18})\s*", range_)
    if not m:
        raise CnncalcError(f"--range {range_}: expected FIRST..LAST such as 32..1024")
    report = sizes(load_arch(arch) if is_source(arch) else arch, int(m[1]), int(m[2]), per_axis)
    if json:
        emit_json(report)
        return
    from ..render.sweep import print_sizes
    print_sizes(report, console())

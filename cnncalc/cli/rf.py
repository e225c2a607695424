"""`cnncalc rf`: receptive fields of an architecture, or of an ad-hoc chain of layer tokens."""
from __future__ import annotations

from typing import List, Optional

import typer

from ..errors import CnncalcError
from .common import JSON, LAYOUT, Format, chosen, console, emit_columns, emit_json, format_option, guarded, load_arch


@guarded
def rf_cmd(
    arch: Optional[str] = typer.Argument(None, help="A YAML file, built-in name or model to import (or give --layer instead)."),
    layer: Optional[List[str]] = typer.Option(None, "--layer", "-l", metavar="TOKEN",
                                              help="One layer of an ad-hoc chain, repeated: conv3, conv5s2, "
                                              "pool2, conv3d2 (the tokens are described above)."),
    input: Optional[str] = typer.Option(None, "--input", "-i", metavar="SHAPE",
                                        help="Override the architecture's input: 3x64x64, 64x48 (H×W) or 64."),
    layout: Optional[str] = LAYOUT,
    every: bool = typer.Option(False, "--all", "-a", help="Show every layer, also where the field does not change."),
    depth: Optional[int] = typer.Option(None, "--depth", "-d", min=1, metavar="N",
                                        help="Collapse blocks below this nesting level into one row each."),
    format: Optional[Format] = format_option("the table"),
    json: bool = JSON,
):
    """Receptive field size, effective stride and padding per layer and axis (Araujo et al. 2019).

    Shows the layers where the field changes (--all: every layer).

    Examples:

      cnncalc rf vgg16

      cnncalc rf resnet50 --depth 1

      cnncalc rf -l conv3 -l conv3 -l conv3      # 3, 5, 7

    \b
    Layer tokens: KIND K then any of sS (stride), pP (padding), dD (dilation),
    gG (groups), fN (filters), same, ceil. KIND is conv, pool (= maxpool),
    maxpool or avgpool; pool stride defaults to its kernel.
    e.g. conv3  conv5s2  conv3d2  pool2  pool3s2ceil  conv3s2p1
    """
    if not arch and not layer:
        raise CnncalcError("rf: give an architecture (cnncalc rf vgg16) or a chain of layers "
                           "(cnncalc rf -l conv3 -l conv3); see cnncalc rf -h")
    if arch and layer:
        raise CnncalcError("rf: give an architecture or a chain of layers (--layer), not both")
    fmt = chosen(format, json)
    from ..render import tables as render
    if layer:
        from ..analysis.calc import rf_chain
        rows = rf_chain(layer)
        if fmt == "json":
            import json as js
            print(js.dumps([r.model_dump() for r in rows], indent=2))
        elif fmt == "table":
            render.print_rf_chain(rows, console())
        else:
            emit_columns(fmt, render.chain_columns(rows))
        return
    from ..analysis.receptive import rf_report, rf_view
    graph = load_arch(arch, input, layout)
    rep = rf_report(graph)
    if fmt == "json":
        emit_json(rep)
        return
    rows, hidden = rf_view(graph, rep, depth, every)
    if fmt == "table":
        render.print_rf(rep, console(), rows, hidden)
    else:
        emit_columns(fmt, render.rf_columns(rows))

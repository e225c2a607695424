"""`cnncalc rf`: receptive fields of an architecture, or of an ad-hoc chain of layer tokens."""
from __future__ import annotations

from typing import List, Optional

import typer

from ..errors import CnncalcError
from .common import console, emit_json, guarded


@guarded
def rf_cmd(
    arch: Optional[str] = typer.Argument(None, help="A YAML file or built-in name."),
    layer: Optional[List[str]] = typer.Option(None, "--layer", "-l", help="An ad-hoc chain, one token each: "
                                              "conv3, conv5s2, pool2, conv3d2 (see below)."),
    input: Optional[str] = typer.Option(None, "--input", "-i", help="Override the architecture's input."),
    json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """Receptive field size, effective stride and padding per layer and axis (Araujo et al. 2019).

    Examples:

      cnncalc rf vgg16

      cnncalc rf -l conv3 -l conv3 -l conv3      # 3, 5, 7

    \b
    Layer tokens: KIND K then any of sS (stride), pP (padding), dD (dilation),
    gG (groups), fN (filters), same, ceil. KIND is conv, pool (= maxpool),
    maxpool or avgpool; pool stride defaults to its kernel.
    e.g. conv3  conv5s2  conv3d2  pool2  pool3s2ceil  conv3s2p1
    """
    if bool(arch) == bool(layer):
        raise CnncalcError("give an architecture (cnncalc rf vgg16) or a chain (cnncalc rf -l conv3 -l conv3), not both")
    from ..render import tables as render
    if layer:
        from ..analysis.calc import rf_chain
        rows = rf_chain(layer)
        if json:
            import json as js
            print(js.dumps([r.model_dump() for r in rows], indent=2))
        else:
            render.print_rf_chain(rows, console())
        return
    from ..analysis.analyze import load
    from ..analysis.receptive import rf_report
    rep = rf_report(load(arch, input))
    if json:
        emit_json(rep)
    else:
        render.print_rf(rep, console())


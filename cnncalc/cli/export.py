"""`cnncalc export`: an architecture as standalone PyTorch code."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import CnncalcError
from .common import LAYOUT, guarded, input_shape
from .verify import import_torch_module


@guarded
def export_cmd(
    arch: str = typer.Argument(..., help="A YAML file, or a built-in name (`cnncalc list`)."),
    torch: bool = typer.Option(False, "--torch", help="Write PyTorch code (an nn.Module class and a __main__ "
                               "that runs one forward pass)."),
    input: Optional[str] = typer.Option(None, "--input", "-i", metavar="SHAPE", help="Override the input: 3x64x64, 64x48 (H×W) or 64."),
    layout: Optional[str] = LAYOUT,
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to this file instead of stdout."),
):
    """Print the architecture as standalone, readable PyTorch code (needs torch).

    The code has imports, an nn.Module whose __init__ builds every layer (attribute names are the layer names with '_' for '.') and whose forward follows the graph, and a __main__ that runs one forward pass at the input size.

    Examples:

      cnncalc export lenet5 --torch

      cnncalc export resnet50 --torch -o resnet50.py && python resnet50.py
    """
    if not torch:
        raise CnncalcError("export: choose a format: --torch (PyTorch code, the only one so far)")
    export = import_torch_module("export")
    code = export.export_torch(arch, input_shape(arch, input, layout))
    if output is None or str(output) == "-":   # `-o -`: standard output
        print(code, end="")
        return
    from ..analysis.analyze import resolve
    from ..spec.files import atomic_write
    if atomic_write(output, code, inputs=[resolve(arch)], option="--output"):
        print(f"--output: replaced {output}", file=sys.stderr)
    print(f"wrote {output}: PyTorch code, {len(code.splitlines())} lines (run it: python {output})")

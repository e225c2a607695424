"""`cnncalc import`: a real model (ONNX file or PyTorch module) as an architecture file."""
from __future__ import annotations

import json as js
import sys
from typing import Optional

import typer

from ..errors import CnncalcError
from .common import LAYOUT, guarded

SOURCE_HELP = ("model.onnx, path/to/file.py:NAME or package.module:NAME (an nn.Module class or a function "
               "returning one). Importing a .py file or module RUNS ITS CODE.")


def parse_kwargs(text: Optional[str]) -> dict:
    if text is None:
        return {}
    try:
        value = js.loads(text)
    except ValueError as e:
        raise CnncalcError(f"--kwargs: not JSON ({e.msg} at position {e.pos})") from None
    if not isinstance(value, dict):
        raise CnncalcError("--kwargs: expected a JSON object such as '{\"num_classes\": 10}'")
    return value


@guarded
def import_cmd(
    source: str = typer.Argument(..., metavar="SOURCE", help=SOURCE_HELP),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE",
                                         help="Write the YAML here (default: stdout)."),
    input: Optional[str] = typer.Option(None, "--input", "-i", metavar="SHAPE",
                                        help="The input C×H×W: needed for a PyTorch module without an INPUT constant, "
                                        "or an ONNX model with unknown sizes."),
    kwargs: Optional[str] = typer.Option(None, "--kwargs", metavar="JSON",
                                         help="Arguments for NAME, as a JSON object: '{\"num_classes\": 10}'."),
    flat: bool = typer.Option(False, "--flat", help="One layer per op: no blocks, residuals or branches."),
    layout: Optional[str] = LAYOUT,
):
    """Import a model as an architecture file: the YAML a person would write, every layer proved.

    Reads an ONNX file (needs the onnx package: the onnx extra), or builds a PyTorch module without weights and captures it with torch.export. Every op maps to a layer kind; each layer's output shape and parameter count are checked against the model's. An op with no layer kind is never skipped: the import fails naming each such op type (exit 2).

    Importing a .py file or a module RUNS ITS CODE, as `python file.py` would: import only code you trust. An ONNX file is data and is read as such (external weights are never read).

    analyze, rf, compare, draw, sweep and sizes take the same sources in place of a YAML file.

    Examples:

      cnncalc import model.onnx -o model.yaml

      cnncalc import mynet.py:Net --input 3x224x224 -o net.yaml

      cnncalc import torchvision.models:resnet18 --kwargs '{"num_classes": 10}' --input 3x224x224
    """
    from ..importers import import_model, source_file
    from ..importers.writer import to_yaml
    if layout is not None:
        from ..spec.order import parse_layout
        layout = parse_layout(layout, "--layout")
    imported = import_model(source, input, parse_kwargs(kwargs), flat, layout)
    text = to_yaml(imported.doc)
    if output is None:
        sys.stdout.write(text)
        return
    from .draw import write_atomic
    write_atomic(output, text, inputs=[f for f in [source_file(source)] if f], option="--output")
    g = imported.graph
    print(f"wrote {output}: {len(g.nodes)} layers, input {'×'.join(map(str, g.input))}", file=sys.stderr)

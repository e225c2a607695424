"""`cnncalc calc conv|pool|fc|chain`: one exercise answered with its worked formula."""
from __future__ import annotations

from typing import List, Optional

import typer

from ..errors import CnncalcError, quote
from .common import JSON, console, emit_json, guarded

calc_app = typer.Typer(no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]},
                       help="Answer one exercise with its worked formula (conv, pool, fc, chain).\n\n"
                            "Input sizes are H×W×C as the course writes them (--layout CHW for C×H×W).\n\n"
                            "Examples:\n\n  cnncalc calc conv --input 227 -k 11 -s 4 --filters 96 --channels 3\n\n"
                            "  cnncalc calc fc --in 9216 --out 4096")

INPUT = typer.Option(..., "--input", "-i", metavar="SHAPE", help="227 (with --channels), 227x227x3 (H×W×C) or, with --layout CHW, 3x227x227.")
CHANNELS = typer.Option(None, "--channels", "-c", metavar="C", help="Input channels, when --input gives only the size.")
LAYOUT = typer.Option(None, "--layout", metavar="HWC|CHW", help="How a three-part --input is written: HWC (the "
                      "course's way, the default) or CHW.")


def _show(res, json: bool):
    if json:
        emit_json(res)
    else:
        from ..render.tables import print_calc
        print_calc(res, console())


def _padding(text: str):
    if text in ("same", "valid"):
        return text
    try:
        return int(text)
    except ValueError:
        from ..errors import CnncalcError
        raise CnncalcError(f"--padding: expected a number, same or valid, got {quote(text)}") from None


@calc_app.command("conv")
@guarded
def conv(input: str = INPUT, kernel: int = typer.Option(..., "--kernel", "-k", metavar="K", help="Kernel size."),
         stride: int = typer.Option(1, "--stride", "-s", metavar="S", help="Stride."),
         padding: str = typer.Option("0", "--padding", "-p", metavar="P", help="A number, same or valid."),
         filters: int = typer.Option(..., "--filters", "-f", metavar="N", help="Output channels."),
         dilation: int = typer.Option(1, "--dilation", "-d", metavar="D", help="Dilation."),
         groups: int = typer.Option(1, "--groups", "-g", metavar="G", help="Groups (C_in for depthwise)."),
         bias: bool = typer.Option(True, "--bias/--no-bias", help="With a bias per filter (the default) or none."),
         channels: Optional[int] = CHANNELS, layout: Optional[str] = LAYOUT, json: bool = JSON):
    """A convolution: output size, params (weights and biases), MACs, FLOPs, same padding.

    Each figure with its worked formula, as the course writes it.

    Example:

      cnncalc calc conv --input 227 -k 11 -s 4 --filters 96 --channels 3
    """
    from ..analysis.calc import calc_layer, read_input
    shape = read_input(input, channels, layout)
    _show(calc_layer(shape, {"type": "conv", "filters": filters, "kernel": kernel, "stride": stride,
                             "padding": _padding(padding), "dilation": dilation, "groups": groups, "bias": bias}), json)


@calc_app.command("pool")
@guarded
def pool(input: str = INPUT, kernel: int = typer.Option(..., "--kernel", "-k", metavar="K", help="Window size."),
         stride: Optional[int] = typer.Option(None, "--stride", "-s", metavar="S", help="Defaults to the kernel."),
         padding: int = typer.Option(0, "--padding", "-p", metavar="P", help="Padding on each side."),
         ceil: bool = typer.Option(False, "--ceil", help="Round the output size up (ceil_mode)."),
         avg: bool = typer.Option(False, "--avg", help="Average instead of max pooling."),
         channels: Optional[int] = CHANNELS, layout: Optional[str] = LAYOUT, json: bool = JSON):
    """A pooling layer: output size with floor (or --ceil), both roundings where they differ.

    A pool has no params or MACs; the worked formula shows what happens to the remainder.

    Example:

      cnncalc calc pool --input 55x55x96 -k 3 -s 2 --ceil
    """
    from ..analysis.calc import calc_layer, read_input
    shape = read_input(input, channels, layout)
    layer = {"type": "avgpool" if avg else "maxpool", "kernel": kernel, "padding": padding, "ceil_mode": ceil}
    if stride is not None:
        layer["stride"] = stride
    _show(calc_layer(shape, layer), json)


@calc_app.command("fc")
@guarded
def fc(n_in: str = typer.Option(..., "--in", metavar="N|MAP",
                                help="Input neurons N_in, or a map it flattens: 6x6x256 (H×W×C; --layout CHW)."),
       n_out: int = typer.Option(..., "--out", metavar="N", help="Output neurons N_out."),
       bias: bool = typer.Option(True, "--bias/--no-bias", help="With a bias per output (the default) or none."),
       layout: Optional[str] = LAYOUT, json: bool = JSON):
    """A fully connected layer: params (N_in + 1)·N_out, MACs N_in·N_out, FLOPs 2·N_in·N_out.

    --in takes a count, or the map the layer flattens.

    Examples:

      cnncalc calc fc --in 9216 --out 4096

      cnncalc calc fc --in 6x6x256 --out 4096      # AlexNet's fc6 on its last map
    """
    from ..analysis.calc import calc_layer, read_input
    from ..spec.builder import parse_shape
    text = n_in.strip()
    try:
        shape = parse_shape([int(text)], "--in") if text.isdigit() else read_input(text, None, layout)
    except CnncalcError as e:  # read_input speaks of --input; this option is --in
        raise CnncalcError(str(e).replace("--input", "--in")) from None
    _show(calc_layer(shape, {"type": "linear", "out": n_out, "bias": bias}), json)


@calc_app.command("chain")
@guarded
def chain(tokens: List[str] = typer.Argument(..., help="Layer tokens, e.g. conv1f16 conv5f32same."),
          input: str = INPUT, channels: Optional[int] = CHANNELS, layout: Optional[str] = LAYOUT,
          json: bool = JSON):
    """Several layers in a row, with the total (the Inception bottleneck).

    Tokens as for rf -l, such as conv1f16 (a 1×1 conv with 16 filters) and conv5f32same.

    Example:

      cnncalc calc chain --input 28x28x192 conv1f16 conv5f32same     # 12,443,648 MACs
    """
    from ..analysis.calc import calc_chain, read_input
    rep = calc_chain(read_input(input, channels, layout), tokens)
    if json:
        emit_json(rep)
        return
    from ..render.tables import print_report
    print_report(rep, console())

"""`cnncalc draw`: the network as a diagram (SVG, or a self-contained HTML page)."""
from __future__ import annotations

import sys
from typing import Optional

import typer

from .common import LAYOUT, guarded, input_files, load_arch
from ..errors import quote

COLORS = ("macs", "params", "memory", "rf")


def write_atomic(path: str, text: str, inputs=(), option: str = "--output") -> None:
    """Write through a temporary file in the same folder, then rename (spec.files.atomic_write): never a
    half-written file, never over one of the command's inputs; a failure is one line (CnncalcError), not a
    traceback; replacing an existing file is said on stderr."""
    from ..spec.files import atomic_write
    if atomic_write(path, text, inputs=inputs, option=option):
        print(f"{option}: replaced {path}", file=sys.stderr)


def check_choice(value: Optional[str], choices, option: str) -> Optional[str]:
    from ..errors import CnncalcError
    if value is not None and value not in choices:
        raise CnncalcError(f"{option} must be one of {', '.join(choices)}, got {quote(value)}")
    return value


@guarded
def draw_cmd(
    arch: str = typer.Argument(..., help="A YAML file, a built-in name (`cnncalc list`), or a model to import (`cnncalc import -h`)."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE",
                                         help="net.svg or net.html (default: the SVG on stdout)."),
    depth: Optional[int] = typer.Option(None, "--depth", "-d", min=1, metavar="N",
                                        help="Collapse the blocks at this nesting level into one box each."),
    color: Optional[str] = typer.Option(None, "--color", "-c", metavar="METRIC",
                                        help="Shade the boxes by macs, params, memory or rf (with a legend)."),
    direction: str = typer.Option("TB", "--direction", metavar="TB|LR", help="Top to bottom or left to right."),
    input: Optional[str] = typer.Option(None, "--input", "-i", metavar="SHAPE",
                                        help="Override the input: 3x64x64, 64x48 (H×W) or 64."),
    style: str = typer.Option("graph", "--style", "-s", metavar="graph|maps",
                              help="graph: boxes and arrows; maps: the course's feature-map figure (C@H×W stacks)."),
    unfold: bool = typer.Option(False, "--unfold", help="One box per layer (default: conv · BN · ReLU in one box)."),
    order: Optional[str] = LAYOUT,
):
    """Draw the network: boxes and arrows in data order (a layer with its BN and activation in one box,
    a block with --depth), or the course's feature-map figure with --style maps. The HTML page zooms,
    pans, searches and shows every figure of a box on hover.

    SVG (or an HTML page with -o net.html), laid out in Python: boxes never overlap, skips run beside the boxes.

    Examples:

      cnncalc draw lenet5 -o lenet5.svg

      cnncalc draw vgg16 --style maps -o vgg16.svg

      cnncalc draw resnet50 --depth 1 --color macs -o resnet50.html

      cnncalc draw googlenet --direction LR -o googlenet.svg
    """
    from ..analysis.analyze import report_of
    from ..analysis.layout import layout

    from ..errors import CnncalcError
    check_choice(color, COLORS, "--color")
    check_choice(direction.upper(), ("TB", "LR"), "--direction")
    check_choice(style, ("graph", "maps"), "--style")
    if output and not output.lower().endswith((".svg", ".html", ".htm")):
        raise CnncalcError(f"--output {output}: expected a file name ending in .svg or .html")
    graph = load_arch(arch, input, order)
    html = bool(output) and output.lower().endswith((".html", ".htm"))
    if style == "maps":
        extra = [o for o, given in (("--depth", depth), ("--color", color), ("--direction", direction.upper() != "TB"),
                                    ("--unfold", unfold)) if given]
        if extra:
            raise CnncalcError(f"{', '.join(extra)}: for --style graph; --style maps draws every stage's maps")
        from ..analysis.maps import maps
        from ..render.maps import render_maps
        figure = maps(graph)
        text = render_maps(figure, standalone=not html)
        what = f"{len(figure.maps)} maps"
        if html:
            from ..render.html import page
            text = page(figure.title, text)
    else:
        report = report_of(graph)
        diagram = layout(graph, report, depth, color, direction.upper(), fold=not unfold)
        what = f"{len(diagram.boxes) - 1} boxes, {len(diagram.edges)} arrows"
        if html:
            from ..render.html import diagram_page
            text = diagram_page(diagram, report)
        else:
            from ..render.svg import render_svg
            text = render_svg(diagram)
    if output:
        write_atomic(output, text, inputs=input_files([arch]))
        print(f"wrote {output} ({what})", file=sys.stderr)
    else:
        sys.stdout.write(text)


def write_html_report(graph, report, depth, path: str, arch: str) -> None:
    """`analyze --html`: diagram (collapsed at `depth`), totals, charts and the layer table in one file."""
    from ..analysis.breakdown import levels
    from ..analysis.layout import layout
    from ..render.html import report_page
    write_atomic(path, report_page(report, layout(graph, report, depth), levels(graph, report), depth),
                 inputs=input_files([arch]), option="--html")
    print(f"wrote {path}", file=sys.stderr)


def write_html_compare(comparison, archs, input, order, batch, path: str) -> None:
    """`compare --html`: every network's totals and diagram side by side."""
    from ..analysis.analyze import report_of
    from ..analysis.breakdown import levels
    from ..analysis.layout import layout
    from ..render.html import compare_page
    items = []
    for arch in archs:
        graph = load_arch(arch, input, order)
        report = report_of(graph, batch)
        items.append((report, layout(graph, report), levels(graph, report)))
    write_atomic(path, compare_page(comparison, items), inputs=input_files(archs), option="--html")
    print(f"wrote {path}", file=sys.stderr)

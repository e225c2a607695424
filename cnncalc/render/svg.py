"""A Diagram (cnncalc.analysis.layout) as SVG: boxes, arrows, real <text>. Formatting only."""
from __future__ import annotations

from html import escape

from ..analysis.layout import CHAR_W, FONT_SIZE, LINE_H, PAD_X, PAD_Y, Box, Diagram

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
HEADER = 46          # title and subtitle above the diagram
LEGEND_W = 260
LEGEND_H = 40       # the colour key below the subtitle, with --color
# fill by layer kind when no figure shades the boxes: the families a course tells apart
KIND_FILL = {
    "conv": "#dbe9f7", "conv_transpose": "#dbe9f7", "sparse_conv": "#dbe9f7", "linear": "#e6dcf3",
    "rbf": "#e6dcf3", "maxpool": "#dcefdc", "subsample": "#dcefdc",
    "avgpool": "#dcefdc", "adaptive_avgpool": "#dcefdc", "adaptive_maxpool": "#dcefdc",
    "global_avgpool": "#dcefdc", "upsample": "#dcefdc", "concat": "#fbefc4", "add": "#fbefc4",
    "mul": "#fbefc4", "input": "#ffffff",
}
PLAIN = "#f4f4f4"
BLOCK = "#cfe0f3"
KEY_H = 20          # the colour key of the layer kinds, without --color
# the key: (label, fill), shown for the families present
FAMILIES = (("conv", "#dbe9f7"), ("linear", "#e6dcf3"), ("pool / resize", "#dcefdc"), ("merge", "#fbefc4"),
            ("block", BLOCK), ("other (BN, activation…)", PLAIN))
LOW, HIGH = (255, 247, 236), (239, 101, 72)   # shading for --color, light to strong


def q(text) -> str:
    return escape(str(text), quote=True)


def fill(box: Box, shaded: bool) -> str:
    if shaded:
        if not box.value:
            return "#ffffff"
        r, g, b = (round(lo + (hi - lo) * box.shade) for lo, hi in zip(LOW, HIGH))
        return f"#{r:02x}{g:02x}{b:02x}"
    return BLOCK if box.kind == "block" else KIND_FILL.get(box.type, PLAIN)


def box_svg(box: Box, shaded: bool) -> str:
    stroke = ' stroke-dasharray="4 3"' if box.train_only else ""
    width = 2.2 if box.output else 1
    title = box.id + (" (network output)" if box.output else "") + (" (training only)" if box.train_only else "")
    parts = [f'<g class="box" data-name="{q(box.id)}" data-row="{q(box.row)}" data-kind="{q(box.kind)}" '
             f'data-type="{q(box.type)}">',
             f"<title>{q(title)}</title>",
             f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="4" '
             f'fill="{fill(box, shaded)}" stroke="#333" stroke-width="{width}"{stroke}/>']
    for i, line in enumerate(box.lines):
        y = box.y + PAD_Y + (i + 0.8) * LINE_H
        weight = ' font-weight="bold"' if i == 0 else ""
        parts.append(f'<text x="{box.x + PAD_X:.1f}" y="{y:.1f}"{weight}>{q(line)}</text>')
    parts.append("</g>")
    return "".join(parts)


def edge_svg(points, marker: str, size_only: bool = False) -> str:
    d = " ".join(("M" if i == 0 else "L") + f"{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))
    if not size_only:
        return f'<path class="edge" d="{d}" marker-end="url(#{marker})"/>'
    (x, y) = points[-1]
    return (f'<path class="edge size" d="{d}" stroke-dasharray="2 3" stroke-width="0.8" stroke="#999"/>'
            f'<text x="{x + 3:.1f}" y="{y - 4:.1f}" fill="#777" stroke="none" font-size="{FONT_SIZE - 2}">size of</text>')


def key_svg(diagram: Diagram, x: float, y: float) -> str:
    """The fills of the layer families the diagram shows."""
    present = {("block" if b.kind == "block" else family(b.type)) for b in diagram.boxes if b.kind != "input"}
    out, at = ['<g class="key">'], x
    for label, colour in FAMILIES:
        if label.split(" ")[0] in present:
            out.append(f'<rect x="{at:.1f}" y="{y:.1f}" width="12" height="12" fill="{colour}" stroke="#333"/>'
                       f'<text x="{at + 16:.1f}" y="{y + 10:.1f}">{q(label)}</text>')
            at += 16 + len(label) * CHAR_W + 14
    return "".join(out) + "</g>"


def family(kind: str) -> str:
    colour = KIND_FILL.get(kind, PLAIN)
    return next((label.split(" ")[0] for label, c in FAMILIES if c == colour), "other")


def legend_svg(diagram: Diagram, uid: str, x: float, y: float) -> str:
    lg = diagram.legend
    if lg is None:
        return ""
    low, high = (f"#{r:02x}{g:02x}{b:02x}" for r, g, b in (LOW, HIGH))
    return (f'<g class="legend" transform="translate({x:.1f},{y:.1f})">'
            f'<linearGradient id="{uid}-grad"><stop offset="0" stop-color="{low}"/>'
            f'<stop offset="1" stop-color="{high}"/></linearGradient>'
            f'<text x="0" y="10">{q(lg.label)} (log scale; white = 0)</text>'
            f'<rect x="0" y="15" width="{LEGEND_W - 10}" height="10" fill="url(#{uid}-grad)" stroke="#333"/>'
            f'<text x="0" y="37">{q(lg.low)}</text>'
            f'<text x="{LEGEND_W - 10}" y="37" text-anchor="end">{q(lg.high)}</text></g>')


def render_svg(diagram: Diagram, uid: str = "d", standalone: bool = True) -> str:
    """The whole picture; `uid` keeps ids apart when several diagrams share one HTML page."""
    big = (FONT_SIZE + 3) / FONT_SIZE       # the title's larger font
    title_w = max(len(diagram.title) * big, len(diagram.subtitle)) * CHAR_W + 2 * PAD_X
    header = HEADER + (LEGEND_H if diagram.legend else KEY_H)
    width = max(diagram.width, title_w, LEGEND_W + 2 * PAD_X)
    height = diagram.height + header
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    shaded = diagram.legend is not None
    out = [f'{head}<svg xmlns="http://www.w3.org/2000/svg" class="diagram" data-root="{uid}-all" '
           f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" text-rendering="geometricPrecision" '
           f'font-size="{FONT_SIZE}">',
           f'<defs><marker id="{uid}-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
           f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>',
           f'<rect width="100%" height="100%" fill="#ffffff"/>',
           f'<text x="{PAD_X}" y="18" font-weight="bold" font-size="{FONT_SIZE + 3}">{q(diagram.title)}</text>',
           f'<text x="{PAD_X}" y="36" fill="#444">{q(diagram.subtitle)}</text>',
           legend_svg(diagram, uid, PAD_X, HEADER - 4) if shaded else key_svg(diagram, PAD_X, HEADER - 4),
           f'<g id="{uid}-all" transform="translate(0,{header})">',
           '<g class="edges" fill="none" stroke="#555" stroke-width="1.2">']
    out += [edge_svg(e.points, f"{uid}-arrow", e.size_only) for e in diagram.edges]
    out.append('</g><g class="boxes">')
    out += [box_svg(b, shaded) for b in diagram.boxes]
    out.append("</g></g></svg>\n")
    return "\n".join(out)

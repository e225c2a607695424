"""The feature-map figure (cnncalc.analysis.maps) as SVG: stacks of planes or blocks, kernel windows,
the course's labels. Formatting only."""
from __future__ import annotations

from ..analysis.layout import FONT_SIZE, LINE_H
from ..analysis.maps import SLANT, Map, MapsDiagram, Step
from .svg import FONT, q

FILL = {"input": "#ffffff", "conv": "#dbe9f7", "pool": "#dcefdc", "merge": "#fbefc4", "vector": "#e6dcf3",
        "block": "#cfe0f3", "other": "#f4f4f4"}
SIDE = {"input": "#e8e8e8", "conv": "#a9c8ea", "pool": "#a8d5a8", "merge": "#efd98a", "vector": "#c7b4e6",
        "block": "#9fc1e6", "other": "#d8d8d8"}


def _poly(points, fill: str) -> str:
    return (f'<polygon points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" fill="{fill}" '
            'stroke="#333" stroke-width="0.8"/>')


def map_svg(m: Map) -> str:
    dx, dy = m.depth * SLANT[0], m.depth * SLANT[1]
    x, y, w, h = m.x, m.y, m.w, m.h
    parts = [f'<g class="map" data-name="{q(m.id)}" data-kind="{q(m.kind)}"><title>{q(" ".join(m.label))}</title>']
    if m.planes:      # a few channels: one plane each, back to front
        for i in range(m.planes - 1, -1, -1):
            f = i / (m.planes - 1) if m.planes > 1 else 0
            parts.append(f'<rect x="{x + dx * f:.1f}" y="{y + dy * f:.1f}" width="{w:.1f}" height="{h:.1f}" '
                         f'fill="{FILL[m.kind]}" stroke="#333" stroke-width="0.8"/>')
    else:             # many: a block, its front, top and side
        parts.append(_poly([(x, y), (x + dx, y + dy), (x + w + dx, y + dy), (x + w, y)], SIDE[m.kind]))
        parts.append(_poly([(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy), (x + w, y + h)], SIDE[m.kind]))
        parts.append(f'<rect class="face" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                     f'fill="{FILL[m.kind]}" stroke="#333" stroke-width="0.8"/>')
    lines = [t for t in (*m.label, m.note) if t]
    top = y + min(dy, 0) - 5
    for i, text in enumerate(lines):
        weight = ' font-weight="bold"' if i == 0 else ' fill="#7a4a00"' if text == m.note else ""
        parts.append(f'<text x="{x:.1f}" y="{top - (len(lines) - 1 - i) * LINE_H:.1f}"{weight}>{q(text)}</text>')
    parts.append("</g>")
    return "".join(parts)


def step_svg(s: Step) -> str:
    parts = ['<g class="step">']
    if s.window:
        wx, wy, ww, wh = s.window
        ax, ay = s.apex
        parts.append(f'<path d="M{wx + ww:.1f},{wy:.1f} L{ax:.1f},{ay:.1f} L{wx + ww:.1f},{wy + wh:.1f}" '
                     'fill="none" stroke="#c0392b" stroke-width="0.8" stroke-dasharray="3 2"/>')
        parts.append(f'<rect x="{wx:.1f}" y="{wy:.1f}" width="{ww:.1f}" height="{wh:.1f}" fill="#f5b7b1" '
                     'fill-opacity="0.7" stroke="#c0392b" stroke-width="1"/>')
    parts.append(f'<text x="{s.x:.1f}" y="{s.y:.1f}" text-anchor="middle" fill="#333">{q(s.label)}</text></g>')
    return "".join(parts)


def render_maps(d: MapsDiagram, standalone: bool = True) -> str:
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    out = [f'{head}<svg xmlns="http://www.w3.org/2000/svg" class="maps" width="{d.width:.0f}" height="{d.height:.0f}" '
           f'viewBox="0 0 {d.width:.0f} {d.height:.0f}" font-family="{FONT}" font-size="{FONT_SIZE}">',
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           f'<text x="16" y="18" font-weight="bold" font-size="{FONT_SIZE + 3}">{q(d.title)}</text>',
           f'<text x="16" y="34" fill="#444">{q(d.subtitle)}</text>']
    out += [map_svg(m) for m in d.maps]
    out += [step_svg(s) for s in d.steps]
    out.append("</svg>\n")
    return "\n".join(out)

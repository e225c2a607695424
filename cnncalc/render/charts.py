"""Small inline SVG charts for the HTML report: columns per layer, bars per stage, a line of the
receptive field against the input size. Formatting only: every value comes from the Report."""
from __future__ import annotations

from html import escape

from .tables import human

FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="11"'
AXIS = 76         # room for the value labels left of the plot


def q(text) -> str:
    return escape(str(text), quote=True)


def y_title(text: str, height: float) -> str:
    """The value axis' title, written upwards beside the axis."""
    return (f'<text transform="translate(12,{20 + height / 2:.0f}) rotate(-90)" text-anchor="middle" '
            f'fill="#333">{q(text)}</text>')


def columns(title: str, names: list[str], values: list[float], unit: str = "", color: str = "#4e79a7",
            height: int = 150, axis: str = "", xaxis: str = "layers in data order") -> str:
    """One column per layer or block (hover shows its name and figure); `axis`: the value axis' title."""
    n = max(len(values), 1)
    step = max(3.0, min(14.0, 900 / n))
    width = AXIS + n * step + 10
    top = max(values, default=0) or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width:.0f}" height="{height + 34}" {FONT}>',
           f'<text x="{AXIS}" y="12" font-weight="bold">{q(title)}</text>',
           f'<text x="{AXIS - 4}" y="26" text-anchor="end">{q(human(top, unit))}</text>',
           f'<text x="{AXIS - 4}" y="{height + 20}" text-anchor="end">0</text>',
           f'<line x1="{AXIS}" y1="{height + 20}" x2="{width - 6:.0f}" y2="{height + 20}" stroke="#999"/>',
           f'<line x1="{AXIS}" y1="20" x2="{AXIS}" y2="{height + 20}" stroke="#999"/>', y_title(axis or title, height)]
    for i, (name, v) in enumerate(zip(names, values)):
        h = (height - 4) * v / top
        out.append(f'<rect x="{AXIS + i * step:.1f}" y="{height + 20 - h:.1f}" width="{max(step - 1, 1):.1f}" '
                   f'height="{h:.1f}" fill="{color}"><title>{q(name)}: {q(human(v, unit))}</title></rect>')
    out.append(f'<text x="{AXIS}" y="{height + 32}" fill="#555">{q(xaxis)} (hover a column)</text></svg>')
    return "".join(out)


def bars(title: str, labels: list[str], series: list[tuple[str, list[float], str]], label_w: int = 90) -> str:
    """Horizontal bars per label (a stage, a network), one bar per series, each scaled to its own largest
    value (the figure is written at the end of every bar)."""
    row_h, bar_h, bar_w = 14 * len(series) + 8, 12, 320
    height = 24 + row_h * len(labels) + 22
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{label_w + bar_w + 150}" height="{height}" {FONT}>',
           f'<text x="4" y="12" font-weight="bold">{q(title)}</text>']
    for k, (name, values, color) in enumerate(series):
        out.append(f'<rect x="{label_w + 110 * k}" y="16" width="10" height="8" fill="{color}"/>'
                   f'<text x="{label_w + 110 * k + 14}" y="24">{q(name)}</text>')
    for i, label in enumerate(labels):
        y0 = 30 + i * row_h
        out.append(f'<text x="{label_w - 6}" y="{y0 + bar_h}" text-anchor="end">{q(label)}</text>')
        for k, (name, values, color) in enumerate(series):
            top = max(values, default=0) or 1
            w = bar_w * values[i] / top
            unit = "B" if name.startswith("activation") else ""
            out.append(f'<rect x="{label_w}" y="{y0 + 14 * k}" width="{w:.1f}" height="{bar_h}" fill="{color}">'
                       f'<title>{q(label)} {q(name)}: {q(human(values[i], unit))}</title></rect>'
                       f'<text x="{label_w + w + 4:.1f}" y="{y0 + 14 * k + 10}">{q(human(values[i], unit))}</text>')
    out.append(f'<text x="{label_w}" y="{height - 6}" fill="#555">each series scaled to its own largest value; '
               'activation memory in bytes at fp32</text></svg>')
    return "".join(out)


def rf_line(names: list[str], sizes: list[float], input_size: int, height: int = 180,
            xaxis: str = "layers in data order") -> str:
    """Receptive-field size per layer, with the input size as a dashed line."""
    n = max(len(sizes), 1)
    step = max(3.0, min(14.0, 900 / n))
    width = AXIS + n * step + 10
    biggest = max(sizes, default=0)
    top = max(biggest, input_size, 1) * 1.08
    y = lambda v: 20 + height * (1 - v / top)                      # noqa: E731
    pts = " ".join(f"{AXIS + (i + 0.5) * step:.1f},{y(v):.1f}" for i, v in enumerate(sizes))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width:.0f}" height="{height + 40}" {FONT}>',
           f'<text x="{AXIS}" y="12" font-weight="bold">receptive field per layer (H axis) against the input</text>',
           f'<line x1="{AXIS}" y1="{y(input_size):.1f}" x2="{width - 6:.0f}" y2="{y(input_size):.1f}" '
           f'stroke="#e15759" stroke-dasharray="5 4"/>',
           f'<text x="{AXIS - 4}" y="{y(input_size) + 4:.1f}" text-anchor="end" fill="#e15759">input {input_size}</text>',
           f'<text x="{AXIS - 4}" y="{y(biggest) + 4:.1f}" text-anchor="end">{biggest:g}</text>'
           if abs(y(biggest) - y(input_size)) > 12 else "",
           f'<line x1="{AXIS}" y1="{height + 20}" x2="{width - 6:.0f}" y2="{height + 20}" stroke="#999"/>',
           f'<line x1="{AXIS}" y1="20" x2="{AXIS}" y2="{height + 20}" stroke="#999"/>',
           y_title("receptive field (input pixels)", height),
           f'<polyline points="{pts}" fill="none" stroke="#4e79a7" stroke-width="1.5"/>']
    for i, (name, v) in enumerate(zip(names, sizes)):
        out.append(f'<circle cx="{AXIS + (i + 0.5) * step:.1f}" cy="{y(v):.1f}" r="2" fill="#4e79a7">'
                   f'<title>{q(name)}: RF {v:g}</title></circle>')
    out.append(f'<text x="{AXIS}" y="{height + 34}" fill="#555">{q(xaxis)} (hover a point)</text></svg>')
    return "".join(out)

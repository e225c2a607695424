"""Rich rendering of reports. Formatting only: every figure comes from the Report."""
from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .report import Report


def shape(s) -> str:
    return "×".join(str(x) for x in s)


def human(x: float, unit: str = "") -> str:
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.2f} {suffix}{unit}"
    return f"{x:g} {unit}".rstrip()


def num(x: int) -> str:
    return f"{x:,}" if x else "–"


def rf_text(rf) -> str:
    if (rf.size, rf.stride) == (rf.size_w, rf.stride_w):
        return f"{rf.size} /{rf.stride}"
    return f"{rf.size}×{rf.size_w} /{rf.stride}×{rf.stride_w}"


def header(report: Report) -> str:
    lines = [f"[bold]{report.name}[/bold]  input {shape(report.input)}"
             + (f"  batch {report.batch}" if report.batch != 1 else "") + f" → output {shape(report.output)}"]
    if report.source:
        lines.append(f"[dim]source: {report.source}[/dim]")
    lines.append(f"[dim]{report.conventions}[/dim]")
    return "\n".join(lines)


def rows_at_depth(report: Report, depth: int | None):
    """Leaf rows, with every block at `depth` collapsed into one row (yields ('layer'|'block', row))."""
    if not depth:
        for r in report.layers:
            yield "layer", r
        return
    at = {b.name: b for b in report.blocks if b.level == depth}
    shown = set()
    for r in report.layers:
        parts = r.name.split(".")
        owner = next((".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in at), None)
        if owner is None:
            yield "layer", r
        elif owner not in shown:
            shown.add(owner)
            yield "block", at[owner]


def layer_table(report: Report, depth: int | None = None) -> Table:
    t = Table(box=box.SIMPLE_HEAD, show_footer=True, pad_edge=False)
    t.add_column("layer", footer="total", overflow="fold")
    t.add_column("type", no_wrap=True)
    t.add_column("k/s p", no_wrap=True)
    t.add_column("input → output", no_wrap=True)
    t.add_column("params", justify="right", footer=f"{report.totals.params:,}", no_wrap=True)
    t.add_column("MACs", justify="right", footer=f"{report.totals.macs:,}", no_wrap=True)
    t.add_column("FLOPs", justify="right", footer=f"{report.totals.flops:,}", no_wrap=True)
    t.add_column("RF /j", justify="right", no_wrap=True)
    t.add_column("notes", overflow="fold", min_width=12)
    for kind, r in rows_at_depth(report, depth):
        if kind == "block":
            t.add_row(Text(r.name, style="bold"), Text(f"[{r.type}]"), f"{r.layers} layers",
                      f"{shape(r.input)} → {shape(r.output)}", num(r.params), num(r.macs), num(r.flops),
                      rf_text(r.rf), "")
        else:
            t.add_row(r.name, r.type, r.config, f"{shape(r.input)} → {shape(r.output)}", num(r.params),
                      num(r.macs), num(r.flops), rf_text(r.rf), "; ".join(r.notes))
    return t


def totals_text(report: Report) -> str:
    t = report.totals
    per = "" if report.batch == 1 else f" (batch {report.batch})"
    return "\n".join([
        f"params       {t.params:>18,}  ({human(t.params)})  trainable {t.trainable_params:,}, "
        f"non-trainable buffers {t.buffers:,}",
        f"MACs{per:<9}{t.macs:>18,}  ({human(t.macs)})",
        f"FLOPs{per:<8}{t.flops:>18,}  ({human(t.flops)}, = 2×MACs)",
        f"other ops    {t.other_ops:>18,}  ({human(t.other_ops)}: pooling, BN, activations, adds)",
        f"activations  {t.activations:>18,}  ({human(t.activation_bytes, 'B')} at fp32)",
        f"param memory {t.param_bytes:>18,} B ({human(t.param_bytes, 'B')} at fp32, buffers included)",
        f"depth        {t.weight_layers:>18}  weight layers ({t.layers} layers in all)",
    ])


def make_console() -> Console:
    """Rich's console; when the output is not a terminal (CI logs, files) use 160 columns, not 80."""
    import sys
    return Console() if sys.stdout.isatty() else Console(width=160)


def print_report(report: Report, console: Console | None = None, depth: int | None = None) -> None:
    console = console or make_console()
    console.print(header(report), highlight=False)
    console.print(layer_table(report, depth))
    console.print(totals_text(report), highlight=False)
    for m in report.misaligned:
        console.print(f"[yellow]misaligned:[/yellow] {m}", highlight=False)


def print_explanation(items, console: Console | None = None) -> None:
    console = console or make_console()
    for title, lines in items:
        console.print(f"[bold]{title}[/bold]", highlight=False)
        for line in lines:
            console.print(f"  {line}", highlight=False)

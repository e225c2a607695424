"""Rich rendering of reports. Formatting only: every figure comes from the Report."""
from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..layers.base import fmt_shape
from ..analysis.report import Report


shape = fmt_shape  # C×H×W, the one way shapes are written


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


def outputs_text(report: Report) -> str:
    """output 10, or outputs out 21×520×520, aux 21×520×520."""
    if not report.outputs:
        return f"output {shape(report.output)}"
    return "outputs " + ", ".join(f"{o.name} {shape(o.output)}" for o in report.outputs)


def header(report: Report) -> str:
    lines = [f"[bold]{report.name}[/bold]  input {shape(report.input)}"
             + (f"  batch {report.batch}" if report.batch != 1 else "") + f" → {outputs_text(report)}"]
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
            source = f"{len(r.inputs)} inputs" if r.inputs else shape(r.input)
            t.add_row(r.name, r.type, r.config, f"{source} → {shape(r.output)}", num(r.params),
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
        f"depth        {t.depth:>18}  weight layers on the longest path ({t.weight_layers} weight layers, "
        f"{t.layers} layers in all)",
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


def print_rf(rep, console: Console | None = None) -> None:
    """`cnncalc rf ARCH`: size / effective stride / effective padding per axis, unit (0,0)'s region."""
    console = console or make_console()
    console.print(f"[bold]{rep.name}[/bold]  receptive field per layer (Araujo et al. 2019); input {shape(rep.input)}",
                  highlight=False)
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col, just in (("layer", "left"), ("type", "left"), ("output", "left"), ("size r", "right"),
                      ("stride j", "right"), ("padding P", "right"), ("unit (0,0) sees rows × cols", "left"),
                      ("covers", "left")):
        t.add_column(col, justify=just, no_wrap=col != "layer")
    for r in rep.layers:
        two = lambda a, b: str(a) if a == b else f"{a}×{b}"  # noqa: E731
        t.add_row(r.name, r.type, shape(r.output), two(r.size, r.size_w), two(r.stride, r.stride_w),
                  two(r.padding, r.padding_w), f"[{r.region_h[0]}, {r.region_h[1]}] × [{r.region_w[0]}, {r.region_w[1]}]",
                  "✓ whole input" if r.covers else "" + (" [yellow]misaligned[/yellow]" if r.misaligned else ""))
    console.print(t)
    console.print(f"first layer whose every unit sees the whole input: {rep.first_covering or 'none'}", highlight=False)
    rows = {r.name: r for r in rep.layers}
    for name in rep.outputs:  # several outputs: each one's field
        r = rows[name]
        size, stride = (f"{r.size}", f"{r.stride}") if (r.size, r.stride) == (r.size_w, r.stride_w) else \
            (f"{r.size}×{r.size_w}", f"{r.stride}×{r.stride_w}")
        console.print(f"output {name} ({shape(r.output)}): receptive field {size}, effective stride {stride}"
                      + (", every unit sees the whole input" if r.covers else ""), highlight=False)
    for r in rep.layers:
        if r.misaligned:
            console.print(f"[yellow]{r.name}[/yellow]: {r.misaligned}", highlight=False)


def print_rf_chain(rows, console: Console | None = None) -> None:
    console = console or make_console()
    console.print("RF_l = RF_{l−1} + (f_l − 1)·∏_{i<l} s_i,  RF_0 = 1  (f: effective kernel d·(k−1)+1)", highlight=False)
    for i, r in enumerate(rows, 1):
        console.print(f"  {i}. {r.token:<12} {r.formula:<28} ∏s = {r.jump:<4} P = {r.eff_padding}", highlight=False)
    console.print(f"receptive field: {', '.join(str(r.size) for r in rows)}", highlight=False)


def print_calc(res, console: Console | None = None) -> None:
    console = console or make_console()
    c, h, w = res.input
    console.print(f"[bold]{res.kind}[/bold] on {h}×{w}×{c} (H×W×C) = {c}×{h}×{w} (C×H×W)", highlight=False)
    for line in res.lines:
        console.print(f"  {line}", highlight=False)
    if res.kind in ("conv", "linear"):
        console.print(f"  weights {res.weights:,} + biases {res.biases:,} = params {res.params:,}", highlight=False)
    if res.floor_output and res.ceil_output:
        console.print(f"  floor gives {shape(res.floor_output)}, ceil gives {shape(res.ceil_output)}", highlight=False)
    for note in res.notes:
        console.print(f"  note: {note}", highlight=False)
    out = res.output
    hwc = f"{out[1]}×{out[2]}×{out[0]}" if len(out) == 3 else shape(out)
    console.print(f"[bold]answer[/bold]: output {hwc} (H×W×C), params {res.params:,}, MACs {res.macs:,}, "
                  f"FLOPs {res.flops:,}", highlight=False)


METRIC_TITLE = {"params": "params", "macs": "MACs", "flops": "FLOPs", "activation_bytes": "activation memory"}


def print_compare(rep, console: Console | None = None) -> None:
    console = console or make_console()
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=f"compared by {METRIC_TITLE[rep.metric]} (ratio to the first)")
    for col in ("architecture", "input", "params", "MACs", "FLOPs", "activations (fp32)", "depth", "final RF", "ratio"):
        t.add_column(col, justify="left" if col in ("architecture", "input") else "right", no_wrap=True)
    for r in rep.rows:
        t.add_row(r.name, shape(r.input), human(r.params), human(r.macs), human(r.flops),
                  human(r.activation_bytes, "B"), str(r.depth), str(r.final_rf), f"{r.ratio:.3g}×")
    console.print(t)
    top = max(getattr(r, rep.metric) for r in rep.rows) or 1
    width = 50
    for r in rep.rows:
        v = getattr(r, rep.metric)
        bar = "█" * max(1, round(width * v / top)) if v else ""
        console.print(f"  {r.name:<18} {bar} {human(v, 'B' if rep.metric == 'activation_bytes' else '')}",
                      highlight=False)
    if any(r.stages for r in rep.rows):
        metric = rep.metric if rep.metric != "activation_bytes" else "macs"
        for r in rep.rows:
            st = Table(box=box.SIMPLE, pad_edge=False, title=f"{r.name}: by resolution ({METRIC_TITLE[metric]})")
            for col in ("stage", "layers", "params", "MACs", "FLOPs", "share"):
                st.add_column(col, justify="left" if col == "stage" else "right")
            total = getattr(r, metric) or 1
            for s in r.stages:
                st.add_row(s.resolution, str(s.layers), human(s.params), human(s.macs), human(s.flops),
                           f"{100 * getattr(s, metric) / total:.1f}%")
            console.print(st)

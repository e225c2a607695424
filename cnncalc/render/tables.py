"""Rich rendering of reports. Formatting only: every figure comes from the Report."""
from __future__ import annotations

from rich.console import Console, Group
from rich.text import Text

from ..layers.base import fmt_shape
from ..analysis.receptive import UNUSUAL
from ..analysis.report import Report
from .safe import markup, visible
from .fit import Col, Prose, fit
from .bench import bar


shape = fmt_shape  # C×H×W, the one way shapes are written


def human(x: float, unit: str = "") -> str:
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.2f} {suffix}{unit}"
    return f"{x:g} {unit}".rstrip()


def num(x: int) -> str:
    return f"{x:,}" if x else "–"


def rf_text(rf) -> str:
    axes = [(a.size, a.stride) for a in rf.axes] if rf.axes else [(rf.size, rf.stride), (rf.size_w, rf.stride_w)]
    axes = [(r, f"({j})" if isinstance(j, str) else j) for r, j in axes]  # a fractional stride: 12 /(13/15)
    if len(set(axes)) == 1:
        return f"{axes[0][0]} /{axes[0][1]}"
    return f"{'×'.join(str(a[0]) for a in axes)} /{'×'.join(str(a[1]) for a in axes)}"


def outputs_text(report: Report) -> str:
    """output 10, or outputs out 21×520×520, aux 21×520×520."""
    if not report.outputs:
        return f"output {shape(report.output)}"
    return "outputs " + ", ".join(f"{o.name} {shape(o.output)}" for o in report.outputs)


PROSE = 80  # sentences wrap at most this wide (piped output is 200 wide, and a terminal would break words)


def header(report: Report) -> Text:
    """The report's first lines: name, input → output, source and conventions (user text never markup)."""
    first = Text.assemble((visible(report.name), "bold"), f"  input {shape(report.input)}"
                          + (f"  batch {report.batch}" if report.batch != 1 else "") + f" → {visible(outputs_text(report))}")
    lines = [first] + ([Text(f"source: {visible(report.source)}", style="dim")] if report.source else [])
    return Text("\n").join(lines + [Text(report.conventions, style="dim")])


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


def layer_columns(report: Report, depth: int | None = None) -> list[Col]:
    """The per-layer table's columns (a collapsed block is one row, its name in bold)."""
    rows = list(rows_at_depth(report, depth))
    def col(f):
        return [f(kind, r) for kind, r in rows]
    t = report.totals
    return [
        Col("layer", col(lambda k, r: Text(r.name, style="bold") if k == "block" else r.name), kind="name",
            footer="total"),
        Col("type", col(lambda k, r: f"[{r.type}]" if k == "block" else r.type), drop=5),
        Col("k/s p", col(lambda k, r: f"{r.layers} layers" if k == "block" else r.config), drop=4),
        Col("input → output", col(lambda k, r: f"{source(k, r)} → {shape(r.output)}"), drop=6,
            why="only the output shown", narrow=Col("output", col(lambda k, r: shape(r.output)))),
        Col("params", col(lambda k, r: num(r.params)), kind="num", footer=f"{t.params:,}", raw=col(lambda k, r: r.params)),
        Col("MACs", col(lambda k, r: num(r.macs)), kind="num", footer=f"{t.macs:,}", raw=col(lambda k, r: r.macs)),
        Col("FLOPs", col(lambda k, r: num(r.flops)), kind="num", footer=f"{t.flops:,}", drop=9, why="= 2×MACs",
            raw=col(lambda k, r: r.flops)),
        Col("RF /j", col(lambda k, r: rf_text(r.rf)), kind="num", drop=7),
        Col("notes", col(lambda k, r: "" if k == "block" else "; ".join(r.notes)), kind="wrap", drop=8),
    ]


def source(kind: str, r) -> str:
    """A layer's input shape, or how many inputs a merge joins."""
    return f"{len(r.inputs)} inputs" if kind == "layer" and r.inputs else shape(r.input)


def layer_table(report: Report, depth: int | None = None, width: int = 200):
    return fit(layer_columns(report, depth), width, footer=True)


def totals_text(report: Report) -> str:
    t = report.totals
    per = "" if report.batch == 1 else f" (batch {report.batch})"
    return "\n".join([
        f"params       {t.params:>18,}  ({human(t.params)}, trainable)",
        f"buffers      {t.buffers:>18,}  (non-trainable, e.g. BN running statistics)",
        f"MACs{per:<9}{t.macs:>18,}  ({human(t.macs)})",
        f"FLOPs{per:<8}{t.flops:>18,}  ({human(t.flops)}, = 2×MACs)",
        f"other ops    {t.other_ops:>18,}  ({human(t.other_ops)}: pooling, BN, activations, adds)",
        f"activations  {t.activations:>18,}  every_layer: each output ({human(t.activation_bytes, 'B')} at fp32)",
        f"  or         {t.lecture_activations:>18,}  lecture: the input + conv/pool/fc outputs",
        f"param memory {t.param_bytes:>18,} B ({human(t.param_bytes, 'B')} at fp32, buffers included)",
        f"depth        {t.depth:>18}  weight layers on the longest path",
        f"layers       {t.layers:>18,}  in all, {t.weight_layers:,} with weights",
    ])


WIDE = 200        # piped output without COLUMNS: wide enough for every table in one line per row
MAX_WIDTH = 1000  # a larger COLUMNS (the environment is input too) would only size charts to gigabytes


def make_console(stderr: bool = False) -> Console:
    """Rich's console at the terminal's width; piped, COLUMNS when set, else WIDE (never Rich's 80);
    never wider than MAX_WIDTH."""
    import os
    import sys
    stream = sys.stderr if stderr else sys.stdout
    cols = os.environ.get("COLUMNS", "").strip()
    width = min(int(cols), MAX_WIDTH) if cols.isdigit() and len(cols) < 10 and int(cols) > 0 else None
    if stream.isatty():
        return Console(stderr=stderr, width=width)
    return Console(stderr=stderr, width=width or WIDE)


def prose(text: Text) -> Prose:
    """A paragraph (a header, a source, conventions), wrapped between words at the width or PROSE."""
    return Prose(text, PROSE)


def print_prose(console: Console, text) -> None:
    console.print(prose(text))


def report_view(report: Report, width: int, depth: int | None = None, stages=None, more: str = "") -> Group:
    """Header, the per-layer table fitted to `width`, the totals (then `more`), misaligned merges and where
    the work goes: what `analyze` prints, and what a Report shows in a notebook."""
    parts = [prose(header(report)), layer_table(report, depth, width), Text(totals_text(report))]
    if more:
        parts.append(Text(more))
    return Group(*parts, *tail_view(report, width, stages))


def print_report(report: Report, console: Console | None = None, depth: int | None = None, stages=None,
                 more: str = "") -> None:
    console = console or make_console()
    console.print(report_view(report, console.width, depth, stages, more))


def tail_view(report: Report, width: int, stages=None) -> list:
    """What follows the totals: the notes on the network, the misaligned merges, then where the work goes."""
    # the text says whether a shift is by design or unusual
    return [prose(Text(f"note: {m}")) for m in report.notes] + \
        [prose(Text(m, style="yellow" if UNUSUAL in m else "")) for m in report.misaligned] + \
        (work_chart(stages, width) if stages else [])


def work_chart(stages, width: int) -> list[Text]:
    """Where the work goes: each output resolution's share of the MACs and of the params, as bars."""
    label = max(len(s.resolution) for s in stages)
    bars = max(10, min(40, width - label - 20))
    out = []
    for field, title in (("macs", "MACs"), ("params", "params")):
        total = sum(getattr(s, field) for s in stages)
        if not total:
            continue
        out.append(Text.assemble("\n", (f"where the {'work goes' if field == 'macs' else 'params are'}", "bold"),
                                 f": {title} by output resolution"))
        top = max(getattr(s, field) for s in stages)
        for s in stages:
            v = getattr(s, field)
            if v:
                out.append(Text.assemble(f"  {s.resolution:<{label}} ", (f"{bar(v / top, bars):<{bars}}", "cyan"),
                                         f" {human(v):>9} {100 * v / total:5.1f}%"))
    return out


def print_explanation(items, console: Console | None = None) -> None:
    console = console or make_console()
    for title, lines in items:
        console.print(f"[bold]{markup(title)}[/bold]", highlight=False)
        for line in lines:
            console.print(f"  {markup(line)}", highlight=False)


def rf_columns(rows) -> list[Col]:
    """`cnncalc rf ARCH`'s columns: size / effective stride / effective padding per axis, unit (0,0)'s region."""
    def each(r, field: str) -> str:  # one value where every axis agrees, else one per axis (H×W, D×H×W, L)
        v = [getattr(a, field) for a in r.axes] if r.axes else [getattr(r, field), getattr(r, field + "_w")]
        return str(v[0]) if len(set(v)) == 1 else "×".join(map(str, v))
    return [
        Col("layer", [r.name for r in rows], kind="name"),
        Col("type", [r.type for r in rows], drop=1),
        Col("output", [shape(r.output) for r in rows]),
        Col("size r", [each(r, "size") for r in rows], kind="num"),
        Col("stride j", [each(r, "stride") for r in rows], kind="num"),
        Col("padding P", [each(r, "padding") for r in rows], kind="num"),
        Col("unit (0,0) sees rows × cols", [" × ".join(f"[{a}, {b}]" for a, b in (r.regions or [r.region_h, r.region_w]))
                                           for r in rows], drop=3),
        Col("covers", [Text("✓ whole input" if r.covers else "") + (Text(" misaligned", style="yellow")
                                                                  if r.misaligned else Text()) for r in rows], drop=2),
    ]


def print_rf(rep, console: Console | None = None, rows=None, hidden: int = 0) -> None:
    """The receptive-field table of `rows` (default: every layer of `rep`)."""
    console = console or make_console()
    rows = rep.layers if rows is None else rows
    console.print(f"[bold]{markup(rep.name)}[/bold]  receptive field per layer (Araujo et al. 2019); input {shape(rep.input)}",
                  highlight=False)
    console.print(fit(rf_columns(rows), console.width))
    if hidden:
        console.print(f"[dim]{hidden} rows where the field does not change are not shown (--all shows them)[/dim]",
                      highlight=False)
    console.print(f"first layer whose every unit sees the whole input: {markup(rep.first_covering or 'none')}", highlight=False)
    by_name = {r.name: r for r in rep.layers}
    for name in rep.outputs:  # several outputs: each one's field
        r = by_name[name]
        size, stride = (f"{r.size}", f"{r.stride}") if (r.size, r.stride) == (r.size_w, r.stride_w) else \
            (f"{r.size}×{r.size_w}", f"{r.stride}×{r.stride_w}")
        console.print(f"output {markup(name)} ({shape(r.output)}): receptive field {size}, effective stride {stride}"
                      + (", every unit sees the whole input" if r.covers else ""), highlight=False)
    for r in rows:
        if r.misaligned:
            print_prose(console, Text.assemble((r.name, "yellow" if UNUSUAL in r.misaligned else "bold"),
                                               f": {r.misaligned}"))


def chain_columns(rows) -> list[Col]:
    """`cnncalc rf -l …`: one row per token, with the step of the recursion written out."""
    return [Col("#", [str(i) for i in range(1, len(rows) + 1)], kind="num"),
            Col("layer", [r.token for r in rows], kind="name"),
            Col("step", [r.formula for r in rows]),
            Col("∏s", [str(r.jump) for r in rows], kind="num"),
            Col("P", [str(r.eff_padding) for r in rows], kind="num"),
            Col("RF", [str(r.size) for r in rows], kind="num")]


def print_rf_chain(rows, console: Console | None = None) -> None:
    console = console or make_console()
    console.print("RF_l = RF_{l−1} + (f_l − 1)·∏_{i<l} s_i,  RF_0 = 1  (f: effective kernel d·(k−1)+1)", highlight=False)
    console.print(fit(chain_columns(rows), console.width))
    console.print(f"receptive field: {', '.join(str(r.size) for r in rows)}", highlight=False)


def print_calc(res, console: Console | None = None) -> None:
    console = console or make_console()
    inp = list(res.input)
    if len(inp) == 3:
        on = f"{shape(inp[1:] + inp[:1])} (H×W×C) = {shape(inp)} (C×H×W)"
    else:
        on = f"{shape(inp)} (channels first)" if len(inp) > 1 else f"a vector of {inp[0]:,}"
    console.print(f"[bold]{markup(res.kind)}[/bold] on {on}", highlight=False)
    for line in res.lines:
        console.print(f"  {markup(line)}", highlight=False)
    if res.kind in ("conv", "linear"):
        console.print(f"  weights {res.weights:,} + biases {res.biases:,} = params {res.params:,}", highlight=False)
    if res.floor_output and res.ceil_output:
        console.print(f"  floor gives {shape(res.floor_output)}, ceil gives {shape(res.ceil_output)}", highlight=False)
    for note in res.notes:
        console.print(f"  note: {markup(note)}", highlight=False)
    out = res.output
    hwc = f"{out[1]}×{out[2]}×{out[0]} (H×W×C)" if len(out) == 3 else shape(out) if len(out) > 1 else f"{out[0]:,}"
    console.print(f"[bold]answer[/bold]: output {hwc}, params {res.params:,}, MACs {res.macs:,}, "
                  f"FLOPs {res.flops:,}", highlight=False)


METRIC_TITLE = {"params": "params", "macs": "MACs", "flops": "FLOPs", "activation_bytes": "activation memory"}


FIELD = {"params": "params", "MACs": "macs", "FLOPs": "flops", "activations": "activation_bytes",
         "ratio": "ratio"}


def compare_columns(rep) -> list[Col]:
    rows = rep.rows
    def col(title, f, **kw):
        raw = [getattr(r, FIELD[title]) for r in rows] if title in FIELD else None
        return Col(title, [f(r) for r in rows], kind="num", raw=raw, **kw)
    return [
        Col("architecture", [r.name for r in rows], kind="name"),
        Col("input", [shape(r.input) for r in rows], drop=8),
        col("params", lambda r: human(r.params)),
        col("MACs", lambda r: human(r.macs)),
        col("FLOPs", lambda r: human(r.flops), drop=9 if rep.metric != "flops" else 0, why="= 2×MACs"),
        col("activations", lambda r: human(r.activation_bytes, "B"), drop=5 if rep.metric != "activation_bytes" else 0),
        col("depth", lambda r: str(r.depth), drop=6),
        col("final RF", lambda r: str(r.final_rf), drop=7),
        col("ratio", lambda r: f"{r.ratio:.3g}×"),
    ]


def stage_columns(row, metric: str) -> list[Col]:
    total = getattr(row, metric) or 1
    st = row.stages
    return [Col("stage", [s.resolution for s in st], kind="name"),
            Col("layers", [str(s.layers) for s in st], kind="num", drop=2),
            Col("params", [human(s.params) for s in st], kind="num"),
            Col("MACs", [human(s.macs) for s in st], kind="num"),
            Col("FLOPs", [human(s.flops) for s in st], kind="num", drop=1, why="= 2×MACs"),
            Col("share", [f"{100 * getattr(s, metric) / total:.1f}%" for s in st], kind="num")]


def print_compare(rep, console: Console | None = None) -> None:
    console = console or make_console()
    console.print(f"compared by {METRIC_TITLE[rep.metric]} (ratio to the first); activations at fp32", highlight=False)
    console.print(fit(compare_columns(rep), console.width))
    lasts = ", ".join(f"{r.name} {r.final_rf_layer}" for r in rep.rows if r.final_rf_layer)
    print_prose(console, Text(f"final RF: the receptive field of the last map larger than 1×1 ({lasts}); the "
                              "layers after it (fully connected, global pooling) see the whole input", style="dim"))
    top = max(getattr(r, rep.metric) for r in rep.rows) or 1
    label = max(len(r.name) for r in rep.rows)
    unit = 'B' if rep.metric == 'activation_bytes' else ''
    width = max(10, min(50, console.width - label - 16))
    for r in rep.rows:
        v = getattr(r, rep.metric)
        bar = "█" * max(1, round(width * v / top)) if v else ""
        console.print(f"  {markup(r.name.ljust(label))} {bar} {human(v, unit)}", highlight=False)
    if any(r.stages for r in rep.rows):
        metric = rep.metric if rep.metric != "activation_bytes" else "macs"
        for r in rep.rows:
            console.print(f"\n[bold]{markup(r.name)}[/bold]: by resolution ({METRIC_TITLE[metric]})", highlight=False)
            console.print(fit(stage_columns(r, metric), console.width))


def list_columns(rows) -> list[Col]:
    """`cnncalc list`: rows are dicts (name, input, params, macs, source)."""
    return [Col("name", [r["name"] for r in rows], kind="name"),
            Col("input", [shape(r["input"]) for r in rows], drop=1),
            Col("params", [f"{r['params']:,}" for r in rows], kind="num", raw=[r["params"] for r in rows]),
            Col("MACs", [human(r["macs"]) for r in rows], kind="num", raw=[r["macs"] for r in rows]),
            Col("source", [r["source"] for r in rows], kind="wrap", min=32)]


def print_list(rows, console: Console | None = None) -> None:
    console = console or make_console()
    console.print("[bold]built-in architectures[/bold]", highlight=False)
    console.print(fit(list_columns(rows), console.width))

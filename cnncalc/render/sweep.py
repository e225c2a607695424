"""Output of `cnncalc sweep` (a row per input size, a chart of MACs and memory against size) and
`cnncalc sizes`. Formats the SweepReport / SizesReport; computes nothing."""
from __future__ import annotations

from .safe import markup
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..layers.base import fmt_shape
from .bench import bar
from .fit import Col, fit
from .tables import human

LEGEND = ("act. = sum of every layer's output; peak = live activations, each tensor freed after its last "
          "reader (input included); both fp32. RF = field of the last feature map, ✓ = each of its units sees "
          "the whole input. exact = no layer drops or implicitly pads rows, every crop centred; otherwise the first "
          "layer that drops or pads rows, and (+N more) layers or merges that do too.")


def uneven_text(row) -> str:
    """'conv1 drops 1 (+7 more)': the first layer that does not fit its input evenly, and how many more
    layers or merges do not (the legend says it)."""
    if not row.uneven:
        return f"{len(row.misaligned)} misaligned" if row.misaligned else ""
    u = row.uneven[0]
    left = [x for x in u.leftover if x]
    word = "drops" if all(x > 0 for x in left) else "pads" if all(x < 0 for x in left) else "drops/pads"
    n = str(abs(left[0])) if len({abs(x) for x in left}) == 1 else "/".join(str(abs(x)) for x in u.leftover)
    more = len(row.uneven) - 1 + len(row.misaligned)
    return f"{u.layer} {word} {n}" + (f" (+{more} more)" if more else "")


def rf_cell(row) -> str:
    if not row.rf:
        return ""
    r = str(row.rf[0]) if len(set(row.rf)) == 1 else "×".join(map(str, row.rf))
    return r + (" ✓" if row.covers else "")


def constant(rows, field):
    """The value every valid row shares (then said once above the table), else None."""
    values = {repr(getattr(r, field)) for r in rows if r.ok}
    return getattr(next(r for r in rows if r.ok), field) if len(values) == 1 else None


def sweep_columns(rep, every: bool = False) -> list[Col]:
    """The table's columns (`every`: also the figures the terminal leaves out, for CSV)."""
    rows = rep.rows
    ok = lambda f, fmt=str: [fmt(f(r)) if r.ok else "" for r in rows]  # noqa: E731
    raw = lambda f: [f(r) if r.ok else None for r in rows]  # noqa: E731
    hide_out = not every and constant(rows, "output") is not None
    hide_params = not every and constant(rows, "params") is not None
    cols = [
        Col("input", [fmt_shape(r.input) for r in rows], kind="name"),
        Col("output", [""] * len(rows) if hide_out else ok(lambda r: r.output, fmt_shape), drop=3),
        Col("params", [""] * len(rows) if hide_params else ok(lambda r: r.params, human), kind="num",
            raw=raw(lambda r: r.params), drop=4),
        Col("MACs", ok(lambda r: r.macs, human), kind="num", raw=raw(lambda r: r.macs)),
        Col("FLOPs", ok(lambda r: r.flops, human), kind="num", raw=raw(lambda r: r.flops), drop=9, why="= 2×MACs"),
        Col("act.", ok(lambda r: r.activation_bytes, lambda x: human(x, "B")), kind="num",
            raw=raw(lambda r: r.activation_bytes), drop=6),
        Col("peak", ok(lambda r: r.peak_bytes, lambda x: human(x, "B")), kind="num", raw=raw(lambda r: r.peak_bytes)),
        Col("RF", [rf_cell(r) if r.ok else "" for r in rows], kind="num", drop=5,
            raw=["×".join(map(str, r.rf or ())) for r in rows]),
        Col("exact", ["✓" if r.exact else "" for r in rows], raw=[r.exact for r in rows]),
        Col("uneven rows", [uneven_text(r) if r.ok else "" for r in rows], kind="wrap", drop=7,
            raw=["; ".join(f"{u.layer}:{'/'.join(map(str, u.leftover))}" for u in r.uneven) for r in rows]),
        Col("collapses at", [Text(f"{r.collapse.layer}: {r.collapse.reason}", style="red") if r.collapse else ""
                             for r in rows], kind="wrap",
            raw=[f"{r.collapse.layer}: {r.collapse.reason}" if r.collapse else "" for r in rows]),
    ]
    if every:
        cols[1].raw = [fmt_shape(r.output) if r.ok else "" for r in rows]
        extra = [("ok", lambda r: r.ok), ("buffers", lambda r: r.buffers), ("other_ops", lambda r: r.other_ops),
                 ("activations", lambda r: r.activations), ("peak_activations", lambda r: r.peak_activations),
                 ("covers", lambda r: r.covers), ("first_covering", lambda r: r.first_covering),
                 ("misaligned", lambda r: "; ".join(r.misaligned))]
        cols += [Col(title, [""] * len(rows), raw=[f(r) for r in rows]) for title, f in extra]
    return cols


def chart(rep, width: int) -> Table:
    """MACs and peak memory against input size, one line per size, bars scaled to the largest."""
    ok = [r for r in rep.rows if r.ok]
    top_m = max((r.macs for r in ok), default=0) or 1
    top_p = max((r.peak_bytes for r in ok), default=0) or 1
    cell = max(6, (width - 40) // 2)
    t = Table(box=None, pad_edge=False, show_header=True, title="MACs and peak activation memory by input size")
    t.add_column("input", no_wrap=True)
    t.add_column("MACs", no_wrap=True)
    t.add_column("", justify="right", no_wrap=True)
    t.add_column("peak memory", no_wrap=True)
    t.add_column("", justify="right", no_wrap=True)
    for r in rep.rows:
        size = "×".join(map(str, r.input[1:])) or fmt_shape(r.input)
        if not r.ok:
            t.add_row(size, "[red]collapses[/red]", "", "", "")
            continue
        t.add_row(size, f"[cyan]{bar(r.macs / top_m, cell):<{cell}}[/cyan]", human(r.macs),
                  f"[magenta]{bar(r.peak_bytes / top_p, cell):<{cell}}[/magenta]", human(r.peak_bytes, "B"))
    return t


def print_sweep(rep, console: Console) -> None:
    ok = [r for r in rep.rows if r.ok]
    fixed = []
    if ok and constant(rep.rows, "output") is not None:
        fixed.append(f"output {fmt_shape(ok[0].output)}")
    if ok and constant(rep.rows, "params") is not None:
        fixed.append(f"params {ok[0].params:,}")
    console.print(f"[bold]{markup(rep.name)}[/bold]  {len(rep.rows)} input sizes (its own: {fmt_shape(rep.input)})"
                  + (f"; at every valid size: {', '.join(fixed)}" if fixed else ""), highlight=False)
    console.print(f"[dim]{LEGEND}[/dim]", highlight=False)
    console.print(fit(sweep_columns(rep), console.width))
    if len(ok) > 1:
        console.print(chart(rep, console.width))


def print_sizes(rep, console: Console) -> None:
    console.print(f"[bold]{markup(rep.name)}[/bold]  input sizes {rep.range[0]}…{rep.range[1]} (the architecture's own: "
                  f"{fmt_shape(rep.input)})", highlight=False)
    console.print("[dim]valid = every layer has something to work on; exact = no layer drops or implicitly pads "
                  "rows, and every merge's inputs line up (equal sizes, or a centred crop)[/dim]", highlight=False)
    for ax in rep.axes:
        label = ax.axis if len(rep.axes) == 1 else f"{ax.axis} (others as the input)"
        console.print(f"[bold]{label}[/bold]", highlight=False)
        console.print(f"  valid: {markup(ax.valid_text)}", highlight=False)
        console.print(f"  exact: {markup(ax.exact_text)}", highlight=False)
        if ax.smallest_collapse:
            console.print(f"  [dim]below: {markup(ax.smallest_collapse)}[/dim]", highlight=False)

"""Output of `cnncalc sweep` (a table per input size, a chart of MACs and memory against size, CSV) and
`cnncalc sizes`. Formats the SweepReport / SizesReport; computes nothing."""
from __future__ import annotations

import csv
import io

from rich import box
from rich.console import Console
from rich.table import Table

from ..layers.base import fmt_shape
from .bench import bar
from .tables import human

LEGEND = ("act. = sum of every layer's output; peak = live activations, each tensor freed after its last "
          "reader (input included); both fp32. RF = field of the last feature map, ✓ = each of its units sees "
          "the whole input. exact = no layer drops or implicitly pads rows, every merge aligned.")


def uneven_text(row) -> str:
    """'conv1 drops 1 (+7)': the first layer that does not fit its input evenly, and how many more."""
    if not row.uneven:
        return f"{len(row.misaligned)} misaligned" if row.misaligned else ""
    u = row.uneven[0]
    left = [x for x in u.leftover if x]
    word = "drops" if all(x > 0 for x in left) else "pads" if all(x < 0 for x in left) else "drops/pads"
    n = str(abs(left[0])) if len({abs(x) for x in left}) == 1 else "/".join(str(abs(x)) for x in u.leftover)
    more = len(row.uneven) - 1 + len(row.misaligned)
    return f"{u.layer} {word} {n}" + (f" (+{more})" if more else "")


def rf_cell(row) -> str:
    if not row.rf:
        return ""
    r = str(row.rf[0]) if len(set(row.rf)) == 1 else "×".join(map(str, row.rf))
    return r + (" ✓" if row.covers else "")


def constant(rows, field):
    """The value every valid row shares (shown once above the table), else None."""
    values = {repr(getattr(r, field)) for r in rows if r.ok}
    return getattr(next(r for r in rows if r.ok), field) if len(values) == 1 else None


def sweep_table(rep) -> Table:
    same_out, same_params = constant(rep.rows, "output"), constant(rep.rows, "params")
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    cols = [("input", "left")] + ([("output", "left")] if same_out is None else []) + (
        [("params", "right")] if same_params is None else []) + [
        ("MACs", "right"), ("act.", "right"), ("peak", "right"), ("RF", "right"), ("exact", "left"),
        ("uneven rows / collapse", "left")]
    for col, just in cols:
        t.add_column(col, justify=just, no_wrap=col not in ("uneven rows / collapse", "output"), overflow="fold")
    for r in rep.rows:
        lead = [fmt_shape(r.input)]
        if not r.ok:
            c = r.collapse
            t.add_row(*lead, *[""] * (len(cols) - 2), f"[red]✗ {c.layer}[/red]: {c.reason}")
            continue
        lead += ([fmt_shape(r.output)] if same_out is None else []) + ([human(r.params)] if same_params is None else [])
        t.add_row(*lead, human(r.macs), human(r.activation_bytes, "B"), human(r.peak_bytes, "B"), rf_cell(r),
                  "✓" if r.exact else "", uneven_text(r))
    return t


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
    console.print(f"[bold]{rep.name}[/bold]  {len(rep.rows)} input sizes (its own: {fmt_shape(rep.input)})"
                  + (f"; at every valid size: {', '.join(fixed)}" if fixed else ""), highlight=False)
    console.print(f"[dim]{LEGEND}[/dim]", highlight=False)
    console.print(sweep_table(rep))
    if len(ok) > 1:
        console.print(chart(rep, console.width))


CSV_FIELDS = ("input", "ok", "output", "params", "buffers", "macs", "flops", "other_ops", "activations",
              "activation_bytes", "peak_activations", "peak_bytes", "rf", "covers", "first_covering", "exact",
              "uneven", "misaligned", "collapse_layer", "collapse_reason")


def sweep_csv(rep) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for r in rep.rows:
        d = r.model_dump()
        d["input"], d["output"] = fmt_shape(r.input), fmt_shape(r.output or ())
        d["rf"] = "×".join(map(str, r.rf or ()))
        d["uneven"] = "; ".join(f"{u.layer}:{'/'.join(map(str, u.leftover))}" for u in r.uneven)
        d["misaligned"] = "; ".join(r.misaligned)
        d["collapse_layer"] = r.collapse.layer if r.collapse else ""
        d["collapse_reason"] = r.collapse.reason if r.collapse else ""
        w.writerow(["" if d[f] is None else d[f] for f in CSV_FIELDS])
    return out.getvalue()


def print_sizes(rep, console: Console) -> None:
    console.print(f"[bold]{rep.name}[/bold]  input sizes {rep.range[0]}…{rep.range[1]} (the architecture's own: "
                  f"{fmt_shape(rep.input)})", highlight=False)
    console.print("[dim]valid = every layer has something to work on; exact = no layer drops or implicitly pads "
                  "rows and every merge is aligned[/dim]", highlight=False)
    for ax in rep.axes:
        label = ax.axis if len(rep.axes) == 1 else f"{ax.axis} (others as the input)"
        console.print(f"[bold]{label}[/bold]", highlight=False)
        console.print(f"  valid: {ax.valid_text}", highlight=False)
        console.print(f"  exact: {ax.exact_text}", highlight=False)
        if ax.smallest_collapse:
            console.print(f"  [dim]below: {ax.smallest_collapse}[/dim]", highlight=False)

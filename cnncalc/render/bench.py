"""Output of `cnncalc bench`: the per-layer Rich table and the bar chart of where the time goes."""
from __future__ import annotations

BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int) -> str:
    """A horizontal bar of `fraction` × width cells, in eighths of a cell."""
    eighths = max(0, round(fraction * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (BLOCKS[part] if part else "")


def _ms(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _rate(x: float) -> str:
    """Three significant figures (a slow layer shows 0.0123, not 0.0), thousands separated."""
    return f"{x:,.0f}" if x >= 99.95 else f"{x:#.3g}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if x >= 0.095 else f"{100 * x:.1f}%"


def print_bench(r, console) -> None:
    from rich import box
    from rich.table import Table

    from .tables import human, shape

    where = f"{r.device_name}" + (f", {r.threads} torch threads" if r.threads else "")
    if r.load_avg is not None:
        where += f", load average {r.load_avg:.2f}"
    console.print(f"[bold]{r.name}[/bold]  input {shape(r.input)}  batch {r.batch}  {r.dtype}  "
                  f"{'channels-last  ' if r.channels_last else ''}on {r.device} ({where})")
    console.print(f"[dim]torch {r.torch}; inference_mode; {r.warmup} warm-up run{'' if r.warmup == 1 else 's'} discarded, median of {r.repeat} "
                  f"(spread = min–max); {'CUDA events, cudnn.benchmark' if r.device == 'cuda' else 'perf_counter_ns'}"
                  "[/dim]")
    for label, p, unit in (("peak compute", r.peak, "GFLOP/s"), ("memory bandwidth", r.bandwidth, "GB/s")):
        console.print(f"{label}: [bold]{p.value:,.1f} {unit}[/bold] in the fastest of {p.time.runs} runs of "
                      f"{p.what}, before and after the layers ({_ms(p.time.min_ms)} ms; median run "
                      f"{_ms(p.time.median_ms)} ms = {p.median:,.1f} {unit})")
    console.print(f"ridge point: {r.ridge:.1f} FLOP/B — below it a layer's roof is intensity × bandwidth "
                  "(memory-bound, m), above it the peak (compute-bound, c)")

    t = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, show_edge=False, title="conv and linear layers, each alone (times in ms)",
              title_justify="left", caption="roof: c = compute-bound (peak), m = memory-bound (intensity × "
              "bandwidth)", caption_justify="left")
    for col in ("layer", "FLOPs", "median", "min–max", "GFLOP/s", "FLOP/B", "roof", "% peak", "% roof"):
        # fold, never ellipsize: a narrow terminal wraps a figure instead of cutting it short
        t.add_column(col, justify="left" if col == "layer" else "right", overflow="fold")
    for lb in r.layers:
        t.add_row(lb.name, human(lb.flops), _ms(lb.time.median_ms), f"{_ms(lb.time.min_ms)}–{_ms(lb.time.max_ms)}",
                  _rate(lb.gflops), _rate(lb.intensity), f"{_rate(lb.roof_gflops)} {lb.bound[0]}",
                  _pct(lb.frac_peak), _pct(lb.frac_roof))
    console.print(t)
    for note in r.notes:
        console.print(f"[yellow]note:[/yellow] {note}")

    chart = Table(box=None, title="where the time goes (median per layer alone)", title_justify="left",
                  show_header=False, padding=(0, 1))
    chart.add_column("layer", overflow="fold")
    chart.add_column("bar", no_wrap=True)
    chart.add_column("ms", justify="right")
    chart.add_column("share", justify="right")
    items = [(lb.name, lb.time.median_ms) for lb in r.layers]
    rest = None
    if r.model is not None and r.model.median_ms > r.layers_ms:
        rest = r.model.median_ms - r.layers_ms
        items.append(("(rest of the forward)", rest))
    longest = max((ms for _, ms in items), default=0.0)
    whole = r.model.median_ms if r.model is not None and rest is not None else r.layers_ms
    width = 40
    for name, ms in items:
        chart.add_row(name, f"[cyan]{bar(ms / longest if longest else 0, width)}[/cyan]", _ms(ms),
                      _pct(ms / whole) if whole else "")
    if items:
        console.print(chart)

    console.print(f"sum of conv/linear layers alone: [bold]{_ms(r.layers_ms)} ms[/bold] (medians)")
    if r.model is not None:
        m = r.model
        share = r.layers_ms / m.median_ms
        why = ("the rest is the other layers (activations, pooling, norms, merges) and what running alone "
               "changes (caches, dispatch)" if share <= 1 else
               "more than the whole: the machine's load changed while the layers ran (see the spreads), or "
               "some layers run slower alone than inside the model; run again, with more --repeat")
        console.print(f"whole forward: [bold]{_ms(m.median_ms)} ms[/bold] median (min–max {_ms(m.min_ms)}–"
                      f"{_ms(m.max_ms)}); the conv/linear layers alone add up to {_pct(share)} of it — {why}")
    else:
        console.print(f"whole forward: {r.model_note}")

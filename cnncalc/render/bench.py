"""Output of `cnncalc bench`: the per-layer Rich table and the bar chart of where the time goes."""
from __future__ import annotations

from .safe import markup
from rich.text import Text

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


def bench_columns(r) -> list:
    from .fit import Col
    from .tables import human
    L = r.layers

    def col(title, f, drop=0, raw=None):
        return Col(title, [f(lb) for lb in L], kind="num", drop=drop, raw=[raw(lb) for lb in L] if raw else None)
    return [Col("layer", [lb.name for lb in L], kind="name"),
            col("FLOPs", lambda lb: human(lb.flops), raw=lambda lb: lb.flops),
            col("median", lambda lb: _ms(lb.time.median_ms), raw=lambda lb: lb.time.median_ms),
            col("min–max", lambda lb: f"{_ms(lb.time.min_ms)}–{_ms(lb.time.max_ms)}", drop=5),
            col("GFLOP/s", lambda lb: _rate(lb.gflops), raw=lambda lb: lb.gflops),
            col("FLOP/B", lambda lb: _rate(lb.intensity), drop=4, raw=lambda lb: lb.intensity),
            col("roof", lambda lb: f"{_rate(lb.roof_gflops)} {lb.bound[0]}", drop=3),
            col("% peak", lambda lb: _pct(lb.frac_peak), drop=2, raw=lambda lb: lb.frac_peak),
            col("% roof", lambda lb: _pct(lb.frac_roof), raw=lambda lb: lb.frac_roof)]


def time_chart(r, width: int):
    """Each layer's median as a bar (and the rest of the forward, where it was measured), or None."""
    from .fit import Col, fit
    items = [(lb.name, lb.time.median_ms) for lb in r.layers]
    rest = None
    if r.model is not None and r.model.median_ms > r.layers_ms:
        rest = r.model.median_ms - r.layers_ms
        items.append(("(rest of the forward)", rest))
    if not items:
        return None
    longest = max(ms for _, ms in items)
    whole = r.model.median_ms if r.model is not None and rest is not None else r.layers_ms
    label = max(len(name) for name, _ in items)
    cells = max(10, min(40, width - min(label, 30) - 20))
    return fit([Col("layer", [name for name, _ in items], kind="name"),
                Col("bar", [Text(bar(ms / longest if longest else 0, cells), style="cyan") for _, ms in items]),
                Col("ms", [_ms(ms) for _, ms in items], kind="num"),
                Col("share", [_pct(ms / whole) if whole else "" for _, ms in items], kind="num")], width)


def print_bench(r, console) -> None:
    from .fit import fit
    from .tables import shape

    where = f"{r.device_name}" + (f", {r.threads} torch threads" if r.threads else "")
    if r.load_avg is not None:
        where += f", load average {r.load_avg:.2f}"
    console.print(f"[bold]{markup(r.name)}[/bold]  input {shape(r.input)}  batch {r.batch}  {r.dtype}  "
                  f"{'channels-last  ' if r.channels_last else ''}on {r.device} ({where})")
    console.print(f"[dim]torch {r.torch}; inference_mode; {r.warmup} warm-up run{'' if r.warmup == 1 else 's'} discarded, median of {r.repeat} "
                  f"(spread = min–max); {'CUDA events' if r.device == 'cuda' else 'perf_counter_ns'}"
                  + (f", cudnn.benchmark {'on' if r.cudnn_benchmark else 'off'}" if r.cudnn_benchmark is not None else "")
                  + "[/dim]")
    console.print(f"state: [bold]{r.state}[/bold] — {markup(r.state_note)}")
    for label, roof in (("peak compute", r.peak), ("memory bandwidth", r.bandwidth)):
        console.print(f"{label}: [bold]{roof.value:,.1f} {roof.unit}[/bold], set by {markup(roof.source)}; "
                      f"{roof.how}")
    console.print(f"ridge point: {r.ridge:.1f} FLOP/B — below it a layer's roof is intensity × bandwidth "
                  "(memory-bound, m), above it the peak (compute-bound, c); no layer exceeds either roof")

    console.print(f"[italic]conv and linear layers, each alone, {r.state} (times in ms)[/italic]")
    console.print(fit(bench_columns(r), console.width))
    console.print("[dim]roof: c = compute-bound (peak), m = memory-bound (intensity × bandwidth)[/dim]")
    for note in r.notes:
        console.print(f"[yellow]note:[/yellow] {markup(note)}")
    chart = time_chart(r, console.width)
    if chart is not None:
        console.print("[italic]where the time goes (median per layer alone)[/italic]")
        console.print(chart)

    console.print(f"sum of conv/linear layers alone: [bold]{_ms(r.layers_ms)} ms[/bold] (medians)")
    if r.model is not None:
        m = r.model
        share = r.layers_ms / m.median_ms
        why = (f"the conv/linear layers timed alone take {_pct(share)} of it; the rest is the other layers "
               "(activations, pooling, norms, merges) and what running alone changes (caches, dispatch)"
               if share <= 1 else
               f"the conv/linear layers timed alone take {_pct(share)} of that time, longer than the whole "
               "forward: the machine's load changed while the layers ran (see the spreads), or some layers "
               "run slower alone than inside the model; run again, with more --repeat")
        console.print(f"whole forward: [bold]{_ms(m.median_ms)} ms[/bold] median (min–max {_ms(m.min_ms)}–"
                      f"{_ms(m.max_ms)}); {why}")
    else:
        console.print(f"whole forward: {markup(r.model_note)}")

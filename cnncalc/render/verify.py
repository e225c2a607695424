"""Rich rendering of a Verification (formatting only; every figure comes from the model)."""
from __future__ import annotations

from .safe import markup
from rich.text import Text

from .fit import Col, fit
from .tables import shape


def _num(x: int | None) -> str:
    return "–" if x is None else f"{x:,}"


def _shape(s) -> str:
    return "–" if s is None else shape(s[1:]) if len(s) > 1 else shape(s)


def _pair(layers, ours, theirs, key: str, fmt) -> tuple[list, list]:
    """cnncalc's cells and torch's, red where they disagree."""
    mine = [Text(fmt(getattr(r, ours)), style="red" if key in r.mismatches else "") for r in layers]
    torch = [Text(fmt(getattr(r, theirs)), style="bold red" if key in r.mismatches else "dim") for r in layers]
    return mine, torch


def verification_columns(v) -> list[Col]:
    marks = []
    for r in v.layers:
        mark = Text("✓", style="green") if r.ok else Text("✗", style="bold red")
        if r.torch_output is None and not r.mismatches:
            mark = Text("·", style="dim")  # not reached: torch failed before this layer
        marks.append(mark)
    tt = v.totals
    out, t_out = _pair(v.layers, "output", "torch_output", "output", _shape)
    par, t_par = _pair(v.layers, "params", "torch_params", "params", _num)
    mac, t_mac = _pair(v.layers, "macs", "torch_macs", "macs", _num)
    bufs = [Text(_num(r.buffers) if r.buffers == r.torch_buffers else f"{_num(r.buffers)} ≠ {_num(r.torch_buffers)}",
                 style="bold red" if "buffers" in r.mismatches else "") for r in v.layers]
    return [Col("", marks, footer="✓" if v.ok else "✗"),
            Col("layer", [r.name for r in v.layers], kind="name", footer="total"),
            Col("type", [r.type for r in v.layers], drop=3),
            Col("output", out, footer=_shape(v.output)),
            Col("torch", t_out, footer=_shape(v.torch_output), drop=2),
            Col("params", par, kind="num", footer=_num(tt.params)),
            Col("torch", t_par, kind="num", footer=_num(tt.torch_params)),
            Col("MACs", mac, kind="num", footer=_num(tt.macs)),
            Col("torch", t_mac, kind="num", footer=_num(tt.torch_macs)),
            Col("buffers", bufs, kind="num", footer=f"{tt.buffers:,} / {tt.torch_buffers:,}", drop=1)]


def verification_table(v, width: int = 200):
    return fit(verification_columns(v), width, footer=True)


def summary_lines(v) -> list[Text]:
    where = f"torch {v.torch_version}, {v.device}, batch {v.batch}, input {shape(v.input)}"
    lines = []
    if v.ok:
        lines.append(Text(f"✓ all {len(v.layers)} layers agree with PyTorch: output shapes, params, buffers, "
                          f"MACs (FlopCounterMode / 2) — {where}", style="bold green"))
        return lines
    bad = [r for r in v.layers if not r.ok]
    lines.append(Text(f"✗ {len(bad)} of {len(v.layers)} layers disagree with PyTorch — {where}", style="bold red"))
    for r in bad[:20]:
        what = ", ".join(m for m in r.mismatches if m != "error")
        lines.append(Text(f"  {r.name}: {what}" + (f"; torch raised: {r.error}" if r.error else ""), style="red"))
    if len(bad) > 20:
        lines.append(Text(f"  … and {len(bad) - 20} more", style="red"))
    tt = v.totals
    if tt.unattributed_flops:
        lines.append(Text(f"  {tt.unattributed_flops:,} FLOPs counted outside every layer", style="red"))
    if v.error and not any(r.error for r in v.layers):
        lines.append(Text(f"  {v.error}", style="red"))
    for label, ours, theirs in (("params", tt.params, tt.torch_params), ("buffers", tt.buffers, tt.torch_buffers),
                                ("MACs", tt.macs, tt.torch_macs)):
        if ours != theirs:
            lines.append(Text(f"  total {label}: cnncalc {ours:,} ≠ torch {theirs:,}", style="red"))
    for o in v.outputs or [v]:
        if o.torch_output is not None and o.torch_output != o.output:
            label = f"output {o.name}" if v.outputs else "output"
            lines.append(Text(f"  {label}: cnncalc {shape(o.output)} ≠ torch {shape(o.torch_output)}", style="red"))
    return lines


def outputs_text(v) -> str:
    """→ output 10, or → outputs out 21×520×520, aux 21×520×520 (shapes without the batch)."""
    if not v.outputs:
        return f"output {_shape(v.output)}"
    return "outputs " + ", ".join(f"{o.name} {_shape(o.output)}" for o in v.outputs)


def print_verification(v, console) -> None:
    console.print(f"[bold]{markup(v.name)}[/bold]  input {shape(v.input)} → {markup(outputs_text(v))}"
                  + (f"  batch {v.batch}" if v.batch != 1 else "")
                  + "\n[dim]cnncalc's static figure beside torch's measurement: output from a forward hook, "
                    "params/buffers = numel of the layer's module, MACs = FlopCounterMode FLOPs / 2[/dim]")
    console.print(verification_table(v, console.width))
    for line in summary_lines(v):
        console.print(line)


def print_against(result, console) -> None:
    """`verify --against`: one line, ✓ or the first divergence."""
    y, m = result.yaml, result.model
    if result.ok:
        console.print(Text(f"✓ {y.name} agrees with {m.name}: {result.compared:,} layers compared, "
                           f"{y.params:,} params, {y.macs:,} MACs"))
    else:
        console.print(Text(f"✗ {result.divergence}"))
        console.print(Text(f"  {y.name}: {y.params:,} params, {y.macs:,} MACs; {m.name}: {m.params:,} params, "
                           f"{m.macs:,} MACs"))

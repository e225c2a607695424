"""Rich rendering of a Verification (formatting only; every figure comes from the model)."""
from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from .tables import shape


def _num(x: int | None) -> str:
    return "–" if x is None else f"{x:,}"


def _pair(table_cells: list, ours, theirs, bad: bool, fmt) -> None:
    table_cells.append(Text(fmt(ours), style="red" if bad else ""))
    table_cells.append(Text(fmt(theirs), style="bold red" if bad else "dim"))


def _shape(s) -> str:
    return "–" if s is None else shape(s[1:]) if len(s) > 1 else shape(s)


def verification_table(v) -> Table:
    t = Table(box=box.SIMPLE_HEAD, show_footer=True, pad_edge=False)
    t.add_column("", footer="✓" if v.ok else "✗", no_wrap=True)
    t.add_column("layer", footer="total", overflow="fold")
    t.add_column("type", no_wrap=True)
    t.add_column("output", no_wrap=True, footer=_shape(v.output))
    t.add_column("torch", no_wrap=True, footer=_shape(v.torch_output))
    tt = v.totals
    t.add_column("params", justify="right", no_wrap=True, footer=_num(tt.params))
    t.add_column("torch", justify="right", no_wrap=True, footer=_num(tt.torch_params))
    t.add_column("MACs", justify="right", no_wrap=True, footer=_num(tt.macs))
    t.add_column("torch", justify="right", no_wrap=True, footer=_num(tt.torch_macs))
    t.add_column("buffers", justify="right", no_wrap=True, footer=f"{tt.buffers:,} / {tt.torch_buffers:,}")
    for r in v.layers:
        mark = Text("✓", style="green") if r.ok else Text("✗", style="bold red")
        if r.torch_output is None and not r.mismatches:
            mark = Text("·", style="dim")  # not reached: torch failed before this layer
        cells: list = [mark, r.name, r.type]
        _pair(cells, r.output, r.torch_output, "output" in r.mismatches, _shape)
        _pair(cells, r.params, r.torch_params, "params" in r.mismatches, _num)
        _pair(cells, r.macs, r.torch_macs, "macs" in r.mismatches, _num)
        bufs = _num(r.buffers) if r.buffers == r.torch_buffers else f"{_num(r.buffers)} ≠ {_num(r.torch_buffers)}"
        cells.append(Text(bufs, style="bold red" if "buffers" in r.mismatches else ""))
        t.add_row(*cells)
    return t


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
    console.print(f"[bold]{v.name}[/bold]  input {shape(v.input)} → {outputs_text(v)}"
                  + (f"  batch {v.batch}" if v.batch != 1 else "")
                  + "\n[dim]cnncalc's static figure beside torch's measurement: output from a forward hook, "
                    "params/buffers = numel of the layer's module, MACs = FlopCounterMode FLOPs / 2[/dim]")
    console.print(verification_table(v))
    for line in summary_lines(v):
        console.print(line)

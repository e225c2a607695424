"""Rendering of the training figures (`analyze --train`, `--memory`) and of `verify --train`.
Formatting only: every figure comes from the Report or the TrainVerification."""
from __future__ import annotations

from .safe import markup
from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from .fit import Col, fit
from .tables import header, human, print_prose, print_report, rows_at_depth, tail_view, shape, totals_text

TRAIN_CONVENTIONS = ("training step = forward in training mode (auxiliary heads included) + backward of the summed "
                     "outputs; the input needs no gradient; saved = storages autograd keeps for backward (a view or a "
                     "tensor kept by several layers counts once, at the first); dropout's mask 1 byte on CUDA, the activations' dtype on the CPU; "
                     "gradients set to None between steps")


def gb(x: int | None) -> str:
    return "–" if x is None else f"{x:,} B ({human(x, 'B')})"


def training_columns(report, depth: int | None = None) -> list[Col]:
    """`analyze --train`'s per-layer columns (a block collapsed at `depth` is one row, its name in bold)."""
    rows = list(rows_at_depth(report, depth))
    tt = report.totals.training

    def col(f):
        return [f(k, r) for k, r in rows]
    return [
        Col("layer", col(lambda k, r: Text(r.name, style="bold") if k == "block" else r.name), kind="name",
            footer="total"),
        Col("type", col(lambda k, r: f"[{r.type}]" if k == "block" else r.type), drop=2),
        Col("output", col(lambda k, r: shape(r.output)), drop=1),
        Col("fwd MACs", col(lambda k, r: human(r.macs) if r.macs else "–"), kind="num", footer=human(tt.forward_macs),
            raw=col(lambda k, r: r.macs)),
        Col("bwd MACs", col(lambda k, r: human(r.training.backward_macs) if r.training.backward_macs else "–"),
            kind="num", footer=human(tt.backward_macs), raw=col(lambda k, r: r.training.backward_macs)),
        Col("saved", col(lambda k, r: human(r.training.saved_bytes, "B") if r.training.saved_bytes else "–"),
            kind="num", footer=human(tt.saved_activation_bytes, "B"), raw=col(lambda k, r: r.training.saved_bytes)),
    ]


def memory_lines(m, indent: str = "") -> list[str]:
    return [f"{indent}params+buffers {gb(m.param_bytes)}", f"{indent}gradients      {gb(m.grad_bytes)}",
            f"{indent}optimizer      {gb(m.optimizer_bytes)}",
            f"{indent}saved for bwd  {gb(m.saved_activation_bytes)}",
            f"{indent}peak           {gb(m.peak_bytes)}  (in the {m.peak_phase})"]


def training_text(report) -> str:
    t = report.totals
    tt = t.training
    lines = ["inference activations at fp32:", f"  sum of outputs {gb(t.activation_bytes)}",
             f"  peak live      {gb(t.peak_activation_bytes)}  (each freed after its last consumer)"]
    if tt is None:
        return "\n".join(lines)
    lines += [f"training step on {tt.device.upper() if tt.device == 'cuda' else 'the CPU'}, batch {tt.batch}, "
              f"{tt.dtype}, {tt.optimizer}:",
              f"  MACs           forward {tt.forward_macs:,} + backward {tt.backward_macs:,}",
              f"                 = {tt.step_macs:,} ({human(tt.step_macs)}; FLOPs {human(2 * tt.step_macs)})"]
    lines += memory_lines(tt, "  ")
    if tt.fit is not None:
        f = tt.fit
        if f.batch == 0:
            lines.append(f"fit {human(f.budget_bytes, 'B')}: not even batch 1 fits")
        else:
            most = f"at least {f.batch:,} (search limit)" if f.at_least else f"{f.batch:,}"
            lines.append(f"fit {human(f.budget_bytes, 'B')} ({f.budget_bytes:,} B): largest batch {most}")
            lines += memory_lines(f, "  ")
    return "\n".join(lines)


def print_training(report, console: Console, depth: int | None = None, stages=None) -> None:
    """`analyze --train` (the training table, totals, the step) or `--memory` (the report and the peak)."""
    if report.totals.training is None:
        print_report(report, console, depth, stages, more=training_text(report))
        return
    print_prose(console, header(report))
    print_prose(console, Text(TRAIN_CONVENTIONS, style="dim"))
    console.print(fit(training_columns(report, depth), console.width, footer=True))
    console.print(totals_text(report), highlight=False)
    console.print(training_text(report), highlight=False)
    console.print(Group(*tail_view(report, console.width, stages)))


def print_train_verification(v, console: Console) -> None:
    console.print(f"[bold]{markup(v.name)}[/bold]  input {shape(v.input)}  --train, {v.optimizer}, torch {v.torch_version}, "
                  f"{v.device}\n[dim]backward MACs = FlopCounterMode's formulas / 2 per backward op, charged to the layer "
                  "that made its autograd node (grouped weight gradients ÷ groups); saved = distinct storages from saved_tensors_hooks; inference peak = live "
                  "storages tracked at dispatch; the cnncalc column is `analyze --train --device "
                  f"{'cuda' if v.device.startswith('cuda') else 'cpu'}`'s[/dim]", highlight=False)
    for note in v.notes:
        console.print(f"[dim]{markup(note)}[/dim]", highlight=False)
    for b in v.batches:
        t = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=f"batch {b.batch}")
        for col in ("", "figure", "cnncalc", "torch"):
            t.add_column(col, justify="left" if col in ("", "figure") else "right", no_wrap=True)
        for label, ours, theirs in (("backward MACs", b.backward_macs, b.torch_backward_macs),
                                    ("saved for backward (B)", b.saved_activation_bytes, b.torch_saved_activation_bytes),
                                    ("inference peak live (B)", b.peak_activation_bytes, b.torch_peak_activation_bytes)):
            t.add_row(Text("✓", style="green") if ours == theirs else Text("✗", style="bold red"), label,
                      f"{ours:,}", f"{theirs:,}")
        console.print(t)
        if b.torch_backward_macs_stock != b.torch_backward_macs:
            console.print(f"  FlopCounterMode as shipped: {b.torch_backward_macs_stock:,} backward MACs "
                          "(grouped weight gradients counted × groups)", highlight=False)
        bad = [r for r in b.layers if r.mismatches]
        for r in bad[:20]:
            console.print(Text(f"  {r.name} ({r.type}): backward MACs {r.backward_macs:,} vs {r.torch_backward_macs:,}, "
                               f"saved {r.saved_bytes:,} vs {r.torch_saved_bytes:,} B", style="red"))
        if b.torch_step_peak_bytes is None:
            continue
        ratio = f"{b.torch_step_peak_bytes / b.step_peak_bytes:.3f}"
        line = (f"  training-step peak: predicted {gb(b.step_peak_bytes)}; live storages tracked "
                f"{gb(b.torch_step_peak_bytes)} (ratio {ratio})")
        if b.cuda_max_memory_allocated is not None:
            line += (f"; torch.cuda.max_memory_allocated {gb(b.cuda_max_memory_allocated)} "
                     f"(ratio {b.cuda_max_memory_allocated / b.step_peak_bytes:.3f})")
        console.print(line, highlight=False)
    console.print(Text("✓ training figures agree with PyTorch" if v.ok else "✗ training figures disagree with PyTorch",
                       style="bold green" if v.ok else "bold red"))

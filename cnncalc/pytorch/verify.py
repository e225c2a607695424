"""Prove the static figures against PyTorch: one real forward pass, compared layer by layer.

`verify` builds the graph as a torch module (pytorch.build), runs one forward pass (eval mode,
no_grad, a random input) under `torch.utils.flop_counter.FlopCounterMode`, and hooks every
node's submodule. Per node it measures

- the output shape (a forward hook),
- parameters and buffers (numel of that submodule's own tensors),
- FLOPs: the counter's running total read in a forward pre-hook and again in the forward hook.
  The nodes are siblings run one after another, so the difference is exactly that node's work,
  whatever names FlopCounterMode's module tracker gives them. MACs = FLOPs / 2.

and compares them with the static Report. Flops counted outside every node (there should be
none) are reported as unattributed and make the verification fail.

On `device="meta"` nothing is allocated or computed: shapes and counts only, any input size.
This module imports torch; `import cnncalc` never imports it.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from pydantic import BaseModel

from ..analysis.analyze import load, report_of
from .memory import is_out_of_memory, refuse_if_too_big
from ..errors import CnncalcError, quote
from ..analysis.graph import Graph
from ..analysis.report import NamedOutput, OmitsOneOutput, Report

class LayerCheck(BaseModel):
    """One node: cnncalc's figure beside torch's measurement (output shapes include the batch)."""
    name: str
    type: str
    output: list[int]
    torch_output: list[int] | None = None
    params: int
    torch_params: int | None = None
    buffers: int
    torch_buffers: int | None = None
    macs: int
    torch_macs: int | None = None        # FlopCounterMode FLOPs / 2 (rounded down if odd)
    torch_flops: int | None = None
    mismatches: list[str] = []            # which of output, params, buffers, macs differ, or "error"
    error: str | None = None              # torch refused to run this layer

    @property
    def ok(self) -> bool:
        return not self.mismatches


class VerifyTotals(BaseModel):
    params: int
    torch_params: int
    buffers: int
    torch_buffers: int
    macs: int
    torch_macs: int
    torch_flops: int
    unattributed_flops: int = 0          # counted by FlopCounterMode outside every node


class OutputCheck(NamedOutput):
    """One of several outputs: cnncalc's shape (batch included) beside the shape torch returned."""
    torch_output: list[int] | None = None


class Verification(OmitsOneOutput):
    name: str
    file: str | None = None
    input: list[int]
    batch: int
    device: str
    torch_version: str
    output: list[int]                     # with several outputs, the first one's
    torch_output: list[int] | None = None
    outputs: list[OutputCheck] = []       # only for a network with several outputs, each compared
    layers: list[LayerCheck]
    totals: VerifyTotals
    ok: bool
    mismatches: int                       # layers that disagree (+1 if the totals disagree beyond them)
    error: str | None = None


def resolve_device(name: str):
    """cpu, meta, cuda or cuda:N as a torch.device; a CnncalcError when it cannot be used here."""
    import torch

    text = str(name).strip().lower()
    if text in ("cpu", "meta"):
        return torch.device(text)
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}, no GPU visible"
            raise CnncalcError(f"--device {name}: CUDA is not available (torch {torch.__version__}, {build}); "
                               "use --device cpu or --device meta")
        try:
            dev = torch.device(text)
        except RuntimeError:
            raise CnncalcError(f"--device {quote(name)}: expected cuda or cuda:N") from None
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise CnncalcError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) here")
        return dev
    raise CnncalcError(f"--device {quote(name)}: expected cpu, cuda, cuda:N or meta")


def verify(spec: Any, *, input: Any = None, batch: int = 1, device: str = "cpu", seed: int = 0,
           progress: Optional[Callable[[int, int], None]] = None) -> Verification:
    """Analyze `spec` (a path, a built-in name, a parsed dict or a Graph) and check every layer's
    output shape, params, buffers and MACs against a real torch forward pass (`progress(done, total)`
    is called as the layers run)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise CnncalcError(f"batch must be a whole number ≥ 1, got {quote(batch)}")
    graph = load(spec, input)
    return verify_graph(graph, report_of(graph, batch), device=device, seed=seed, progress=progress)


def verify_graph(graph: Graph, report: Report, *, device: str = "cpu", seed: int = 0,
                 progress: Optional[Callable[[int, int], None]] = None) -> Verification:
    """Compare `report` (normally `report_of(graph, batch)`) with torch running `graph`."""
    if str(device).strip().lower() == "cpu":   # before torch is even imported
        refuse_if_too_big(graph, report.batch, "cpu", "verify")
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from .build import build

    dev = resolve_device(device)
    batch = report.batch
    if dev.type == "cuda":
        refuse_if_too_big(graph, batch, str(dev), "verify")
    torch.manual_seed(seed)
    with torch.device(dev):
        net = build(graph)
    net.eval()
    mods = [m for _, m in net.named_nodes()]

    counter = FlopCounterMode(display=False)
    n = len(mods)
    flops: list[int | None] = [None] * n
    shapes: list[list[int] | None] = [None] * n
    state = {"current": None, "start": 0}

    def pre_hook(i):
        def hook(module, args):
            state["current"] = i
            state["start"] = counter.get_total_flops()
        return hook

    def post_hook(i):
        def hook(module, args, out):
            flops[i] = counter.get_total_flops() - state["start"]
            shapes[i] = list(out.shape) if isinstance(out, torch.Tensor) else None
            state["current"] = None
            if progress is not None:
                progress(i + 1, n)
        return hook

    handles = []
    for i, m in enumerate(mods):
        handles.append(m.register_forward_pre_hook(pre_hook(i)))
        handles.append(m.register_forward_hook(post_hook(i)))
    error, failed_at, y = None, None, None
    try:
        x = torch.randn(batch, *graph.input, device=dev)
        with torch.no_grad(), counter:
            y = net(x)
    except (RuntimeError, ValueError, TypeError, IndexError, MemoryError) as e:
        if is_out_of_memory(e):     # the machine's limit, not a disagreement: one line, exit 2
            raise CnncalcError(f"verify: out of memory on {dev} at batch {batch}; try a smaller --input or "
                               "--batch") from None
        failed_at = state["current"]
        error = (str(e).strip().splitlines() or [type(e).__name__])[0]
    finally:
        for h in handles:
            h.remove()

    rows = []
    for i, (node, row, m) in enumerate(zip(graph.nodes, report.layers, mods)):
        p = sum(t.numel() for t in m.parameters())
        b = sum(t.numel() for t in m.buffers())
        check = LayerCheck(
            name=node.name, type=node.layer.type, output=[batch, *row.output], torch_output=shapes[i],
            params=row.params, torch_params=p, buffers=row.buffers, torch_buffers=b, macs=row.macs,
            torch_macs=None if flops[i] is None else flops[i] // 2, torch_flops=flops[i])
        bad = []
        if shapes[i] is not None and shapes[i] != check.output or shapes[i] is None and flops[i] is not None:
            bad.append("output")
        if p != row.params:
            bad.append("params")
        if b != row.buffers:
            bad.append("buffers")
        if flops[i] is not None and flops[i] != 2 * row.macs:
            bad.append("macs")
        if i == failed_at:
            bad.append("error")
            check.error = error
        check.mismatches = bad
        rows.append(check)

    total_flops = counter.get_total_flops() if error is None else sum(f for f in flops if f is not None)
    attributed = sum(f for f in flops if f is not None)
    totals = VerifyTotals(
        params=report.totals.params, torch_params=sum(t.numel() for t in net.parameters()),
        buffers=report.totals.buffers, torch_buffers=sum(t.numel() for t in net.buffers()),
        macs=report.totals.macs, torch_macs=total_flops // 2, torch_flops=total_flops,
        unattributed_flops=total_flops - attributed)
    outputs = output_checks(report, y, batch)
    torch_output = outputs[0].torch_output
    bad_rows = sum(1 for r in rows if not r.ok)
    totals_ok = (totals.params == totals.torch_params and totals.buffers == totals.torch_buffers
                 and totals.torch_flops == 2 * totals.macs and totals.unattributed_flops == 0)
    output_ok = all(o.torch_output == o.output for o in outputs)
    if error is not None and failed_at is None:
        error = f"torch failed outside any layer: {error}"
    ok = bad_rows == 0 and totals_ok and output_ok and error is None
    return Verification(
        name=report.name, file=report.file, input=list(report.input), batch=batch, device=str(dev),
        torch_version=torch.__version__, output=[batch, *report.output], torch_output=torch_output,
        outputs=outputs if len(outputs) > 1 else [], layers=rows, totals=totals, ok=ok,
        mismatches=bad_rows + (0 if (totals_ok and output_ok) or bad_rows else 1), error=error)


def output_checks(report: Report, y, batch: int) -> list[OutputCheck]:
    """Each output the report names beside the tensor torch returned for it (a network with several
    outputs returns a tuple, in the same order)."""
    import torch

    named = report.outputs or [NamedOutput(name="output", output=report.output)]
    got = list(y) if isinstance(y, tuple) else [y]
    if len(got) != len(named):
        got = [None] * len(named)
    return [OutputCheck(name=o.name, output=[batch, *o.output],
                        torch_output=list(t.shape) if isinstance(t, torch.Tensor) else None)
            for o, t in zip(named, got)]

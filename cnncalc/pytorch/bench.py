"""`cnncalc bench`: time every conv and linear layer, and the whole forward, against a roofline no layer exceeds.

Every layer is timed in a stated, reproducible state (`BenchReport.state`):

- **warm** (the default): what the user's model sees in an inference loop. The whole network is built
  (`cnncalc.pytorch.build`) and runs its warm-up and timed forward passes first; then each conv/linear layer —
  the network's own module — is timed alone on the input it received in that forward, in the allocator state
  the network's forwards left (glibc's free lists and dynamic mmap threshold as a real loop has them).
- **isolated** (`--isolated`): each layer alone in a fresh process (`bench_worker`), on a random input of its
  shape: the clean state of a process that has run nothing else, as `torch.utils.benchmark.Timer` sees a
  layer in a new interpreter.

The roofline probes (pytorch/roofline.py) run after the layers, so they cannot change the layer timings.
Clocks: `time.perf_counter_ns()` around each call on the CPU (kernels are synchronous; the thread count is
shown), a pair of CUDA events around each call on CUDA, with cuDNN's algorithm search on or off as asked
(`torch.backends.cudnn.benchmark`). Warm-up runs are discarded; the kept runs give median, quartiles, min/max.

torch is imported only inside these functions: `import cnncalc` never imports it.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel

from ..errors import CnncalcError, quote
from ..layers import numel
from . import torch_missing
from .roofline import DTYPE_BYTES, DTYPES, Roof, bandwidth_probes, best, compute_probes
from .timing import Timing, make_timer, summarize

DEVICES = ("cpu", "cuda")
STATES = {
    "warm": "each layer timed alone on its own input right after the whole network's warm forward passes "
            "(the allocator state of an inference loop)",
    "isolated": "each layer timed alone in a fresh process that has run nothing else (the clean state)",
}
WORKER_TIMEOUT_S = 600


# -- results --------------------------------------------------------------------------------------
class LayerBench(BaseModel):
    name: str
    type: str
    input: list[int]
    output: list[int]
    config: str = ""
    flops: int           # static FLOPs (2 × MACs) × batch — exactly `cnncalc analyze --batch`'s
    bytes: int           # (input + weights + output elements) × dtype size
    intensity: float     # flops / bytes
    time: Timing
    gflops: float        # flops / median time
    roof_gflops: float   # min(peak, intensity × bandwidth)
    bound: Literal["compute", "memory"]
    frac_peak: float     # gflops / peak (≤ 1: the peak is at least every layer's own rate)
    frac_roof: float     # gflops / roof_gflops (≤ 1 likewise)
    share: float         # median time / sum of all layers' median times


class BenchReport(BaseModel):
    name: str
    file: str | None = None
    input: list[int]
    batch: int
    device: str
    device_name: str
    dtype: str
    channels_last: bool
    state: Literal["warm", "isolated"]
    state_note: str                  # what the state means, for the report header
    cudnn_benchmark: bool | None = None   # CUDA: cuDNN's algorithm search on (True) or off
    threads: int | None = None       # torch CPU threads (CPU runs)
    load_avg: float | None = None    # 1-minute load average when the run started (CPU runs)
    torch: str
    warmup: int
    repeat: int
    peak: Roof                       # GFLOP/s
    bandwidth: Roof                  # GB/s
    ridge: float                     # peak / bandwidth: FLOP/B where layers turn compute-bound
    layers: list[LayerBench]
    layers_ms: float                 # sum of the layers' median times
    model: Timing | None = None      # whole forward (cnncalc.pytorch.build), or None with model_note
    model_note: str = ""
    notes: list[str] = []


# -- measuring --------------------------------------------------------------------------------------
def _torch():
    try:
        import torch
    except ImportError:
        raise torch_missing("bench") from None
    return torch


def check_setup(torch, device: str, dtype: str) -> None:
    """Refuse (exit 2) what this machine or torch build cannot run, before anything is timed."""
    if device == "cuda" and not torch.cuda.is_available():
        raise CnncalcError(f"--device cuda: no CUDA GPU is available to torch {torch.__version__} on this machine "
                           "(use --device cpu)")
    tdt = getattr(torch, DTYPES[dtype])
    try:  # a tiny conv, linear and matmul at this dtype: does this torch build run them at all?
        x = torch.randn(1, 2, 4, 4, device=device, dtype=tdt)
        torch.nn.functional.conv2d(x, torch.randn(2, 2, 3, 3, device=device, dtype=tdt))
        torch.nn.functional.linear(x.flatten(1), torch.randn(3, 32, device=device, dtype=tdt))
        a = torch.randn(8, 8, device=device, dtype=tdt)
        a @ a
    except (RuntimeError, TypeError, NotImplementedError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CnncalcError(f"--dtype {dtype} on {device}: torch {torch.__version__} cannot run conv/linear/matmul "
                           f"in {DTYPES[dtype]} here ({first}); try --dtype fp32") from None


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def bench(spec: Any, *, input: str | tuple | list | None = None, device: str = "cpu", dtype: str = "fp32",
          batch: int = 1, channels_last: bool = False, repeat: int = 10, warmup: int = 2,
          model: bool = True, isolated: bool = False, cudnn_benchmark: bool = True,
          progress: Optional[Callable[[int, int], None]] = None) -> BenchReport:
    """Time every conv/linear layer in the state asked for, and the whole forward; see the module docstring.
    `progress(done, total)` is called after each timed step (the network, each layer, the probes)."""
    from ..analysis.analyze import load, report_of
    from .memory import refuse_if_too_big

    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise CnncalcError(f"--batch: expected a whole number ≥ 1, got {quote(batch)}")
    if repeat < 1 or warmup < 0:
        raise CnncalcError("--repeat must be ≥ 1 and --warmup ≥ 0")
    if device not in DEVICES:
        raise CnncalcError(f"--device: expected cpu or cuda, got {quote(device)}")
    if dtype not in DTYPES:
        raise CnncalcError(f"--dtype: expected fp32, fp16 or bf16, got {quote(dtype)}")
    graph = load(spec, input)          # bad files fail here, before torch is imported
    static = report_of(graph, batch)
    if device == "cpu":             # before torch is even imported
        refuse_if_too_big(graph, batch, device, "bench", DTYPE_BYTES[dtype], DTYPE_BYTES[dtype])
    torch = _torch()
    check_setup(torch, device, dtype)
    if device != "cpu":
        refuse_if_too_big(graph, batch, device, "bench", DTYPE_BYTES[dtype], DTYPE_BYTES[dtype])
    tdt = getattr(torch, DTYPES[dtype])
    timer = make_timer(torch, device)
    notes: list[str] = []
    load_avg = os.getloadavg()[0] if device == "cpu" and hasattr(os, "getloadavg") else None
    if load_avg is not None and load_avg >= max(0.5, 0.25 * (os.cpu_count() or 1)):
        notes.append(f"the machine was busy when the run started (1-minute load average {load_avg:.2f} on "
                     f"{os.cpu_count()} CPUs): other processes compete for the cores, so times are noisier "
                     "and slower than on an idle machine")
    if device == "cuda":
        torch.backends.cudnn.benchmark = cudnn_benchmark
        device_name = torch.cuda.get_device_name()
        if dtype == "fp32" and torch.backends.cudnn.allow_tf32 != torch.backends.cuda.matmul.allow_tf32:
            notes.append(f"fp32 on CUDA: convolutions may use TF32 (cudnn.allow_tf32="
                         f"{torch.backends.cudnn.allow_tf32}) but the GEMM probes and linear layers not "
                         f"(matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32})")
    else:
        device_name = _cpu_name()

    weighted = [(i, node, row) for i, (node, row) in enumerate(zip(graph.nodes, static.layers))
                if node.layer.weight_layer]
    steps = len(weighted) + 2
    done = iter(range(1, steps + 1))
    tick = (lambda: progress(next(done), steps)) if progress else (lambda: None)
    threads = torch.get_num_threads() if device == "cpu" else None
    setup = dict(batch=batch, device=device, dtype=dtype, channels_last=channels_last, warmup=warmup,
                 repeat=repeat, threads=threads, cudnn_benchmark=cudnn_benchmark)
    with torch.inference_mode():
        if isolated:       # the workers first: nothing this process does can reach their state anyway
            times = []
            for _, node, _ in weighted:
                times.append(_time_in_fresh_process(node, setup))
                tick()
            model_t, model_note, _ = _run_network(torch, graph, weighted, setup, timer)
        else:
            model_t, model_note, inputs = _run_network(torch, graph, weighted, setup, timer)
            times = []
            for i, node, _ in weighted:
                mod, args = inputs.get(i) or _alone(torch, node, setup)
                times.append(_time(timer, node, lambda: mod(*args), setup))
                tick()
        tick()
        peak_probes = compute_probes(torch, device, dtype, channels_last, timer, repeat)
        bw_probes = bandwidth_probes(torch, device, dtype, timer, repeat)
        tick()
    rows = []
    for (i, node, row), t in zip(weighted, times):
        t = summarize(t)
        moved = (batch * numel(node.in_shapes[0]) + row.params + batch * numel(node.out_shape)) * DTYPE_BYTES[dtype]
        rows.append((node, row, t, moved, row.flops / (t.median_ms / 1e3) / 1e9))
    peak = best(peak_probes, [(node.name, g) for node, _, _, _, g in rows], "GFLOP/s",
                "the fastest of GEMMs of three shapes and convolutions at four shapes, run after the layers")
    bw = best(bw_probes, [(node.name, moved / (t.median_ms / 1e3) / 1e9) for node, _, t, moved, _ in rows], "GB/s",
              "the fastest of copies from cache-sized to far larger than any cache, run after the layers")
    total = sum(t.median_ms for _, _, t, _, _ in rows)
    layers = []
    for node, row, t, moved, gflops in rows:
        intensity = row.flops / moved
        mem_roof = intensity * bw.value
        roof = min(peak.value, mem_roof)
        layers.append(LayerBench(
            name=node.name, type=row.type, input=row.input, output=row.output, config=row.config,
            flops=row.flops, bytes=moved, intensity=intensity, time=t, gflops=gflops, roof_gflops=roof,
            bound="compute" if peak.value <= mem_roof else "memory", frac_peak=gflops / peak.value,
            frac_roof=gflops / roof, share=t.median_ms / total if total else 0.0))
    if not layers:
        notes.append("no conv or linear layers: nothing to time per layer")
    return BenchReport(
        name=static.name, file=static.file, input=static.input, batch=batch, device=device,
        device_name=device_name, dtype=dtype, channels_last=channels_last,
        state="isolated" if isolated else "warm", state_note=STATES["isolated" if isolated else "warm"],
        cudnn_benchmark=cudnn_benchmark if device == "cuda" else None, threads=threads, load_avg=load_avg,
        torch=torch.__version__, warmup=warmup, repeat=repeat, peak=peak, bandwidth=bw,
        ridge=peak.value / bw.value, layers=layers, layers_ms=total, model=model_t if model else None,
        model_note=model_note if model else "not measured (model=False)", notes=notes)


def _prepare(torch, module, args, setup):
    tdt = getattr(torch, DTYPES[setup["dtype"]])
    module = module.eval().to(device=setup["device"], dtype=tdt)
    if setup["channels_last"]:
        module = module.to(memory_format=torch.channels_last)
        args = [a.contiguous(memory_format=torch.channels_last) if a.dim() == 4 else a for a in args]
    return module, args


def _alone(torch, node, setup):
    """A layer's own module and a random input of its shape (when the whole network could not be built)."""
    tdt = getattr(torch, DTYPES[setup["dtype"]])
    xs = [torch.randn(setup["batch"], *s, device=setup["device"], dtype=tdt) for s in node.in_shapes]
    return _prepare(torch, node.layer.torch_module(node.in_shapes), xs, setup)


def _time(timer, node, fn, setup) -> list[float]:
    try:
        return timer(fn, setup["warmup"], setup["repeat"])
    except RuntimeError as e:
        raise CnncalcError(f"{node.name}: torch failed on input {setup['batch']}×"
                           f"{'×'.join(map(str, node.in_shapes[0]))} {setup['dtype']} {setup['device']}: "
                           f"{str(e).strip().splitlines()[0]}") from None


def _run_network(torch, graph, weighted, setup, timer):
    """The whole forward through cnncalc.pytorch.build, warm-up and timed runs: (timing, note, inputs) with
    each weight layer's module and the arguments it received in the first forward; (None, why, {}) when the
    network cannot be built or run here."""
    try:
        from .build import build
        net = build(graph)
        x = torch.randn(setup["batch"], *graph.input, device=setup["device"], dtype=getattr(torch, DTYPES[setup["dtype"]]))
        net, (x,) = _prepare(torch, net, [x], setup)
        inputs, hooks = {}, []

        def keep(i):
            def hook(module, args):
                inputs.setdefault(i, (module, args))
            return hook
        for i, _, _ in weighted:
            hooks.append(net._modules[net.node_keys[i]].register_forward_pre_hook(keep(i)))
        net(x)
        for h in hooks:
            h.remove()
        times = timer(lambda: net(x), setup["warmup"], setup["repeat"])
    except (RuntimeError, NotImplementedError, ImportError, CnncalcError) as e:
        return None, f"not measured: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}", {}
    return summarize(times), "", inputs


def _time_in_fresh_process(node, setup) -> list[float]:
    """One layer timed by `bench_worker` in a new interpreter (the clean state)."""
    req = dict(setup, layer=node.layer.model_dump(mode="json"), in_shapes=[list(s) for s in node.in_shapes])
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    try:
        res = subprocess.run([sys.executable, "-m", "cnncalc.pytorch.bench_worker"], input=json.dumps(req),
                             capture_output=True, text=True, env=env, timeout=WORKER_TIMEOUT_S)
        out = json.loads(res.stdout)
    except (subprocess.TimeoutExpired, json.JSONDecodeError, OSError) as e:
        raise CnncalcError(f"{node.name}: the isolated worker failed ({type(e).__name__})") from None
    if "error" in out:
        raise CnncalcError(f"{node.name}: torch failed on input {setup['batch']}×"
                           f"{'×'.join(map(str, node.in_shapes[0]))} {setup['dtype']} {setup['device']} "
                           f"in its own process: {out['error']}")
    return out["times"]

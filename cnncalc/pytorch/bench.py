"""`cnncalc bench`: time every conv and linear layer alone, and the whole model, against a measured roofline.

Each conv/linear layer is built alone (`layer.torch_module(in_shapes)`) at its input shape, batch, dtype,
device and memory format, and its forward is timed under `torch.inference_mode()`: warm-up runs are
discarded, then `repeat` runs are kept and reported as median, quartiles and min/max.

- CPU: `time.perf_counter_ns()` around each call (CPU kernels are synchronous; the thread count is shown).
- CUDA: a pair of CUDA events around each call, `torch.backends.cudnn.benchmark = True`, and
  `torch.cuda.synchronize()` before any event is read.

The roofline is measured in the same run, never taken from a data sheet: peak compute is a large
square matmul of the same dtype (2·n³ FLOPs), memory bandwidth a large tensor copy (bytes read +
written), each timed before and after the layers and taken from its fastest run (a capacity: other
processes can only slow a run down). A layer's arithmetic intensity is its FLOPs (the static report's,
× batch) per byte of input + weights + output at that dtype; its roof is min(peak, intensity ×
bandwidth), and the report gives the achieved GFLOP/s (FLOPs / median time) as a fraction of both.

torch is imported only inside these functions: `import cnncalc` never imports it.
"""
from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel

from ..errors import CnncalcError
from ..layers import numel

DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
DEVICES = ("cpu", "cuda")

# Roofline probes: grow the matmul until one run lasts this long (seconds), up to the cap.
MATMUL_TARGET_S = {"cpu": 0.05, "cuda": 0.005}
MATMUL_MAX_N = {"cpu": 4096, "cuda": 16384}
COPY_BYTES = {"cpu": 256 << 20, "cuda": 1 << 30}   # per buffer: far larger than any cache


# -- results --------------------------------------------------------------------------------------
class Timing(BaseModel):
    """Wall times of the kept runs (warm-up discarded), in milliseconds."""
    runs: int
    median_ms: float
    q1_ms: float
    q3_ms: float
    min_ms: float
    max_ms: float


class Probe(BaseModel):
    """A roofline probe: peak compute (GFLOP/s, matmul) or memory bandwidth (GB/s, copy).

    `value`, the roof, comes from the fastest run: a capacity is what the machine can do, and other
    processes can only slow a run down. `median` shows how much the runs were disturbed."""
    what: str
    work: float          # FLOPs (matmul) or bytes read + written (copy) per run
    time: Timing
    value: float         # work / fastest run, in GFLOP/s or GB/s — used for the roofline
    median: float        # work / median run


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
    frac_peak: float     # gflops / peak
    frac_roof: float     # gflops / roof_gflops
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
    threads: int | None = None       # torch CPU threads (CPU runs)
    load_avg: float | None = None    # 1-minute load average when the run started (CPU runs)
    torch: str
    warmup: int
    repeat: int
    peak: Probe
    bandwidth: Probe
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
        raise CnncalcError('bench needs PyTorch: pip install "cnncalc[torch]"') from None
    return torch


def summarize(times_s: list[float]) -> Timing:
    ms = sorted(t * 1e3 for t in times_s)
    if len(ms) >= 2:
        q1, _, q3 = statistics.quantiles(ms, n=4, method="inclusive")
    else:
        q1 = q3 = ms[0]
    return Timing(runs=len(ms), median_ms=statistics.median(ms), q1_ms=q1, q3_ms=q3, min_ms=ms[0], max_ms=ms[-1])


def make_timer(torch, device: str) -> Callable[[Callable[[], Any], int, int], list[float]]:
    """timer(fn, warmup, repeat) → seconds per kept run; synchronized before any clock is read."""
    if device == "cuda":
        def timer(fn, warmup, repeat):
            for _ in range(warmup):
                fn()
            torch.cuda.synchronize()
            events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                      for _ in range(repeat)]
            for start, end in events:
                start.record()
                fn()
                end.record()
            torch.cuda.synchronize()
            return [start.elapsed_time(end) / 1e3 for start, end in events]
        return timer

    def timer(fn, warmup, repeat):
        for _ in range(warmup):
            fn()
        out = []
        for _ in range(repeat):
            t0 = time.perf_counter_ns()
            fn()
            out.append((time.perf_counter_ns() - t0) / 1e9)
        return out
    return timer


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


def probe(what: str, work: float, times: list[float]) -> Probe:
    t = summarize(times)
    return Probe(what=what, work=work, time=t, value=work / (t.min_ms / 1e3) / 1e9,
                 median=work / (t.median_ms / 1e3) / 1e9)


def matmul_size(torch, device: str, dtype: str, timer) -> int:
    """n for the peak probe: doubled from 256 until one n×n @ n×n product lasts long enough."""
    tdt = getattr(torch, DTYPES[dtype])
    n = 256
    while n < MATMUL_MAX_N[device]:
        a = torch.randn(n, n, device=device, dtype=tdt)
        c = torch.empty(n, n, device=device, dtype=tdt)
        if min(timer(lambda: torch.mm(a, a, out=c), 1, 2)) >= MATMUL_TARGET_S[device]:
            break
        n *= 2
    return n


def time_matmul(torch, device: str, dtype: str, n: int, timer, warmup: int, repeat: int) -> list[float]:
    """Peak compute: an n×n @ n×n matmul, 2·n³ FLOPs, into a preallocated output (no page faults timed)."""
    tdt = getattr(torch, DTYPES[dtype])
    a = torch.randn(n, n, device=device, dtype=tdt)
    b = torch.randn(n, n, device=device, dtype=tdt)
    c = torch.empty(n, n, device=device, dtype=tdt)
    return timer(lambda: torch.mm(a, b, out=c), max(warmup, 1), max(repeat, 5))


def time_copy(torch, device: str, dtype: str, timer, warmup: int, repeat: int) -> tuple[int, list[float]]:
    """Memory bandwidth: dst.copy_(src) of a buffer far larger than any cache; (buffer bytes, times)."""
    tdt = getattr(torch, DTYPES[dtype])
    count = COPY_BYTES[device] // DTYPE_BYTES[dtype]
    src = torch.randn(count, device=device, dtype=tdt)
    dst = torch.empty_like(src)
    times = timer(lambda: dst.copy_(src), max(warmup, 1), max(repeat, 5))
    return count * DTYPE_BYTES[dtype], times


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def _prepare(torch, module, x, device, tdt, channels_last):
    module = module.eval().to(device=device, dtype=tdt)
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
        if x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
    return module, x


def bench(spec: Any, *, input: str | tuple | list | None = None, device: str = "cpu", dtype: str = "fp32",
          batch: int = 1, channels_last: bool = False, repeat: int = 10, warmup: int = 2,
          model: bool = True, progress: Optional[Callable[[int, int], None]] = None) -> BenchReport:
    """Time every conv/linear layer alone and the whole forward; see the module docstring.
    `progress(done, total)` is called after each timed step (probes, layers, the whole forward)."""
    from ..analysis.analyze import load, report_of
    from .memory import refuse_if_too_big

    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise CnncalcError(f"--batch: expected a whole number ≥ 1, got {batch!r}")
    if repeat < 1 or warmup < 0:
        raise CnncalcError("--repeat must be ≥ 1 and --warmup ≥ 0")
    if device not in DEVICES:
        raise CnncalcError(f"--device: expected cpu or cuda, got {device!r}")
    if dtype not in DTYPES:
        raise CnncalcError(f"--dtype: expected fp32, fp16 or bf16, got {dtype!r}")
    graph = load(spec, input)          # bad files fail here, before torch is imported
    static = report_of(graph, batch)
    if device == "cpu":             # before torch is even imported
        refuse_if_too_big(graph, batch, device, "bench", DTYPE_BYTES[dtype], DTYPE_BYTES[dtype])
    torch = _torch()
    check_setup(torch, device, dtype)
    if device != "cpu":
        refuse_if_too_big(graph, batch, device, "bench", DTYPE_BYTES[dtype], DTYPE_BYTES[dtype])
    tdt = getattr(torch, DTYPES[dtype])
    size = DTYPE_BYTES[dtype]
    timer = make_timer(torch, device)
    notes: list[str] = []
    load_avg = os.getloadavg()[0] if device == "cpu" and hasattr(os, "getloadavg") else None
    if load_avg is not None and load_avg >= max(0.5, 0.25 * (os.cpu_count() or 1)):
        notes.append(f"the machine was busy when the run started (1-minute load average {load_avg:.2f} on "
                     f"{os.cpu_count()} CPUs): other processes compete for the cores, so times are noisier "
                     "and slower than on an idle machine")
    if device == "cuda":
        torch.backends.cudnn.benchmark = True
        device_name = torch.cuda.get_device_name()
        if dtype == "fp32" and torch.backends.cudnn.allow_tf32 != torch.backends.cuda.matmul.allow_tf32:
            notes.append(f"fp32 on CUDA: convolutions may use TF32 (cudnn.allow_tf32="
                         f"{torch.backends.cudnn.allow_tf32}) but the peak matmul and linear layers not "
                         f"(matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32}): conv fractions can pass 100%")
    else:
        device_name = _cpu_name()

    steps = sum(nd.layer.weight_layer for nd in graph.nodes) + 2 + model
    tick = (lambda: progress(next(done), steps)) if progress else (lambda: None)
    done = iter(range(1, steps + 1))
    with torch.inference_mode():
        # the roofline probes run before and after the layers: a machine busy with other work
        # during one of the two stretches still shows its capacity in the other
        n = matmul_size(torch, device, dtype, timer)
        mm_times = time_matmul(torch, device, dtype, n, timer, warmup, repeat)
        nbytes, copy_times = time_copy(torch, device, dtype, timer, warmup, repeat)
        tick()
        rows = []
        for node, row in zip(graph.nodes, static.layers):
            if not node.layer.weight_layer:
                continue
            x = torch.randn(batch, *node.in_shapes[0], device=device, dtype=tdt)
            mod, x = _prepare(torch, node.layer.torch_module(node.in_shapes), x, device, tdt, channels_last)
            try:
                times = timer(lambda: mod(x), warmup, repeat)
            except RuntimeError as e:
                raise CnncalcError(f"{node.name}: torch failed on input {batch}×"
                                   f"{'×'.join(map(str, node.in_shapes[0]))} {dtype} {device}: "
                                   f"{str(e).strip().splitlines()[0]}") from None
            in_el = batch * numel(node.in_shapes[0])
            out_el = batch * numel(node.out_shape)
            moved = (in_el + row.params + out_el) * size
            rows.append((node, row, summarize(times), moved))
            del mod, x
            tick()
        model_t, model_note = None, ""
        if model:
            model_t, model_note = _bench_model(torch, graph, batch, device, tdt, channels_last, timer, warmup, repeat)
            tick()
        mm_times += time_matmul(torch, device, dtype, n, timer, warmup, repeat)
        copy_times += time_copy(torch, device, dtype, timer, warmup, repeat)[1]
        tick()
    peak = probe(f"matmul {n}×{n}×{n} {dtype}", 2.0 * n ** 3, mm_times)
    bw = probe(f"copy {nbytes >> 20} MiB {dtype}", 2.0 * nbytes, copy_times)

    total = sum(t.median_ms for _, _, t, _ in rows)
    layers = []
    for node, row, t, moved in rows:
        secs = t.median_ms / 1e3
        gflops = row.flops / secs / 1e9
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
    notes += roof_notes(layers, peak)
    return BenchReport(
        name=static.name, file=static.file, input=static.input, batch=batch, device=device,
        device_name=device_name, dtype=dtype, channels_last=channels_last,
        threads=torch.get_num_threads() if device == "cpu" else None, load_avg=load_avg,
        torch=torch.__version__, warmup=warmup, repeat=repeat, peak=peak, bandwidth=bw,
        ridge=peak.value / bw.value, layers=layers, layers_ms=total, model=model_t, model_note=model_note,
        notes=notes)


def roof_notes(layers: list[LayerBench], peak: Probe) -> list[str]:
    """Say why a layer can pass 100% of its roof, rather than leave a puzzling figure unexplained."""
    notes = []
    for bound, why in (
            ("memory", "timed alone and repeated, their inputs and weights stay in cache, while the bandwidth "
                       "roof is a copy far larger than any cache"),
            ("compute", f"their kernels run faster than the {peak.what} probe that sets the peak")):
        over = [lb.name for lb in layers if lb.bound == bound and lb.frac_roof > 1]
        if over:
            names = ", ".join(over[:4]) + (f" and {len(over) - 4} more" if len(over) > 4 else "")
            notes.append(f"{len(over)} {bound}-bound layer{'s' if len(over) > 1 else ''} above 100% of the roof "
                         f"({names}): {why if len(over) > 1 else why.replace('their', 'its')}")
    return notes


def _bench_model(torch, graph, batch, device, tdt, channels_last, timer, warmup, repeat):
    """Whole forward through cnncalc.pytorch.build.build(graph); (None, reason) when it cannot run."""
    try:
        from .build import build
    except ImportError as e:
        return None, f"not measured: cnncalc.pytorch.build is not available ({e})"
    try:
        net = build(graph)
        x = torch.randn(batch, *graph.input, device=device, dtype=tdt)
        net, x = _prepare(torch, net, x, device, tdt, channels_last)
        times = timer(lambda: net(x), warmup, repeat)
    except (RuntimeError, NotImplementedError, CnncalcError) as e:
        return None, f"not measured: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}"
    return summarize(times), ""

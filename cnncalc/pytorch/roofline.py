"""The roof of `cnncalc bench`: peak compute and memory bandwidth that no timed layer exceeds.

Measured on this machine, in this run, after the layers are timed (so the probes cannot change the layer
timings: a large matmul or copy raises glibc's dynamic mmap threshold, and the layers' large outputs would then
be reused from the heap instead of freshly page-faulted).

- Peak compute: the fastest of GEMMs of several shapes (square, tall, wide), convolutions at shapes their
  kernels run best at (3×3 and 1×1, at the dtype and memory format asked for), and the timed layers
  themselves: a rate this machine reached in this run is a rate it can reach.
- Bandwidth: the fastest of copies of several sizes (a buffer that fits a cache copies at the cache's speed)
  and the layers' own bytes moved per second.
Each roof says which measurement set it. A layer above 100% of its roof would be a bug in the roof.
"""
from __future__ import annotations

from typing import Callable

from pydantic import BaseModel

from .timing import Timing, summarize

DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}

# square GEMM: grown from 256 until one product lasts this long (seconds), up to the cap
MATMUL_TARGET_S = {"cpu": 0.05, "cuda": 0.005}
MATMUL_MAX_N = {"cpu": 4096, "cuda": 16384}
# copies from cache-sized to far larger than any cache
COPY_BYTES = {"cpu": (1 << 20, 8 << 20, 64 << 20, 256 << 20), "cuda": (8 << 20, 256 << 20, 1 << 30)}
# convolutions at shapes the kernels run best at: (C_in, C_out, kernel, H = W)
CONV_PROBES = ((128, 128, 3, 56), (256, 256, 3, 28), (512, 512, 3, 14), (256, 1024, 1, 14))


class Probe(BaseModel):
    """One roofline measurement: `value` = work / fastest run (GFLOP/s or GB/s); `median` = work / median run."""
    what: str
    work: float          # FLOPs or bytes read + written per run
    time: Timing
    value: float
    median: float


class Roof(BaseModel):
    """A roof and where it comes from: `value` is the best of `probes` and of the layers' own rates."""
    value: float
    unit: str
    source: str          # the measurement that set it: a probe's `what`, or "layer NAME"
    probes: list[Probe]
    how: str             # how it was obtained, for the report header


def probe(what: str, work: float, times: list[float]) -> Probe:
    t = summarize(times)
    return Probe(what=what, work=work, time=t, value=work / (t.min_ms / 1e3) / 1e9,
                 median=work / (t.median_ms / 1e3) / 1e9)


def _square_n(torch, device: str, tdt, timer) -> int:
    n = 256
    while n < MATMUL_MAX_N[device]:
        a = torch.randn(n, n, device=device, dtype=tdt)
        c = torch.empty(n, n, device=device, dtype=tdt)
        if min(timer(lambda: torch.mm(a, a, out=c), 1, 2)) >= MATMUL_TARGET_S[device]:
            break
        n *= 2
    return n


def compute_probes(torch, device: str, dtype: str, channels_last: bool, timer: Callable, repeat: int) -> list[Probe]:
    """GEMMs of several shapes (into preallocated outputs) and convolutions at their best shapes."""
    tdt = getattr(torch, DTYPES[dtype])
    n = _square_n(torch, device, tdt, timer)
    out = []
    for m, k, p in ((n, n, n), (4 * n, n // 4, n), (n // 4, 4 * n, n)):
        a = torch.randn(m, k, device=device, dtype=tdt)
        b = torch.randn(k, p, device=device, dtype=tdt)
        c = torch.empty(m, p, device=device, dtype=tdt)
        out.append(probe(f"matmul {m}×{k}×{p} {dtype}", 2.0 * m * k * p,
                         timer(lambda: torch.mm(a, b, out=c), 1, max(repeat, 3))))
        del a, b, c
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    for cin, cout, k, hw in CONV_PROBES:
        conv = torch.nn.Conv2d(cin, cout, k, padding=k // 2, bias=False).to(device=device, dtype=tdt,
                                                                           memory_format=fmt).eval()
        x = torch.randn(1, cin, hw, hw, device=device, dtype=tdt).contiguous(memory_format=fmt)
        flops = 2.0 * k * k * cin * cout * hw * hw
        out.append(probe(f"conv {k}×{k} {cin}→{cout} at {hw}×{hw} {dtype}{' channels-last' if channels_last else ''}",
                         flops, timer(lambda: conv(x), 1, max(repeat, 3))))
        del conv, x
    return out


def bandwidth_probes(torch, device: str, dtype: str, timer: Callable, repeat: int) -> list[Probe]:
    """dst.copy_(src) at several sizes; the work is the bytes read plus the bytes written."""
    tdt = getattr(torch, DTYPES[dtype])
    out = []
    for nbytes in COPY_BYTES[device]:
        count = nbytes // DTYPE_BYTES[dtype]
        src = torch.randn(count, device=device, dtype=tdt)
        dst = torch.empty_like(src)
        out.append(probe(f"copy {_mib(nbytes)} {dtype}", 2.0 * count * DTYPE_BYTES[dtype],
                         timer(lambda: dst.copy_(src), 1, max(repeat, 5))))
        del src, dst
    return out


def _mib(nbytes: int) -> str:
    return f"{nbytes >> 20} MiB" if nbytes < 1 << 30 else f"{nbytes >> 30} GiB"


def best(probes: list[Probe], layers: list[tuple[str, float]], unit: str, how: str) -> Roof:
    """The roof: the fastest probe, or a layer's own rate where a layer went faster than every probe."""
    top = max(probes, key=lambda p: p.value)
    value, source = top.value, top.what
    for name, rate in layers:
        if rate > value:
            value, source = rate, f"layer {name} (faster than every probe)"
    return Roof(value=value, unit=unit, source=source, probes=probes, how=how)

"""Clocks for `cnncalc bench`: one timer per device, and the summary of its runs."""
from __future__ import annotations

import statistics
import time
from typing import Any, Callable

from pydantic import BaseModel


class Timing(BaseModel):
    """Wall times of the kept runs (warm-up discarded), in milliseconds."""
    runs: int
    median_ms: float
    q1_ms: float
    q3_ms: float
    min_ms: float
    max_ms: float


def summarize(times_s: list[float]) -> Timing:
    ms = sorted(t * 1e3 for t in times_s)
    if len(ms) >= 2:
        q1, _, q3 = statistics.quantiles(ms, n=4, method="inclusive")
    else:
        q1 = q3 = ms[0]
    return Timing(runs=len(ms), median_ms=statistics.median(ms), q1_ms=q1, q3_ms=q3, min_ms=ms[0], max_ms=ms[-1])


def make_timer(torch, device: str) -> Callable[[Callable[[], Any], int, int], list[float]]:
    """timer(fn, warmup, repeat) → seconds per kept run. CPU: perf_counter_ns around each call (CPU kernels
    are synchronous). CUDA: a pair of CUDA events around each call, synchronized before any is read."""
    if device == "cuda":
        def cuda_timer(fn, warmup, repeat):
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
        return cuda_timer

    def cpu_timer(fn, warmup, repeat):
        for _ in range(warmup):
            fn()
        out = []
        for _ in range(repeat):
            t0 = time.perf_counter_ns()
            fn()
            out.append((time.perf_counter_ns() - t0) / 1e9)
        return out
    return cpu_timer

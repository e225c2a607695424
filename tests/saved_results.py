"""Result objects of `verify` and `bench` made without torch, to test their renderers anywhere.

The figures are the static analyzer's on both sides (a verification that agrees everywhere) and
invented timings (a bench run): what is tested with them is the layout, not a measurement.
"""
from __future__ import annotations

from cnncalc.pytorch.bench import BenchReport, LayerBench
from cnncalc.pytorch.roofline import Probe, Roof
from cnncalc.pytorch.timing import Timing
from cnncalc.pytorch.verify import LayerCheck, Verification, VerifyTotals
from util import report


def verification(name: str) -> Verification:
    r = report(name)
    rows = [LayerCheck(name=x.name, type=x.type, output=[1, *x.output], torch_output=[1, *x.output],
                       params=x.params, torch_params=x.params, buffers=x.buffers, torch_buffers=x.buffers,
                       macs=x.macs, torch_macs=x.macs, torch_flops=x.flops) for x in r.layers]
    t = r.totals
    totals = VerifyTotals(params=t.params, torch_params=t.params, buffers=t.buffers, torch_buffers=t.buffers,
                          macs=t.macs, torch_macs=t.macs, torch_flops=t.flops)
    return Verification(name=r.name, input=r.input, batch=1, device="cpu", torch_version="saved",
                        output=[1, *r.output], torch_output=[1, *r.output], layers=rows, totals=totals,
                        ok=True, mismatches=0)


def timing(ms: float) -> Timing:
    return Timing(runs=5, median_ms=ms, q1_ms=ms * 0.98, q3_ms=ms * 1.02, min_ms=ms * 0.95, max_ms=ms * 1.3)


def bench_report(name: str) -> BenchReport:
    r = report(name)
    peak = Probe(what="matmul 2048×2048×2048 fp32", work=2.0 * 2048 ** 3, time=timing(120.0), value=143.2,
                 median=140.0)
    bw = Probe(what="copy 256 MiB fp32", work=2.0 * (256 << 20), time=timing(40.0), value=13.4, median=12.9)
    peak = Roof(value=peak.value, unit="GFLOP/s", source=peak.what, probes=[peak], how="a saved probe")
    bw = Roof(value=bw.value, unit="GB/s", source=bw.what, probes=[bw], how="a saved probe")
    layers = []
    for i, x in enumerate(x for x in r.layers if x.type in ("conv", "linear")):
        ms = 0.01 + (i % 7) * 3.3 + x.flops / 40e9 * 1e3
        nbytes = 4 * (sum(x.input) + x.params + sum(x.output))
        gflops = x.flops / ms / 1e6
        layers.append(LayerBench(name=x.name, type=x.type, input=x.input, output=x.output, config=x.config,
                                 flops=x.flops, bytes=nbytes, intensity=x.flops / nbytes, time=timing(ms),
                                 gflops=gflops, roof_gflops=143.2, bound="compute", frac_peak=gflops / 143.2,
                                 frac_roof=gflops / 143.2, share=0.01))
    total = sum(lb.time.median_ms for lb in layers)
    return BenchReport(name=r.name, input=r.input, batch=1, device="cpu", device_name="a saved CPU", dtype="fp32",
                       channels_last=False, state="warm", state_note="saved", threads=2, torch="saved", warmup=2, repeat=5, peak=peak, bandwidth=bw,
                       ridge=143.2 / 13.4, layers=layers, layers_ms=total, model=timing(total * 1.1))

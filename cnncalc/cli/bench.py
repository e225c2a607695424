"""`cnncalc bench`: time each conv/linear layer and the whole forward against a measured roofline."""
from __future__ import annotations

from typing import Optional

import typer

from ..spec.files import MAX_SIZE

from .common import JSON, LAYOUT, Format, chosen, console, emit_columns, emit_json, format_option, guarded, input_shape


@guarded
def bench_cmd(
    arch: str = typer.Argument(..., help="A YAML file, or a built-in name (`cnncalc list`)."),
    device: str = typer.Option("cpu", "--device", metavar="DEVICE", help="cpu or cuda."),
    dtype: str = typer.Option("fp32", "--dtype", metavar="DTYPE", help="fp32, fp16 or bf16."),
    batch: int = typer.Option(1, "--batch", "-b", min=1, max=MAX_SIZE, metavar="N", help="Batch size of every timed forward."),
    channels_last: bool = typer.Option(False, "--channels-last", help="Run modules and 4-D inputs channels-last."),
    repeat: int = typer.Option(10, "--repeat", "-r", min=1, max=100_000, metavar="N", help="Timed runs per layer (median, spread)."),
    warmup: int = typer.Option(2, "--warmup", "-w", min=0, max=100_000, metavar="N", help="Discarded runs before timing."),
    isolated: bool = typer.Option(False, "--isolated", help="Time each layer alone in a fresh process (the clean "
                                  "state) instead of right after the network's warm forward passes."),
    cudnn_benchmark: bool = typer.Option(True, "--cudnn-benchmark/--no-cudnn-benchmark",
                                         help="CUDA: let cuDNN search for the fastest algorithm per shape."),
    input: Optional[str] = typer.Option(None, "--input", "-i", metavar="SHAPE",
                                        help="Override the input: 3x64x64, 64x48 or 64."),
    layout: Optional[str] = LAYOUT,
    format: Optional[Format] = format_option("the per-layer timings"),
    json: bool = JSON,
):
    """Time every conv and linear layer, and the whole forward (needs torch).

    Each layer is timed alone on its own input right after the whole network's warm forward passes (the allocator state of an inference loop), or with --isolated in a fresh process that has run nothing else.

    Per layer: median and spread, achieved GFLOP/s, arithmetic intensity and the fraction of its roof. The roof is the fastest of several GEMM, convolution and copy probes run after the layers (or a layer itself where it was faster), so no layer exceeds it.

    Examples:

      cnncalc bench vgg16 --batch 1 --repeat 5

      cnncalc bench vgg16 --isolated --repeat 20

      cnncalc bench resnet50 --device cuda --dtype bf16 --batch 64 --channels-last
    """
    from ..render.progress import progress_bar, wanted
    from .verify import import_torch_module

    fmt = chosen(format, json)
    shape = input_shape(arch, input, layout)
    bench = import_torch_module("bench")
    with progress_bar("bench: timing", wanted(fmt)) as progress:
        report = bench.bench(arch, input=shape, device=device.lower(), dtype=dtype.lower(), batch=batch,
                             channels_last=channels_last, repeat=repeat, warmup=warmup, isolated=isolated,
                             cudnn_benchmark=cudnn_benchmark, progress=progress)
    if fmt == "json":
        emit_json(report)
        return
    from ..render.bench import bench_columns, print_bench
    if fmt != "table":
        emit_columns(fmt, bench_columns(report))
        return
    print_bench(report, console())

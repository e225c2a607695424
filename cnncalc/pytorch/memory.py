"""Will it fit? `bench`, `verify`, `verify --train` and `verify --rf` refuse, before allocating anything,
what cannot fit in memory or would run for hours.

The memory figure is the peak `analyze --memory` / `--train` computes from the static graph (every
parameter and buffer, plus the live activations at their peak, each freed after its last consumer; for
--train the training step's peak; for --rf the oracle's kept outputs), never less than the largest single
layer's inputs and output. The work figure is the run's MACs: a conv of 10^12 MACs is one line, not an
hour of CPU. `bench --input 3x40000x40000` needs 19 GB for its input alone: one line, not an allocation
failure deep inside torch. An allocation failure torch reports anyway is one line and exit 2 as well
(`out_of_memory_is_an_error`), never a mismatch.
"""
from __future__ import annotations

import os
import resource
from contextlib import contextmanager

from ..analysis.graph import Graph
from ..errors import CnncalcError
from ..layers import numel


MAX_MACS = {"cpu": 2 * 10**11}   # MACs of one run (a forward, or forward + backward), by device
MAX_MACS_ELSEWHERE = 10**14


def weight_bytes(graph: Graph, param_bytes: int = 4) -> int:
    return sum(n.own_params() + n.own_buffers() for n in graph.nodes) * param_bytes


def needed_bytes(graph: Graph, batch: int, param_bytes: int = 4, act_bytes: int = 4) -> int:
    """A lower bound of the bytes a forward pass of `graph` at `batch` allocates: the weights and the
    inference peak of live activations (as `analyze --memory` reports it)."""
    from ..analysis.training import inference_peak
    largest = max((sum(numel(s) for s in n.in_shapes) + numel(n.out_shape) for n in graph.nodes),
                  default=numel(graph.input))
    return weight_bytes(graph, param_bytes) + max(batch * largest * act_bytes, inference_peak(graph, batch, act_bytes))


def forward_macs(graph: Graph, batch: int) -> int:
    return sum(nd.layer.macs(nd.in_shapes, nd.out_shape) for nd in graph.nodes) * batch


def available_bytes(device: str) -> int | None:
    """Free memory on `device` (None when unknown): CUDA's free memory; on the CPU the system's
    MemAvailable, lowered by an address-space limit (ulimit -v) where one is set."""
    if device.startswith("cuda"):
        try:
            import torch
            free, _ = torch.cuda.mem_get_info(torch.device(device))
            return int(free)
        except Exception:  # noqa: BLE001 — no CUDA here: the device check reports that
            return None
    if device != "cpu":
        return None
    found = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            used = _vm_size()
            room = max(soft - used, 0)
            found = room if found is None else min(found, room)
    except (OSError, ValueError):
        pass
    return found


def _vm_size() -> int:
    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def refuse_if_too_big(graph: Graph, batch: int, device: str, what: str, param_bytes: int = 4,
                      act_bytes: int = 4, need: int | None = None, work: int | None = None,
                      figure: str = "the weights and the peak of live activations") -> None:
    """One line (CnncalcError) when the run cannot fit in the device's available memory (`need` bytes,
    by default the forward's), or would do more than MAX_MACS (`work`, by default the forward's MACs)."""
    need = needed_bytes(graph, batch, param_bytes, act_bytes) if need is None else need
    free = available_bytes(device)
    if free is not None and need > free:
        raise CnncalcError(f"{what} needs at least {_gb(need)} on {device} ({figure} at batch {batch}); "
                           f"{_gb(free)} is available. Try a smaller --input or --batch"
                           + (", or --device meta (shapes and counts, no memory)" if what == "verify" else ""))
    work = forward_macs(graph, batch) if work is None else work
    limit = MAX_MACS.get(device.split(":")[0], MAX_MACS_ELSEWHERE)
    if work > limit:
        raise CnncalcError(f"{what} would do {work:,} MACs at batch {batch} on {device}, more than the {limit:,} "
                           "one run may do; try a smaller --input or --batch"
                           + (", or --device meta (shapes and counts, no work)" if what == "verify" else ""))


@contextmanager
def out_of_memory_is_an_error(what: str, device):
    """An allocation failure inside torch as one line (exit 2), never a traceback or a mismatch."""
    try:
        yield
    except MemoryError:
        raise CnncalcError(f"{what}: out of memory on {device}; try a smaller --input or --batch") from None
    except RuntimeError as e:
        if not is_out_of_memory(e):
            raise
        raise CnncalcError(f"{what}: out of memory on {device}; try a smaller --input or --batch") from None


def is_out_of_memory(e: BaseException) -> bool:
    text = str(e).lower()
    return (isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError"
            or "out of memory" in text or "can't allocate memory" in text or "not enough memory" in text)


def _gb(n: int) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.1f} MB"

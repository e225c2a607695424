"""Will it fit? `bench` and `verify` refuse, before allocating anything, what cannot fit in memory.

The figure is a lower bound of what the torch run allocates, from the static graph alone: every
parameter and buffer (the whole model is built) plus the largest single layer's inputs and output at
the batch size (at least those are alive at once). `bench --input 3x40000x40000` needs 19 GB for its
input alone: one line, not an allocation failure deep inside torch.
"""
from __future__ import annotations

import os
import resource

from ..analysis.graph import Graph
from ..errors import CnncalcError
from ..layers import numel


def needed_bytes(graph: Graph, batch: int, param_bytes: int = 4, act_bytes: int = 4) -> int:
    """A lower bound of the bytes a forward pass of `graph` at `batch` allocates."""
    weights = sum(n.own_params() + n.own_buffers() for n in graph.nodes)
    largest = max((sum(numel(s) for s in n.in_shapes) + numel(n.out_shape) for n in graph.nodes),
                  default=numel(graph.input))
    return weights * param_bytes + batch * largest * act_bytes


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
                      act_bytes: int = 4) -> None:
    """One line (CnncalcError) when the run cannot fit in the device's available memory."""
    need = needed_bytes(graph, batch, param_bytes, act_bytes)
    free = available_bytes(device)
    if free is not None and need > free:
        raise CnncalcError(f"{what} needs at least {_gb(need)} on {device} (the weights and the largest layer's "
                           f"input and output at batch {batch}); {_gb(free)} is available. Try a smaller "
                           "--input or --batch" + (", or --device meta (shapes and counts, no memory)"
                                                   if what == "verify" else ""))


def _gb(n: int) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.1f} MB"

"""`cnncalc bench --isolated`: one layer timed alone in a fresh process (the clean state).

The parent writes one JSON request on stdin: the layer (its kind's fields), its input shapes, batch, dtype,
device, memory format, thread count, warm-up and repeat; this process builds the layer's module, times it on
a random input of that shape with the same clock as `bench`, and writes {"times": [seconds, …]} or
{"error": "…"} on stdout. Nothing else runs in the process before the layer: no probe, no other layer.
"""
from __future__ import annotations

import json
import sys


def run(req: dict) -> dict:
    import torch

    from ..layers.base import REGISTRY
    from .roofline import DTYPES
    from .timing import make_timer

    torch.set_num_threads(req["threads"]) if req.get("threads") else None
    in_shapes = [tuple(s) for s in req["in_shapes"]]
    layer = REGISTRY[req["layer"]["type"]].model_validate(req["layer"], context={"rank": len(in_shapes[0]) - 1})
    device, tdt = req["device"], getattr(torch, DTYPES[req["dtype"]])
    if device == "cuda":
        torch.backends.cudnn.benchmark = req.get("cudnn_benchmark", True)
    with torch.inference_mode():
        mod = layer.torch_module(in_shapes).eval().to(device=device, dtype=tdt)
        x = torch.randn(req["batch"], *in_shapes[0], device=device, dtype=tdt)
        if req["channels_last"] and x.dim() == 4:
            mod = mod.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        times = make_timer(torch, device)(lambda: mod(x), req["warmup"], req["repeat"])
    return {"times": times}


def main() -> None:
    try:
        out = run(json.loads(sys.stdin.read()))
    except (RuntimeError, ValueError, KeyError, NotImplementedError) as e:
        text = str(e).strip()
        out = {"error": text.splitlines()[0] if text else type(e).__name__}
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()

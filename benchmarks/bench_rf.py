"""Time `cnncalc verify --rf` (the receptive-field gradient oracle) against a plain `verify` in the same process.

    python benchmarks/bench_rf.py [NAME ...]        # default: resnet50

Prints, per network: the oracle's input (reduced or not), layers run backward, wall and CPU seconds, and the
ratio to one plain verify (a forward pass under FlopCounterMode) of the same network measured just before.
Wall times on a busy machine are noisy: the load average is printed with each run; compare CPU seconds.
"""
from __future__ import annotations

import os
import sys
import time


def clock(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main(names: list[str]) -> None:
    import torch

    from cnncalc.pytorch.rf_oracle import rf_verify
    from cnncalc.pytorch.verify import verify

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| network | oracle input | run backward | verify --rf wall | CPU | plain verify wall | CPU | ratio (CPU) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        _, vw, vc = clock(lambda: verify(name))
        r, rw, rc = clock(lambda: rf_verify(name))
        inp = "×".join(map(str, r.input)) + (f" (from {'×'.join(map(str, r.reduced_from))})" if r.reduced_from else "")
        print(f"| {name} {'✓' if r.ok else '✗'} | {inp} | {r.checked} | {rw:.1f} s | {rc:.1f} s | {vw:.1f} s | "
              f"{vc:.1f} s | {rc / vc:.1f}× |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["resnet50"])

"""`cnncalc bench` against `torch.utils.benchmark.Timer` on the same layers, in the same state.

    python benchmarks/bench_timer.py [NAME ...] [--rounds 3] [--repeat 20] [--write]   # default: vgg16 resnet50

Both states of `bench`, each compared with Timer in that same state, every side in a process of its own so
that neither leaves its allocator state to the other (rounds alternate bench, Timer, bench, Timer, …):
- warm: `bench` (default state) in one process; in another, the network's warm forward passes
  (cnncalc.pytorch.build, the same warm-up + repeat count), then Timer.blocked_autorange on each conv/linear
  module with the input it received in the forward.
- isolated: `bench --isolated` (each layer in a fresh worker process); Timer on the layer's own module and a
  random input in a fresh process per layer.
fp32, batch 1, inference mode, torch's default CPU thread count on both sides. A layer's figure is the median
over rounds of each side's median. `--write` replaces this script's section of benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MARK, END = "<!-- bench_timer.py -->", "<!-- /bench_timer.py -->"
TIMER_MIN_RUN_S = 0.3


def _side(side: str, state: str, spec, repeat: int, threads: int | None, layer: int | None = None):
    """One side of one round in its own process; its JSON result."""
    args = [sys.executable, str(Path(__file__).resolve()), "--side", side, "--state", state,
            "--spec", json.dumps(spec), "--repeat", str(repeat)] + (["--layer", str(layer)] if layer is not None else [])
    args += ["--threads", str(threads)] if threads else []
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    res = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
    return json.loads(res.stdout)


def _weighted(spec):
    from cnncalc.analysis.analyze import load
    g = load(spec)
    return g, [i for i, node in enumerate(g.nodes) if node.layer.weight_layer]


def _timer_ms(torch, fn_globals) -> float:
    from torch.utils.benchmark import Timer
    t = Timer("m(*args)", globals=fn_globals, num_threads=torch.get_num_threads())
    return t.blocked_autorange(min_run_time=TIMER_MIN_RUN_S).median * 1e3


def run_bench(state: str, spec, repeat: int) -> dict:
    from cnncalc.pytorch.bench import bench
    r = bench(spec, repeat=repeat, warmup=2, isolated=state == "isolated")
    return {lb.name: lb.time.median_ms for lb in r.layers}


def run_timer_warm(spec, repeat: int) -> dict:
    import torch
    from cnncalc.pytorch.build import build
    g, idx = _weighted(spec)
    with torch.inference_mode():
        net = build(g).eval()
        x = torch.randn(1, *g.input)
        seen = {}
        hooks = [net._modules[net.node_keys[i]].register_forward_pre_hook(
            lambda m, a, i=i: seen.setdefault(i, (m, a)) and None) for i in idx]
        net(x)
        for h in hooks:
            h.remove()
        for _ in range(2 + repeat):          # the same warm-up and timed forwards as bench's warm state
            net(x)
        return {g.nodes[i].name: _timer_ms(torch, {"m": seen[i][0], "args": seen[i][1]}) for i in idx}


def run_timer_isolated(spec, layer: int) -> dict:
    import torch
    g, _ = _weighted(spec)
    node = g.nodes[layer]
    with torch.inference_mode():
        m = node.layer.torch_module(node.in_shapes).eval()
        args = [torch.randn(1, *s) for s in node.in_shapes]
        return {node.name: _timer_ms(torch, {"m": m, "args": args})}


def compare_warm(spec, repeat: int = 20, rounds: int = 1, threads: int | None = None) -> list[dict]:
    return _rows([(_side("bench", "warm", spec, repeat, threads), _side("timer", "warm", spec, repeat, threads))
                  for _ in range(rounds)])


def compare_isolated(spec, repeat: int = 20, rounds: int = 1, threads: int | None = None) -> list[dict]:
    _, idx = _weighted(spec)
    pairs = []
    for _ in range(rounds):
        b = _side("bench", "isolated", spec, repeat, threads)
        t = {}
        for i in idx:
            t.update(_side("timer", "isolated", spec, repeat, threads, layer=i))
        pairs.append((b, t))
    return _rows(pairs)


def _rows(pairs: list[tuple[dict, dict]]) -> list[dict]:
    rows = []
    for name in pairs[0][0]:
        b = statistics.median(p[0][name] for p in pairs)
        t = statistics.median(p[1][name] for p in pairs)
        rows.append({"layer": name, "bench_ms": b, "timer_ms": t, "ratio": b / t})
    return rows


def _ms(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def table(name: str, warm: list[dict], iso: list[dict]) -> list[str]:
    lines = [f"#### {name}", "", "| layer | warm: bench ms | Timer ms | bench ÷ Timer | isolated: bench ms | Timer ms "
             "| bench ÷ Timer |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for w, i in zip(warm, iso):
        lines.append(f"| {w['layer']} | {_ms(w['bench_ms'])} | {_ms(w['timer_ms'])} | {w['ratio']:.3f} | "
                     f"{_ms(i['bench_ms'])} | {_ms(i['timer_ms'])} | {i['ratio']:.3f} |")
    for label, rows in (("warm", warm), ("isolated", iso)):
        dev = [abs(r["ratio"] - 1) for r in rows]
        within = sum(d <= 0.05 for d in dev)
        lines.append(f"- {label}: {within} of {len(rows)} layers within 5% of Timer; median deviation "
                     f"{100 * statistics.median(dev):.1f}%, largest {100 * max(dev):.1f}% "
                     f"({rows[dev.index(max(dev))]['layer']})")
    return lines + [""]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", default=["vgg16", "resnet50"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--isolated-rounds", type=int, help="rounds of the isolated state (default: --rounds; each "
                                                          "costs two fresh processes per layer)")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--threads", type=int, help="torch threads on both sides (default: torch's own)")
    ap.add_argument("--side", choices=["bench", "timer"], help=argparse.SUPPRESS)
    ap.add_argument("--state", choices=["warm", "isolated"], help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)
    ap.add_argument("--layer", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.side:                                   # one side of one round, in this fresh process
        spec = json.loads(a.spec)
        if a.threads:
            import torch
            torch.set_num_threads(a.threads)
        if a.side == "bench":
            out = run_bench(a.state, spec, a.repeat)
        else:
            out = run_timer_warm(spec, a.repeat) if a.state == "warm" else run_timer_isolated(spec, a.layer)
        print(json.dumps(out))
        return 0
    import torch

    from cnncalc.pytorch.bench import _cpu_name
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [MARK, "", "### `bench` against `torch.utils.benchmark.Timer`, both states", "",
             f"`python benchmarks/bench_timer.py {' '.join(argv if argv is not None else sys.argv[1:])}` on "
             f"{datetime.date.today()}: {_cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, "
             f"{a.threads or torch.get_num_threads()} threads on both sides, Python {platform.python_version()}; "
             f"load average {load} at start. fp32, batch 1, inference mode; each side in its own process, "
             f"{a.rounds} alternating rounds warm and {a.isolated_rounds or a.rounds} isolated, the median over "
             "rounds of each side's median.", ""]
    for name in a.names:
        print(f"measuring {name} …", file=sys.stderr, flush=True)
        lines += table(name, compare_warm(name, a.repeat, a.rounds, a.threads),
                       compare_isolated(name, a.repeat, a.isolated_rounds or a.rounds, a.threads))
    lines[-1:] = ["", f"load average at end {' / '.join(f'{x:.2f}' for x in os.getloadavg())}", "", END]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.write:
        readme = HERE / "README.md"
        old = readme.read_text(encoding="utf-8")
        new = (old[:old.index(MARK)] + text + old[old.index(END) + len(END) + 1:]) if MARK in old else old + "\n" + text
        readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast is `cnncalc sweep`? 200 input sizes of resnet152 against one `cnncalc analyze resnet152 --json`.

    python benchmarks/bench_sweep.py            # print the table
    python benchmarks/bench_sweep.py --write    # and replace the sweep section of benchmarks/README.md

Both are fresh processes, timed round-robin (one untimed round first) so that the machine's load hits
them alike; the ratio of the medians is measured in the same run. Three sweeps of 200 sizes each:
dense (every size: neighbouring sizes agree on most deep shapes), every 4th, and every 32nd (after a
stride-32 stem no two sizes share a shape: the worst case). Target (issue 18): at most 2× the analyze.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_tool import cnncalc_cmd, interleaved, machine, med  # noqa: E402

ARCH = "resnet152"
SWEEPS = {"every size": "32:231:1", "every 4th": "64:860:4", "every 32nd": "32:6400:32"}
MARK = "<!-- bench_sweep.py -->"


def measure(runs: int, log) -> dict[str, list[float]]:
    exe = cnncalc_cmd()
    cmds = {"analyze": exe + ["analyze", ARCH, "--json"]}
    cmds.update({name: exe + ["sweep", ARCH, "--sizes", spec, "--json"] for name, spec in SWEEPS.items()})
    log(f"{len(cmds)} commands × {runs} rounds, interleaved …")
    with tempfile.TemporaryDirectory() as tmp:
        times = interleaved(cmds, {k: runs for k in cmds}, tmp)
    for key, ts in times.items():
        log(f"{key}: median {med(ts) * 1e3:,.0f} ms")
    return times


def table(times: dict[str, list[float]], m: dict, runs: int) -> str:
    a = med(times["analyze"])
    lines = [MARK, "### Sweep: 200 input sizes of resnet152 against one `analyze --json`", "",
             f"`python benchmarks/bench_sweep.py`: fresh processes, median of {runs} each, round-robin after one "
             f"untimed round; {m['date']}, {m['cpu']}, {m['cores']} cores, load {m['load']}.", "",
             "| command | median | min | × analyze |", "| --- | ---: | ---: | ---: |",
             f"| `cnncalc analyze {ARCH} --json` | {a * 1e3:,.0f} ms | {min(times['analyze']) * 1e3:,.0f} ms | 1 |"]
    worst = 0.0
    for name, spec in SWEEPS.items():
        t = med(times[name])
        worst = max(worst, t / a)
        lines.append(f"| `cnncalc sweep {ARCH} --sizes {spec} --json` ({name}) | {t * 1e3:,.0f} ms | "
                     f"{min(times[name]) * 1e3:,.0f} ms | **{t / a:.2f}×** |")
    lines += ["", "Both are whole processes (import, parse, validate, output); a sweep parses and validates once and",
              "then re-evaluates every size with the layers' own integer formulas, sharing the segments between cut",
              "points whose entering shape two sizes (or two equal blocks) agree on. Every 32nd size is the worst case:",
              "after the stride-32 stem no two sizes share a shape. The ratio is measured in the same run.",
              "", f"Target: 200 sizes within 2× one analyze: worst **{worst:.2f}×** — "
              f"{'met' if worst <= 2 else 'NOT met'}."]
    return "\n".join(lines) + "\n"


def write(text: str) -> None:
    """Replace the sweep section of the README (from its marker to the end; bench_tool.py keeps it)."""
    path = HERE / "README.md"
    old = path.read_text(encoding="utf-8")
    head = old[:old.index(MARK)] if MARK in old else old.rstrip("\n") + "\n\n"
    path.write_text(head + text, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="fresh processes per command (default 7)")
    ap.add_argument("--write", action="store_true", help="replace the sweep section of benchmarks/README.md")
    args = ap.parse_args(argv)
    m = machine()
    print(f"measuring on {m['cpu']} ({m['cores']} cores), load {m['load']} …", file=sys.stderr)
    times = measure(args.runs, lambda msg: print(f"  {msg}", file=sys.stderr, flush=True))
    m["load"] = f"{m['load']} at start, " + " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " at end"
    text = table(times, m, args.runs)
    print(text)
    if args.write:
        write(text)
        print(f"wrote {HERE / 'README.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

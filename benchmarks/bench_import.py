"""How fast is importing a model? Ratios and times measured within one run.

    python benchmarks/bench_import.py            # print the section
    python benchmarks/bench_import.py --write    # and replace the import section of benchmarks/README.md

1. `cnncalc analyze resnet50.onnx --json` against `cnncalc analyze resnet50 --json` (the built-in YAML),
   both fresh processes, round-robin after one untimed round. The ONNX file is the built-in's torch
   module exported by torch's TorchScript exporter at 3×224×224 (made once, not timed; needs torch and
   onnx). Target: within 3× the YAML.
2. Importing a generated 1,000-node ONNX graph (conv 3×3 and relu alternating on an 8×16×16 map):
   `cnncalc.importers.import_model` in-process (median of several runs, the first one — which loads the
   onnx schema and numpy — included as its own figure). Target: within 2 s.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_tool import cnncalc_cmd, interleaved, machine, med  # noqa: E402

MARK, END = "<!-- bench_import.py -->", "<!-- /bench_import.py -->"
NODES = 1_000


def resnet50_onnx(folder: Path) -> Path:
    import torch
    from cnncalc.pytorch.build import build

    path = folder / "resnet50.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(build("resnet50").eval(), (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False)
    return path


def chain_onnx(folder: Path, nodes: int = NODES) -> Path:
    """A conv/relu chain of `nodes` ONNX nodes written with onnx's helpers."""
    from onnx import TensorProto, helper, numpy_helper
    import numpy as np

    made, inits, prev = [], [], "x"
    for i in range(nodes):
        out = f"v{i}"
        if i % 2 == 0:
            w = numpy_helper.from_array(np.zeros((8, 8, 3, 3), np.float32), f"w{i}")
            inits.append(w)
            made.append(helper.make_node("Conv", [prev, w.name], [out], name=f"conv{i}", kernel_shape=[3, 3],
                                         pads=[1, 1, 1, 1]))
        else:
            made.append(helper.make_node("Relu", [prev], [out], name=f"relu{i}"))
        prev = out
    graph = helper.make_graph(made, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
                              [helper.make_tensor_value_info(prev, TensorProto.FLOAT, None)], inits)
    path = folder / f"chain{nodes}.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def in_process(path: Path, runs: int) -> list[float]:
    from cnncalc.importers import import_model
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        import_model(str(path))
        times.append(time.perf_counter() - t0)
    return times


def section(times: dict[str, list[float]], chain: list[float], m: dict, runs: int) -> str:
    yaml, onnx = med(times["yaml"]), med(times["onnx"])
    ratio = onnx / yaml
    rest = med(chain[1:]) if len(chain) > 1 else chain[0]
    lines = [MARK, "### Import: ONNX models", "",
             f"Fresh processes, median of {runs} each, round-robin after one untimed round.", "",
             "| command | time | ratio |", "| --- | ---: | ---: |",
             f"| `cnncalc analyze resnet50 --json` (built-in YAML) | {yaml * 1e3:,.0f} ms | 1× |",
             f"| `cnncalc analyze resnet50.onnx --json` ({m['onnx_mb']:.0f} MB, torch's exporter) | {onnx * 1e3:,.0f} ms "
             f"| **{ratio:.2f}×** |", "",
             f"Importing a generated {NODES:,}-node ONNX graph (conv 3×3 / relu on 8×16×16) in-process: first run "
             f"{chain[0]:.2f} s, then median **{rest:.2f} s** of {len(chain) - 1}.", "",
             f"Targets: resnet50.onnx within 3× the YAML: **{ratio:.2f}×** — {'met' if ratio <= 3 else 'NOT met'}; "
             f"{NODES:,} nodes within 2 s: **{max(chain):.2f} s** at worst — {'met' if max(chain) <= 2 else 'NOT met'}.",
             "", f"Machine: {m['cpu']} ({m['cores']} cores), load {m['load']}.", END]
    return "\n".join(lines) + "\n"


def write(text: str) -> None:
    """Replace this script's section of the README (between its markers), or add it at the end."""
    path = HERE / "README.md"
    old = path.read_text(encoding="utf-8")
    if MARK in old and END in old:
        new = old[:old.index(MARK)] + text + old[old.index(END) + len(END) + 1:]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="fresh processes per command (default 5)")
    ap.add_argument("--write", action="store_true", help="replace the import section of benchmarks/README.md")
    args = ap.parse_args(argv)
    m = machine()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("exporting resnet50 to ONNX (not timed) …", file=sys.stderr)
        onnx_path = resnet50_onnx(folder)
        m["onnx_mb"] = onnx_path.stat().st_size / 1e6
        exe = cnncalc_cmd()
        cmds = {"yaml": exe + ["analyze", "resnet50", "--json"], "onnx": exe + ["analyze", str(onnx_path), "--json"]}
        times = interleaved(cmds, {k: args.runs for k in cmds}, tmp)
        chain = in_process(chain_onnx(folder), 4)
    m["load"] = f"{m['load']} at start, " + " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " at end"
    text = section(times, chain, m, args.runs)
    print(text)
    if args.write:
        write(text)
        print(f"wrote {HERE / 'README.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

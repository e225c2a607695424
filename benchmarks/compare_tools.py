"""Why cnncalc's MACs differ from torchinfo's, ptflops', fvcore's and thop's: each tool measured on the
same PyTorch modules (cnncalc.pytorch.build), and the gap to cnncalc taken apart term by term.

    python benchmarks/compare_tools.py                 # prints the Markdown tables of docs/comparison.md
    python benchmarks/compare_tools.py unet vgg16      # other built-ins

The tools are not dependencies of cnncalc: install them to run this (pip install torchinfo ptflops fvcore
thop). A tool that is missing or fails on a network is reported as such, never as a number.
"""
from __future__ import annotations

import contextlib
import io
import sys
import warnings
from math import prod

import torch

import cnncalc
from cnncalc.analysis.analyze import load, report_of
from cnncalc.pytorch.build import build

NETWORKS = ["lenet5", "vgg16", "resnet50", "mobilenet_v2", "unet", "unet-same", "dcgan_generator"]
TOOLS = ["torchinfo", "ptflops", "fvcore", "thop"]


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for name in ["torch", *TOOLS]:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


@contextlib.contextmanager
def quiet():
    """The tools print tables and warnings of their own: keep them out of the output."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def torchinfo_macs(model, x) -> int:
    from torchinfo import summary
    return summary(model, input_data=x, verbose=0).total_mult_adds


def ptflops_macs(model, x) -> int:
    from ptflops import get_model_complexity_info
    macs, _ = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False,
                                        backend="pytorch")
    return int(macs)


def fvcore_macs(model, x) -> int:
    from fvcore.nn import FlopCountAnalysis
    return int(FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False).total())


def thop_macs(model, x) -> int:
    from thop import profile
    macs, _ = profile(model, inputs=(x,), verbose=False)
    return int(macs)


MEASURE = {"torchinfo": torchinfo_macs, "ptflops": ptflops_macs, "fvcore": fvcore_macs, "thop": thop_macs}


def measure(name: str) -> dict[str, int | str]:
    """Each tool's MAC count of one built-in (a fresh module per tool: some leave hooks or buffers behind)."""
    graph = load(name)
    out: dict[str, int | str] = {"cnncalc": report_of(graph).totals.macs}
    x = torch.randn(1, *graph.input)
    for tool in TOOLS:
        torch.manual_seed(0)
        model = build(graph).eval()
        try:
            with quiet(), torch.no_grad():
                out[tool] = MEASURE[tool](model, x)
        except ImportError:
            out[tool] = "not installed"
        except Exception as e:   # a tool that cannot handle the network: said, not hidden
            out[tool] = f"fails ({type(e).__name__})"
    return out


def terms(name: str) -> dict[str, int]:
    """What the other tools add to cnncalc's MACs, from cnncalc's own per-layer figures:
    bias adds (one per output element of a layer with a bias), a transposed conv counted over its output
    positions instead of its input positions, a norm layer's γ and β (torchinfo counts a module without a rule of
    its own as its parameter count), and the element-wise work cnncalc keeps apart (other ops)."""
    graph = load(name)
    report = report_of(graph)
    bias = transposed = norm = 0
    for node, row in zip(graph.nodes, report.layers):
        layer = node.layer
        if getattr(layer, "bias", False) is True and row.type in ("conv", "conv_transpose", "linear"):
            bias += prod(row.output)
        if row.type in ("batchnorm", "layernorm", "groupnorm", "instancenorm"):
            norm += row.params
        if row.type == "conv_transpose":
            transposed += row.macs * prod(row.output[1:]) // prod(row.input[1:]) - row.macs
    return {"bias": bias, "transposed": transposed, "norm": norm, "other_ops": report.totals.other_ops}


def cell(v) -> str:
    return f"{v:,}" if isinstance(v, int) else str(v)


def ratio(v, base: int) -> str:
    return f"{v / base:.3f}×" if isinstance(v, int) and base else "–"


def main(names: list[str]) -> None:
    v = versions()
    print("Measured with " + ", ".join(f"{k} {v[k]}" for k in v) + f", cnncalc {cnncalc.__version__}; "
          "batch 1, each network at its own input, eval mode, CPU.\n")
    print("| network | input | cnncalc MACs | " + " | ".join(TOOLS) + " |")
    print("| --- | --- | ---: | " + " | ".join("---:" for _ in TOOLS) + " |")
    rows = {}
    for name in names:
        rows[name] = m = measure(name)
        shape = "×".join(map(str, load(name).input))
        print(f"| `{name}` | {shape} | {m['cnncalc']:,} | "
              + " | ".join(f"{cell(m[t])} ({ratio(m[t], m['cnncalc'])})" for t in TOOLS) + " |")
    print("\nThe gap to cnncalc, taken apart (cnncalc's own per-layer figures):\n")
    print("| network | bias adds (a) | transposed conv over output positions (b) | norm γ, β (c) | a + b + c | "
          "torchinfo − cnncalc | other ops: BN, activations, pooling, adds | ptflops − cnncalc |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        t, m = terms(name), rows[name]
        gap = {k: cell(m[k] - m["cnncalc"]) if isinstance(m[k], int) else m[k] for k in ("torchinfo", "ptflops")}
        print(f"| `{name}` | {t['bias']:,} | {t['transposed']:,} | {t['norm']:,} | "
              f"{t['bias'] + t['transposed'] + t['norm']:,} | {gap['torchinfo']} | {t['other_ops']:,} | "
              f"{gap['ptflops']} |")


if __name__ == "__main__":
    main(sys.argv[1:] or NETWORKS)

"""`cnncalc import` of models cnncalc never wrote (tests/import_fresh_models.py), through both front-ends:
the PyTorch module itself, and its ONNX file from torch's TorchScript exporter. Params = Σ numel of the
model's parameters, MACs = FlopCounterMode's total / 2, output shape = a forward pass — all measured here."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

import cnncalc  # noqa: E402
from cnncalc.importers import import_model  # noqa: E402
from cnncalc.importers.ops import ModelError  # noqa: E402

SOURCE = Path(__file__).parent / "import_fresh_models.py"
MODELS = [("VGG", "3x32x32", {}), ("ResNet", "3x32x32", {}), ("mobilenet", "3x64x64", {"num_classes": 7}),
          ("UNet", "3x64x64", {}), ("AudioNet", "1x4000", {}), ("C3D", "3x8x32x32", {}),
          ("Generator", "3x16x16", {}), ("ShuffleNet", "3x32x32", {}), ("InceptionNet", "3x32x32", {}),
          ("Misc", "3x32x32", {}), ("LeNetPlus", "1x32x32", {}), ("Tokens", "3x32x32", {}),
          ("ConvNeXt", "3x32x32", {}), ("DenseSqueeze", "3x32x32", {}), ("MLP", "1x28x28", {}),
          ("TwoHeads", "3x32x32", {})]


def models():
    spec = importlib.util.spec_from_file_location("import_fresh_models", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measured(model, shape: tuple[int, ...]) -> dict:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = model(torch.zeros(1, *shape))
    y = y[0] if isinstance(y, tuple) else y   # the first output: the last layer in execution order
    return {"params": sum(p.numel() for p in model.parameters()), "macs": counter.get_total_flops() // 2,
            "output": list(y.shape[1:])}


def figures(graph) -> dict:
    r = cnncalc.analyze(graph)
    return {"params": r.totals.params, "macs": r.totals.macs, "output": list(r.layers[-1].output)}


def shape_of(text: str) -> tuple[int, ...]:
    return tuple(int(d) for d in text.split("x"))


@pytest.mark.parametrize("name,size,kwargs", MODELS, ids=[m[0] for m in MODELS])
def test_a_fresh_model_imports_with_the_figures_torch_measures(name, size, kwargs, tmp_path):
    model = getattr(models(), name)(**kwargs).eval()
    want = measured(model, shape_of(size))
    assert figures(import_model(f"{SOURCE}:{name}", size, kwargs).graph) == want
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, *shape_of(size)),), str(path), dynamo=False,
                          do_constant_folding=False)
    assert figures(import_model(str(path)).graph) == want


@pytest.mark.parametrize("forward,op", [("F.log_softmax(x, dim=1)", r"aten\.log_softmax ×1"),
                                        ("torch.cumsum(x, 1)", r"aten\.cumsum ×1")])
def test_an_op_without_a_kind_fails_naming_it(forward, op, tmp_path):
    (tmp_path / "m.py").write_text("import torch\nimport torch.nn.functional as F\nINPUT = (3, 4, 4)\n"
                                   "class M(torch.nn.Module):\n    def forward(self, x):\n"
                                   f"        return {forward}\n", encoding="utf-8")
    with pytest.raises(ModelError, match=op):
        import_model(f"{tmp_path / 'm.py'}:M")


def test_the_cli_imports_a_function_with_kwargs_and_analyzes_the_yaml_it_wrote(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.getcwd(), COLUMNS="80")
    run = lambda *a: subprocess.run([sys.executable, "-m", "cnncalc", *a], capture_output=True, text=True,  # noqa: E731
                                    env=env, cwd=tmp_path, timeout=120)
    out = run("import", f"{SOURCE}:mobilenet", "--input", "3x64x64", "--kwargs", '{"num_classes": 7}', "-o", "net.yaml")
    assert out.returncode == 0, out.stderr
    report = json.loads(run("analyze", "net.yaml", "--json").stdout)
    model = models().mobilenet(num_classes=7).eval()
    assert {"params": report["totals"]["params"], "macs": report["totals"]["macs"],
            "output": report["layers"][-1]["output"]} == measured(model, (3, 64, 64))
    bad = run("import", str(tmp_path / "none.py") + ":Net", "-o", "x.yaml")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


DYNAMO = [("ResNet", False), ("ShuffleNet", False), ("InceptionNet", False), ("ConvNeXt", True), ("Misc", True),
          ("Generator", True), ("InceptionNet", True)]


@pytest.mark.parametrize("name,optimize", DYNAMO, ids=[f"{m[0]}-{'optimised' if m[1] else 'plain'}" for m in DYNAMO])
def test_the_dynamo_exporters_file_imports_with_the_same_figures(name, optimize, tmp_path):
    # torch.onnx.export's default exporter (dynamo). Unoptimised it writes a conv without a bias as one of zeros
    # computed from the weight's shape (Shape, Expand, CastLike), reshapes by Constant value_ints, and a split or
    # chunk as SplitToSequence read by SequenceAt; its optimiser
    # writes GroupNorm as Reshape–InstanceNormalization–Reshape–Mul–Add, clamp(min=0) as Max, nn.Flatten as
    # Reshape–Gather–Reshape, adaptive_max_pool2d(1) as ReduceMax — and folds each eval-mode batch norm into its
    # conv (a different network: the models here with batch norms are exported unoptimised)
    pytest.importorskip("onnxscript")
    size = dict((m[0], m[1]) for m in MODELS)[name]
    model = getattr(models(), name)().eval()
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, *shape_of(size)),), str(path), dynamo=True, optimize=optimize,
                          verbose=False)
    assert figures(import_model(str(path)).graph) == measured(model, shape_of(size))

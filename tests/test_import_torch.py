"""`cnncalc import` of PyTorch modules: round trips of built-ins through their exported code, hand-written
modules against FlopCounterMode and Σ numel."""
from __future__ import annotations

import os
import textwrap

import pytest

torch = pytest.importorskip("torch")

import cnncalc  # noqa: E402
from cnncalc.spec.builtins import builtin_names  # noqa: E402
from cnncalc.importers import import_model  # noqa: E402
from cnncalc.importers.ops import ModelError  # noqa: E402
from importing import figures, torch_code_of  # noqa: E402

ROUND_TRIP = [("lenet5", None), ("resnet18", "64"), ("googlenet", None), ("mobilenet_v3_small", "64"),
              ("densenet121", "32"), ("efficientnet_b0", "32"), ("unet-same", "32"), ("dcgan_generator", None),
              ("m5", None), ("c3d", "3x16x32x32"), ("yolov3_tiny", "64")]


@pytest.mark.parametrize("name,size", ROUND_TRIP, ids=[n for n, _ in ROUND_TRIP])
def test_round_trip_through_exported_pytorch_code_keeps_every_figure(name, size, tmp_path):
    graph = cnncalc.load(name, size)
    source = torch_code_of(graph, tmp_path / "net.py")
    imported = import_model(source, "x".join(map(str, graph.input)))
    assert figures(cnncalc.analyze(imported.graph)) == figures(cnncalc.analyze(graph))


def test_round_trip_through_the_torch_builder(tmp_path):
    (tmp_path / "built.py").write_text(textwrap.dedent('''
        from cnncalc.pytorch.build import build
        INPUT = (3, 64, 64)
        def resnet():
            return build("resnet18", "64")
    '''), encoding="utf-8")
    imported = import_model(f"{tmp_path / 'built.py'}:resnet")
    assert figures(cnncalc.analyze(imported.graph)) == figures(cnncalc.analyze(cnncalc.load("resnet18", "64")))


HAND_WRITTEN = '''
import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT = (3, 32, 32)


class Net(nn.Module):
    """Written by hand: F. calls, torch.cat, x.view, inline nn.Sequential, a residual, a split."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.a = nn.Conv2d(16, 8, 1)
        self.b = nn.Conv2d(16, 8, 3, padding=1, groups=2)
        self.body = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.Hardswish(), nn.Conv2d(16, 16, 3, padding=2,
                                                                                              dilation=2))
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 4, 1), nn.SiLU(), nn.Conv2d(4, 16, 1),
                                nn.Sigmoid())
        self.up = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, classes)

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat([F.relu(self.a(x)), self.b(x)], 1)
        x = x + self.body(x)
        x = x * self.se(x)
        x = F.max_pool2d(x, 2)
        x = F.avg_pool2d(x, 3, stride=2, padding=1)
        x = x * torch.sigmoid(x)
        y = self.up(x)
        a, b = torch.split(y, [4, 4], dim=1)
        x = torch.cat([F.max_pool2d(b, 2), F.max_pool2d(a, 2), x[:, :8]], 1)
        x = F.adaptive_avg_pool2d(x, 4)
        x = x.view(x.size(0), -1)
        return F.softmax(self.fc(x), dim=1)
'''


def flop_counter_macs(model, shape) -> int:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, *shape))
    return counter.get_total_flops() // 2


def test_a_hand_written_module_matches_flop_counter_and_numel(tmp_path):
    path = tmp_path / "hand.py"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    imported = import_model(f"{path}:Net", kwargs={"classes": 7})
    r = cnncalc.analyze(imported.graph)
    namespace: dict = {}
    exec(compile(HAND_WRITTEN, str(path), "exec"), namespace)
    model = namespace["Net"](classes=7).eval()
    assert r.totals.params == sum(p.numel() for p in model.parameters())
    assert r.totals.macs == flop_counter_macs(model, (3, 32, 32))
    assert r.layers[-1].output == [7]
    kinds = [ly.type for ly in r.layers]
    assert {"silu", "hardswish", "mul", "add", "concat", "slice", "conv_transpose", "flatten"} <= set(kinds)
    assert imported.doc["source"] == "hand.py:Net"   # the file name, never the full path


def test_a_module_needs_an_input_shape(tmp_path):
    (tmp_path / "m.py").write_text("import torch\nclass M(torch.nn.Conv2d):\n    def __init__(self):\n"
                                   "        super().__init__(3, 4, 3)\n", encoding="utf-8")
    with pytest.raises(ModelError, match="--input"):
        import_model(f"{tmp_path / 'm.py'}:M")
    r = cnncalc.analyze(import_model(f"{tmp_path / 'm.py'}:M", "3x8x8").graph)
    assert r.totals.params == 3 * 3 * 3 * 4 + 4 and r.layers[0].output == [4, 6, 6]


def test_an_unmapped_aten_op_fails_naming_it(tmp_path):
    (tmp_path / "m.py").write_text("import torch\nINPUT = (3, 4, 4)\nclass M(torch.nn.Module):\n"
                                   "    def forward(self, x):\n        return torch.cumsum(torch.relu(x), 1)\n",
                                   encoding="utf-8")
    with pytest.raises(ModelError, match=r"aten\.cumsum ×1 \(cumsum\)"):
        import_model(f"{tmp_path / 'm.py'}:M")


def test_repeated_modules_become_a_block_with_repeat():
    source = "tests/import_resnet_like.py:ResNet"
    imported, flat = import_model(source), import_model(source, flat=True)
    doc = imported.doc
    layers = {ly["name"]: ly for ly in doc["layers"]}
    assert layers["layer1"] == {"name": "layer1", "type": "basic", "repeat": 2}   # two identical Basic modules
    body = doc["blocks"]["basic"]["layers"]
    assert {"name": "add", "type": "add", "inputs": ["bn2", "input"]} in body      # the identity shortcut
    assert "blocks" not in flat.doc
    a, b = cnncalc.analyze(imported.graph), cnncalc.analyze(flat.graph)
    assert [r.name for r in a.layers] == [r.name for r in b.layers]
    assert "layer1.1.conv2" in [r.name for r in a.layers]                         # the module paths, kept
    assert figures(a) == figures(b)


@pytest.mark.skipif(os.environ.get("CNNCALC_DEEP") != "1", reason="every built-in at its own input: CNNCALC_DEEP=1")
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_round_trips_through_pytorch_code(name, tmp_path):
    graph = cnncalc.load(name)
    imported = import_model(torch_code_of(graph, tmp_path / "net.py"), "x".join(map(str, graph.input)))
    assert figures(cnncalc.analyze(imported.graph)) == figures(cnncalc.analyze(graph))


def test_check_never_imports_a_model(tmp_path):
    import subprocess
    import sys
    marker = tmp_path / "ran"
    (tmp_path / "net.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8")
    (tmp_path / "answers.yaml").write_text("architecture: net.py:Net\nanswers:\n  total: {params: 1}\n",
                                           encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    res = subprocess.run([sys.executable, "-m", "cnncalc", "check", str(tmp_path / "answers.yaml")],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert res.returncode == 2 and res.stderr.startswith("error: ")
    assert not marker.exists()

"""`cnncalc verify net.yaml --against SOURCE`: planted differences between a YAML and the real model are
caught, naming the layer."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("onnx")
pytest.importorskip("torch")

import cnncalc  # noqa: E402
from cnncalc.importers import import_model  # noqa: E402
from cnncalc.importers.against import against  # noqa: E402
from cnncalc.spec.builtins import builtin_path  # noqa: E402
from importing import onnx_of  # noqa: E402

RESNET18 = builtin_path("resnet18").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = onnx_of(cnncalc.load("resnet18", "64"), tmp_path_factory.mktemp("m") / "resnet18.onnx")
    return str(path), import_model(str(path), flat=True).graph


def check(text: str, model_graph, tmp_path):
    (tmp_path / "net.yaml").write_text(text, encoding="utf-8")
    return against(cnncalc.load(str(tmp_path / "net.yaml"), "64"), model_graph, "net.yaml", "resnet18.onnx")


def test_the_same_network_agrees(model, tmp_path):
    r = check(RESNET18, model[1], tmp_path)
    assert r.ok and r.divergence is None and r.yaml.params == r.model.params == 11_689_512


def test_an_extra_projection_is_named_with_its_params(model, tmp_path):
    r = check(RESNET18.replace("shortcut: auto ", "shortcut: projection "), model[1], tmp_path)
    # layer1.0 keeps 64 channels at 16×16: its projection is a 1×1 conv 64→64 (no bias) and a batchnorm
    assert not r.ok
    assert r.divergence == f"layer1.0: the YAML has a projection shortcut ({64 * 64 + 2 * 64:,} params) the model lacks"


def test_a_bias_the_model_lacks(model, tmp_path):
    text = RESNET18.replace("{name: conv1, type: conv, filters: 64, kernel: 7, stride: 2, padding: 3, bias: false}",
                            "{name: conv1, type: conv, filters: 64, kernel: 7, stride: 2, padding: 3}")
    r = check(text, model[1], tmp_path)
    assert r.divergence == (f"conv1: the YAML has {7 * 7 * 3 * 64 + 64:,} params, the model {7 * 7 * 3 * 64:,} "
                            "(a bias the model lacks)")


def test_a_wrong_stride(model, tmp_path):
    text = RESNET18.replace('{name: layer3, type: basic, repeat: 2, c: 256, stride: "${2 if i == 0 else 1}"}',
                            "{name: layer3, type: basic, repeat: 2, c: 256}")
    r = check(text, model[1], tmp_path)
    assert r.divergence.startswith("layer3.0.conv1 (the model's layer3_0_conv1): the YAML gives 256×8×8")
    assert "the model 256×4×4" in r.divergence


def test_a_swapped_layer(model, tmp_path):
    text = RESNET18.replace("            - {name: bn1, type: batchnorm}\n            - relu\n",
                            "            - relu\n            - {name: bn1, type: batchnorm}\n")
    assert text != RESNET18
    r = check(text, model[1], tmp_path)
    assert r.divergence.startswith("layer1.0.relu1: the layers are in another order")


def test_the_command_exits_1_naming_the_divergence(model, tmp_path):
    (tmp_path / "net.yaml").write_text(RESNET18.replace("shortcut: auto ", "shortcut: projection "), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.getcwd(), COLUMNS="200")
    res = subprocess.run([sys.executable, "-m", "cnncalc", "verify", str(tmp_path / "net.yaml"), "--against", model[0]],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 1
    assert "layer1.0: the YAML has a projection shortcut (4,224 params) the model lacks" in res.stdout

"""`cnncalc verify`: every built-in against a real PyTorch forward pass, and the command itself.

The measured side is torch (forward hooks, numel, FlopCounterMode); verify must find every
built-in clean, and must catch a wrong figure (exit 1) when one is planted.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
from typer.testing import CliRunner  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.analysis.analyze import load, report_of  # noqa: E402
from cnncalc.spec.builtins import builtin_names  # noqa: E402
from cnncalc.cli import app  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.pytorch.build import build  # noqa: E402
from cnncalc.pytorch.verify import verify, verify_graph  # noqa: E402

torch.set_num_threads(min(2, torch.get_num_threads()))

# checked at full size with real compute on CPU; every other built-in at full size on the meta
# device (shapes and counts without compute) and with real compute at a reduced input
FULL_CPU = {"lenet5", "alexnet", "vgg16", "googlenet", "resnet50-tv", "dcgan_generator", "m5"}
REDUCED = (64, 96, 128, 160, 224, 299)
# where the first size that analyzes would be slow on CPU, or none does: the smallest valid U-Net tile (4×4
# output), a C3D clip of 16 frames of 16×16, the segmentation nets and the padded U-Net at 32×32
REDUCED_INPUT = {"unet": "188", "c3d": "3x16x16x16", "unet-same": "32", "fcn_resnet50": "32",
                 "deeplabv3_resnet50": "32", "retinanet_resnet50_fpn": "64", "r2plus1d_18": "3x8x32x32"}
# the smallest input SSD300's unpadded conv10_2/conv11_2 take is 268×268 (28 G MACs): checked on meta only
META_ONLY = {"ssd300_vgg16"}


def bad_layers(v):
    return [(r.name, r.mismatches, r.error) for r in v.layers if not r.ok]


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_verifies_on_meta_at_full_size(name):
    v = verify(name, device="meta")
    assert v.ok, bad_layers(v)
    assert v.totals.torch_params == cnncalc.analyze(name).totals.params


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_verifies_on_cpu(name):
    if name in META_ONLY:
        pytest.skip(f"{name}: its smallest input is too costly on CPU; checked on meta")
    if name in FULL_CPU:
        v = verify(name, device="cpu")
    elif name in REDUCED_INPUT:
        v = verify(name, device="cpu", input=REDUCED_INPUT[name])
    else:
        size = next((s for s in REDUCED if _analyzes(name, s)), None)
        if size is None:
            pytest.skip(f"{name} needs its full input; checked on meta")
        v = verify(name, device="cpu", input=str(size))
    assert v.ok, bad_layers(v)
    assert v.totals.unattributed_flops == 0
    assert v.torch_output == v.output


def _analyzes(name, size) -> bool:
    try:
        cnncalc.analyze(name, input=str(size))
        return True
    except CnncalcError:
        return False


def test_verify_counts_each_layer_from_torch():
    """The measured side, spelled out for LeNet-5: torch's own numbers per layer."""
    v = verify("lenet5", batch=3)
    rows = {r.name: r for r in v.layers}
    assert rows["C1"].torch_output == [3, 6, 28, 28]
    assert rows["C1"].torch_params == 5 * 5 * 1 * 6 + 6
    assert rows["C1"].torch_flops == 2 * 3 * (5 * 5 * 1 * 28 * 28 * 6)   # batch 3, 2 FLOPs per MAC
    assert rows["F6"].torch_macs == 3 * 120 * 84
    assert rows["S2"].torch_macs == 0 and rows["relu1"].torch_flops == 0
    assert v.totals.torch_params == 61_706 and v.ok


def test_meta_device_takes_huge_inputs():
    v = verify("vgg16", device="meta", input="3x4096x4096", batch=8)
    assert v.ok, bad_layers(v)
    assert v.device == "meta"
    conv1 = v.layers[0]
    assert conv1.torch_output == [8, 64, 4096, 4096]
    assert conv1.torch_macs == 8 * 3 * 3 * 3 * 4096 * 4096 * 64


def test_a_tampered_report_is_caught():
    graph = load("lenet5")
    report = report_of(graph, 1)
    report.layers[2].output = [6, 13, 13]       # S2
    report.layers[3].params += 1                # C3
    report.layers[8].macs -= 84                 # F6
    report.totals.macs -= 84
    v = verify_graph(graph, report)
    assert not v.ok
    assert bad_layers(v) == [("S2", ["output"], None), ("C3", ["params"], None), ("F6", ["macs"], None)]
    assert v.mismatches == 3


def test_a_torch_failure_is_a_mismatch(monkeypatch):
    """A layer whose torch module does not fit its input: verify reports where torch refused."""
    from torch import nn

    from cnncalc.layers.linear import Linear
    monkeypatch.setattr(Linear, "torch_module", lambda self, ins: nn.Sequential(nn.Flatten(), nn.Linear(7, self.out)))
    v = verify("lenet5")
    assert not v.ok
    f6 = next(r for r in v.layers if r.name == "F6")
    assert "error" in f6.mismatches and "mat1 and mat2" in f6.error
    assert v.layers[-1].torch_output is None     # not reached


def test_network_has_one_submodule_per_node_by_dotted_name():
    graph = load("resnet18")
    net = build(graph)
    names = [n.name for n in graph.nodes]
    assert [n for n, _ in net.named_nodes()] == names
    assert len(set(net.node_keys)) == len(names) == len(list(net.children()))
    conv = net.node("layer2.0.conv1")
    assert isinstance(conv, torch.nn.Conv2d) and conv.stride == (2, 2)
    assert net.get_submodule("layer2_0_conv1") is conv
    assert sum(p.numel() for p in net.parameters()) == 11_689_512      # torchvision resnet18 num_params
    with pytest.raises(KeyError):
        net.node("layer9")


def test_attribute_names_stay_clear_of_module_attributes():
    spec = {"input": [1, 4, 4], "layers": [{"name": "forward", "type": "relu"}, {"name": "training", "type": "relu"},
                                           {"name": "a.b", "type": "relu"}, {"name": "a_b", "type": "relu"},
                                           {"name": "0", "type": "relu"}]}
    net = build(load(spec))
    assert net.node_keys == ["forward_2", "training_2", "a_b", "a_b_2", "layer_0"]
    assert net(torch.ones(1, 1, 4, 4)).shape == (1, 1, 4, 4)


def test_importing_cnncalc_does_not_import_torch():
    code = ("import sys, cnncalc; cnncalc.analyze('lenet5'); import cnncalc.cli; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the command ----------------------------------------------------------------------------

runner = CliRunner()


def test_cli_verify_lenet5_exits_0():
    result = runner.invoke(app, ["verify", "lenet5"])
    assert result.exit_code == 0, result.output
    assert "✓ all 12 layers agree with PyTorch" in result.stdout
    assert "61,706" in result.stdout and "416,520" in result.stdout


def test_cli_verify_json():
    result = runner.invoke(app, ["verify", "lenet5", "--json", "--batch", "2", "--device", "meta"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["batch"] == 2 and data["device"] == "meta"
    assert data["totals"]["torch_macs"] == 2 * 416_520


def test_cli_verify_exits_1_on_a_wrong_figure(monkeypatch):
    from cnncalc.layers.conv import Conv
    real = Conv.macs
    monkeypatch.setattr(Conv, "macs", lambda self, ins, out: real(self, ins, out) + 1)   # one MAC too many
    result = runner.invoke(app, ["verify", "lenet5"])
    assert result.exit_code == 1, result.output
    assert "✗ 3 of 12 layers disagree" in result.stdout
    assert "C1: macs" in result.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cli_verify_cuda_without_cuda_is_one_line_exit_2():
    result = runner.invoke(app, ["verify", "lenet5", "--device", "cuda"])
    assert result.exit_code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "CUDA is not available" in lines[0], result.stderr


@pytest.mark.parametrize("args, text", [
    (["verify", "lenet5", "--device", "tpu"], "expected cpu, cuda, cuda:N or meta"),
    (["verify", "no_such_net"], "neither a file nor a built-in"),
    (["verify", "lenet5", "--input", "abc"], "--input"),
])
def test_cli_verify_bad_usage_exits_2(args, text):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and text in lines[0], result.stderr

"""Two activation counts, each named by its convention (issue 22): every_layer (each layer's output
added, in-place activations too: what `analyze` always reported) and lecture (the input and each layer
with a row of its own in a lecture table: conv, pool, fc, merges). Both are proved with forward hooks
on the torch module; `check` accepts either where the file declares no convention and names the one
the answer matches."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app

runner = CliRunner()

# VGG16 at 224×224×3: its 13 conv outputs, 5 pool outputs (the lecture table's rows beside the input and fc)
CONVS = 2 * 224 * 224 * 64 + 2 * 112 * 112 * 128 + 3 * 56 * 56 * 256 + 3 * 28 * 28 * 512 + 3 * 14 * 14 * 512
POOLS = 112 * 112 * 64 + 56 * 56 * 128 + 28 * 28 * 256 + 14 * 14 * 512 + 7 * 7 * 512
VGG16_LECTURE = 224 * 224 * 3 + CONVS + POOLS + 4096 + 4096 + 1000
# every_layer: no input, but each conv's ReLU, torchvision's adaptive 7×7 pool (7·7·512; fc6 flattens its
# input itself), and after fc6 and fc7 a ReLU and a dropout
VGG16_EVERY = 2 * CONVS + POOLS + 7 * 7 * 512 + 3 * 4096 + 3 * 4096 + 1000


def test_vgg16_reports_both_counts_named_by_their_convention():
    t = cnncalc.analyze("vgg16").totals
    assert (t.lecture_activations, t.activations) == (VGG16_LECTURE, VGG16_EVERY) == (15_237_608, 28_676_072)
    res = runner.invoke(app, ["analyze", "vgg16"], env={"COLUMNS": "80"})
    line = next(ln for ln in res.output.splitlines() if "28,676,072" in ln)
    nxt = res.output.splitlines()[res.output.splitlines().index(line) + 1]
    assert "every_layer" in line and "15,237,608" in nxt and "lecture" in nxt and len(nxt) <= 80
    assert cnncalc.analyze("vgg16", batch=3).totals.lecture_activations == 3 * VGG16_LECTURE


@pytest.mark.parametrize("name,input", [("vgg16", None), ("resnet18", "3x64x64"), ("googlenet", None),
                                        ("densenet121", "3x64x64"), ("mobilenet_v3_small", "3x64x64")])
def test_both_counts_against_forward_hooks(name, input):
    torch = pytest.importorskip("torch")
    from torch import nn
    from cnncalc.pytorch.build import build
    graph = cnncalc.load(name, input)
    net = build(graph).eval()
    every, lecture = [0], [1]
    for i in graph.input:
        lecture[0] *= i

    def hook(m, args, out):
        every[0] += out.numel()
        elementwise = type(m).__module__ == "torch.nn.modules.activation" or isinstance(
            m, (nn.Dropout, nn.Identity, nn.Flatten))
        unchanged = isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)) and out.shape == args[0].shape
        if not (elementwise or unchanged):
            lecture[0] += out.numel()
    for _, m in net.named_nodes():
        m.register_forward_hook(hook)
    with torch.no_grad():
        net(torch.zeros(1, *graph.input))
    t = cnncalc.analyze(graph).totals
    assert (t.activations, t.lecture_activations) == (every[0], lecture[0])


def check(tmp_path, text):
    p = tmp_path / "a.yaml"
    p.write_text(text)
    return runner.invoke(app, ["check", str(p), "--json"])


@pytest.mark.parametrize("given,convention", [(VGG16_LECTURE, "lecture convention (the default)"),
                                              (VGG16_EVERY, "`conventions: {activations: every_layer}`")])
def test_check_accepts_either_count_and_names_its_convention(tmp_path, given, convention):
    import json
    res = check(tmp_path, f"architecture: vgg16\nanswers:\n  total: {{activations: {given}}}\n")
    assert res.exit_code == 0, res.output
    item = json.loads(res.output)["items"][0]
    assert item["ok"] and f"right under {'the ' if 'lecture' in convention else ''}{convention}" in item["note"]
    assert item["expected_value"] == given


def test_a_declared_convention_accepts_only_its_own_count(tmp_path):
    res = check(tmp_path, f"architecture: vgg16\nconventions: {{activations: lecture}}\n"
                          f"answers:\n  total: {{activations: {VGG16_EVERY}}}\n")
    assert res.exit_code == 1
    res = check(tmp_path, f"architecture: vgg16\nconventions: {{activations: every_output}}\n"
                          f"answers:\n  total: {{activations: {VGG16_EVERY}}}\n")
    assert res.exit_code == 0

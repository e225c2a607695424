"""Static figures of the core analyzer against the course notes, the papers and torchvision."""
from __future__ import annotations

import subprocess
import sys

import pytest

import cnncalc
from cnncalc.analysis.formulas import conv_out, pool_out, remainder, same_padding


def row(report, name):
    return next(r for r in report.layers if r.name == name)


# -- LeNet-5, seeds 000 section D.I ------------------------------------------------------

def test_lenet5_layers_as_in_the_notes():
    r = cnncalc.analyze("lenet5")
    # shapes from the notes' walk-through (C1 28×28×6, S2 14×14×6, C3 10×10×16, S4 5×5×16, C5 1×1×120)
    assert row(r, "C1").output == [6, 28, 28]
    assert row(r, "S2").output == [6, 14, 14]
    assert row(r, "C3").output == [16, 10, 10]
    assert row(r, "S4").output == [16, 5, 5]
    assert row(r, "C5").output == [120, 1, 1]
    assert row(r, "F6").output == [84]
    assert row(r, "F7").output == [10]
    # params: the notes' "weights + biases" sum, term by term
    assert row(r, "C1").params == 5 * 5 * 1 * 6 + 6
    assert row(r, "C3").params == 5 * 5 * 6 * 16 + 16
    assert row(r, "C5").params == 5 * 5 * 16 * 120 + 120
    assert row(r, "F6").params == 120 * 84 + 84
    assert row(r, "F7").params == 84 * 10 + 10
    assert r.totals.params == 61_706
    # MACs: k·k·n_c·H_out·W_out·K for conv, N_in·N_out for fc (the notes' "Multi-Add")
    assert row(r, "C1").macs == 5 * 5 * 1 * 28 * 28 * 6
    assert row(r, "C3").macs == 5 * 5 * 6 * 10 * 10 * 16
    assert row(r, "C5").macs == 5 * 5 * 16 * 1 * 1 * 120
    assert row(r, "F6").macs == 120 * 84
    assert r.totals.macs == 416_520
    assert r.totals.flops == 2 * 416_520
    # weights only (the notes' first sum)
    weights = 5 * 5 * 1 * 6 + 5 * 5 * 6 * 16 + 5 * 5 * 16 * 120 + 120 * 84 + 84 * 10
    assert r.totals.params - (6 + 16 + 120 + 84 + 10) == weights


def test_vgg16_figures():
    r = cnncalc.analyze("vgg16")
    assert r.totals.params == 138_357_544       # torchvision vgg16 num_params
    assert r.totals.macs == 15_470_264_320      # torchvision _ops 15.47 (exact: sum over layers)
    # seeds D.IV walk-through: 224×224×64 … 7×7×512
    for name, shape in [("conv1_2.conv", [64, 224, 224]), ("pool1", [64, 112, 112]), ("conv2_2.conv", [128, 112, 112]),
                        ("pool2", [128, 56, 56]), ("conv3_3.conv", [256, 56, 56]), ("pool3", [256, 28, 28]),
                        ("conv4_3.conv", [512, 28, 28]), ("pool4", [512, 14, 14]), ("conv5_3.conv", [512, 14, 14]),
                        ("pool5", [512, 7, 7])]:
        assert row(r, name).output == shape
    assert row(r, "conv1_1.conv").params == (3 * 3 * 3 + 1) * 64
    assert row(r, "fc6").params == (7 * 7 * 512 + 1) * 4096
    # receptive field at pool5: Araujo et al. 2019 Table 1 (VGG-16: 212) ; stride 2^5 ; padding 90
    rf = row(r, "pool5").rf
    assert (rf.size, rf.stride, rf.padding) == (212, 32, 90)
    assert (rf.size_w, rf.stride_w, rf.padding_w) == (212, 32, 90)


def test_rows_sum_to_totals_and_blocks_aggregate():
    for name in cnncalc.spec.builtins.builtin_names():
        r = cnncalc.analyze(name)
        for field in ("params", "buffers"):
            assert sum(getattr(x, field) for x in r.layers) == getattr(r.totals, field), (name, field)
        for field in ("macs", "flops", "other_ops", "activations"):  # the inference forward's work
            assert sum(getattr(x, field) for x in r.layers if not x.train_only) == getattr(r.totals, field), (name, field)
        assert r.totals.flops == 2 * r.totals.macs
        for b in r.blocks:
            inside = [x for x in r.layers if x.name.startswith(b.name + ".")]
            assert b.params == sum(x.params for x in inside), (name, b.name)
            assert b.macs == sum(x.macs for x in inside), (name, b.name)
            assert b.output == inside[-1].output


def test_batch_scales_macs_flops_activations_not_params():
    one, eight = cnncalc.analyze("lenet5"), cnncalc.analyze("lenet5", batch=8)
    assert eight.totals.params == one.totals.params
    assert eight.totals.macs == 8 * one.totals.macs
    assert eight.totals.flops == 8 * one.totals.flops
    assert eight.totals.activations == 8 * one.totals.activations


def test_input_override():
    r = cnncalc.analyze("vgg16", input="3x64x64")
    assert row(r, "pool5").output == [512, 2, 2]
    assert row(r, "avgpool").output == [512, 7, 7]  # adaptive pool restores 7×7
    assert cnncalc.analyze("vgg16", input="64").input == [3, 64, 64]


def test_api_accepts_path_name_and_dict(tmp_path):
    from cnncalc.spec.builtins import builtin_path
    by_name = cnncalc.analyze("lenet5")
    by_path = cnncalc.analyze(str(builtin_path("lenet5")))
    import yaml
    by_dict = cnncalc.analyze(yaml.safe_load(builtin_path("lenet5").read_text()))
    assert by_name.totals == by_path.totals == by_dict.totals
    assert isinstance(by_name, cnncalc.Report)


def test_static_path_does_not_import_torch():
    code = ("import sys, cnncalc; cnncalc.analyze('vgg16'); "
            "from cnncalc.cli import app; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- formulas, against the notes' arithmetic -------------------------------------------

def test_output_size_formulas():
    assert conv_out(227, 11, 4) == (227 - 11) // 4 + 1 == 55          # seeds AlexNet conv1
    assert conv_out(27, 5, 1, 2) == (27 + 2 * 2 - 5) // 1 + 1 == 27   # conv2 pad 2
    assert pool_out(55, 3, 2) == (55 - 3) // 2 + 1 == 27
    assert conv_out(39, 3, 1) == 37 and conv_out(37, 5, 2) == 17 and conv_out(17, 5, 2) == 7  # Ng's 39×39×3
    # ceil with PyTorch's rule: 6 + 2·1 − 2 = 6, ⌈6/2⌉ + 1 = 4, but the 4th window starts at 6 ≥ 5 + 1: dropped
    assert pool_out(5, 2, 2, 1, 1, ceil_mode=True) == 3
    assert pool_out(112, 3, 2, 0, 1, ceil_mode=True) == 56 and pool_out(112, 3, 2) == 55  # GoogLeNet pool
    assert remainder(224, 7, 2, 3, 3, 1, conv_out(224, 7, 2, 3)) == 1  # ResNet conv1 floor drops one row
    assert same_padding(3) == (1, 1) and same_padding(5) == (2, 2) and same_padding(4) == (1, 2)


def test_notes_and_explanation_alexnet_conv1():
    from cnncalc.analysis.explain import explain
    spec = {"input": [3, 227, 227], "layers": [{"name": "conv1", "type": "conv", "filters": 96, "kernel": 11, "stride": 4}]}
    (title, lines), = explain(cnncalc.load(spec), "conv1")
    text = "\n".join(lines)
    assert "⌊(227 − 11 + 2·0)/4⌋ + 1 = 55" in text
    assert "(11·11·3 + 1)·96 = 34,944" in text                 # seeds: (11·11·3)·96 weights + 96 biases
    assert f"{11 * 11 * 3 * 55 * 55 * 96:,}" in text
    assert f"{2 * 11 * 11 * 3 * 55 * 55 * 96:,}" in text


def test_floor_and_ceil_notes():
    spec = {"input": [1, 6, 6], "layers": [{"name": "p", "type": "maxpool", "kernel": 3, "stride": 2}]}
    r = cnncalc.analyze(spec)
    assert r.layers[0].output == [1, 2, 2]     # ⌊(6 − 3)/2⌋ + 1 = 2, one row left over
    assert r.layers[0].notes == ["floor drops 1 input row and col", "ceil would give 3×3"]
    spec["layers"][0]["ceil_mode"] = True
    r = cnncalc.analyze(spec)
    assert r.layers[0].output == [1, 3, 3]     # ⌈(6 − 3)/2⌉ + 1 = 3
    assert r.layers[0].notes == ["ceil pads 1 row and col implicitly", "floor would give 2×2"]


def test_blocks_params_and_repeat():
    spec = {
        "input": [8, 16, 16],
        "blocks": {"pair": {"params": {"c": None, "s": 1},
                            "layers": [{"name": "a", "type": "conv", "filters": "${2*c}", "kernel": 3,
                                        "stride": "$s", "padding": 1}, "relu"]}},
        "layers": [{"name": "stage", "type": "pair", "repeat": 3, "c": 4, "s": "${2 if i == 0 else 1}"}],
    }
    r = cnncalc.analyze(spec)
    names = [x.name for x in r.layers]
    assert names == ["stage.0.a", "stage.0.relu1", "stage.1.a", "stage.1.relu1", "stage.2.a", "stage.2.relu1"]
    assert r.layers[0].output == [8, 8, 8] and r.layers[2].output == [8, 8, 8]
    assert r.layers[0].params == 3 * 3 * 8 * 8 + 8
    assert {b.name for b in r.blocks} == {"stage", "stage.0", "stage.1", "stage.2"}


def test_residual_projection_and_branches():
    spec = {"input": [16, 8, 8], "layers": [
        {"name": "res", "residual": {"body": [{"name": "c", "type": "conv", "filters": 32, "kernel": 3,
                                               "stride": 2, "padding": 1}], "shortcut": "projection"}},
        {"name": "inc", "branches": [[{"name": "x", "type": "conv", "filters": 4, "kernel": 1}],
                                     [{"name": "y", "type": "conv", "filters": 6, "kernel": 3, "padding": 1}],
                                     "identity"]},
    ]}
    r = cnncalc.analyze(spec)
    assert row(r, "res.downsample.0").params == 16 * 32          # 1×1, no bias
    assert row(r, "res.downsample.0").output == [32, 4, 4]
    assert row(r, "res.add").output == [32, 4, 4]
    assert row(r, "inc.concat").output == [4 + 6 + 32, 4, 4]
    assert row(r, "inc.concat").inputs == ["inc.b1.x", "inc.b2.y", "res.add"]


def test_explicit_dag_inputs():
    spec = {"input": [3, 8, 8], "layers": [
        {"name": "a", "type": "conv", "filters": 4, "kernel": 3, "padding": 1},
        {"name": "b", "type": "conv", "filters": 5, "kernel": 3, "padding": 1},
        {"name": "c", "type": "concat", "inputs": ["input", "a", "b"]},
    ]}
    r = cnncalc.analyze(spec)
    assert row(r, "c").output == [3 + 4 + 5, 8, 8]


@pytest.mark.parametrize("name,depth", [
    ("lenet5", 5),           # LeCun 1998: C1, C3, C5, F6, F7
    ("alexnet", 5 + 3),      # Krizhevsky 2012: five conv + three fc
    ("vgg16", 13 + 3),       # Simonyan & Zisserman: "16 weight layers"
    ("googlenet", 22),       # Szegedy 2014: "22 layers deep when counting only layers with parameters"
    ("resnet18", 18), ("resnet50-tv", 50), ("resnet152", 152),   # He 2015, Table 1 names
    ("densenet121", 121),    # Huang 2017: 1 + 2·(6+12+24+16) + 3 transitions + 1 classifier
    ("mobilenet_v1", 28),    # Howard 2017: "28 layers" counting depthwise and pointwise separately
])
def test_depth_is_the_longest_weighted_path(name, depth):
    r = cnncalc.analyze(name)
    assert r.totals.depth == depth
    assert r.totals.weight_layers >= depth

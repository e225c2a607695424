"""Receptive fields and the worked-formula calculator, against the notes and Araujo et al. 2019."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.spec.builtins import builtin_names
from cnncalc.analysis.calc import calc_chain, calc_layer, parse_token, read_input, rf_chain
from cnncalc.cli import app
from cnncalc.errors import CnncalcError
from cnncalc.analysis.receptive import rf_report

runner = CliRunner()


def test_three_stacked_3x3_give_3_5_7():
    # seeds 000 section C.VIII: RF_1 = 3, RF_2 = 5, RF_3 = 7
    assert [r.size for r in rf_chain(["conv3", "conv3", "conv3"])] == [3, 5, 7]
    res = runner.invoke(app, ["rf", "-l", "conv3", "-l", "conv3", "-l", "conv3"])
    assert res.exit_code == 0
    assert "RF = 3 + (3 − 1)·1 = 5" in res.output and "receptive field: 3, 5, 7" in res.output


def test_chain_with_strides_and_dilation():
    # RF_l = RF_{l−1} + (f_l − 1)·∏ s_i : 1 + (5−1)·1 = 5 ; 5 + (2−1)·2 = 7 ; 7 + (5−1)·4 = 23 (dilated 3 → 5)
    rows = rf_chain(["conv5s2", "pool2", "conv3d2"])
    assert [r.size for r in rows] == [1 + (5 - 1) * 1, 5 + (2 - 1) * 2, 7 + (2 * (3 - 1) + 1 - 1) * 4]
    assert [r.jump for r in rows] == [2, 4, 4]


def test_tokens():
    assert parse_token("conv5s2p1f32") == {"type": "conv", "kernel": 5, "stride": 2, "padding": 1, "filters": 32}
    assert parse_token("pool3s2ceil") == {"type": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": True}
    with pytest.raises(CnncalcError, match="cannot read layer token"):
        parse_token("conv")
    assert runner.invoke(app, ["rf", "-l", "cnv3"]).exit_code == 2


def test_vgg16_rf_table():
    rep = rf_report(cnncalc.load("vgg16"))
    pool5 = next(r for r in rep.layers if r.name == "pool5")
    assert (pool5.size, pool5.stride, pool5.padding) == (212, 32, 90)
    assert pool5.region_h == [-90, -90 + 212 - 1]
    assert not pool5.covers
    assert rep.first_covering == "fc6"   # fc6 sees all of pool5's 7×7 map


@pytest.mark.skipif("alexnet" not in builtin_names(), reason="alexnet built-in not present")
def test_alexnet_pool5_rf():
    # Araujo et al. 2019, Table 1: AlexNet r = 195 ; j = 32 ; P = 64 (Caffe alexnet, 227 input)
    rep = rf_report(cnncalc.load("alexnet"))
    pool5 = [r for r in rep.layers if r.type == "maxpool"][-1]
    assert (pool5.size, pool5.stride, pool5.padding) == (195, 32, 64)


@pytest.mark.skipif("mobilenet_v1" not in builtin_names(), reason="mobilenet_v1 built-in not present")
def test_mobilenet_v1_last_conv_rf():
    # Araujo et al. 2019, Table 1: MobileNet v1 r = 315, j = 32. Its effective padding there (126) comes from
    # TensorFlow's SAME padding, which pads the stride-2 layers asymmetrically (0 before, 1 after); PyTorch
    # pads 1 on both sides, so P here is larger. Size and stride do not depend on where the padding goes.
    rep = rf_report(cnncalc.load("mobilenet_v1"))
    last = [r for r in rep.layers if r.type == "conv"][-1]
    assert (last.size, last.stride) == (315, 32)


def test_rf_through_branches_takes_the_larger_and_reports_misalignment():
    spec = {"input": [3, 32, 32], "layers": [{"name": "inc", "branches": [
        [{"name": "a", "type": "conv", "filters": 4, "kernel": 1}],
        [{"name": "b", "type": "conv", "filters": 4, "kernel": 5, "padding": 2}],
        # an even kernel with 'same' pads 0 before and 1 after: its field's centre is half a pixel off
        [{"name": "c", "type": "conv", "filters": 4, "kernel": 2, "padding": "same"}]]}]}
    rep = cnncalc.analyze(spec)
    concat = rep.layers[-1]
    assert concat.rf.size == 5                      # max(1, 5, 2)
    assert len(rep.misaligned) == 1 and rep.misaligned[0].startswith("inc.concat")
    assert "inc.b3.c: r=2 j=1 P=0" in rep.misaligned[0]
    aligned = {"input": [3, 32, 32], "layers": [{"name": "inc", "branches": [
        [{"type": "conv", "filters": 4, "kernel": 1}], [{"type": "conv", "filters": 4, "kernel": 3, "padding": 1}]]}]}
    assert cnncalc.analyze(aligned).misaligned == []


def test_calc_conv_alexnet_conv1():
    res = calc_layer(read_input("227", 3, "HWC"), {"type": "conv", "filters": 96, "kernel": 11, "stride": 4})
    assert res.output == [96, (227 - 11) // 4 + 1, 55]
    assert res.weights == 11 * 11 * 3 * 96 and res.biases == 96 and res.params == (11 * 11 * 3 + 1) * 96
    assert res.macs == 11 * 11 * 3 * 55 * 55 * 96 and res.flops == 2 * res.macs
    assert res.same_padding == [(11 - 1) // 2] * 2
    assert any("(f+1)/2 = 6" in line for line in res.lines)  # the seeds' wrong same padding, corrected


def test_calc_cli_inputs():
    a = runner.invoke(app, ["calc", "conv", "--input", "227", "-k", "11", "-s", "4", "--filters", "96", "--channels", "3", "--json"])
    b = runner.invoke(app, ["calc", "conv", "--input", "227x227x3", "-k", "11", "-s", "4", "--filters", "96", "--json"])
    assert a.exit_code == b.exit_code == 0
    assert json.loads(a.output) == json.loads(b.output)
    assert json.loads(a.output)["params"] == 34_944
    assert runner.invoke(app, ["calc", "conv", "--input", "227", "-k", "11", "--filters", "96"]).exit_code == 2


def test_inception_bottleneck_as_in_the_notes():
    # seeds 000 D.V.3: (5·5·192)·(28·28·32) = 120,422,400 ("1.2亿") ; with the 1×1 bottleneck
    # (1·1·192)·(28·28·16) + (5·5·16)·(28·28·32) = 12,443,648 ("1240万")
    direct = calc_layer((192, 28, 28), {"type": "conv", "filters": 32, "kernel": 5, "padding": "same"})
    assert direct.macs == (5 * 5 * 192) * (28 * 28 * 32) == 120_422_400
    chain = calc_chain((192, 28, 28), ["conv1f16", "conv5f32same"])
    assert chain.totals.macs == (1 * 1 * 192) * (28 * 28 * 16) + (5 * 5 * 16) * (28 * 28 * 32) == 12_443_648
    res = runner.invoke(app, ["calc", "chain", "--input", "28x28x192", "conv1f16", "conv5f32same"])
    assert res.exit_code == 0 and "12,443,648" in res.output


def test_calc_pool_shows_both_roundings():
    res = calc_layer((192, 28, 28), {"type": "maxpool", "kernel": 3, "stride": 2})
    assert res.floor_output == [192, (28 - 3) // 2 + 1] * 1 + [13] and res.ceil_output == [192, 14, 14]
    out = runner.invoke(app, ["calc", "pool", "--input", "28x28x192", "-k", "3", "-s", "2"]).output
    assert "floor gives 192×13×13, ceil gives 192×14×14" in out


def test_calc_fc():
    res = calc_layer((9216,), {"type": "linear", "out": 4096})
    assert res.params == (9216 + 1) * 4096 and res.weights == 9216 * 4096 and res.biases == 4096
    assert res.flops == 2 * 9216 * 4096


def test_compare_vgg16_lenet():
    res = runner.invoke(app, ["compare", "vgg16", "lenet5", "--flops", "--json"])
    assert res.exit_code == 0
    rows = json.loads(res.output)["rows"]
    assert rows[0]["flops"] == 2 * 15_470_264_320 and rows[0]["ratio"] == 1.0
    assert rows[1]["ratio"] == pytest.approx(2 * 416_520 / (2 * 15_470_264_320))
    assert rows[0]["depth"] == 13 + 3 and rows[1]["depth"] == 5
    assert rows[0]["final_rf"] == 212
    res = runner.invoke(app, ["compare", "vgg16", "vgg61"])
    assert res.exit_code == 2 and "vgg16" in res.output


def test_squeeze_excitation_keeps_the_spatial_field():
    # x * σ(W·pool(x)): the 1×1 channel weights bring global context but no position; the field stays the
    # conv path's (r = 3), and the broadcast input is not reported as a misaligned path.
    spec = {"input": [8, 16, 16], "layers": [
        {"name": "x", "type": "conv", "filters": 8, "kernel": 3, "padding": 1},
        {"type": "global_avgpool"}, {"type": "conv", "filters": 2, "kernel": 1}, "relu",
        {"type": "conv", "filters": 8, "kernel": 1}, "sigmoid",
        {"name": "se", "type": "mul", "inputs": ["x", "sigmoid1"]}]}
    rep = cnncalc.analyze(spec)
    se = rep.layers[-1]
    assert se.output == [8, 16, 16]
    assert (se.rf.size, se.rf.stride, se.rf.padding) == (3, 1, 1)
    assert se.other_ops == 8 * 16 * 16 and rep.misaligned == []

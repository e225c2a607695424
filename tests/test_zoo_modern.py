"""Mobile-era built-ins against torchvision: MobileNetV3-Large, EfficientNet-B0, ShuffleNet V2 1.0×.

Published figures are each weights enum's IMAGENET1K_V1 meta in torchvision/models/<file>.py:
``num_params`` (exact) and ``_ops`` (GMACs of one eval forward at 224², compared at the digits
published). Structure checks restate the rules in torchvision's source (squeeze widths, where a
shortcut is added, channel split and shuffle). Static analysis only: torch is never imported here
(test_verify proves every built-in against a real forward pass).
"""
from __future__ import annotations


import pytest

import cnncalc
from util import block, check_mbconv, report, row


def make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision.models._utils._make_divisible (min_value = divisor)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


# -- torchvision: num_params exact, _ops at the digits it publishes ---------------------------

MODERN = [
    # built-in              num_params   _ops      exact MACs     torchvision model (file), IMAGENET1K_V1 meta
    ("mobilenet_v3_large",  5_483_032,   "0.217",  216_589_760),  # mobilenet_v3_large (mobilenetv3.py)
    ("efficientnet_b0",     5_288_548,   "0.386",  385_814_752),  # efficientnet_b0 (efficientnet.py)
    ("shufflenet_v2_x1_0",  2_278_604,   "0.145",  144_907_992),  # shufflenet_v2_x1_0 (shufflenetv2.py)
]


@pytest.mark.parametrize("name,params,ops,macs", MODERN, ids=[t[0] for t in MODERN])
def test_torchvision_published_figures(name, params, ops, macs):
    r = report(name)
    assert r.totals.params == params
    digits = len(ops.split(".")[1])
    assert f"{r.totals.macs / 1e9:.{digits}f}" == ops
    assert r.totals.macs == macs          # the exact total the built-in's `figures:` line states
    assert r.input == [3, 224, 224] and r.output == [1000]


# -- MobileNetV3-Large ------------------------------------------------------------------------

# _mobilenet_v3_conf("mobilenet_v3_large"): (input, kernel, expanded, out, use_se, activation, stride)
MBV3_LARGE = [
    (16, 3, 16, 16, False, "RE", 1), (16, 3, 64, 24, False, "RE", 2), (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 72, 40, True, "RE", 2), (40, 5, 120, 40, True, "RE", 1), (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2), (80, 3, 200, 80, False, "HS", 1), (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1), (80, 3, 480, 112, True, "HS", 1), (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2), (160, 5, 960, 160, True, "HS", 1), (160, 5, 960, 160, True, "HS", 1),
]


@pytest.mark.parametrize("k", range(1, 16))
def test_mobilenet_v3_bneck_matches_the_config_table(k):
    r = report("mobilenet_v3_large")
    cin, kernel, exp, out, se, act, stride = MBV3_LARGE[k - 1]
    b = block(r, f"features.{k}")
    assert b.input[0] == cin and b.output[0] == out
    assert b.output[1] == b.input[1] // stride
    leaves = [x for x in r.layers if x.name.startswith(f"features.{k}.")]
    has_expand = exp != cin                                 # no expand conv where expanded = input
    dw = row(r, f"features.{k}.block.{1 if has_expand else 0}.0")
    assert dw.params == kernel * kernel * exp and dw.output[0] == exp   # depthwise k×k, no bias
    for part in ("block.0", "block.1") if has_expand else ("block.0",):
        assert row(r, f"features.{k}.{part}.2").type == ("relu" if act == "RE" else "hardswish")
    adds = [x for x in leaves if x.type == "add"]
    assert len(adds) == (stride == 1 and cin == out)       # InvertedResidual.use_res_connect
    muls = [x for x in leaves if x.type == "mul"]
    assert len(muls) == se
    if se:
        # SqueezeExcitation(exp, _make_divisible(exp // 4, 8), scale_activation=Hardsigmoid), 1×1 convs with bias
        sq = make_divisible(exp // 4, 8)
        fc1, fc2 = row(r, f"features.{k}.block.2.fc1"), row(r, f"features.{k}.block.2.fc2")
        assert (fc1.output, fc2.output) == ([sq, 1, 1], [exp, 1, 1])
        assert fc1.params == exp * sq + sq and fc2.params == sq * exp + exp
        assert fc1.macs == fc2.macs == exp * sq
        assert row(r, f"features.{k}.block.2.scale_activation").type == "hardsigmoid"
        assert muls[0].output == dw.output                  # the depthwise output, scaled per channel


def test_mobilenet_v3_squeeze_widths_and_head():
    r = report("mobilenet_v3_large")
    # _make_divisible rounds 72 // 4 = 18 down to 16, which is < 90 % of 18, so it goes up to 24
    assert [make_divisible(e // 4, 8) for e in (72, 120, 480, 672, 960)] == [24, 32, 120, 168, 240]
    assert row(r, "features.16.0").output == [960, 7, 7]     # lastconv 6 × 160
    assert row(r, "classifier.0").params == 960 * 1280 + 1280
    assert row(r, "classifier.1").type == "hardswish"
    assert row(r, "classifier.3").params == 1280 * 1000 + 1000



def test_batchnorm_eps_as_torchvision_sets_it():
    # mobilenetv3.py: norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01); efficientnet.py: b0 keeps
    # the default nn.BatchNorm2d (only b5-b7 pass eps=0.001); shufflenetv2.py: nn.BatchNorm2d
    for name, eps in (("mobilenet_v3_large", 1e-3), ("efficientnet_b0", 1e-5), ("shufflenet_v2_x1_0", 1e-5)):
        assert {n.layer.eps for n in cnncalc.load(name).nodes if n.layer.type == "batchnorm"} == {eps}, name


# -- EfficientNet-B0 --------------------------------------------------------------------------

# _efficientnet_conf("efficientnet_b0"): MBConvConfig(expand_ratio, kernel, stride, input, out, num_layers)
EFFNET_B0 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
             (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]


def effnet_blocks():
    for s, (t, k, stride, cin, cout, n) in enumerate(EFFNET_B0, start=1):
        for j in range(n):
            yield f"features.{s}.{j}", t, k, (stride if j == 0 else 1), (cin if j == 0 else cout), cout


@pytest.mark.parametrize("name,t,k,stride,cin,cout", list(effnet_blocks()), ids=[b[0] for b in effnet_blocks()])
def test_efficientnet_b0_mbconv(name, t, k, stride, cin, cout):
    r = report("efficientnet_b0")
    b = block(r, name)
    assert b.input[0] == cin and b.output[0] == cout and b.output[1] == b.input[1] // stride
    check_mbconv(r, name, cin, cout, k, t, stride)
    assert row(r, f"{name}.block.{1 if t == 1 else 2}.activation").type == "silu"


def test_efficientnet_b0_totals_by_part():
    r = report("efficientnet_b0")
    assert len([x for x in r.layers if x.type == "add"]) == sum(n - 1 for *_, n in EFFNET_B0) == 9
    assert row(r, "features.8.0").output == [1280, 7, 7]     # lastconv 4 × 320
    assert row(r, "classifier.1").params == 1280 * 1000 + 1000
    # the paper's Table 2 (Tan & Le 2019): EfficientNet-B0 5.3M params, 0.39B FLOPS (multiply-adds)
    assert round(r.totals.params / 1e6, 1) == 5.3
    assert round(r.totals.macs / 1e9, 2) == 0.39


# -- ShuffleNet V2 1.0× -----------------------------------------------------------------------

# shufflenet_v2_x1_0: stages_repeats [4, 8, 4], stages_out_channels [24, 116, 232, 464, 1024]
SHUFFLE_STAGES = [("stage2", 4, 24, 116, 28), ("stage3", 8, 116, 232, 14), ("stage4", 4, 232, 464, 7)]


@pytest.mark.parametrize("stage,repeats,cin,c,size", SHUFFLE_STAGES, ids=[s[0] for s in SHUFFLE_STAGES])
def test_shufflenet_v2_stage(stage, repeats, cin, c, size):
    r = report("shufflenet_v2_x1_0")
    h = c // 2                                               # branch_features = oup // 2
    down = block(r, f"{stage}.0")
    assert down.input[0] == cin and down.output == [c, size, size]
    # stride 2: branch1 = dw 3×3 (cin) + BN + 1×1 cin→h + BN; branch2 = 1×1 cin→h + BN + dw 3×3 + BN + 1×1 + BN
    assert down.params == (9 * cin + 2 * cin + cin * h + 2 * h) + (cin * h + 2 * h + 9 * h + 2 * h + h * h + 2 * h)
    for j in range(1, repeats):
        unit = block(r, f"{stage}.{j}")
        assert unit.input == unit.output == [c, size, size]
        # stride 1: x.chunk(2) → half passes through, branch2 (1×1 + BN, dw 3×3 + BN, 1×1 + BN) on the other
        assert row(r, f"{stage}.{j}.branch2.x2").output == [h, size, size]
        assert unit.params == 2 * (h * h + 2 * h) + 9 * h + 2 * h
        assert unit.macs == 2 * h * h * size * size + 9 * h * size * size
        assert row(r, f"{stage}.{j}.shuffle").type == "channel_shuffle"
    assert not [b for b in r.blocks if b.name == f"{stage}.{repeats}"]


def test_shufflenet_v2_stem_and_head():
    r = report("shufflenet_v2_x1_0")
    assert row(r, "maxpool").output == [24, 56, 56]
    assert row(r, "conv5.0").output == [1024, 7, 7] and row(r, "conv5.0").params == 464 * 1024
    assert row(r, "fc").params == 1024 * 1000 + 1000
    assert not [x for x in r.layers if x.type == "add"]     # no residual adds: concat + shuffle only
    assert len([x for x in r.layers if x.type == "channel_shuffle"]) == 4 + 8 + 4

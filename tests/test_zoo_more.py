"""More torchvision built-ins: MobileNetV3-Small, MNASNet 1.0, DenseNet-169/201, RegNetX-400MF,
ResNeXt-101 32×8d, EfficientNet-B1.

Published figures are each weights enum's IMAGENET1K_V1 meta in torchvision/models/<file>.py:
``num_params`` (exact) and ``_ops`` (GMACs of one eval forward at the weights' crop size, compared at the
digits published). Each network is also counted here from its torchvision config table alone — a few lines of
plain arithmetic per architecture (``Tally``), independent of the YAML — and the report must equal that count
exactly. Structure checks restate the rules in torchvision's source (squeeze widths, where a shortcut is added,
group widths, depth scaling). Static analysis only: torch is never imported here (test_verify proves every
built-in against a real forward pass).
"""
from __future__ import annotations

import math

import pytest

import cnncalc
from util import block, check_mbconv, report, row


def make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision.models._utils._make_divisible (min_value = divisor)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class Tally:
    """Params and MACs summed layer by layer from a config table (square maps, `hw` = output side)."""

    def __init__(self):
        self.params = self.macs = 0

    def conv(self, cin, cout, k, hw, groups=1, bias=False):
        w = k * k * (cin // groups) * cout
        self.params += w + (cout if bias else 0)
        self.macs += w * hw * hw

    def bn(self, c):
        self.params += 2 * c                           # γ and β

    def linear(self, nin, nout):
        self.params += nin * nout + nout
        self.macs += nin * nout


def strided(hw: int, s: int) -> int:
    """Output side of an odd k×k conv with padding (k-1)/2 and stride s."""
    return (hw - 1) // s + 1


# -- torchvision: num_params exact, _ops at the digits it publishes ---------------------------

MORE = [
    # built-in              num_params    _ops      input          torchvision model (file), IMAGENET1K_V1 meta
    ("mobilenet_v3_small",  2_542_856,    "0.057",  [3, 224, 224]),  # mobilenet_v3_small (mobilenetv3.py)
    ("mnasnet1_0",          4_383_312,    "0.314",  [3, 224, 224]),  # mnasnet1_0 (mnasnet.py)
    ("densenet169",         14_149_480,   "3.36",   [3, 224, 224]),  # densenet169 (densenet.py)
    ("densenet201",         20_013_928,   "4.291",  [3, 224, 224]),  # densenet201 (densenet.py)
    ("regnet_x_400mf",      5_495_976,    "0.414",  [3, 224, 224]),  # regnet_x_400mf (regnet.py)
    ("resnext101_32x8d",    88_791_336,   "16.414", [3, 224, 224]),  # resnext101_32x8d (resnet.py)
    ("efficientnet_b1",     7_794_184,    "0.687",  [3, 240, 240]),  # efficientnet_b1 (efficientnet.py), crop_size 240
]


@pytest.mark.parametrize("name,params,ops,shape", MORE, ids=[t[0] for t in MORE])
def test_torchvision_published_figures(name, params, ops, shape):
    r = report(name)
    assert r.totals.params == params
    digits = len(ops.split(".")[1])
    assert f"{r.totals.macs / 1e9:.{digits}f}" == ops
    assert r.input == shape and r.output == [1000]


# -- MobileNetV3-Small ------------------------------------------------------------------------

# _mobilenet_v3_conf("mobilenet_v3_small"): (input, kernel, expanded, out, use_se, activation, stride)
MBV3_SMALL = [
    (16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2), (24, 3, 88, 24, False, "RE", 1),
    (24, 5, 96, 40, True, "HS", 2), (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1), (48, 5, 288, 96, True, "HS", 2),
    (96, 5, 576, 96, True, "HS", 1), (96, 5, 576, 96, True, "HS", 1),
]


def mobilenet_v3_small_tally() -> Tally:
    t, hw = Tally(), 112
    t.conv(3, 16, 3, hw); t.bn(16)                                       # features.0, stride 2
    for cin, k, exp, out, se, _, s in MBV3_SMALL:
        if exp != cin:
            t.conv(cin, exp, 1, hw); t.bn(exp)
        hw = strided(hw, s)
        t.conv(exp, exp, k, hw, groups=exp); t.bn(exp)
        if se:
            sq = make_divisible(exp // 4, 8)
            t.conv(exp, sq, 1, 1, bias=True); t.conv(sq, exp, 1, 1, bias=True)
        t.conv(exp, out, 1, hw); t.bn(out)
    t.conv(96, 6 * 96, 1, hw); t.bn(6 * 96)                              # lastconv 6 × 96
    t.linear(576, 1024); t.linear(1024, 1000)                            # last_channel 1024
    return t


@pytest.mark.parametrize("k", range(1, 12))
def test_mobilenet_v3_small_bneck_matches_the_config_table(k):
    r = report("mobilenet_v3_small")
    cin, kernel, exp, out, se, act, stride = MBV3_SMALL[k - 1]
    b = block(r, f"features.{k}")
    assert b.input[0] == cin and b.output[0] == out
    assert b.output[1] == strided(b.input[1], stride)
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
        sq = make_divisible(exp // 4, 8)
        se_name = f"features.{k}.block.{2 if has_expand else 1}"
        fc1, fc2 = row(r, f"{se_name}.fc1"), row(r, f"{se_name}.fc2")
        assert (fc1.output, fc2.output) == ([sq, 1, 1], [exp, 1, 1])
        assert fc1.params == exp * sq + sq and fc2.params == sq * exp + exp
        assert row(r, f"{se_name}.scale_activation").type == "hardsigmoid"
        assert muls[0].output == dw.output


def test_mobilenet_v3_small_counts_and_head():
    r = report("mobilenet_v3_small")
    # _make_divisible(e // 4, 8): 16 // 4 = 4 goes up to the minimum 8; 144 // 4 = 36 rounds to 40
    assert [make_divisible(e // 4, 8) for e in (16, 96, 240, 120, 144, 288, 576)] == [8, 24, 64, 32, 40, 72, 144]
    t = mobilenet_v3_small_tally()
    assert (r.totals.params, r.totals.macs) == (t.params, t.macs)
    assert row(r, "features.12.0").output == [576, 7, 7]
    assert row(r, "classifier.0").params == 576 * 1024 + 1024
    assert row(r, "classifier.1").type == "hardswish"
    assert row(r, "classifier.3").params == 1024 * 1000 + 1000


def test_batchnorm_eps_as_torchvision_sets_it():
    # mobilenetv3.py: partial(nn.BatchNorm2d, eps=0.001, momentum=0.01); mnasnet.py: nn.BatchNorm2d(…, momentum=
    # 1 - 0.9997); regnet.py: partial(nn.BatchNorm2d, eps=1e-05, momentum=0.1); efficientnet.py: b1 keeps the
    # default (only b5-b7 pass eps=0.001); densenet.py, resnet.py: nn.BatchNorm2d
    for name, eps in (("mobilenet_v3_small", 1e-3), ("mnasnet1_0", 1e-5), ("densenet169", 1e-5),
                      ("regnet_x_400mf", 1e-5), ("resnext101_32x8d", 1e-5), ("efficientnet_b1", 1e-5)):
        assert {n.layer.eps for n in cnncalc.load(name).nodes if n.layer.type == "batchnorm"} == {eps}, name


# -- MNASNet 1.0 ------------------------------------------------------------------------------

# MNASNet(alpha=1.0): _get_depths(1.0) = [32, 16, 24, 40, 80, 96, 192, 320]; the six _stack calls
# (in, out, kernel, stride, exp_factor, repeats)
MNAS_STACKS = [(16, 24, 3, 2, 3, 3), (24, 40, 5, 2, 3, 3), (40, 80, 5, 2, 6, 3),
               (80, 96, 3, 1, 6, 2), (96, 192, 5, 2, 6, 4), (192, 320, 3, 1, 6, 1)]


def mnasnet_tally() -> Tally:
    t, hw = Tally(), 112
    t.conv(3, 32, 3, hw); t.bn(32)                                       # layers.0-2
    t.conv(32, 32, 3, hw, groups=32); t.bn(32)                           # layers.3-5, depthwise
    t.conv(32, 16, 1, hw); t.bn(16)                                      # layers.6-7
    for cin, cout, k, s, e, n in MNAS_STACKS:
        for j in range(n):
            ci = cin if j == 0 else cout
            mid = ci * e
            t.conv(ci, mid, 1, hw); t.bn(mid)
            hw = strided(hw, s if j == 0 else 1)
            t.conv(mid, mid, k, hw, groups=mid); t.bn(mid)
            t.conv(mid, cout, 1, hw); t.bn(cout)
    t.conv(320, 1280, 1, hw); t.bn(1280)
    t.linear(1280, 1000)
    return t


@pytest.mark.parametrize("s", range(6))
def test_mnasnet_stacks(s):
    r = report("mnasnet1_0")
    cin, cout, k, stride, e, n = MNAS_STACKS[s]
    for j in range(n):
        name = f"layers.{8 + s}.{j}"
        b = block(r, name)
        ci = cin if j == 0 else cout
        assert b.input[0] == ci and b.output[0] == cout
        assert b.output[1] == strided(b.input[1], stride if j == 0 else 1)
        dw = row(r, f"{name}.layers.3")
        assert dw.params == k * k * ci * e and dw.output[0] == ci * e
        adds = [x for x in r.layers if x.type == "add" and x.name.startswith(name + ".")]
        assert len(adds) == (j > 0)                                      # "First one has no skip"
    assert not [b for b in r.blocks if b.name == f"layers.{8 + s}.{n}"]


def test_mnasnet_counts():
    r = report("mnasnet1_0")
    t = mnasnet_tally()
    assert (r.totals.params, r.totals.macs) == (t.params, t.macs)
    assert row(r, "layers.14").output == [1280, 7, 7]
    assert row(r, "classifier.1").params == 1280 * 1000 + 1000
    assert len([x for x in r.layers if x.type == "add"]) == sum(n - 1 for *_, n in MNAS_STACKS) == 10


# -- DenseNet-169 and DenseNet-201 ------------------------------------------------------------

# densenet.py: _densenet(growth_rate 32, block_config, num_init_features 64), bn_size 4
DENSENETS = [("densenet169", (6, 12, 32, 32)), ("densenet201", (6, 12, 48, 32))]


def densenet_tally(block_config) -> Tally:
    t, hw, c = Tally(), 56, 64
    t.conv(3, 64, 7, 112); t.bn(64)                                      # conv0 7×7/2, then pool0 to 56
    for b, n in enumerate(block_config):
        for _ in range(n):                                               # norm1 - conv1 1×1 128 - norm2 - conv2 3×3 32
            t.bn(c); t.conv(c, 4 * 32, 1, hw); t.bn(4 * 32); t.conv(4 * 32, 32, 3, hw)
            c += 32
        if b != len(block_config) - 1:                                   # transition: BN, 1×1 to c // 2, avg pool 2
            t.bn(c); t.conv(c, c // 2, 1, hw)
            c, hw = c // 2, hw // 2
    t.bn(c); t.linear(c, 1000)                                           # norm5, classifier
    return t


@pytest.mark.parametrize("name,config", DENSENETS, ids=[d[0] for d in DENSENETS])
def test_densenet_blocks_and_counts(name, config):
    r = report(name)
    c, hw = 64, 56
    for b, n in enumerate(config, start=1):
        blk = block(r, f"denseblock{b}")
        assert blk.input == [c, hw, hw] and blk.output == [c + 32 * n, hw, hw]
        assert len([x for x in r.layers if x.name.startswith(f"denseblock{b}.") and x.type == "concat"]) == n
        c += 32 * n
        if b < len(config):
            assert row(r, f"transition{b}.pool").output == [c // 2, hw // 2, hw // 2]
            c, hw = c // 2, hw // 2
    assert row(r, "classifier").params == c * 1000 + 1000
    t = densenet_tally(config)
    assert (r.totals.params, r.totals.macs) == (t.params, t.macs)
    # the paper's depth: 2 convs per dense layer, 1 per transition, the stem conv and the classifier
    assert 2 * sum(config) + 3 + 2 == int(name.removeprefix("densenet"))


# -- RegNetX-400MF ----------------------------------------------------------------------------

def regnet_stages(depth, w_0, w_a, w_m, group_width, quant=8):
    """BlockParams.from_init_params + _adjust_widths_groups_compatibilty (bottleneck multiplier 1), in floats."""
    widths = [w_0 * w_m ** round(math.log((i * w_a + w_0) / w_0) / math.log(w_m)) for i in range(depth)]
    widths = [round(w / quant) * quant for w in widths]
    stages = []                                          # consecutive runs of one width: (width, depth)
    for w in widths:
        if stages and stages[-1][0] == w:
            stages[-1][1] += 1
        else:
            stages.append([w, 1])
    # each stage width rounded to a multiple of its group width min(group_width, width)
    return [(make_divisible(w, min(group_width, w)), d) for w, d in stages]


# regnet_x_400mf: BlockParams.from_init_params(depth=22, w_0=24, w_a=24.48, w_m=2.54, group_width=16)
REGNET_X_400MF = [(32, 1), (64, 2), (160, 7), (400, 12)]                 # (stage width, depth); 24 → 32


def regnet_tally() -> Tally:
    t, hw, w_in = Tally(), 112, 32
    t.conv(3, 32, 3, hw); t.bn(32)                                       # SimpleStemIN 3×3/2
    for w, d in REGNET_X_400MF:
        for j in range(d):
            out = strided(hw, 2 if j == 0 else 1)
            if j == 0:                                                   # proj: 1×1/2 + BN
                t.conv(w_in, w, 1, out); t.bn(w)
            t.conv(w_in, w, 1, hw); t.bn(w)                              # f.a
            t.conv(w, w, 3, out, groups=w // 16); t.bn(w)                # f.b, group width 16
            t.conv(w, w, 1, out); t.bn(w)                                # f.c
            w_in, hw = w, out
    t.linear(400, 1000)
    return t


def test_regnet_x_400mf_widths_from_the_design_space():
    # quantized block widths 24, 64 ×2, 152 ×7, 392 ×12; _make_divisible(·, 16): 24 → 32, 152 → 160, 392 → 400
    assert regnet_stages(22, 24, 24.48, 2.54, 16) == REGNET_X_400MF
    assert sum(d for _, d in REGNET_X_400MF) == 22


@pytest.mark.parametrize("s", range(1, 5))
def test_regnet_x_400mf_stage(s):
    r = report("regnet_x_400mf")
    w, d = REGNET_X_400MF[s - 1]
    side = 224 // 2 ** (s + 1)
    for j in range(d):
        name = f"trunk_output.block{s}.block{s}-{j}"
        b = block(r, name)
        assert b.output == [w, side, side]
        fb = row(r, f"{name}.f.b.0")
        assert fb.params == 3 * 3 * 16 * w                               # w // 16 groups of 16 channels
        projs = [x for x in r.layers if x.name.startswith(f"{name}.proj.")]
        assert len(projs) == (2 if j == 0 else 0)                        # proj where width or stride changes
        assert row(r, f"{name}.add").type == "add" and row(r, f"{name}.activation").type == "relu"
    assert not [b for b in r.blocks if b.name == f"trunk_output.block{s}.block{s}-{d}"]


def test_regnet_x_400mf_counts():
    r = report("regnet_x_400mf")
    t = regnet_tally()
    assert (r.totals.params, r.totals.macs) == (t.params, t.macs)
    assert not [x for x in r.layers if x.type in ("mul", "sigmoid")]     # RegNetX: no squeeze-and-excitation


# -- ResNeXt-101 32×8d ------------------------------------------------------------------------

# resnet.py: ResNet(Bottleneck, [3, 4, 23, 3], groups=32, width_per_group=8)
RESNEXT101 = [("layer1", 64, 3, 1), ("layer2", 128, 4, 2), ("layer3", 256, 23, 2), ("layer4", 512, 3, 2)]


def resnext101_tally() -> Tally:
    t, hw, cin = Tally(), 56, 64
    t.conv(3, 64, 7, 112); t.bn(64)                                      # conv1 7×7/2, then maxpool to 56
    for _, planes, n, stride in RESNEXT101:
        width = int(planes * (8 / 64.0)) * 32                            # Bottleneck: 4 · planes
        for j in range(n):
            s = stride if j == 0 else 1
            out = hw // s
            t.conv(cin, width, 1, hw); t.bn(width)
            t.conv(width, width, 3, out, groups=32); t.bn(width)
            t.conv(width, 4 * planes, 1, out); t.bn(4 * planes)
            if j == 0:                                                   # downsample (layer1: 64 → 256 channels)
                t.conv(cin, 4 * planes, 1, out); t.bn(4 * planes)
            cin, hw = 4 * planes, out
    t.linear(2048, 1000)
    return t


@pytest.mark.parametrize("layer,planes,n,stride", RESNEXT101, ids=[x[0] for x in RESNEXT101])
def test_resnext101_stage(layer, planes, n, stride):
    r = report("resnext101_32x8d")
    width = planes * 4
    for j in range(n):
        conv2 = row(r, f"{layer}.{j}.conv2")
        assert conv2.output[0] == width and conv2.params == 3 * 3 * (width // 32) * width   # 32 groups of 8d
        assert row(r, f"{layer}.{j}.conv3").output[0] == 4 * planes
        assert bool([x for x in r.layers if x.name.startswith(f"{layer}.{j}.downsample.")]) == (j == 0)
    assert not [b for b in r.blocks if b.name == f"{layer}.{n}"]


def test_resnext101_counts():
    r = report("resnext101_32x8d")
    t = resnext101_tally()
    assert (r.totals.params, r.totals.macs) == (t.params, t.macs)
    # 101 = 3 · (3 + 4 + 23 + 3) bottleneck convs + conv1 + fc
    assert len([x for x in r.layers if x.type in ("conv", "linear") and ".downsample." not in x.name]) == 101


# -- EfficientNet-B1 --------------------------------------------------------------------------

# _efficientnet_conf("efficientnet_b1", width_mult=1.0, depth_mult=1.1): B0's MBConvConfig table
# (expand_ratio, kernel, stride, input, out, num_layers), num_layers scaled by adjust_depth = ceil(n · 1.1)
EFFNET_B0 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
             (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
EFFNET_B1 = [(t, k, s, cin, cout, int(math.ceil(n * 1.1))) for t, k, s, cin, cout, n in EFFNET_B0]


def effnet_b1_blocks():
    for s, (t, k, stride, cin, cout, n) in enumerate(EFFNET_B1, start=1):
        for j in range(n):
            yield f"features.{s}.{j}", t, k, (stride if j == 0 else 1), (cin if j == 0 else cout), cout


def effnet_b1_tally() -> Tally:
    t, hw = Tally(), 120
    t.conv(3, 32, 3, hw); t.bn(32)                                       # 240 → 120
    for _, e, k, s, cin, cout in effnet_b1_blocks():
        exp = cin * e
        if e != 1:
            t.conv(cin, exp, 1, hw); t.bn(exp)
        hw = strided(hw, s)
        t.conv(exp, exp, k, hw, groups=exp); t.bn(exp)
        sq = max(1, cin // 4)
        t.conv(exp, sq, 1, 1, bias=True); t.conv(sq, exp, 1, 1, bias=True)
        t.conv(exp, cout, 1, hw); t.bn(cout)
    t.conv(320, 1280, 1, hw); t.bn(1280)
    t.linear(1280, 1000)
    return t


def test_efficientnet_b1_depth_scaling():
    assert [n for *_, n in EFFNET_B1] == [2, 3, 3, 4, 4, 5, 2]
    r = report("efficientnet_b1")
    for s, (*_, n) in enumerate(EFFNET_B1, start=1):
        assert [b.name for b in r.blocks if b.name.count(".") == 2 and b.name.startswith(f"features.{s}.")] == \
            [f"features.{s}.{j}" for j in range(n)]


@pytest.mark.parametrize("name,t,k,stride,cin,cout", list(effnet_b1_blocks()), ids=[b[0] for b in effnet_b1_blocks()])
def test_efficientnet_b1_mbconv(name, t, k, stride, cin, cout):
    r = report("efficientnet_b1")
    b = block(r, name)
    assert b.input[0] == cin and b.output[0] == cout and b.output[1] == strided(b.input[1], stride)
    check_mbconv(r, name, cin, cout, k, t, stride)


def test_efficientnet_b1_counts():
    r = report("efficientnet_b1")
    t = effnet_b1_tally()
    assert (r.totals.params, r.totals.macs) == (t.params, t.macs)
    assert row(r, "features.8.0").output == [1280, 8, 8]     # 240 / 32 = 7.5: the k5/s2 stage gives ⌈15/2⌉ = 8
    assert len([x for x in r.layers if x.type == "add"]) == sum(n - 1 for *_, n in EFFNET_B1) == 16
    # the paper's Table 2 (Tan & Le 2019): EfficientNet-B1 7.8M params, 0.70B FLOPS (multiply-adds)
    assert round(r.totals.params / 1e6, 1) == 7.8
    assert round(r.totals.macs / 1e9, 1) == 0.7

"""SSD300, RetinaNet, EfficientNetV2-S, R(2+1)D-18 and ESPCN against torch modules written here after
torchvision's source (detection/ssd.py, detection/retinanet.py + ops/feature_pyramid_network.py,
efficientnet.py, video/resnet.py; torchvision itself is not importable here) and against the figures
torchvision publishes (its weights enums' num_params and _ops). The references run on the meta device:
params = numel of the unique parameters, MACs = FlopCounterMode / 2 over the whole forward, every output's
shape, without allocating or computing anything.
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402
from test_last_kinds import espcn_torch  # noqa: E402
from util import report, row  # noqa: E402

PUBLISHED = [
    # built-in                 num_params   _ops      torchvision weights meta
    ("ssd300_vgg16",           35_641_826, "34.858"),  # SSD300_VGG16_Weights.COCO_V1
    ("retinanet_resnet50_fpn", 34_014_999, None),      # RetinaNet_ResNet50_FPN_Weights.COCO_V1
    ("efficientnet_v2_s",      21_458_488, "8.366"),   # EfficientNet_V2_S_Weights.IMAGENET1K_V1 (at 384)
    ("r2plus1d_18",            31_505_325, None),      # R2Plus1D_18_Weights.KINETICS400_V1
]


@pytest.mark.parametrize("name,params,ops", PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_torchvision_published_figures(name, params, ops):
    r = report(name)
    assert r.totals.params == params
    if ops is not None:
        assert f"{r.totals.macs / 1e9:.3f}" == ops


def on_meta(module: nn.Module, in_shape) -> tuple[list, int, int, int]:
    """(output shapes, params, buffers, MACs) of a torch module on a 1×in_shape input, on the meta device."""
    module = module.to("meta").eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = module(torch.empty(1, *in_shape, device="meta"))
    ys = y if isinstance(y, (tuple, list)) else (y,)
    return ([list(t.shape[1:]) for t in ys], sum(p.numel() for p in module.parameters()),
            sum(b.numel() for b in module.buffers()), counter.get_total_flops() // 2)


def ours(name: str, input=None) -> tuple[list, int, int, int]:
    r = cnncalc.analyze(name, input=input)
    outs = [o.output for o in r.outputs] or [r.output]
    return outs, r.totals.params, r.totals.buffers, r.totals.macs


# -- SSD300 (detection/ssd.py: SSDFeatureExtractorVGG, SSDHead) ---------------------------------------

def vgg16_features() -> list[nn.Module]:
    layers, c = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
            c = v
    return layers


def conv_relu(cin, cout, k, **kw) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, **kw), nn.ReLU()]


class SSD300(nn.Module):
    def __init__(self, classes: int = 91):
        super().__init__()
        vgg = vgg16_features()
        vgg[16].ceil_mode = True                                   # maxpool3
        self.features = nn.Sequential(*vgg[:23])                   # to conv4_3's ReLU
        self.scale_weight = nn.Parameter(torch.full((512,), 20.0))
        fc = [nn.MaxPool2d(3, 1, 1), *conv_relu(512, 1024, 3, padding=6, dilation=6), *conv_relu(1024, 1024, 1)]
        self.extra = nn.ModuleList([
            nn.Sequential(*vgg[23:], *fc),                         # maxpool4, conv5_x (VGG's maxpool5 dropped)
            nn.Sequential(*conv_relu(1024, 256, 1), *conv_relu(256, 512, 3, padding=1, stride=2)),
            nn.Sequential(*conv_relu(512, 128, 1), *conv_relu(128, 256, 3, padding=1, stride=2)),
            nn.Sequential(*conv_relu(256, 128, 1), *conv_relu(128, 256, 3)),
            nn.Sequential(*conv_relu(256, 128, 1), *conv_relu(128, 256, 3))])
        channels, boxes = [512, 1024, 512, 256, 256, 256], [4, 6, 6, 6, 4, 4]
        self.cls = nn.ModuleList(nn.Conv2d(c, a * classes, 3, padding=1) for c, a in zip(channels, boxes))
        self.reg = nn.ModuleList(nn.Conv2d(c, a * 4, 3, padding=1) for c, a in zip(channels, boxes))

    def forward(self, x):
        x = self.features(x)
        maps = [self.scale_weight.view(1, -1, 1, 1) * F.normalize(x)]
        for block in self.extra:
            x = block(x)
            maps.append(x)
        return tuple(h(m) for h, m in zip(self.cls, maps)) + tuple(h(m) for h, m in zip(self.reg, maps))


def test_ssd300_against_torch():
    assert ours("ssd300_vgg16") == on_meta(SSD300(), (3, 300, 300))
    r = report("ssd300_vgg16")
    assert [o.output[1] for o in r.outputs] == [38, 19, 10, 5, 3, 1] * 2       # six maps, class then box heads
    assert [o.output[0] for o in r.outputs] == [4 * 91, 6 * 91, 6 * 91, 6 * 91, 4 * 91, 4 * 91,
                                                4 * 4, 6 * 4, 6 * 4, 6 * 4, 4 * 4, 4 * 4]
    assert row(r, "backbone.scale_weight").params == 512


# -- RetinaNet (detection/retinanet.py, FrozenBatchNorm2d backbone, FPN + LastLevelP6P7) ----------------

class FrozenBN(nn.Module):
    """torchvision.ops.FrozenBatchNorm2d: weight, bias, running_mean, running_var as buffers."""

    def __init__(self, c):
        super().__init__()
        for name in ("weight", "bias", "running_mean", "running_var"):
            self.register_buffer(name, torch.ones(c))

    def forward(self, x):
        scale = self.weight * (self.running_var + 1e-5).rsqrt()
        return x * scale.view(1, -1, 1, 1) + (self.bias - self.running_mean * scale).view(1, -1, 1, 1)


class Bottleneck(nn.Module):
    def __init__(self, cin, c, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, c, 1, bias=False), FrozenBN(c), nn.ReLU(),
                                  nn.Conv2d(c, c, 3, stride, 1, bias=False), FrozenBN(c), nn.ReLU(),
                                  nn.Conv2d(c, 4 * c, 1, bias=False), FrozenBN(4 * c))
        self.down = (nn.Sequential(nn.Conv2d(cin, 4 * c, 1, stride, bias=False), FrozenBN(4 * c))
                     if stride != 1 or cin != 4 * c else nn.Identity())

    def forward(self, x):
        return F.relu(self.body(x) + self.down(x))


def head(out: int) -> nn.Sequential:
    return nn.Sequential(*[m for _ in range(4) for m in conv_relu(256, 256, 3, padding=1)],
                         nn.Conv2d(256, out, 3, padding=1))


class RetinaNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), FrozenBN(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        stages, cin = [], 64
        for c, n, s in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            stages.append(nn.Sequential(*[Bottleneck(cin if j == 0 else 4 * c, c, s if j == 0 else 1)
                                          for j in range(n)]))
            cin = 4 * c
        self.stages = nn.ModuleList(stages)
        self.inner = nn.ModuleList(nn.Conv2d(c, 256, 1) for c in (512, 1024, 2048))
        self.layer = nn.ModuleList(nn.Conv2d(256, 256, 3, padding=1) for _ in range(3))
        self.p6, self.p7 = nn.Conv2d(256, 256, 3, 2, 1), nn.Conv2d(256, 256, 3, 2, 1)
        self.cls, self.reg = head(9 * 91), head(9 * 4)   # ONE module each, applied to every level

    def forward(self, x):
        x, feats = self.stem(x), []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        last = self.inner[2](feats[3])
        levels = [self.layer[2](last)]
        for i in (1, 0):
            lateral = self.inner[i](feats[i + 1])
            last = lateral + F.interpolate(last, size=lateral.shape[-2:], mode="nearest")
            levels.insert(0, self.layer[i](last))
        p6 = self.p6(levels[-1])
        levels += [p6, self.p7(F.relu(p6))]
        return tuple(self.cls(p) for p in levels) + tuple(self.reg(p) for p in levels)


def test_retinanet_against_torch_with_shared_heads():
    outs, params, buffers, macs = on_meta(RetinaNet(), (3, 640, 640))
    assert ours("retinanet_resnet50_fpn") == (outs, params, buffers, macs)
    assert [o[1] for o in outs] == [80, 40, 20, 10, 5] * 2 and len(outs) == 10
    r = report("retinanet_resnet50_fpn")
    cls_head = 4 * (3 * 3 * 256 * 256 + 256) + 3 * 3 * 256 * 819 + 819
    assert sum(b.params for b in r.blocks if b.name == "head.classification_head.p3") == cls_head
    assert all(b.params == 0 for b in r.blocks if b.name.startswith("head.") and not b.name.endswith("p3"))
    # the head's work counts at all five levels: 80² + 40² + 20² + 10² + 5² positions
    logits = [x for x in r.layers if x.name.startswith("head.classification_head.") and x.name.endswith("logits")]
    assert sum(x.macs for x in logits) == 3 * 3 * 256 * 819 * (80 ** 2 + 40 ** 2 + 20 ** 2 + 10 ** 2 + 5 ** 2)
    # FrozenBatchNorm2d: γ/β are buffers; as trainable BN they would add 2 per channel
    bn_channels = sum(x.output[0] for x in r.layers if x.type == "batchnorm")
    assert r.totals.buffers == 4 * bn_channels and 2 * bn_channels == 53_120


# -- EfficientNetV2-S (efficientnet.py: FusedMBConv, MBConv, eps 1e-3) --------------------------------

def cbn(cin, cout, k=1, s=1, g=1, act=True) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, (k - 1) // 2, groups=g, bias=False),
                         nn.BatchNorm2d(cout, eps=1e-3), *([nn.SiLU()] if act else []))


class SE(nn.Module):
    def __init__(self, c, sq):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, sq, 1), nn.Conv2d(sq, c, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.fc2(F.silu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))


class Block(nn.Module):
    def __init__(self, fused, t, cin, cout, s):
        super().__init__()
        e = t * cin
        if fused:
            layers = [cbn(cin, e, 3, s), cbn(e, cout, act=False)] if t != 1 else [cbn(cin, cout, 3, s)]
        else:
            layers = [cbn(cin, e), cbn(e, e, 3, s, g=e), SE(e, max(1, cin // 4)), cbn(e, cout, act=False)]
        self.block = nn.Sequential(*layers)
        self.res = s == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.res else self.block(x)


def efficientnet_v2_s() -> nn.Sequential:
    layers, setting = [cbn(3, 24, 3, 2)], [(True, 1, 3, 1, 24, 24, 2), (True, 4, 3, 2, 24, 48, 4),
                                           (True, 4, 3, 2, 48, 64, 4), (False, 4, 3, 2, 64, 128, 6),
                                           (False, 6, 3, 1, 128, 160, 9), (False, 6, 3, 2, 160, 256, 15)]
    for fused, t, _k, s, cin, cout, n in setting:
        layers += [Block(fused, t, cin if j == 0 else cout, cout, s if j == 0 else 1) for j in range(n)]
    return nn.Sequential(*layers, cbn(256, 1280), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                         nn.Linear(1280, 1000))


def test_efficientnet_v2_s_against_torch():
    assert ours("efficientnet_v2_s") == on_meta(efficientnet_v2_s(), (3, 384, 384))


# -- R(2+1)D-18 (video/resnet.py: R2Plus1dStem, BasicBlock with Conv2Plus1D) ----------------------------

def conv2plus1d(cin, cout, mid, s=1) -> list[nn.Module]:
    return [nn.Conv3d(cin, mid, (1, 3, 3), (1, s, s), (0, 1, 1), bias=False), nn.BatchNorm3d(mid), nn.ReLU(),
            nn.Conv3d(mid, cout, (3, 1, 1), (s, 1, 1), (1, 0, 0), bias=False)]


class Basic(nn.Module):
    def __init__(self, cin, c, s):
        super().__init__()
        mid = (cin * c * 3 * 3 * 3) // (cin * 3 * 3 + 3 * c)      # torchvision's midplanes
        self.body = nn.Sequential(*conv2plus1d(cin, c, mid, s), nn.BatchNorm3d(c), nn.ReLU(),
                                  *conv2plus1d(c, c, mid), nn.BatchNorm3d(c))
        self.down = (nn.Sequential(nn.Conv3d(cin, c, 1, s, bias=False), nn.BatchNorm3d(c))
                     if s != 1 or cin != c else nn.Identity())

    def forward(self, x):
        return F.relu(self.body(x) + self.down(x))


def r2plus1d_18() -> nn.Sequential:
    stem = [nn.Conv3d(3, 45, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False), nn.BatchNorm3d(45), nn.ReLU(),
            nn.Conv3d(45, 64, (3, 1, 1), 1, (1, 0, 0), bias=False), nn.BatchNorm3d(64), nn.ReLU()]
    blocks, cin = [], 64
    for c, s in ((64, 1), (128, 2), (256, 2), (512, 2)):
        blocks += [Basic(cin, c, s), Basic(c, c, 1)]
        cin = c
    return nn.Sequential(*stem, *blocks, nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(512, 400))


@pytest.mark.parametrize("clip", [(3, 16, 112, 112), (3, 8, 48, 64)])
def test_r2plus1d_18_against_torch(clip):
    assert ours("r2plus1d_18", input=list(clip)) == on_meta(r2plus1d_18(), clip)


def test_r2plus1d_18_midplanes_keep_a_3x3x3_convs_params():
    r = report("r2plus1d_18")
    for name, cin, c in (("layer1.0", 64, 64), ("layer2.0", 64, 128), ("layer2.1", 128, 128),
                         ("layer3.0", 128, 256), ("layer4.1", 512, 512)):
        mid = (cin * c * 27) // (cin * 9 + 3 * c)
        assert row(r, f"{name}.conv1.0.0").output[0] == mid
        assert row(r, f"{name}.conv1.0.0").params + row(r, f"{name}.conv1.0.3").params <= 27 * cin * c


# -- ESPCN (Shi et al. 2016, ×3) -------------------------------------------------------------------------

def test_espcn_against_torch_and_the_paper():
    assert ours("espcn") == on_meta(espcn_torch(), (1, 360, 640))
    r = report("espcn")
    assert r.output == [1, 3 * 360, 3 * 640]
    assert r.totals.params == (5 * 5 * 1 * 64 + 64) + (3 * 3 * 64 * 32 + 32) + (3 * 3 * 32 * 9 + 9)

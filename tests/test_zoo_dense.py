"""Dense-prediction, generative, video, audio and detection built-ins (issue 11), each against a reference.

Each network is written here a second time, directly in torch and without cnncalc, from its source:
torchvision's convnext.py and segmentation/{fcn,deeplabv3,_utils}.py with resnet.py, the U-Net paper, the
PyTorch DCGAN example, the C3D and M5 papers, darknet's yolov3-tiny.cfg. The report must equal that module's
parameter count (Σ numel), buffers, MACs (FlopCounterMode / 2, counted on the meta device: no compute) and every
output shape. The torchvision networks must also equal the published ``num_params`` exactly and ``_ops`` at the
digits published (each weights enum's meta).
"""
from __future__ import annotations

import re

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from cnncalc.spec.builtins import builtin_path  # noqa: E402
from util import report, row  # noqa: E402


# -- the references -------------------------------------------------------------------------

def dcgan_generator():
    """pytorch/examples dcgan/main.py Generator: nz 100, ngf 64, nc 3."""
    nz, ngf, nc = 100, 64, 3
    layers = [nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True)]
    for a, b in ((8, 4), (4, 2), (2, 1)):
        layers += [nn.ConvTranspose2d(ngf * a, ngf * b, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * b), nn.ReLU(True)]
    return nn.Sequential(*layers, nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())


class UNet(nn.Module):
    """Ronneberger et al. 2015: `pad` 0 is the paper's (valid convs, copy and crop), 1 the padded variant."""

    def __init__(self, cin=1, classes=2, pad=0):
        super().__init__()
        widths = [64, 128, 256, 512, 1024]

        def double(a, b):
            return nn.Sequential(nn.Conv2d(a, b, 3, padding=pad), nn.ReLU(), nn.Conv2d(b, b, 3, padding=pad), nn.ReLU())

        self.down = nn.ModuleList(double(a, b) for a, b in zip([cin] + widths[:-1], widths))
        self.up = nn.ModuleList(nn.ConvTranspose2d(2 * w, w, 2, stride=2) for w in reversed(widths[:-1]))
        self.dec = nn.ModuleList(double(2 * w, w) for w in reversed(widths[:-1]))
        self.out = nn.Conv2d(64, classes, 1)

    def forward(self, x):
        skips = []
        for i, d in enumerate(self.down):
            x = d(x)
            if i < 4:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = up(x)
            o = (skip.shape[-1] - x.shape[-1]) // 2                 # copy and crop (centre)
            x = dec(torch.cat([skip[..., o:o + x.shape[-2], o:o + x.shape[-1]], x], 1))
        return self.out(x)


class C3D(nn.Module):
    """Tran et al. 2015, Fig. 3: eight 3×3×3 convs, pool1 1×2×2, pool5 padded (0, 1, 1), fc6/fc7 4096, 487."""

    def __init__(self):
        super().__init__()
        chans = [3, 64, 128, 256, 256, 512, 512, 512, 512]
        self.convs = nn.ModuleList(nn.Conv3d(a, b, 3, padding=1) for a, b in zip(chans, chans[1:]))
        self.pools = {0: nn.MaxPool3d((1, 2, 2), (1, 2, 2)), 1: nn.MaxPool3d(2, 2), 3: nn.MaxPool3d(2, 2),
                      5: nn.MaxPool3d(2, 2), 7: nn.MaxPool3d(2, 2, padding=(0, 1, 1))}
        self.fc = nn.Sequential(nn.Linear(8192, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
                                nn.Dropout(0.5), nn.Linear(4096, 487))

    def forward(self, x):
        for i, conv in enumerate(self.convs):
            x = torch.relu(conv(x))
            x = self.pools[i](x) if i in self.pools else x
        return self.fc(x.flatten(1))


def m5():
    """Dai et al. 2017, Table 1, M5 (unpadded convs, as the PyTorch ports)."""
    layers, cin = [], 1
    for c, k, s in ((128, 80, 4), (128, 3, 1), (256, 3, 1), (512, 3, 1)):
        layers += [nn.Conv1d(cin, c, k, stride=s), nn.BatchNorm1d(c), nn.ReLU(), nn.MaxPool1d(4)]
        cin = c
    return nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(512, 10))


def cbl(a, b, k=3):
    """darknet [convolutional] batch_normalize=1 activation=leaky."""
    return nn.Sequential(nn.Conv2d(a, b, k, padding=k // 2, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.1))


class YoloV3Tiny(nn.Module):
    """darknet cfg/yolov3-tiny.cfg, layers 0-22 (the [yolo] layers decode boxes and hold no weights)."""

    def __init__(self):
        super().__init__()
        mp = lambda s=2: nn.MaxPool2d(2, s)  # noqa: E731
        self.to8 = nn.Sequential(cbl(3, 16), mp(), cbl(16, 32), mp(), cbl(32, 64), mp(), cbl(64, 128), mp(),
                                 cbl(128, 256))
        self.to13 = nn.Sequential(mp(), cbl(256, 512), nn.ZeroPad2d((0, 1, 0, 1)), mp(1), cbl(512, 1024),
                                  cbl(1024, 256, 1))
        self.head1 = nn.Sequential(cbl(256, 512), nn.Conv2d(512, 255, 1))
        self.conv18 = cbl(256, 128, 1)
        self.head2 = nn.Sequential(cbl(384, 256), nn.Conv2d(256, 255, 1))

    def forward(self, x):
        x8 = self.to8(x)
        x13 = self.to13(x8)
        up = F.interpolate(self.conv18(x13), scale_factor=2, mode="nearest")
        return self.head1(x13), self.head2(torch.cat([up, x8], 1))


class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """torchvision convnext.py CNBlock (stochastic depth is the identity at inference)."""

    def __init__(self, dim):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim, 7, padding=3, groups=dim), Permute([0, 2, 3, 1]),
                                   nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 4 * dim), nn.GELU(),
                                   nn.Linear(4 * dim, dim), Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x):
        return x + self.layer_scale * self.block(x)


def convnext_tiny():
    """torchvision convnext_tiny: CNBlockConfig (96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)."""
    layers = [nn.Sequential(nn.Conv2d(3, 96, 4, stride=4), LayerNorm2d(96, eps=1e-6))]
    for dim, out, depth in ((96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)):
        layers.append(nn.Sequential(*[CNBlock(dim) for _ in range(depth)]))
        if out:
            layers.append(nn.Sequential(LayerNorm2d(dim, eps=1e-6), nn.Conv2d(dim, out, 2, stride=2)))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), LayerNorm2d(768, eps=1e-6), nn.Flatten(),
                         nn.Linear(768, 1000))


class Bottleneck(nn.Module):
    """torchvision resnet.py Bottleneck (v1.5: stride and dilation on the 3×3)."""

    def __init__(self, cin, c, stride=1, dilation=1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 3, stride, padding=dilation, dilation=dilation, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, 4 * c, 1, bias=False), nn.BatchNorm2d(4 * c))
        self.downsample = (nn.Sequential(nn.Conv2d(cin, 4 * c, 1, stride, bias=False), nn.BatchNorm2d(4 * c))
                           if stride != 1 or cin != 4 * c else nn.Identity())

    def forward(self, x):
        return torch.relu(self.body(x) + self.downsample(x))


def dilated_layer(cin, c, dilations, stride=1):
    """_make_layer: the first block keeps the previous dilation (and the stride), the others the new one."""
    blocks = [Bottleneck(cin, c, stride, dilations[0])]
    return nn.Sequential(*blocks, *[Bottleneck(4 * c, c, 1, d) for d in dilations[1:]])


def fcn_head(cin):
    """torchvision fcn.py FCNHead(cin, 21)."""
    return nn.Sequential(nn.Conv2d(cin, cin // 4, 3, padding=1, bias=False), nn.BatchNorm2d(cin // 4), nn.ReLU(),
                         nn.Dropout(0.1), nn.Conv2d(cin // 4, 21, 1))


class ASPP(nn.Module):
    """torchvision deeplabv3.py ASPP(2048, [12, 24, 36]), out_channels 256."""

    def __init__(self, cin=2048, rates=(12, 24, 36)):
        super().__init__()
        cbr = lambda k, d: nn.Sequential(nn.Conv2d(cin, 256, k, padding=d if k == 3 else 0, dilation=d,  # noqa: E731
                                                   bias=False), nn.BatchNorm2d(256), nn.ReLU())
        self.convs = nn.ModuleList([cbr(1, 1)] + [cbr(3, r) for r in rates])
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, 256, 1, bias=False), nn.BatchNorm2d(256),
                                  nn.ReLU())
        self.project = nn.Sequential(nn.Conv2d(1280, 256, 1, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
                                     nn.Dropout(0.5))

    def forward(self, x):
        pooled = F.interpolate(self.pool(x), size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.project(torch.cat([c(x) for c in self.convs] + [pooled], 1))


class Segmentation(nn.Module):
    """_SimpleSegmentationModel on resnet50(replace_stride_with_dilation=[False, True, True]), aux_loss=True."""

    def __init__(self, head: str):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        self.layer1 = dilated_layer(64, 64, [1] * 3)
        self.layer2 = dilated_layer(256, 128, [1] * 4, stride=2)
        self.layer3 = dilated_layer(512, 256, [1] + [2] * 5)
        self.layer4 = dilated_layer(1024, 512, [2, 4, 4])
        self.classifier = fcn_head(2048) if head == "fcn" else nn.Sequential(
            ASPP(), nn.Conv2d(256, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
            nn.Conv2d(256, 21, 1))
        self.aux_classifier = fcn_head(1024)

    def forward(self, x):
        size = x.shape[-2:]
        aux = self.layer3(self.layer2(self.layer1(self.stem(x))))
        up = lambda t: F.interpolate(t, size=size, mode="bilinear", align_corners=False)  # noqa: E731
        return up(self.classifier(self.layer4(aux))), up(self.aux_classifier(aux))


# (built-in, reference, input per sample)
ZOO = [
    ("convnext_tiny", convnext_tiny, (3, 224, 224)),
    ("fcn_resnet50", lambda: Segmentation("fcn"), (3, 520, 520)),
    ("deeplabv3_resnet50", lambda: Segmentation("deeplab"), (3, 520, 520)),
    ("unet", UNet, (1, 572, 572)),
    ("unet-same", lambda: UNet(cin=3, pad=1), (3, 256, 256)),
    ("dcgan_generator", dcgan_generator, (100, 1, 1)),
    ("c3d", C3D, (3, 16, 112, 112)),
    ("m5", m5, (1, 32000)),
    ("yolov3_tiny", YoloV3Tiny, (3, 416, 416)),
]


def measure(factory, shape):
    """(params, buffers, MACs, output shapes) of a reference module: built and run on meta, no compute."""
    with torch.device("meta"):
        model = factory().eval()
        x = torch.empty(1, *shape)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        y = model(x)
    outs = y if isinstance(y, tuple) else (y,)
    return (sum(p.numel() for p in model.parameters()), sum(b.numel() for b in model.buffers()),
            counter.get_total_flops() // 2, [list(o.shape[1:]) for o in outs])


@pytest.mark.parametrize("name,factory,shape", ZOO, ids=[z[0] for z in ZOO])
def test_builtin_equals_its_reference(name, factory, shape):
    params, buffers, macs, outputs = measure(factory, shape)
    r = report(name)
    assert tuple(r.input) == shape
    assert (r.totals.params, r.totals.buffers, r.totals.macs) == (params, buffers, macs)
    assert ([o.output for o in r.outputs] if r.outputs else [r.output]) == outputs


@pytest.mark.parametrize("name,_factory,_shape", ZOO, ids=[z[0] for z in ZOO])
def test_figures_line_states_the_report(name, _factory, _shape):
    """The `figures:` line of each file says what the report computes (so the documentation cannot drift)."""
    text = builtin_path(name).read_text(encoding="utf-8")
    line = re.search(r"^figures: (.*)$", text, re.M).group(1)
    r = report(name)
    assert f"{r.totals.params:,} params" in line and f"{r.totals.macs:,} MACs" in line, line
    assert re.search(r"^source: ", text, re.M)


# torchvision weights meta: num_params exact, _ops (GMACs of one eval forward, both heads) at the digits published
PUBLISHED = [
    ("convnext_tiny", 28_589_128, "4.456"),         # ConvNeXt_Tiny_Weights.IMAGENET1K_V1 (convnext.py)
    ("fcn_resnet50", 35_322_218, "152.717"),        # FCN_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1 (fcn.py)
    ("deeplabv3_resnet50", 42_004_074, "178.722"),  # DeepLabV3_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1
]


@pytest.mark.parametrize("name,params,ops", PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_torchvision_published_figures(name, params, ops):
    t = report(name).totals
    assert t.params == params
    assert f"{t.macs / 1e9:.{len(ops.split('.')[1])}f}" == ops


# -- structure, as the sources state it --------------------------------------------------------

def test_segmentation_nets_have_two_full_size_outputs_at_output_stride_8():
    for name in ("fcn_resnet50", "deeplabv3_resnet50"):
        r = report(name)
        assert [(o.name, o.output) for o in r.outputs] == [("out", [21, 520, 520]), ("aux", [21, 520, 520])]
        assert row(r, "backbone.layer3.5.add").output == [1024, 520 // 8, 520 // 8]   # 65: output stride 8
        assert row(r, "backbone.layer4.2.conv2").config.startswith("3/1")
    fcn = report("fcn_resnet50")
    assert row(fcn, "classifier.0").params == 3 * 3 * 2048 * 512          # FCNHead: 2048 → 2048 // 4, no bias
    assert row(fcn, "aux_classifier.4").params == 256 * 21 + 21
    dl = report("deeplabv3_resnet50")
    assert row(dl, "classifier.0.concat").output == [5 * 256, 65, 65]     # ASPP: 1×1, three dilated 3×3, pooling
    assert row(dl, "classifier.0.convs.4.interpolate").output == [256, 65, 65]


def test_unet_shapes_follow_the_paper():
    r = report("unet")
    # 572 → 570 → 568, pool 284 → 280, 140 → 136, 68 → 64, 32 → 28 at the bottom
    assert [row(r, f"down{i}.relu2").output[1] for i in range(1, 5)] == [568, 280, 136, 64]
    assert row(r, "bottom.relu2").output == [1024, 28, 28]
    assert [row(r, f"cat{i}").output for i in (4, 3, 2, 1)] == [[1024, 56, 56], [512, 104, 104],
                                                                [256, 200, 200], [128, 392, 392]]
    assert r.output == [2, 388, 388] and r.totals.weight_layers == 18 + 4 + 1
    assert row(r, "up4").params == 1024 * 512 * 2 * 2 + 512              # up-conv halves the channels
    assert report("unet-same").output == [2, 256, 256]


def test_dcgan_generator_doubles_the_size_with_each_transposed_conv():
    r = report("dcgan_generator")
    sizes = [row(r, f"main.{i}").output for i in (0, 3, 6, 9, 12)]
    assert sizes == [[512, 4, 4], [256, 8, 8], [128, 16, 16], [64, 32, 32], [3, 64, 64]]
    # (n − 1)·s − 2p + k: (4 − 1)·2 − 2 + 4 = 8; MACs over input positions: C_in·C_out·k²·n_in²
    assert row(r, "main.3").macs == 512 * 256 * 4 * 4 * 4 * 4


def test_c3d_and_m5_shapes():
    c3d = report("c3d")
    assert row(c3d, "pool1").output == [64, 16, 56, 56]                  # no temporal pooling in pool1
    assert row(c3d, "pool5").output == [512, 1, 4, 4]
    assert row(c3d, "fc6").params == 512 * 4 * 4 * 4096 + 4096
    assert row(c3d, "conv1a").params == 3 * 3 * 3 * 3 * 64 + 64
    m = report("m5")
    assert row(m, "conv1").output == [128, (32000 - 80) // 4 + 1]
    n = (32000 - 80) // 4 + 1            # 7981
    for _ in range(3):
        n = n // 4 - (3 - 1)             # pool 4, then an unpadded 3-tap conv
    assert row(m, "pool4").output == [512, n // 4]                       # 30
    assert m.output == [10] and m.totals.weight_layers == 5


def test_yolov3_tiny_heads_and_route():
    r = report("yolov3_tiny")
    assert [(o.name, o.output) for o in r.outputs] == [("conv15", [3 * (80 + 5), 13, 13]),
                                                      ("conv22", [3 * (80 + 5), 26, 26])]
    assert row(r, "pad11").output == [512, 14, 14] and row(r, "pool11").output == [512, 13, 13]
    assert row(r, "route20").output == [128 + 256, 26, 26]               # [route] -1, 8
    assert row(r, "conv15").params == 512 * 255 + 255                    # linear head: bias, no BN


def test_convnext_tiny_blocks():
    r = report("convnext_tiny")
    assert row(r, "features.1.0.layer_scale").params == 96
    assert row(r, "features.5.8.add").output == [384, 14, 14]           # stage 3: depth 9
    assert row(r, "features.1.0.block.3").params == 96 * 384 + 384      # Linear(96, 384) as a 1×1 conv

"""The last CNN ops (issue 23): pixel_shuffle / pixel_unshuffle, prelu, l2norm, crop, permute, slice and
channel_shuffle at every rank, linear `over: channels`, and `**` in expressions.

Every expected figure comes from torch, built by the test from the layer's fields (never through cnncalc's
`torch_module`): shapes from a forward pass, params/buffers as numel, MACs as FlopCounterMode / 2, with
validity both ways (test_properties.agree: where torch refuses, cnncalc refuses). Then `verify` (forward),
`verify --train` (saved tensors, backward MACs, inference peak against autograd), `verify --rf` (the
gradient oracle) and `export --torch` build every new kind; and the networks of the issue that need them —
ESPCN, an SRResNet fragment, SSD's L2Norm on conv4_3 — written in YAML, against hand-written torch modules.
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.analysis.analyze import load  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.pytorch.build import build  # noqa: E402
from cnncalc.pytorch.export import class_name, export_torch  # noqa: E402
from cnncalc.pytorch.rf_oracle import rf_verify  # noqa: E402
from cnncalc.pytorch.verify import verify  # noqa: E402
from cnncalc.pytorch.verify_train import verify_train  # noqa: E402
from test_kinds import map_shapes  # noqa: E402
from test_properties import agree, measure, one_layer  # noqa: E402

torch.set_num_threads(1)

vectors = st.tuples(st.integers(1, 40))


def trained_ok(v) -> bool:
    return v.ok and not [r for b in v.batches for r in b.layers if r.mismatches]


# -- pixel_shuffle / pixel_unshuffle ---------------------------------------------------------------

@given(shape=st.one_of(map_shapes((1, 2, 3)), vectors), up=st.booleans(), r=st.integers(1, 4))
def test_pixel_shuffle_matches_torch(shape, up, r):
    """C×H×W maps; C×L and C×D×H×W maps are refused (see stricter)."""
    kind, field, cls = ("pixel_shuffle", "upscale", nn.PixelShuffle) if up else (
        "pixel_unshuffle", "downscale", nn.PixelUnshuffle)

    def stricter(spec, err):
        # torch shuffles the last three axes, the ones before being batch axes: on (N, C, L) it shuffles the batch
        # (and goes on when r = 1 or the batch happens to fit); on (N, C, D, H, W) it reads D as the channels
        # and keeps C as a batch axis — no 3-D shuffle, and no per-axis receptive field
        return {2: "a C×L map: torch would shuffle the batch",
                4: "a C×D×H×W map: torch would read D as the channels"}.get(len(shape))
    agree(one_layer(shape, {"type": kind, field: r}), lambda: cls(r), shape, stricter)


@pytest.mark.parametrize("shape, layer, message", [
    ((6, 5, 5), {"type": "pixel_shuffle", "upscale": 2}, "the 6 channels are not divisible by r² = 4"),
    ((4, 5, 6), {"type": "pixel_unshuffle", "downscale": 2}, "H = 5 is not divisible by 2"),
    ((4, 16), {"type": "pixel_shuffle", "upscale": 2}, "needs a C×H×W map, got C×L 4×16"),
    ((4,), {"type": "pixel_unshuffle", "downscale": 2}, "needs a C×H×W map, got a vector of 4"),
    ((8, 4, 4, 4), {"type": "pixel_shuffle", "upscale": 2}, "got C×D×H×W 8×4×4×4 .on a C×D×H×W map PyTorch would "
                                                             "read D as the channels"),
    ((4, 4, 4), {"type": "pixel_shuffle", "upscale": 0}, "must be ≥ 1"),
])
def test_pixel_shuffle_bad_input(shape, layer, message):
    with pytest.raises(CnncalcError, match=message):
        cnncalc.analyze(one_layer(shape, layer))


def test_pixel_shuffle_receptive_field_is_a_fractional_stride():
    """ESPCN's tail: after 5-3-3 convs (r = 9, j = 1) the shuffle by 3 keeps r and makes j = 1/3: three output
    pixels in a row come from one input position; an unshuffle by 2 after it is a 2×2 window 2 apart."""
    spec = one_layer((1, 12, 12), {"type": "conv", "filters": 9, "kernel": 5, "padding": 2})
    spec["layers"] += [{"type": "conv", "filters": 9, "kernel": 3, "padding": 1},
                       {"type": "conv", "filters": 9, "kernel": 3, "padding": 1},
                       {"type": "pixel_shuffle", "upscale": 3}, {"type": "pixel_unshuffle", "downscale": 2}]
    rep = cnncalc.analyze(spec)
    ps, un = rep.layers[-2].rf, rep.layers[-1].rf
    assert (ps.size, ps.stride, ps.padding) == (9, "1/3", 4)
    assert (un.size, un.stride) == ("28/3", "2/3")       # r = 9 + (2 − 1)·1/3, j = 2·1/3
    assert rf_verify(spec).ok


# -- prelu -------------------------------------------------------------------------------------------

@given(shape=st.one_of(map_shapes((1, 2, 3)), vectors), num=st.one_of(st.just(1), st.integers(1, 6)),
       per_channel=st.booleans())
def test_prelu_matches_torch(shape, num, per_channel):
    """1 or C slopes; any other count is refused, as torch refuses it at its forward."""
    num = shape[0] if per_channel else num
    agree(one_layer(shape, {"type": "prelu", "num_parameters": num}), lambda: nn.PReLU(num), shape)


def test_prelu_error_names_both_counts():
    with pytest.raises(CnncalcError, match="num_parameters 3 must be 1 or the 64 input channels"):
        cnncalc.analyze(one_layer((64, 8, 8), {"type": "prelu", "num_parameters": 3}))


# -- l2norm ------------------------------------------------------------------------------------------

class L2NormRef(nn.Module):
    """SSD's L2Norm as torchvision writes it: F.normalize(x) times a per-channel weight."""

    def __init__(self, channels, scale):
        super().__init__()
        self.weight = None if scale is None else nn.Parameter(torch.full((channels,), float(scale)))

    def forward(self, x):
        y = F.normalize(x, dim=1)
        return y if self.weight is None else y * self.weight.view(1, -1, *([1] * (x.dim() - 2)))


@given(shape=st.one_of(map_shapes((1, 2, 3)), vectors), scale=st.one_of(st.none(), st.just(False),
                                                                        st.integers(1, 30), st.floats(0.5, 2)))
def test_l2norm_matches_torch(shape, scale):
    layer = {"type": "l2norm"} | ({} if scale is None else {"scale": scale})
    agree(one_layer(shape, layer), lambda: L2NormRef(shape[0], None if scale is False else scale), shape)


def test_l2norm_scale_must_be_a_number():
    with pytest.raises(CnncalcError, match="scale: expected false or the initial value"):
        cnncalc.analyze(one_layer((8, 4, 4), {"type": "l2norm", "scale": True}))


# -- verify, verify --train, verify --rf and export build every new kind ---------------------------

KINDS_2D = {"name": "new kinds", "input": [8, 6, 6], "layers": [
    {"name": "c", "type": "conv", "filters": 16, "kernel": 3, "padding": 1},
    {"name": "l2", "type": "l2norm", "scale": 20}, {"name": "l2b", "type": "l2norm"},
    {"name": "pr", "type": "prelu", "num_parameters": 16}, {"name": "pr1", "type": "prelu"},
    {"name": "un", "type": "pixel_unshuffle", "downscale": 2},
    {"name": "c2", "type": "conv", "filters": 8, "kernel": 1},
    {"name": "ps", "type": "pixel_shuffle", "upscale": 2}]}
KINDS_3D = {"name": "new kinds 3d", "input": [2, 8, 4, 4], "layers": [
    {"name": "c", "type": "conv", "filters": 3, "kernel": 1},
    {"name": "l2", "type": "l2norm", "scale": 2}, {"name": "pr", "type": "prelu", "num_parameters": 3}]}
NETS = [KINDS_2D, KINDS_3D]


@pytest.mark.parametrize("net", NETS, ids=lambda n: n["name"])
def test_verify_builds_the_new_kinds(net):
    v = verify(net, device="cpu")
    assert v.ok, [(r.name, r.mismatches) for r in v.layers if r.mismatches]


@pytest.mark.parametrize("net", NETS, ids=lambda n: n["name"])
def test_training_figures_of_the_new_kinds_against_autograd(net):
    assert trained_ok(verify_train(net))


@pytest.mark.parametrize("net", NETS, ids=lambda n: n["name"])
def test_receptive_field_of_the_new_kinds_against_the_gradient(net):
    v = rf_verify(net)
    assert v.ok, [(r.name, r.mismatches) for r in v.layers if r.mismatches]


@pytest.mark.parametrize("net", NETS, ids=lambda n: n["name"])
def test_export_writes_the_new_kinds(net):
    code = export_torch(net)
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "<export>", "exec"), ns)
    graph = load(net)
    model = ns[class_name(graph)]().eval()
    ours = build(graph).eval()
    model.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, *graph.input)
    with torch.no_grad():
        assert torch.allclose(model(x), ours(x), atol=1e-5)
    assert sum(p.numel() for p in model.parameters()) == cnncalc.analyze(net).totals.params


# -- the networks of the issue, against hand-written torch modules -----------------------------------

def figures(module: nn.Module, in_shape) -> tuple:
    m = measure(module, in_shape)
    return m.output, m.params, m.macs


def ours(spec) -> tuple:
    rep = cnncalc.analyze(spec)
    return rep.output, rep.totals.params, rep.totals.macs


ESPCN = """
name: ESPCN ×3
source: Shi et al. 2016, the ×3 network (f1 = 5, n1 = 64; f2 = 3, n2 = 32; f3 = 3, r²·1 channels), tanh
input: [1, {n}, {n}]
layers:
  - {{name: conv1, type: conv, filters: 64, kernel: 5, padding: 2}}
  - tanh
  - {{name: conv2, type: conv, filters: 32, kernel: 3, padding: 1}}
  - tanh
  - {{name: conv3, type: conv, filters: 9, kernel: 3, padding: 1}}
  - {{name: shuffle, type: pixel_shuffle, upscale: 3}}
"""


def espcn_torch():
    return nn.Sequential(nn.Conv2d(1, 64, 5, padding=2), nn.Tanh(), nn.Conv2d(64, 32, 3, padding=1), nn.Tanh(),
                         nn.Conv2d(32, 9, 3, padding=1), nn.PixelShuffle(3))


@pytest.mark.parametrize("n", [17, 32])
def test_espcn_against_torch(tmp_path, n):
    path = tmp_path / "espcn.yaml"
    path.write_text(ESPCN.format(n=n), encoding="utf-8")
    assert ours(str(path)) == figures(espcn_torch(), (1, n, n))
    assert ours(str(path))[0] == [1, 3 * n, 3 * n]
    assert ours(str(path))[1] == (5 * 5 * 1 * 64 + 64) + (3 * 3 * 64 * 32 + 32) + (3 * 3 * 32 * 9 + 9)


SRRESNET = """
name: SRResNet fragment
source: Ledig et al. 2017 (SRGAN's generator), two residual blocks and one ×2 upsampling step
input: [3, {n}, {n}]
blocks:
  res:
    layers:
      - residual:
          body:
            - {{type: conv, filters: 64, kernel: 3, padding: 1}}
            - batchnorm
            - {{type: prelu, num_parameters: 64}}
            - {{type: conv, filters: 64, kernel: 3, padding: 1}}
            - batchnorm
layers:
  - {{name: head, type: conv, filters: 64, kernel: 9, padding: 4}}
  - {{name: act, type: prelu}}
  - {{name: blocks, type: res, repeat: 2}}
  - {{name: up, type: conv, filters: 256, kernel: 3, padding: 1}}
  - {{name: shuffle, type: pixel_shuffle, upscale: 2}}
  - {{name: up_act, type: prelu}}
  - {{name: tail, type: conv, filters: 3, kernel: 9, padding: 4}}
"""


class SRBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.PReLU(64),
                                  nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64))

    def forward(self, x):
        return x + self.body(x)


def srresnet_torch():
    return nn.Sequential(nn.Conv2d(3, 64, 9, padding=4), nn.PReLU(), SRBlock(), SRBlock(),
                         nn.Conv2d(64, 256, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(),
                         nn.Conv2d(64, 3, 9, padding=4))


@pytest.mark.parametrize("n", [24, 31])
def test_srresnet_fragment_against_torch(tmp_path, n):
    path = tmp_path / "srresnet.yaml"
    path.write_text(SRRESNET.format(n=n), encoding="utf-8")
    assert ours(str(path)) == figures(srresnet_torch(), (3, n, n))
    assert verify(str(path), device="cpu").ok


SSD_L2NORM = {"name": "SSD conv4_3 L2Norm", "source": "Liu et al. 2016: conv4_3 of VGG-16 normalised, scale 20",
              "input": [256, 38, 38], "layers": [
                  {"name": "conv4_3", "type": "conv", "filters": 512, "kernel": 3, "padding": 1},
                  {"type": "relu"}, {"name": "l2norm", "type": "l2norm", "scale": 20},
                  {"name": "head", "type": "conv", "filters": 4 * (4 + 21), "kernel": 3, "padding": 1}]}


def test_ssd_l2norm_on_conv4_3_against_torch():
    ref = nn.Sequential(nn.Conv2d(256, 512, 3, padding=1), nn.ReLU(), L2NormRef(512, 20),
                        nn.Conv2d(512, 100, 3, padding=1))
    assert ours(SSD_L2NORM) == figures(ref, (256, 38, 38))
    rep = cnncalc.analyze(SSD_L2NORM)
    assert next(r for r in rep.layers if r.name == "l2norm").params == 512
    net = build(SSD_L2NORM)
    assert torch.equal(net.node("l2norm").weight.flatten(), torch.full((512,), 20.0))  # SSD's initial scale

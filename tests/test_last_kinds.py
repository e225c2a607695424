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


# -- crop (and pad's refusal of negative sizes) ----------------------------------------------------------

SIDE_NAMES = {1: ("left", "right"), 2: ("top", "bottom", "left", "right"),
              3: ("front", "back", "top", "bottom", "left", "right")}


class CropRef(nn.Module):
    """x[:, :, a:n − b, …] per axis, the window given as (before, after) per spatial axis."""

    def __init__(self, sides):
        super().__init__()
        self.sides = sides

    def forward(self, x):
        return x[(slice(None), slice(None)) + tuple(slice(b, n - a) for n, (b, a) in zip(x.shape[2:], self.sides))]


@given(data=st.data(), shape=map_shapes((1, 2, 3)), whole=st.booleans())
def test_crop_matches_torch(data, shape, whole):
    r = len(shape) - 1
    if whole:
        c = data.draw(st.integers(0, 5))
        layer, sides = {"type": "crop", "cropping": c}, ((c, c),) * r
    else:
        given_ = data.draw(st.dictionaries(st.sampled_from(SIDE_NAMES[r]), st.integers(0, 6), min_size=1))
        layer = {"type": "crop", "cropping": given_}
        names = SIDE_NAMES[r]
        sides = tuple((given_.get(names[2 * i], 0), given_.get(names[2 * i + 1], 0)) for i in range(r))

    def stricter(spec, err):
        # torch's slice gives an empty map; a network's layer that gives nothing is an error here
        return "a crop that leaves nothing" if "leaves nothing" in err.message else None
    agree(one_layer(shape, layer), lambda: CropRef(sides), shape, stricter)


def test_tcn_chomp_is_a_crop_of_the_trailing_steps():
    rep = cnncalc.analyze(one_layer((8, 100), {"type": "crop", "cropping": {"right": 4}}))
    assert rep.output == [8, 100 - 4]
    assert (rep.layers[0].rf.size, rep.layers[0].rf.padding) == (1, 0)      # unit u is input unit u
    left = cnncalc.analyze(one_layer((8, 100), {"type": "crop", "cropping": {"left": 3}})).layers[0].rf
    assert left.padding == -3                                               # unit 0 is input unit 3


@pytest.mark.parametrize("shape, layer, message", [
    ((8, 100), {"type": "pad", "padding": -4}, "must be ≥ 0, got -4 .to remove rows and columns use `crop`."),
    ((8, 100), {"type": "pad", "padding": {"right": -4}}, "right: expected a whole number ≥ 0, got -4 .to remove"),
    ((8, 100), {"type": "crop", "cropping": -1}, "must be ≥ 0, got -1 .to add rows and columns use `pad`."),
    ((8, 10), {"type": "crop", "cropping": {"left": 6, "right": 4}}, "cropping 6 \\+ 4 on L leaves nothing of the "
                                                                      "input size 10"),
    ((8, 10), {"type": "crop", "cropping": {"top": 1}}, "cropping side 'top' does not exist on a 8×10 map"),
    ((8,), {"type": "crop", "cropping": 1}, "crop needs a C×H×W map, got a vector of 8"),
])
def test_crop_and_pad_bad_input(shape, layer, message):
    with pytest.raises(CnncalcError, match=message):
        cnncalc.analyze(one_layer(shape, layer))


# -- slice and channel_shuffle on maps of every rank ------------------------------------------------------

class ChannelSliceRef(nn.Module):
    def __init__(self, start, end):
        super().__init__()
        self.start, self.end = start, end

    def forward(self, x):
        return x[:, self.start:self.end]


@given(shape=map_shapes((1, 2, 3)), shuffle=st.booleans(), start=st.integers(0, 4), end=st.integers(1, 5),
       groups=st.integers(1, 4))
def test_slice_and_channel_shuffle_every_rank_match_torch(shape, shuffle, start, end, groups):
    if shuffle:
        layer, make = {"type": "channel_shuffle", "groups": groups}, (lambda: nn.ChannelShuffle(groups))
    else:
        layer, make = {"type": "slice", "start": start, "end": end}, (lambda: ChannelSliceRef(start, end))

    def stricter(spec, err):
        # Python slicing clips an end past the channels and gives 0 channels for an empty range
        return "a slice outside the channels or empty" if not shuffle else None
    agree(one_layer(shape, layer), make, shape, stricter)


# -- permute ---------------------------------------------------------------------------------------------

@given(shape=st.one_of(map_shapes((1, 2, 3)), vectors), data=st.data(), batch_first=st.booleans())
def test_permute_matches_torch(shape, data, batch_first):
    """The per-sample order ([1, 0]) or PyTorch's, batch included ([0, 2, 1]); anything else is refused, as
    torch refuses it, and moving the batch axis deliberately."""
    k = len(shape)
    valid = data.draw(st.booleans())
    if valid:
        order = data.draw(st.permutations(range(k)))
    else:
        order = data.draw(st.lists(st.integers(0, k), min_size=max(1, k - 1), max_size=k + 1))
    dims = [0] + [d + 1 for d in order] if batch_first and valid else list(order)
    torch_dims = dims if len(dims) == k + 1 else [0] + [d + 1 for d in dims]

    class PermuteRef(nn.Module):
        def forward(self, x):
            try:
                return x.permute(*torch_dims)
            except IndexError as e:    # a dim out of range: torch's refusal, as test_properties counts them
                raise RuntimeError(e) from e

    def stricter(spec, err):
        if "would move the batch axis" in err.message:
            return "a permute that moves the batch axis"
        return None
    agree(one_layer(shape, {"type": "permute", "dims": dims}), PermuteRef, shape, stricter)


def test_permute_ends_time_major_and_what_follows_reads_the_new_first_axis_as_channels():
    spec = one_layer((150, 200), {"type": "conv", "filters": 25, "kernel": 3, "padding": 1})
    spec["layers"] += [{"name": "t", "type": "permute", "dims": [0, 2, 1]}]
    assert cnncalc.analyze(spec).output == [200, 25]
    spec["layers"] += [{"name": "c", "type": "conv", "filters": 4, "kernel": 3}]
    ref = nn.Sequential(nn.Conv1d(150, 25, 3, padding=1))
    conv = nn.Conv1d(200, 4, 3)   # torch reads the 200 steps as the channels after x.permute(0, 2, 1)

    class Net(nn.Module):
        def forward(self, x):
            return conv(ref(x).permute(0, 2, 1))
    net = Net()
    net.ref, net.conv = ref, conv
    assert ours(spec) == figures(net, (150, 200))


@pytest.mark.parametrize("dims, message", [
    ([1, 0, 2], "would move the batch axis"),
    ([0, 0], "is not an order of the 2 axes of 8×10"),
    ([0, 1, 2, 3], "is not an order of the 2 axes"),
])
def test_permute_bad_dims(dims, message):
    with pytest.raises(CnncalcError, match=message):
        cnncalc.analyze(one_layer((8, 10), {"type": "permute", "dims": dims}))


# -- linear over the channels, or the last axis ----------------------------------------------------------

class LinearOver(nn.Module):
    """PyTorch's Linear on one axis of a map: moved last, multiplied, moved back."""

    def __init__(self, axis, n_in, n_out, bias):
        super().__init__()
        self.axis, self.lin = axis, nn.Linear(n_in, n_out, bias)

    def forward(self, x):
        return self.lin(x.movedim(self.axis, -1)).movedim(-1, self.axis)


@given(shape=st.one_of(map_shapes((1, 2, 3)), vectors), over=st.sampled_from(["channels", "last"]),
       out=st.integers(1, 9), bias=st.booleans())
def test_linear_over_an_axis_matches_torch(shape, over, out, bias):
    axis = 1 if over == "channels" or len(shape) == 1 else len(shape)
    layer = {"type": "linear", "out": out, "bias": bias, "over": over}
    agree(one_layer(shape, layer), lambda: LinearOver(axis, shape[axis - 1], out, bias), shape)


def test_linear_over_channels_has_a_1x1_convs_figures():
    """The TCN of the issue: 150 channels × 200 steps → 88 per step: 13,288 params, not 2,640,088 flattened."""
    spec = one_layer((150, 200), {"type": "linear", "out": 88, "over": "channels"})
    rep = cnncalc.analyze(spec)
    conv = measure(nn.Conv1d(150, 88, 1), (150, 200))
    assert (rep.output, rep.totals.params, rep.totals.macs) == (conv.output, conv.params, conv.macs)
    assert rep.totals.params == 150 * 88 + 88 and rep.totals.macs == 150 * 88 * 200
    flat = cnncalc.analyze(one_layer((150, 200), {"type": "linear", "out": 88}))
    assert flat.totals.params == 150 * 200 * 88 + 88 and flat.totals.macs == rep.totals.macs
    assert flat.notes == ["linear1: linear flattens 150×200 → 30,000 and multiplies it whole (`over: channels` acts "
                          "at each position: 150 → 88)"] and not rep.notes


def test_a_flattening_linear_is_said_at_the_end_of_analyze(tmp_path):
    from typer.testing import CliRunner
    from cnncalc.cli import app
    path = tmp_path / "tcn.yaml"
    path.write_text("name: t\ninput: [150, 200]\nlayers:\n  - {name: head, type: linear, out: 88}\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["analyze", str(path)], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    last = [ln for ln in res.output.splitlines() if ln.startswith("note: ")]
    assert len(last) == 1 and "head: linear flattens 150×200 → 30,000" in last[0]
    assert "flattens 150×200 → 30,000" in cnncalc.analyze(str(path)).layers[0].notes[0]   # and on the row
    # a classifier after a global pool flattens a 1×1 map: the same as acting on its channels, nothing said
    assert not cnncalc.analyze("resnet18").notes and cnncalc.analyze("vgg16").notes


# -- ** in expressions -----------------------------------------------------------------------------------

def test_power_in_expressions():
    from cnncalc.spec.expr import evaluate
    assert evaluate("2**i", {"i": 9}) == 2 ** 9 and evaluate("3**0", {}) == 1 and evaluate("(-2)**3", {}) == -8
    assert evaluate("2**i * 3", {"i": 2}) == 12
    for text, message in [("2**65", "exponent 65 is outside 0 … 64"), ("2**-1", "exponent -1 is outside"),
                          ("10**16", "value too large"), ("99999**64", "value too large")]:
        with pytest.raises(CnncalcError, match=message):
            evaluate(text, {})


WAVENET = {"name": "wavenet stack", "input": [16, 64],
           "blocks": {"dilated": {"params": {"d": None}, "layers": [
               {"name": "conv", "type": "conv", "filters": 16, "kernel": 2, "dilation": "$d"},
               {"name": "pad", "type": "pad", "padding": {"left": "$d"}}]}},
           "layers": [{"name": "stack", "type": "dilated", "repeat": 6, "d": "${2**i}"}]}


def test_wavenet_dilations_written_as_powers():
    rep = cnncalc.analyze(WAVENET)
    convs = [r for r in rep.layers if r.type == "conv"]
    assert [r.config for r in convs] == [f"2/1 p0 d{2 ** i}" if i else "2/1 p0" for i in range(6)]
    assert rep.output == [16, 64] and rep.layers[-1].rf.size == 1 + sum(2 ** i for i in range(6))


# -- a TCN block with Chomp1d, against a hand-written module --------------------------------------------

TCN = """
name: TCN block
source: Bai et al. 2018, a TemporalBlock (kernel 3, dilation 2; weight norm left out) and a per-step head
input: [{c}, {n}]
layers:
  - residual:
      body:
        - {{name: conv1, type: conv, filters: 32, kernel: 3, dilation: 2, padding: 4}}
        - {{name: chomp1, type: crop, cropping: {{right: 4}}}}
        - relu
        - {{name: conv2, type: conv, filters: 32, kernel: 3, dilation: 2, padding: 4}}
        - {{name: chomp2, type: crop, cropping: {{right: 4}}}}
        - relu
      shortcut: [{{name: downsample, type: conv, filters: 32, kernel: 1}}]
  - relu
  - {{name: time_major, type: permute, dims: [0, 2, 1]}}
  - {{name: head, type: linear, out: 10, over: last}}
"""


class Chomp1d(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.size = size

    def forward(self, x):
        return x[:, :, :-self.size].contiguous()


class TemporalBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(c, 32, 3, padding=4, dilation=2), Chomp1d(4), nn.ReLU(),
                                 nn.Conv1d(32, 32, 3, padding=4, dilation=2), Chomp1d(4), nn.ReLU())
        self.downsample = nn.Conv1d(c, 32, 1)
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        y = torch.relu(self.net(x) + self.downsample(x))
        return self.head(y.transpose(1, 2))


@pytest.mark.parametrize("c, n", [(6, 50), (3, 17)])
def test_tcn_block_against_torch(tmp_path, c, n):
    path = tmp_path / "tcn.yaml"
    path.write_text(TCN.format(c=c, n=n), encoding="utf-8")
    assert ours(str(path)) == figures(TemporalBlock(c), (c, n))
    assert ours(str(path))[0] == [n, 10]
    for check in (verify(str(path), device="cpu"), rf_verify(str(path)), verify_train(str(path))):
        assert check.ok


# -- verify, verify --train, verify --rf and export: crop, permute, linear over, slice and shuffle --------

RESHAPES = [{"name": "reshapes 1d", "input": [4, 30], "layers": [
    {"name": "c", "type": "conv", "filters": 8, "kernel": 3, "dilation": 2, "padding": 4},
    {"name": "chomp", "type": "crop", "cropping": {"right": 4}},
    {"name": "half", "type": "slice", "end": 4}, {"name": "sh", "type": "channel_shuffle", "groups": 2},
    {"name": "lc", "type": "linear", "out": 6, "over": "channels"},
    {"name": "t", "type": "permute", "dims": [0, 2, 1]},
    {"name": "ll", "type": "linear", "out": 5, "over": "last"}]},
    {"name": "reshapes 3d", "input": [4, 6, 8, 8], "layers": [
        {"name": "c", "type": "conv", "filters": 8, "kernel": 3},
        {"name": "cr", "type": "crop", "cropping": {"front": 1, "left": 2, "bottom": 1}},
        {"name": "sl", "type": "slice", "start": 2}, {"name": "sh", "type": "channel_shuffle", "groups": 3},
        {"name": "lc", "type": "linear", "out": 4, "over": "channels"},
        {"name": "t", "type": "permute", "dims": [1, 2, 3, 0]},
        {"name": "c2", "type": "conv", "filters": 2, "kernel": 1},
        {"name": "ll", "type": "linear", "out": 3, "over": "last"}]},
    {"name": "linear over the last axis of a map", "input": [2, 9, 10], "layers": [
        {"name": "c", "type": "conv", "filters": 3, "kernel": 3},
        {"name": "ll", "type": "linear", "out": 5, "over": "last"},       # every unit reads the whole W axis
        {"name": "c2", "type": "conv", "filters": 2, "kernel": 3}]}]


@pytest.mark.parametrize("net", RESHAPES, ids=lambda n: n["name"])
def test_verify_train_rf_and_export_build_the_reshapes(net):
    v = verify(net, device="cpu")
    assert v.ok, [(r.name, r.mismatches) for r in v.layers if r.mismatches]
    assert trained_ok(verify_train(net))
    rf = rf_verify(net)
    assert rf.ok, [(r.name, r.mismatches) for r in rf.layers if r.mismatches]
    test_export_writes_the_new_kinds(net)


def test_verify_rf_shows_a_declared_upper_bound(tmp_path):
    """After a permute of a C×H×W map the field is an upper bound: the gradient's support lies inside it, and
    `verify --rf` marks those rows ⊇ (while after a C×L permute the whole input is exact: ✓)."""
    from typer.testing import CliRunner
    from cnncalc.cli import app
    path = tmp_path / "p.yaml"
    path.write_text("name: p\ninput: [3, 10, 12]\nlayers:\n  - {name: c, type: conv, filters: 8, kernel: 3}\n"
                    "  - {name: t, type: permute, dims: [1, 2, 0]}\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["verify", str(path), "--rf"], env={"COLUMNS": "120"})
    assert res.exit_code == 0, res.output
    row = next(ln for ln in res.output.splitlines() if " t " in ln and "permute" in ln)
    assert "⊇" in row and "1 inside a declared upper bound" in res.output
    v = rf_verify(str(path))
    assert [r.bound for r in v.layers] == [False, True] and v.ok

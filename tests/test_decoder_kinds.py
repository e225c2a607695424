"""The decoder kinds against PyTorch: conv_transpose (stride, padding, output_padding, dilation, groups; 1-, 2-,
3-D), shape, params, buffers and MACs (FlopCounterMode / 2), validity both ways (test_properties.agree); the
conv-arithmetic relationships of Dumoulin & Visin 2016 as a table; bad input for every new field.
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.analysis.analyze import load  # noqa: E402
from cnncalc.analysis.explain import explain  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from test_kinds import map_shapes, per_axis, tup  # noqa: E402
from test_properties import agree, measure, one_layer  # noqa: E402

torch.set_num_threads(1)
CONV_T = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}



def empty_map(spec, err):
    """torch returns a map with a 0-sized axis (upsampling 1 by 0.5, a transposed conv whose padding eats its
    output): a network's layer that gives nothing is an error here, deliberately stricter."""
    return "an empty map" if "shrinks to nothing" in err.message else None


# -- conv_transpose ------------------------------------------------------------------------------

@given(data=st.data(), shape=map_shapes((1, 2, 3)), filters=st.integers(1, 4), groups=st.sampled_from([1, 1, 2]),
       bias=st.booleans())
def test_conv_transpose_matches_torch(data, shape, filters, groups, bias):
    r = len(shape) - 1
    kernel, stride = data.draw(per_axis(r, 1, 4)), data.draw(per_axis(r, 1, 3))
    padding, output_padding = data.draw(per_axis(r, 0, 3)), data.draw(per_axis(r, 0, 2))
    dilation = data.draw(per_axis(r, 1, 2))
    layer = {"type": "conv_transpose", "filters": filters, "kernel": kernel, "stride": stride, "padding": padding,
             "output_padding": output_padding, "dilation": dilation, "groups": groups, "bias": bias}
    agree(one_layer(shape, layer),
          lambda: CONV_T[r](shape[0], filters, tup(kernel, r), tup(stride, r), tup(padding, r),
                            tup(output_padding, r), groups, bias, tup(dilation, r)), shape, stricter=empty_map)


def test_conv_transpose_counts_macs_over_input_positions():
    """DCGAN's 512×4×4 → 256×8×8 (k 4, s 2, p 1): C_in·C_out·k²·H_in·W_in, not the output-size form."""
    spec = one_layer((512, 4, 4), {"type": "conv_transpose", "filters": 256, "kernel": 4, "stride": 2, "padding": 1,
                                   "bias": False})
    rep = cnncalc.analyze(spec)
    assert rep.totals.macs == 512 * 256 * 4 * 4 * 4 * 4
    assert rep.totals.params == 512 * 256 * 4 * 4
    torch_side = measure(nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False), (512, 4, 4))
    assert torch_side.macs == rep.totals.macs
    lines = "\n".join(explain(load(spec), "conv_transpose1")[0][1])
    assert "input" in lines and f"{512 * 256 * 4 * 4 * 8 * 8:,}" in lines   # says what the output form would give


# -- Dumoulin & Visin 2016, "A guide to convolution arithmetic for deep learning" ---------------------------
# Numbered as in the current conv_arithmetic.tex: 1–6 convolution, 7 pooling, 8–14 transposed convolution
# (each the transpose of the direct convolution with the same k, s, p, whose input size it gives back), 15
# dilation (Relationship 14 in the first arXiv version). Examples: the paper's figures where it has them.

def direct(i, k, s=1, p=0, d=1):
    return {"type": "conv", "filters": 1, "kernel": k, "stride": s, "padding": p, "dilation": d}


def transposed(k, s=1, p=0, a=0):
    return {"type": "conv_transpose", "filters": 1, "kernel": k, "stride": s, "padding": p, "output_padding": a}


RELATIONSHIPS = [
    # (number, input size, layer, the paper's formula for the output)
    (1, 4, direct(4, 3), (4 - 3) + 1),
    (2, 5, direct(5, 4, p=2), (5 - 4) + 2 * 2 + 1),
    (3, 5, direct(5, 3, p=1), 5),                                   # half padding: o = i
    (4, 5, direct(5, 3, p=2), 5 + (3 - 1)),                         # full padding
    (5, 5, direct(5, 3, s=2), (5 - 3) // 2 + 1),
    (6, 6, direct(6, 3, s=2, p=1), (6 + 2 * 1 - 3) // 2 + 1),
    (7, 5, {"type": "maxpool", "kernel": 3, "stride": 1}, (5 - 3) // 1 + 1),
    (8, 2, transposed(3), 2 + (3 - 1)),                             # of rel. 1: gives back i = 4
    (9, 6, transposed(4, p=2), 6 + (4 - 1) - 2 * 2),                # of rel. 2: i = 5
    (10, 5, transposed(3, p=1), 5),                                 # of rel. 3
    (11, 7, transposed(3, p=2), 7 - (3 - 1)),                       # of rel. 4: i = 5
    (12, 2, transposed(3, s=2), 2 * (2 - 1) + 3),                   # of rel. 5: i = 5
    (13, 3, transposed(3, s=2, p=1), 2 * (3 - 1) + 3 - 2 * 1),      # of rel. 6 at i = 5
    (14, 3, transposed(3, s=2, p=1, a=1), 2 * (3 - 1) + 1 + 3 - 2),  # of rel. 6 at i = 6: a = (6 + 2 − 3) mod 2
    (15, 7, direct(7, 3, d=2), (7 + 0 - 3 - (3 - 1) * (2 - 1)) // 1 + 1),
]


@pytest.mark.parametrize("number, i, layer, expected", RELATIONSHIPS, ids=[f"rel{r[0]}" for r in RELATIONSHIPS])
def test_conv_arithmetic_relationships(number, i, layer, expected):
    rep = cnncalc.analyze(one_layer((1, i, i), layer))
    assert rep.output[1:] == [expected, expected]
    if layer["type"] == "conv_transpose":   # it gives back the size of the direct convolution's input
        back = {8: 4, 9: 5, 10: 5, 11: 5, 12: 5, 13: 5, 14: 6}[number]
        assert expected == back
        fields = tuple(layer[f] for f in ("kernel", "stride", "padding", "output_padding"))
        module = nn.ConvTranspose2d(1, 1, *fields)
    elif layer["type"] == "conv":
        module = nn.Conv2d(1, 1, layer["kernel"], layer["stride"], layer["padding"], layer["dilation"])
    else:
        module = nn.MaxPool2d(layer["kernel"], layer["stride"])
    assert measure(module, (1, i, i)).output == rep.output


# -- bad input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, layer, message", [
    ((4, 8, 8), transposed(3, s=2, a=2), "output_padding 2 must be smaller than the stride 2 or the dilation 1"),
    ((4, 8, 8), dict(transposed(3), groups=3), "groups=3 does not divide filters=1"),
    ((4, 8, 8), dict(transposed(3), filters=3, groups=3), "groups=3 does not divide the 4 input channels"),
    ((4, 2, 2), transposed(3, p=3), "shrinks to nothing"),
    ((4, 8), dict(transposed(3), type="conv_transpose2d"), "conv_transpose2d needs a C×H×W map, got C×L 4×8"),
    ((4, 8, 8), dict(transposed(3), stride=[2, 2, 2]), "stride \\[2, 2, 2\\] has 3 entries"),
])
def test_conv_transpose_bad_input(shape, layer, message):
    with pytest.raises(CnncalcError, match=message):
        cnncalc.analyze(one_layer(shape, layer))


# -- upsample -------------------------------------------------------------------------------------------

MODES = {1: ["nearest", "nearest-exact", "linear"], 2: ["nearest", "nearest-exact", "bilinear", "bicubic"],
         3: ["nearest", "nearest-exact", "trilinear"]}


@given(data=st.data(), shape=map_shapes((1, 2, 3)), by=st.sampled_from(["scale", "size", "float"]))
def test_upsample_matches_torch(data, shape, by):
    r = len(shape) - 1
    mode = data.draw(st.sampled_from(MODES[r] + ["bilinear"]))  # bilinear on a non-2-D map: both refuse
    corners = data.draw(st.sampled_from([None, True, False]))
    if by == "size":
        value = data.draw(per_axis(r, 1, 12))
    elif by == "scale":
        value = data.draw(per_axis(r, 1, 3))
    else:
        value = data.draw(st.sampled_from([0.5, 1.5, 2.5, 0.75, 1.3]))
    key = "size" if by == "size" else "scale"
    layer = {"type": "upsample", key: value, "mode": mode}
    if corners is not None:
        layer["align_corners"] = corners
    kw = {"size": tup(value, r)} if key == "size" else {
        "scale_factor": tuple(value) if isinstance(value, list) else (float(value),) * r}
    agree(one_layer(shape, layer), lambda: nn.Upsample(**kw, mode=mode, align_corners=corners), shape,
          stricter=empty_map)



def test_upsample_size_of_another_layer_and_of_the_input():
    """FCN's head: interpolate(x, size=input.shape[-2:]); inside a block `input` is the block's input."""
    spec = {"name": "fcn", "input": [3, 37, 45], "blocks": {"head": {"layers": [
        {"type": "conv", "filters": 4, "kernel": 3, "stride": 2},
        {"type": "upsample", "size_of": "input", "mode": "bilinear", "align_corners": False}]}},
        "layers": [{"name": "stem", "type": "conv", "filters": 8, "kernel": 3, "stride": 2},
                   {"name": "head", "type": "head"},
                   {"name": "out", "type": "upsample", "size_of": "input", "mode": "bilinear"}]}
    rep = cnncalc.analyze(spec)
    stem = [8, (37 - 3) // 2 + 1, (45 - 3) // 2 + 1]
    assert [row.output for row in rep.layers] == [stem, [4, (stem[1] - 3) // 2 + 1, (stem[2] - 3) // 2 + 1],
                                                  stem[:1] and [4] + stem[1:], [4, 37, 45]]
    assert rep.totals.other_ops == 4 * 4 * stem[1] * stem[2] + 4 * 4 * 37 * 45   # bilinear: 4 taps per output


@pytest.mark.parametrize("layer, message", [
    ({"type": "upsample", "scale": 2, "size": 8}, "exactly one of scale, size or size_of \\(got scale, size\\)"),
    ({"type": "upsample"}, "exactly one of scale, size or size_of"),
    ({"type": "upsample", "scale": 2, "size_of": "input"}, "got scale, size_of"),
    ({"type": "upsample", "scale": 2, "mode": "trilinear"}, "mode trilinear needs a C×D×H×W map, got C×H×W"),
    ({"type": "upsample", "scale": 2, "align_corners": True}, "align_corners needs an interpolating mode"),
    ({"type": "upsample", "scale": 0}, "numbers > 0"),
    ({"type": "upsample", "size_of": "nowhere"}, "size_of: no earlier layer named 'nowhere'"),
    ({"type": "upsample", "mode": "area", "scale": 2}, "mode"),
])
def test_upsample_bad_input(layer, message):
    with pytest.raises(CnncalcError, match=message):
        cnncalc.analyze(one_layer((3, 8, 8), layer))


# -- pad and concat crop --------------------------------------------------------------------------------

SIDES = {1: ["left", "right"], 2: ["top", "bottom", "left", "right"],
         3: ["front", "back", "top", "bottom", "left", "right"]}


@given(data=st.data(), shape=map_shapes((1, 2, 3)), mode=st.sampled_from(["zeros", "reflect", "replicate",
                                                                           "circular"]))
def test_pad_matches_torch(data, shape, mode):
    r = len(shape) - 1
    if data.draw(st.booleans()):
        padding = data.draw(st.integers(0, 5))
        sides = {s: padding for s in SIDES[r]}
    else:
        sides = data.draw(st.dictionaries(st.sampled_from(SIDES[r]), st.integers(0, 5), min_size=1))
        padding = sides
    flat = []
    for b, a in reversed(list(zip(SIDES[r][::2], SIDES[r][1::2]))):
        flat += [sides.get(b, 0), sides.get(a, 0)]
    layer = {"type": "pad", "padding": padding, "mode": mode}
    torch_mode = "constant" if mode == "zeros" else mode

    class TorchPad(nn.Module):
        def forward(self, x):
            return nn.functional.pad(x, flat, mode=torch_mode)
    agree(one_layer(shape, layer), TorchPad, shape)


def test_darknet_zero_pad_is_right_and_bottom():
    """yolov3-tiny: ZeroPad2d((0, 1, 0, 1)) then a 2×2 stride-1 max pool keeps 13×13."""
    spec = one_layer((512, 13, 13), {"type": "pad", "padding": {"right": 1, "bottom": 1}})
    spec["layers"].append({"type": "maxpool", "kernel": 2, "stride": 1})
    rep = cnncalc.analyze(spec)
    assert rep.layers[0].output == [512, 14, 14] and rep.output == [512, 13, 13]
    assert measure(nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.MaxPool2d(2, 1)), (512, 13, 13)).output == rep.output


@pytest.mark.parametrize("shape, layer, message", [
    ((3, 4, 4), {"type": "pad", "padding": 4, "mode": "reflect"}, "reflect padding 4 on H must be smaller than"),
    ((3, 4, 4), {"type": "pad", "padding": {"front": 1}}, "padding side 'front' does not exist on a 3×4×4 map"),
    ((3, 4, 4), {"type": "pad", "padding": {"up": 1}}, "unknown side 'up'"),
    ((3, 4, 4), {"type": "pad", "padding": -1}, "must be ≥ 0"),
    ((3, 4, 4), {"type": "pad", "padding": 1, "mode": "reflect", "value": 1}, "takes no value"),
    ((3, 4, 4), {"type": "pad", "padding": 5, "mode": "circular"}, "circular padding 5 on H must be at most"),
])
def test_pad_bad_input(shape, layer, message):
    with pytest.raises(CnncalcError, match=message):
        cnncalc.analyze(one_layer(shape, layer))


def unet_step(crop="center", skip_size=(16, 16)):
    return {"name": "crop", "input": [2, *skip_size], "layers": [
        {"name": "skip", "type": "conv", "filters": 4, "kernel": 1},
        {"name": "down", "type": "conv", "filters": 4, "kernel": 3, "stride": 2},
        {"name": "up", "type": "conv_transpose", "filters": 4, "kernel": 2, "stride": 2},
        {"name": "cat", "type": "concat", "inputs": ["up", "skip"], **({"crop": crop} if crop else {})}]}


def test_concat_crop_center_matches_a_hand_built_torch_crop():
    """16 → conv 3/2 → 7 → up 2/2 → 14: the 16×16 skip is cropped 1 row and col before, 1 after (U-Net)."""
    rep = cnncalc.analyze(unet_step())
    assert rep.output == [4 + 4, 14, 14]
    x = torch.randn(1, 2, 16, 16)
    skip = nn.Conv2d(2, 4, 1)(x)
    up = nn.ConvTranspose2d(4, 4, 2, 2)(nn.Conv2d(4, 4, 3, 2)(skip))
    assert list(torch.cat((up, skip[:, :, 1:15, 1:15]), 1).shape[1:]) == rep.output
    assert rep.misaligned == []   # a centred crop keeps the two paths' fields centred on each other


@pytest.mark.parametrize("crop, skip, message", [
    (None, (16, 16), "spatial sizes differ"),
    ("center", (14, 14), None),
])
def test_concat_crop_only_where_sizes_differ(crop, skip, message):
    spec = unet_step(crop, skip)
    if skip == (14, 14):   # 14 → 6 → 12: with a 12×12 skip nothing differs
        spec["layers"][0] = {"name": "skip", "type": "conv", "filters": 4, "kernel": 3}
        spec["input"] = [2, 14, 14]
        message = "crop: center, but the inputs' spatial sizes agree"
        spec["layers"][1]["kernel"] = 2
    with pytest.raises(CnncalcError, match=message):
        cnncalc.analyze(spec)


@given(k=st.integers(1, 5), s=st.integers(1, 3), p=st.integers(0, 4), d=st.integers(1, 2), n=st.integers(6, 12))
def test_conv_transpose_receptive_field_of_unit_0_by_autograd(k, s, p, d, n):
    """The inputs output unit 0 reads are those whose gradient is non-zero (weights and inputs all ones)."""
    spec = one_layer((1, n), {"type": "conv_transpose", "filters": 1, "kernel": k, "stride": s, "padding": p,
                              "dilation": d, "bias": False})
    try:
        rf = cnncalc.analyze(spec).layers[0].rf.axes[0]
    except CnncalcError:
        return   # an empty output (test_conv_transpose_matches_torch proves torch agrees)
    module = nn.ConvTranspose1d(1, 1, k, s, p, dilation=d, bias=False)
    nn.init.ones_(module.weight)
    x = torch.ones(1, 1, n, requires_grad=True)
    module(x)[0, 0, 0].backward()
    seen = [i for i in range(n) if x.grad[0, 0, i] != 0]
    if all((p - t * d) % s for t in range(k)):   # unit 0 falls between the inputs: it reads none
        assert seen == []
        return
    first, last = -rf.padding, -rf.padding + rf.size - 1
    if first >= 0:   # the ends inside the input are the first and the last input it reads
        assert seen[0] == first
    if 0 <= last < n:
        assert seen[-1] == last
    if seen:
        assert first <= seen[0] and seen[-1] <= last

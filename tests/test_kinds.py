"""Maps of every dimensionality (C×L, C×H×W, C×D×H×W): conv, pools, adaptive pools and batchnorm take their
rank from the input, against PyTorch's Conv1d/3d, MaxPool1d/3d, AvgPool1d/3d, AdaptiveAvg/MaxPool1d/2d/3d and
BatchNorm1d/3d (shape from the tensor, params/buffers as numel, MACs = FlopCounterMode / 2), validity both
ways as in test_properties.py; the rank aliases (conv3d, maxpool1d, …) and their errors; the receptive field
per axis; `--input` and the answers file at every rank.
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.cli import app  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.spec.builder import override_input, parse_shape  # noqa: E402
from test_properties import agree, one_layer  # noqa: E402

torch.set_num_threads(1)


def per_axis(rank: int, lo: int, hi: int):
    """An int or a list with one entry per spatial axis, as the YAML format takes them."""
    return st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=rank, max_size=rank))


def tup(v, rank: int):
    return (v,) * rank if isinstance(v, int) else tuple(v)


@st.composite
def map_shapes(draw, ranks=(1, 3)):
    rank = draw(st.sampled_from(ranks))
    hi = {1: 40, 2: 16, 3: 9}[rank]
    return (draw(st.integers(1, 4)),) + tuple(draw(st.integers(1, hi)) for _ in range(rank))


CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
MAXPOOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVGPOOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
ADAPTIVE = {"adaptive_avgpool": (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d),
            "adaptive_maxpool": (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)}


@given(data=st.data(), shape=map_shapes(), filters=st.integers(1, 4), groups=st.sampled_from([1, 1, 2]),
       bias=st.booleans(), alias=st.booleans())
def test_conv_1d_3d_matches_torch(data, shape, filters, groups, bias, alias):
    r = len(shape) - 1
    kernel, stride = data.draw(per_axis(r, 1, 5)), data.draw(per_axis(r, 1, 3))
    padding = data.draw(st.one_of(per_axis(r, 0, 3), st.sampled_from(["same", "valid"])))
    dilation = data.draw(per_axis(r, 1, 2))
    layer = {"type": f"conv{r}d" if alias else "conv", "filters": filters, "kernel": kernel, "stride": stride,
             "padding": padding, "dilation": dilation, "groups": groups, "bias": bias}
    pad = padding if isinstance(padding, str) else tup(padding, r)
    agree(one_layer(shape, layer), lambda: CONV[r](shape[0], filters, tup(kernel, r), tup(stride, r), pad,
                                                   tup(dilation, r), groups, bias), shape)


@given(data=st.data(), shape=map_shapes(), kind=st.sampled_from(["maxpool", "avgpool"]), ceil_mode=st.booleans(),
       count_include_pad=st.booleans())
def test_pool_1d_3d_matches_torch(data, shape, kind, ceil_mode, count_include_pad):
    r = len(shape) - 1
    kernel, padding = data.draw(per_axis(r, 1, 4)), data.draw(per_axis(r, 0, 2))
    stride = data.draw(st.one_of(st.none(), per_axis(r, 1, 3)))
    layer = {"type": kind, "kernel": kernel, "padding": padding, "ceil_mode": ceil_mode}
    if stride is not None:
        layer["stride"] = stride
    s = None if stride is None else tup(stride, r)
    if kind == "maxpool":
        dilation = data.draw(per_axis(r, 1, 2))
        layer["dilation"] = dilation
        make = lambda: MAXPOOL[r](tup(kernel, r), s, tup(padding, r), tup(dilation, r), ceil_mode=ceil_mode)  # noqa: E731
    else:
        layer["count_include_pad"] = count_include_pad
        make = lambda: AVGPOOL[r](tup(kernel, r), s, tup(padding, r), ceil_mode=ceil_mode,  # noqa: E731
                                  count_include_pad=count_include_pad)
    agree(one_layer(shape, layer), make, shape)


@given(data=st.data(), shape=map_shapes((1, 2, 3)), kind=st.sampled_from(sorted(ADAPTIVE)))
def test_adaptive_pools_every_rank_match_torch(data, shape, kind):
    r = len(shape) - 1
    output = data.draw(st.one_of(st.none(), per_axis(r, 1, 7)))
    layer = {"type": kind} if output is None else {"type": kind, "output": output}
    agree(one_layer(shape, layer), lambda: ADAPTIVE[kind][r - 1]((1,) * r if output is None else tup(output, r)),
          shape)


def test_adaptive_maxpool_other_ops_are_window_comparisons():
    """7 → 3 on one axis: PyTorch's windows [0,3) [2,5) [4,7) of 3 each: 2 comparisons per output, 4 channels."""
    rep = cnncalc.analyze(one_layer((4, 7), {"type": "adaptive_maxpool", "output": 3}))
    assert rep.totals.other_ops == 4 * 3 * (3 - 1)


@given(shape=map_shapes((1, 3)), affine=st.booleans(), alias=st.booleans())
def test_batchnorm_every_rank_matches_torch(shape, affine, alias):
    r = len(shape) - 1
    bn = {1: nn.BatchNorm1d, 3: nn.BatchNorm3d}[r]
    layer = {"type": f"batchnorm{r}d" if alias else "batchnorm", "affine": affine}
    agree(one_layer(shape, layer), lambda: bn(shape[0], affine=affine), shape)


@pytest.mark.parametrize("shape, layer, message", [
    ((64, 56, 56), {"type": "conv3d", "filters": 8, "kernel": 3}, "conv3d needs a C×D×H×W map, got C×H×W 64×56×56"),
    ((1, 32000), {"type": "conv2d", "filters": 8, "kernel": 3}, "conv2d needs a C×H×W map, got C×L 1×32000"),
    ((3, 8, 8, 8), {"type": "maxpool1d", "kernel": 2}, "maxpool1d needs a C×L map, got C×D×H×W 3×8×8×8"),
    ((3, 8, 8), {"type": "avgpool2d", "kernel": [2, 2, 2]}, "kernel [2, 2, 2] has 3 entries but the input 3×8×8 has 2"),
    ((3, 8, 8), {"type": "conv", "filters": 1, "kernel": 3, "stride": [1, 2, 2]}, "stride [1, 2, 2] has 3 entries"),
    ((3, 8, 8), {"type": "batchnorm3d"}, "batchnorm3d needs a C×D×H×W map, got C×H×W 3×8×8"),
    ((3, 8, 8, 8), {"type": "batchnorm1d"}, "batchnorm1d needs a vector N or a C×L map"),
    ((3, 8, 8), {"type": "adaptive_maxpool", "output": [1, 1, 1]}, "output [1, 1, 1] has 3 entries"),
])
def test_rank_mismatches_are_errors_naming_both(shape, layer, message):
    with pytest.raises(CnncalcError, match=message.replace("[", r"\[")):
        cnncalc.analyze(one_layer(shape, layer))


def test_inputs_of_every_rank():
    assert parse_shape([1, 32000]) == (1, 32000)
    assert parse_shape("3x16x112x112") == (3, 16, 112, 112)
    assert parse_shape([10]) == (10,)
    with pytest.raises(CnncalcError):
        parse_shape([1, 2, 3, 4, 5])
    assert override_input((1, 32000), "16000") == (1, 16000)
    assert override_input((3, 16, 112, 112), "64") == (3, 64, 64, 64)
    assert override_input((3, 16, 112, 112), "64x48") == (3, 16, 64, 48)
    assert override_input((3, 16, 112, 112), "8x64x48") == (3, 8, 64, 48)
    assert override_input((3, 224, 224), "64x48") == (3, 64, 48)


def test_shapes_print_at_every_rank(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("name: v\ninput: [3, 16, 112, 112]\nlayers:\n  - {type: conv3d, filters: 4, kernel: 3}\n",
                    encoding="utf-8")
    out = CliRunner().invoke(app, ["analyze", str(path), "--input", "8x32x32"], env={"COLUMNS": "120"})
    assert out.exit_code == 0, out.output
    assert "3×8×32×32 → 4×6×30×30" in out.output   # 8 − 3 + 1 = 6, 32 − 3 + 1 = 30


def test_receptive_field_per_axis_3d():
    """Araujo et al.: r = 1 + Σ (k − 1)·Π strides before, per axis; pool 1×2×2 then conv 3: D 1+2+2 = 5,
    H/W 1 + 2 + 1·1 + 2·2 = 8 (conv 3 → 3, pool 2/2 → 4, conv 3 at jump 2 → 8)."""
    spec = one_layer((3, 16, 32, 32), {"type": "conv", "filters": 4, "kernel": 3, "padding": 1})
    spec["layers"] += [{"type": "maxpool", "kernel": [1, 2, 2]}, {"type": "conv", "filters": 4, "kernel": 3}]
    rf = cnncalc.analyze(spec).layers[-1].rf
    assert [(a.size, a.stride) for a in rf.axes] == [(3 + 2, 1), (4 + 2 * 2, 2), (4 + 2 * 2, 2)]
    assert (rf.size, rf.size_w) == (5, 8)


def test_receptive_field_1d_and_2d_keep_their_form():
    rf1 = cnncalc.analyze(one_layer((1, 100), {"type": "conv", "filters": 1, "kernel": 80, "stride": 4})).layers[0].rf
    assert [(a.size, a.stride) for a in rf1.axes] == [(80, 4)]
    rf2 = cnncalc.analyze(one_layer((1, 10, 10), {"type": "conv", "filters": 1, "kernel": 3})).layers[0].rf
    assert rf2.axes is None and "axes" not in rf2.model_dump_json()   # C×H×W reports stay as they were


def test_answers_file_shapes_at_every_rank():
    from cnncalc.exam.numbers import parse_shape as answer, shape_matches
    assert shape_matches(answer("16x56x56x64", "HWC"), (64, 16, 56, 56))   # D×H×W×C in the course's layout
    assert shape_matches(answer("64x16x56x56", "CHW"), (64, 16, 56, 56))
    assert shape_matches(answer("7981x128", "HWC"), (128, 7981))           # L×C
    assert shape_matches(answer("128x7981", "CHW"), (128, 7981))
    assert not shape_matches(answer("128x7981", "HWC"), (128, 7981))

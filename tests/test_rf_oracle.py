"""The receptive field proved by running it (`cnncalc verify --rf`): autograd's support against the static field.

The oracle (cnncalc.pytorch.rf_oracle) makes the network linear and monotone and reads, for units 0, 1
and the centre of every spatial layer, the input positions with a non-zero gradient. Here it is set
against built-ins, the dilated stack of the gridding effect, adaptive pooling with uneven windows,
random chains and small DAGs (hypothesis), and a deliberately wrong field (the oracle must object).
"""
from __future__ import annotations

import json
import os

import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, assume, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from cnncalc.analysis.analyze import load  # noqa: E402
from cnncalc.analysis.receptive import receptive_fields, seen_positions  # noqa: E402
from cnncalc.cli import app  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.pytorch.rf_oracle import rf_verify  # noqa: E402

DEEP = bool(os.environ.get("CNNCALC_DEEP"))
SMALL = (5_000_000, 60_000_000)      # budget: float32 elements, MACs of all backward passes


def net(layers, input=(2, 33, 33)):
    return {"name": "t", "input": list(input), "layers": layers}


def rows(v):
    return {r.name: r for r in v.layers}


# -- built-ins -------------------------------------------------------------------------------------

def builtins():
    from cnncalc.spec.builtins import builtin_names
    return builtin_names() if DEEP else ["lenet5", "alexnet", "resnet18", "mobilenet_v2", "squeezenet1_1"]


@pytest.mark.parametrize("name", builtins())
def test_builtins_agree_with_the_gradient(name):
    # CI: a small budget (the oracle runs at a reduced input); the deep run: every built-in, default budget
    v = rf_verify(name) if DEEP else rf_verify(name, budget=SMALL)
    assert v.ok, [r.mismatches for r in v.layers if r.mismatches][:3]
    assert v.checked >= 3 and all(r.axes for r in v.layers)


def test_lenet5_field_is_whole_and_matches_the_course():
    # C1 5, S2 5+1=6, C3 6+(5−1)·2=14, S4 14+(2−1)·2=16, C5 16+(5−1)·4=32 (the course notes' recursion)
    v = rf_verify("lenet5")
    r = rows(v)
    assert [r[n].axes[0].size for n in ("C1", "S2", "C3", "S4", "C5")] == [5, 6, 6 + 4 * 2, 14 + 1 * 2, 16 + 4 * 4]
    assert all(a.whole and a.torch_seen == a.size for n in ("C1", "C3", "C5") for a in r[n].axes)
    assert v.reduced_from is None and v.input == [1, 32, 32]


def test_a_costly_network_runs_smaller_and_says_so():
    v = rf_verify("alexnet", budget=SMALL)
    assert v.ok and v.reduced_from == [3, 227, 227] and v.input[1] < 227


# -- the gridding effect ---------------------------------------------------------------------------

def test_dilated_stack_has_holes_that_the_gradient_shows():
    # three 3×3 convs dilated 2: r = 1 + 3·2·(3−1) = 13, but only the even offsets are seen: 13 // 2 + 1 = 7
    spec = net([{"type": "conv", "filters": 2, "kernel": 3, "dilation": 2} for _ in range(3)], (1, 40, 40))
    v = rf_verify(spec)
    last = v.layers[-1]
    assert v.ok
    for a in last.axes:
        assert (a.size, a.seen) == (1 + 3 * 2 * (3 - 1), 13 // 2 + 1)
        assert a.whole and a.torch_seen == a.seen


def test_hdc_dilations_1_2_5_leave_no_holes():
    # Wang et al. 2018 (hybrid dilated convolution): rates 1, 2, 5 cover every position of r = 1+2+4+10 = 17
    spec = net([{"type": "conv", "filters": 2, "kernel": 3, "dilation": d} for d in (1, 2, 5)], (1, 40, 40))
    graph = load(spec)
    masks = seen_positions(graph)
    states, _ = receptive_fields(graph)
    assert states[-1][0].r == 1 + 2 * (1 + 2 + 5) and bin(masks[-1][0]).count("1") == 17
    assert rf_verify(spec).ok


# -- uneven windows and clipping -------------------------------------------------------------------

def test_adaptive_pool_uneven_windows():
    # 7 → 3: windows [0, 3), [2, 5), [4, 7) (PyTorch: ⌊i·7/3⌋ … ⌈(i+1)·7/3⌉)
    spec = net([{"type": "conv", "filters": 2, "kernel": 3, "padding": 1},
                {"type": "adaptive_avgpool", "output": 3}], (1, 7, 7))
    assert rf_verify(spec).ok


def test_rows_dropped_by_floor_are_not_in_any_field():
    # 125 → conv 11/4 → 29 units covering rows 0 … 28·4 + 10 = 122: rows 123 and 124 are seen by nobody.
    # The last conv (33, padding 2) has one unit reading every unit before it: the Distill field
    # r = 11 + (5−1)·4 + (33−1)·4 = 155, P = 2·4 + 2·4 = 16 would reach row 155 − 1 − 16 = 138, past the
    # input's 124; the unit really sees rows 0 … 122, and so does cnncalc's clipped field.
    spec = net([{"type": "conv", "filters": 2, "kernel": 11, "stride": 4},
                {"type": "conv", "filters": 2, "kernel": 5, "padding": 2},
                {"type": "conv", "filters": 2, "kernel": 33, "padding": 2}], (1, 125, 125))
    v = rf_verify(spec)
    last = v.layers[-1].axes[0]
    assert v.ok and (last.size, last.padding) == (11 + 4 * 4 + 32 * 4, 2 * 4 + 2 * 4)
    assert last.region == last.torch_region == [0, 28 * 4 + 10]


def test_a_unit_in_the_padding_of_one_axis_sees_nothing_on_any():
    # found by the property below: conv 1×1 padding 1 makes row 0 a padding row; a unit there sees no
    # input at all, although along the other axis its taps are real
    spec = net([{"type": "conv", "filters": 2, "kernel": 1},
                {"type": "conv", "filters": 2, "kernel": 1, "stride": 2},
                {"type": "conv", "filters": 2, "kernel": 1, "padding": 1},
                {"type": "conv", "filters": 2, "kernel": 1, "stride": 2},
                {"residual": {"body": [{"type": "conv", "filters": 2, "kernel": 3, "padding": 2, "dilation": 2}],
                              "shortcut": "identity"}}], (1, 6, 7))
    assert rf_verify(spec).ok


def test_a_wrong_static_field_is_caught(monkeypatch):
    from cnncalc.layers.conv import Conv
    real = Conv.rf_steps

    def off_by_one(self, ins):
        return tuple(s._replace(k=s.k + 1) for s in real(self, ins))
    monkeypatch.setattr(Conv, "rf_steps", off_by_one)
    v = rf_verify(net([{"type": "conv", "filters": 2, "kernel": 3}], (1, 16, 16)))
    assert not v.ok and v.layers[0].mismatches


# -- random chains and small DAGs ------------------------------------------------------------------

@st.composite
def items(draw):
    kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool", "residual", "branches", "conv_transpose",
                                 "upsample", "pad"]))
    if kind == "conv_transpose":
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        return {"type": kind, "filters": 2, "kernel": k, "stride": s, "padding": draw(st.integers(0, k - 1)),
                "output_padding": draw(st.integers(0, s - 1)), "dilation": 1}
    if kind == "upsample":
        mode = draw(st.sampled_from(["nearest", "nearest-exact", "bilinear"]))   # bicubic: see README
        how = draw(st.sampled_from(["scale", "size"]))
        item = {"type": kind, "mode": mode}
        item[how] = draw(st.integers(2, 3)) if how == "scale" else draw(st.integers(5, 50))
        if mode == "bilinear" and draw(st.booleans()):
            item["align_corners"] = True
        return item
    if kind == "pad":
        return {"type": kind, "padding": {"top": draw(st.integers(0, 2)), "left": draw(st.integers(0, 2)),
                                          "bottom": draw(st.integers(0, 2)), "right": 0}}
    if kind == "conv":
        k = draw(st.integers(1, 5))
        return {"type": "conv", "filters": 2, "kernel": k, "stride": draw(st.integers(1, 3)),
                "padding": draw(st.integers(0, k)), "dilation": draw(st.integers(1, 3))}
    if kind in ("maxpool", "avgpool"):
        k = draw(st.integers(1, 4))
        item = {"type": kind, "kernel": k, "stride": draw(st.integers(1, 3)), "padding": draw(st.integers(0, k // 2)),
                "ceil_mode": draw(st.booleans())}
        if kind == "maxpool":
            item["dilation"] = draw(st.integers(1, 2))
        return item
    if kind == "residual":
        d = draw(st.integers(1, 2))
        return {"residual": {"body": [{"type": "conv", "filters": 2, "kernel": 3, "padding": d, "dilation": d},
                                      {"type": "relu"}], "shortcut": "identity"}}
    d = draw(st.integers(1, 3))
    return {"branches": [[{"type": "conv", "filters": 2, "kernel": 1}],
                         [{"type": "conv", "filters": 3, "kernel": 3, "padding": d, "dilation": d}],
                         [{"type": "maxpool", "kernel": 3, "stride": 1, "padding": 1}]]}


@settings(max_examples=400 if DEEP else 15, deadline=None, suppress_health_check=list(HealthCheck))
@given(layers=st.lists(items(), min_size=1, max_size=5), h=st.integers(6, 40), w=st.integers(6, 40))
# found by this property: one branch sees only odd rows of a stride-2 transposed conv (nothing on H), and
# must not lend its W field to another branch's units
@example(layers=[{"type": "conv_transpose", "filters": 2, "kernel": 1, "stride": 2},
                 {"branches": [[{"type": "conv", "filters": 2, "kernel": 1}],
                               [{"type": "conv", "filters": 3, "kernel": 3, "padding": 2, "dilation": 2}],
                               [{"type": "maxpool", "kernel": 3, "stride": 1, "padding": 1}]]}], h=6, w=7)
def test_random_networks_static_field_equals_the_oracle(layers, h, w):
    spec = net([{"type": "conv", "filters": 2, "kernel": 1}] + layers, (1, h, w))
    try:
        load(spec)
    except CnncalcError:
        assume(False)
    v = rf_verify(spec)
    assert v.ok, [r.mismatches for r in v.layers if r.mismatches][:2]


@pytest.mark.parametrize("spec", [
    # 1-D: an audio-like dilated stack; 3-D: a C3D-like clip; decoders: transposed conv, upsampling modes
    net([{"type": "conv", "filters": 2, "kernel": 5, "stride": 2}, {"type": "conv", "filters": 2, "kernel": 3,
         "dilation": 2}, {"type": "maxpool", "kernel": 2}], (1, 64)),
    net([{"type": "conv", "filters": 2, "kernel": 3, "padding": 1}, {"type": "maxpool", "kernel": [1, 2, 2]},
         {"type": "conv", "filters": 2, "kernel": 3}], (1, 6, 12, 12)),
    net([{"type": "conv", "filters": 2, "kernel": 3, "stride": 2},
         {"type": "conv_transpose", "filters": 2, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1},
         {"type": "conv", "filters": 2, "kernel": 3}], (1, 17, 17)),
    net([{"type": "conv", "filters": 2, "kernel": 3}, {"type": "upsample", "size": 23, "mode": "bilinear"},
         {"type": "conv", "filters": 2, "kernel": 3}], (1, 12, 12)),
], ids=["1d", "3d", "conv_transpose", "bilinear_to_size"])
def test_any_rank_and_the_decoder_kinds(spec):
    v = rf_verify(spec)
    assert v.ok, [r.mismatches for r in v.layers if r.mismatches][:2]


# -- the command -------------------------------------------------------------------------------------

def test_cli_verify_rf():
    runner = CliRunner()
    res = runner.invoke(app, ["verify", "lenet5", "--rf"])
    assert res.exit_code == 0, res.output
    assert "agree with the gradient's support" in res.output
    res = runner.invoke(app, ["verify", "lenet5", "--rf", "--json"])
    data = json.loads(res.output)
    assert data["ok"] and data["checked"] == 5      # C1, S2, C3, S4, C5 run backward; the ReLUs inherit

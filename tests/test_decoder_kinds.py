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
                            tup(output_padding, r), groups, bias, tup(dilation, r)), shape)


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

"""layernorm, groupnorm, instancenorm and scale against PyTorch modules built here by hand (ConvNeXt's
LayerNorm2d as a permute around nn.LayerNorm, its layer scale as a (C, 1, 1) parameter): shape, params,
buffers, MACs (none: FlopCounterMode counts no normalisation), validity both ways; and the names users bring
from PyTorch.
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.layers import REGISTRY  # noqa: E402
from cnncalc.layers.base import SYNONYMS  # noqa: E402
from test_kinds import map_shapes  # noqa: E402
from test_properties import agree, one_layer  # noqa: E402

torch.set_num_threads(1)
shapes = st.one_of(st.tuples(st.integers(1, 12)), map_shapes((1, 2, 3)))


class ChannelsLast(nn.Module):
    """ConvNeXt's LayerNorm2d, written out: normalise the channels at each position."""

    def __init__(self, c, eps, affine):
        super().__init__()
        self.norm = nn.LayerNorm(c, eps=eps, elementwise_affine=affine)

    def forward(self, x):
        return self.norm(x.movedim(1, -1)).movedim(-1, 1)


class LayerScale(nn.Module):
    def __init__(self, c, rank):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((c,) + (1,) * rank, 1e-6))

    def forward(self, x):
        return x * self.gamma


@given(shape=shapes, over=st.sampled_from(["channels", "all", "last"]), affine=st.booleans(),
       eps=st.sampled_from([1e-5, 1e-6]))
def test_layernorm_matches_torch(shape, over, affine, eps):
    layer = {"type": "layernorm", "over": over, "affine": affine, "eps": eps}
    if over == "all" or len(shape) == 1:
        make = lambda: nn.LayerNorm(list(shape), eps=eps, elementwise_affine=affine)  # noqa: E731
    elif over == "last":   # PyTorch's LayerNorm(N) on a map: its last axis at each position
        make = lambda: nn.LayerNorm(shape[-1], eps=eps, elementwise_affine=affine)  # noqa: E731
    else:
        make = lambda: ChannelsLast(shape[0], eps, affine)  # noqa: E731
    agree(one_layer(shape, layer), make, shape)


def test_layernorm_over_all_is_pytorchs_layernorm_of_the_whole_sample():
    rep = cnncalc.analyze(one_layer((64, 7, 7), {"type": "layernorm", "over": "all"}))
    assert rep.totals.params == 2 * 64 * 7 * 7
    assert cnncalc.analyze(one_layer((64, 7, 7), {"type": "layernorm"})).totals.params == 2 * 64
    assert cnncalc.analyze(one_layer((7, 5, 64), {"type": "layernorm", "over": "last"})).totals.params == 2 * 64


@given(shape=shapes, groups=st.integers(1, 4), affine=st.booleans())
def test_groupnorm_matches_torch(shape, groups, affine):
    layer = {"type": "groupnorm", "groups": groups, "affine": affine}
    agree(one_layer(shape, layer), lambda: nn.GroupNorm(groups, shape[0], affine=affine), shape)


INSTANCE = {1: nn.InstanceNorm1d, 2: nn.InstanceNorm2d, 3: nn.InstanceNorm3d}


@given(shape=map_shapes((1, 2, 3)), affine=st.booleans(), track=st.booleans())
def test_instancenorm_matches_torch(shape, affine, track):
    layer = {"type": "instancenorm", "affine": affine, "track_running_stats": track}
    agree(one_layer(shape, layer),
          lambda: INSTANCE[len(shape) - 1](shape[0], affine=affine, track_running_stats=track).eval(), shape)


def test_instancenorm_defaults_are_pytorchs():
    """nn.InstanceNorm2d(64): affine=False, track_running_stats=False: no params, no buffers."""
    rep = cnncalc.analyze(one_layer((64, 8, 8), {"type": "instancenorm"}))
    assert (rep.totals.params, rep.totals.buffers) == (0, 0)
    module = nn.InstanceNorm2d(64)
    assert sum(p.numel() for p in module.parameters()) == 0 and sum(b.numel() for b in module.buffers()) == 0


@given(shape=map_shapes((1, 2, 3)))
def test_scale_matches_torch(shape):
    agree(one_layer(shape, {"type": "scale"}), lambda: LayerScale(shape[0], len(shape) - 1), shape)
    rep = cnncalc.analyze(one_layer(shape, {"type": "scale"}))
    n = 1
    for d in shape:
        n *= d
    assert (rep.totals.params, rep.totals.macs, rep.totals.other_ops) == (shape[0], 0, n)


@pytest.mark.parametrize("shape, layer, message", [
    ((6, 4, 4), {"type": "groupnorm", "groups": 4}, "groups=4 does not divide the 6 channels"),
    ((6, 4, 4), {"type": "groupnorm"}, "missing field 'groups'"),
    ((6,), {"type": "instancenorm"}, "instancenorm needs a C×H×W map, got a vector of 6"),
    ((6, 4, 4), {"type": "layernorm", "over": "rows"}, "over"),
    ((6, 4, 4), {"type": "layernorm", "eps": 0}, "eps"),
])
def test_norm_bad_input(shape, layer, message):
    with pytest.raises(CnncalcError, match=message):
        cnncalc.analyze(one_layer(shape, layer))


@pytest.mark.parametrize("name, kind", [("ConvTranspose2d", "conv_transpose"), ("deconv", "conv_transpose"),
                                        ("Upsample", "upsample"), ("interpolate", "upsample"), ("ZeroPad2d", "pad"),
                                        ("LayerNorm", "layernorm"), ("Conv2d", "conv"), ("BatchNorm2d", "batchnorm"),
                                        ("MaxPool2d", "maxpool"), ("GroupNorm", "groupnorm")])
def test_pytorch_names_get_the_kind(name, kind):
    with pytest.raises(CnncalcError, match=f"unknown layer kind '{name}': PyTorch's {name} is `{kind}` here"):
        cnncalc.analyze(one_layer((3, 8, 8), {"type": name}))


def test_other_unknown_kinds_list_the_kinds():
    with pytest.raises(CnncalcError) as e:
        cnncalc.analyze(one_layer((3, 8, 8), {"type": "frobnicate"}))
    assert "layer kinds: " in e.value.message and "conv_transpose" in e.value.message


def test_every_synonym_names_a_kind():
    assert set(SYNONYMS.values()) <= set(REGISTRY)
    assert not set(SYNONYMS) & set(REGISTRY)

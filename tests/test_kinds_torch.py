"""`verify` builds every new kind and agrees with torch; `export --torch` writes them (the decoder ops inline,
LayerNorm2d and Scale as classes in the file) and the exported module computes what pytorch.build computes."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.analysis.analyze import load  # noqa: E402
from cnncalc.pytorch.build import build  # noqa: E402
from cnncalc.pytorch.export import class_name, export_torch  # noqa: E402
from cnncalc.pytorch.verify import verify  # noqa: E402

torch.set_num_threads(1)


def decoder(rank: int) -> dict:
    """Every new kind on a map of `rank` spatial axes: a small encoder-decoder with a cropped skip."""
    size = {1: [40], 2: [20, 20], 3: [10, 12, 12]}[rank]
    mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[rank]
    side = {1: {"right": 1}, 2: {"right": 1, "bottom": 1}, 3: {"back": 1, "right": 1}}[rank]
    return {"name": f"decoder {rank}d", "input": [2, *size], "layers": [
        {"name": "e1", "type": "conv", "filters": 8, "kernel": 3},
        {"name": "bn", "type": "batchnorm"},
        {"name": "p1", "type": "maxpool", "kernel": 2},
        {"name": "e2", "type": "conv", "filters": 8, "kernel": 3},
        {"name": "a1", "type": "avgpool", "kernel": 1},
        {"name": "up", "type": "conv_transpose", "filters": 8, "kernel": 2, "stride": 2, "output_padding": 0},
        {"name": "cat", "type": "concat", "inputs": ["up", "e1"], "crop": "center"},
        {"name": "ln", "type": "layernorm"},
        {"name": "gn", "type": "groupnorm", "groups": 4},
        {"name": "in", "type": "instancenorm", "affine": True},
        {"name": "ls", "type": "scale"},
        {"name": "pad", "type": "pad", "padding": side, "mode": "replicate"},
        {"name": "ref", "type": "pad", "padding": 1, "mode": "reflect"},
        {"name": "x2", "type": "upsample", "scale": 2, "mode": "nearest"},
        {"name": "head", "type": "upsample", "size_of": "input", "mode": mode, "align_corners": False},
        {"name": "lnall", "type": "layernorm", "over": "all"},
        {"name": "gap", "type": "adaptive_maxpool", "output": 2},
        {"name": "fc", "type": "linear", "out": 3}]}


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_verify_builds_every_new_kind(rank):
    v = verify(decoder(rank), device="cpu")
    assert v.ok, [(r.name, r.mismatches) for r in v.layers if r.mismatches]
    assert v.torch_output == [1, 3]


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_verify_on_meta(rank):
    assert verify(decoder(rank), device="meta").ok


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_export_writes_every_new_kind(rank):
    spec = decoder(rank)
    code = export_torch(spec)
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "<export>", "exec"), ns)
    graph = load(spec)
    model = ns[class_name(graph)]().eval()
    net = build(graph).eval()
    model.load_state_dict(net.state_dict(), strict=True)
    x = torch.randn(2, *graph.input)
    with torch.no_grad():
        assert torch.allclose(model(x), net(x), atol=1e-5)
    report = cnncalc.analyze(spec)
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    assert "nn.functional.interpolate(" in code and "nn.functional.pad(" in code and "class LayerNorm2d" in code


def test_gradient_oracle_on_transposed_convs():
    """verify --rf: a stride-1 transposed conv's field (its taps flipped, dilated) agrees with autograd, and so
    does the field after a stride-2 one, whose effective stride is a fraction (checked unit by unit)."""
    from cnncalc.pytorch.rf_oracle import rf_verify
    spec = {"name": "t", "input": [2, 9, 9], "layers": [
        {"type": "conv_transpose", "filters": 3, "kernel": 3, "padding": 1},
        {"type": "conv_transpose", "filters": 3, "kernel": 2, "dilation": 2},
        {"type": "conv", "filters": 2, "kernel": 3}]}
    v = rf_verify(spec)
    assert v.ok, [r.mismatches for r in v.layers]
    spec["layers"][0]["stride"] = 2
    v = rf_verify(spec)
    assert v.ok and v.layers[0].axes[0].stride == "1/2", [r.mismatches for r in v.layers]

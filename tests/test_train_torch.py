"""The training figures against autograd (issue 17): `verify --train` on networks covering every layer
kind, the correction of FlopCounterMode's grouped weight gradient proved independently, and the CUDA
dropout rule. Every built-in at a reduced input runs with CNNCALC_DEEP=1 (results in docs/commands.md "Training")."""
from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.cli import app  # noqa: E402
from cnncalc.pytorch.verify_train import verify_train  # noqa: E402
from cnncalc.spec.builtins import builtin_names  # noqa: E402

EVERY_KIND = {"name": "every kind", "input": [4, 12, 12], "layers": [
    {"name": "conv", "type": "conv", "filters": 8, "kernel": 3, "padding": 1},
    {"name": "bn", "type": "batchnorm"}, {"name": "relu", "type": "relu"},
    {"name": "lrn", "type": "lrn", "size": 3},
    {"name": "dw", "type": "conv", "filters": 8, "kernel": 3, "padding": 1, "groups": 8, "bias": False},
    {"name": "hs", "type": "hardswish"},
    {"name": "split", "branches": [
        [{"name": "a", "type": "slice", "end": 4}, {"name": "s", "type": "sigmoid"}],
        [{"name": "b", "type": "slice", "start": 4}, {"name": "g", "type": "gelu"}]]},
    {"name": "shuffle", "type": "channel_shuffle", "groups": 2},
    {"name": "res", "residual": {"body": [
        {"name": "c1", "type": "conv", "filters": 8, "kernel": 1, "groups": 2}, {"name": "l", "type": "leaky_relu"},
        {"name": "c2", "type": "conv", "filters": 8, "kernel": 3, "padding": 1}], "shortcut": "identity"}},
    {"name": "pool", "type": "global_avgpool"}, {"name": "fc", "type": "conv", "filters": 8, "kernel": 1},
    {"name": "gate", "type": "hardsigmoid"}, {"name": "se", "type": "mul", "inputs": ["res", "gate"]},
    {"name": "mp", "type": "maxpool", "kernel": 2}, {"name": "ap", "type": "avgpool", "kernel": 3, "stride": 1},
    {"name": "aap", "type": "adaptive_avgpool", "output": 2}, {"name": "silu", "type": "silu"},
    {"name": "id", "type": "identity"}, {"name": "flat", "type": "flatten"},
    {"name": "drop", "type": "dropout", "p": 0.3}, {"name": "fc1", "type": "linear", "out": 10},
    {"name": "r6", "type": "relu6"}, {"name": "t", "type": "tanh"}, {"name": "e", "type": "elu"},
    {"name": "m", "type": "mish"}, {"name": "fc2", "type": "linear", "out": 5, "bias": False},
    {"name": "sm", "type": "softmax"}]}


def test_every_layer_kind_against_autograd():
    v = verify_train(EVERY_KIND)
    bad = [(b.batch, r.name, r.mismatches) for b in v.batches for r in b.layers if r.mismatches]
    assert v.ok and not bad, bad
    b = v.batches[-1]
    assert b.backward_macs == b.torch_backward_macs and b.saved_activation_bytes == b.torch_saved_activation_bytes
    assert b.peak_activation_bytes == b.torch_peak_activation_bytes
    # FlopCounterMode as shipped counts the grouped convs' weight gradients × groups
    assert b.torch_backward_macs_stock > b.torch_backward_macs


def test_se_mul_and_three_input_merges():
    net = {"name": "merges", "input": [4, 6, 6], "layers": [
        {"name": "c", "type": "conv", "filters": 4, "kernel": 1},
        {"name": "p", "type": "global_avgpool", "inputs": ["c"]},
        {"name": "m", "type": "mul", "inputs": ["c", "p"]},
        {"name": "d", "type": "conv", "filters": 4, "kernel": 1, "inputs": ["m"]},
        {"name": "a3", "type": "add", "inputs": ["c", "m", "d"]},
        {"name": "m3", "type": "mul", "inputs": ["a3", "d", "c"]},
        {"name": "k", "type": "concat", "inputs": ["m3", "a3", "c"]}]}
    v = verify_train(net)
    assert v.ok, [(r.name, r.mismatches) for b in v.batches for r in b.layers if r.mismatches]


def test_lenet5_from_the_command_line():
    res = CliRunner().invoke(app, ["verify", "lenet5", "--train"])
    assert res.exit_code == 0, res.output
    assert "training figures agree with PyTorch" in res.output and "batch 2" in res.output


def test_grouped_weight_gradient_correction_by_splitting_into_dense_convs():
    """A grouped conv equals `groups` dense convs on channel slices: stock FlopCounterMode counts those
    right, and their backward equals cnncalc's backward MACs of the grouped layer."""
    from torch.utils.flop_counter import FlopCounterMode
    g, c_in, c_out = 4, 8, 12
    net = {"name": "g", "input": [c_in, 9, 9], "layers": [
        {"name": "pre", "type": "conv", "filters": c_in, "kernel": 1},
        {"name": "grouped", "type": "conv", "filters": c_out, "kernel": 3, "groups": g}]}
    r = cnncalc.analyze(net, batch=2, train=True)
    ours = next(x for x in r.layers if x.name == "grouped").training.backward_macs
    x = torch.randn(2, c_in, 9, 9, requires_grad=True)
    dense = [torch.nn.Conv2d(c_in // g, c_out // g, 3) for _ in range(g)]
    counter = FlopCounterMode(display=False)
    with counter:
        y = torch.cat([m(part) for m, part in zip(dense, x.split(c_in // g, dim=1))], dim=1)
        forward = counter.get_total_flops()
        y.sum().backward()
    assert (counter.get_total_flops() - forward) // 2 == ours == 2 * 3 * 3 * (c_in // g) * 7 * 7 * c_out * 2


def test_the_cuda_dropout_kernel_keeps_a_one_byte_mask():
    """CUDA's fused dropout (torch.native_dropout, also callable on the CPU) keeps a bool mask: 1 byte."""
    saved = []
    x = torch.randn(3, 5, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        torch.native_dropout(x, 0.5, True)
    assert [(t.dtype, t.numel()) for t in saved] == [(torch.bool, 15)]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU: the CUDA peak comparison needs one")
def test_cuda_peak_is_reported_beside_the_prediction():
    v = verify_train("resnet18", input="3x64x64", batches=(8,), device="cuda")
    b = v.batches[0]
    assert v.ok and b.cuda_max_memory_allocated and 0.5 < b.cuda_max_memory_allocated / b.step_peak_bytes < 2


@pytest.mark.skipif(os.environ.get("CNNCALC_DEEP") != "1", reason="every built-in: CNNCALC_DEEP=1 (minutes)")
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_against_autograd(name):
    r = cnncalc.analyze(name)
    small = None
    if len(r.input) == 3 and r.input[1] > 64:
        for s in (64, 96, 128, 160, 224):
            try:
                cnncalc.analyze(name, input=f"{r.input[0]}x{s}x{s}")
                small = f"{r.input[0]}x{s}x{s}"
                break
            except cnncalc.CnncalcError:
                continue
    v = verify_train(name, input=small)
    assert v.ok, [(b.batch, r.name, r.mismatches) for b in v.batches for r in b.layers if r.mismatches]


def test_lenet5_as_printed_in_1998_against_autograd():
    """The paper's kinds: trainable subsampling (a depthwise conv), the C3 connection table (one gathered
    copy and conv per output map) and the fixed RBF output units."""
    v = verify_train("lenet5-paper")
    assert v.ok, [(b.batch, r.name, r.mismatches) for b in v.batches for r in b.layers if r.mismatches]


NEW_KINDS = {"name": "decoder kinds", "input": [4, 6, 6], "layers": [
    {"name": "c", "type": "conv", "filters": 4, "kernel": 1},
    {"name": "t", "type": "conv_transpose", "filters": 6, "kernel": 3, "stride": 2, "groups": 2},
    {"name": "u", "type": "upsample", "scale": 2}, {"name": "p", "type": "pad", "padding": 1, "mode": "reflect"},
    {"name": "q", "type": "pad", "padding": 1, "mode": "replicate"}, {"name": "z", "type": "pad", "padding": 1},
    {"name": "g", "type": "groupnorm", "groups": 2}, {"name": "i", "type": "instancenorm"},
    {"name": "ia", "type": "instancenorm", "affine": True, "track_running_stats": True},
    {"name": "l", "type": "layernorm"}, {"name": "la", "type": "layernorm", "over": "all"}, {"name": "s", "type": "scale"}]}
MAPS_1D_3D = [{"name": "3d", "input": [2, 6, 6, 6], "layers": [
    {"name": "c", "type": "conv", "filters": 4, "kernel": 3}, {"name": "m", "type": "maxpool", "kernel": 2},
    {"name": "b", "type": "batchnorm"}, {"name": "a", "type": "avgpool", "kernel": 2}]},
    {"name": "1d", "input": [2, 16], "layers": [
        {"name": "c", "type": "conv", "filters": 4, "kernel": 3}, {"name": "m", "type": "maxpool", "kernel": 2},
        {"name": "r", "type": "relu"}, {"name": "t", "type": "conv_transpose", "filters": 2, "kernel": 2, "stride": 2}]}]


@pytest.mark.parametrize("net", [NEW_KINDS] + MAPS_1D_3D, ids=lambda n: n["name"])
def test_decoder_norm_and_any_rank_kinds_against_autograd(net):
    v = verify_train(net)
    assert v.ok, [(b.batch, r.name, r.mismatches) for b in v.batches for r in b.layers if r.mismatches]

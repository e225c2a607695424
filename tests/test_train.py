"""Training figures (issue 17): backward MACs, memory of a training step, the largest batch that fits and
the inference peak — the static rules here, the proof against autograd in tests/test_train_torch.py."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.analysis import training as T
from cnncalc.analysis.analyze import load
from cnncalc.cli import app

runner = CliRunner()


def train(name, batch=1, dtype="fp32", optimizer="adam", **kw):
    return cnncalc.analyze(name, batch=batch, train=T.TrainConfig(batch, dtype, optimizer), **kw)


def test_backward_is_twice_the_forward_less_the_first_layers_input_gradient():
    r = train("lenet5")
    # C1's input (the image) needs no gradient: only its weight gradient, 5·5·1·28·28·6 MACs
    assert r.totals.training.backward_macs == 2 * r.totals.macs - 5 * 5 * 1 * 28 * 28 * 6
    c1 = next(x for x in r.layers if x.name == "C1")
    assert c1.training.backward_macs == c1.macs
    for row in r.layers:
        if row.macs == 0:
            assert row.training.backward_macs == 0   # layers without weights only pass gradients on


def test_step_macs_and_batch_scaling():
    one, eight = train("resnet50").totals.training, train("resnet50", batch=8).totals.training
    assert one.step_macs == one.forward_macs + one.backward_macs
    assert eight.backward_macs == 8 * one.backward_macs
    r = cnncalc.analyze("resnet50")
    assert one.backward_macs == 2 * r.totals.macs - 7 * 7 * 3 * 112 * 112 * 64   # conv1: weight gradient only


def test_auxiliary_heads_count_in_the_training_forward():
    r = train("inception_v3")
    aux = sum(x.macs for x in r.layers if x.train_only)
    assert aux > 0 and r.totals.training.forward_macs == r.totals.macs + aux


@pytest.mark.parametrize("dtype,optimizer,per_param", [
    ("fp32", "sgd", 4 + 4), ("fp32", "momentum", 4 + 4 + 4), ("fp32", "adam", 4 + 4 + 2 * 4),
    ("fp32", "adamw", 4 + 4 + 2 * 4),
    # mixed-precision Adam: 2 + 2 bytes of fp16 params and grads + 12 of fp32 master weights, momentum and
    # variance = 16 bytes per parameter (Rajbhandari et al., ZeRO, SC 2020, §3.1: "2Ψ + 2Ψ + 12Ψ = 16Ψ")
    ("fp16", "adam", 16), ("bf16", "adam", 16), ("bf16", "sgd", 2 + 2 + 4)])
def test_bytes_per_parameter(dtype, optimizer, per_param):
    r = train("lenet5", dtype=dtype, optimizer=optimizer)   # no buffers in LeNet-5
    tt = r.totals.training
    assert tt.param_bytes + tt.grad_bytes + tt.optimizer_bytes == per_param * r.totals.params


def test_per_layer_saved_bytes_sum_to_the_total_and_scale_with_the_batch():
    for name in ("lenet5", "resnet18", "densenet121"):
        r = train(name, batch=4)
        assert sum(x.training.saved_bytes for x in r.layers) == r.totals.training.saved_activation_bytes


def test_saved_bytes_of_a_small_net_by_hand():
    net = {"name": "t", "input": [3, 8, 8], "layers": [
        {"name": "c", "type": "conv", "filters": 4, "kernel": 3, "padding": 1},
        {"name": "bn", "type": "batchnorm"}, {"name": "r", "type": "relu"},
        {"name": "p", "type": "maxpool", "kernel": 2}, {"name": "d", "type": "dropout"},
        {"name": "fc", "type": "linear", "out": 5}]}
    r = cnncalc.analyze(net, batch=2, train=True)
    saved = {x.name: x.training.saved_bytes for x in r.layers}
    assert saved == {
        "c": 2 * 3 * 8 * 8 * 4,                 # the input image (its weight is a parameter)
        "bn": 2 * 4 * 8 * 8 * 4 + 2 * 4 * 4,    # its input + save_mean, save_invstd (C fp32 each)
        "r": 2 * 4 * 8 * 8 * 4,                 # its output, which max pooling keeps too: counted once
        "p": 2 * 4 * 4 * 4 * 8,                 # int64 indices
        "d": 2 * 4 * 4 * 4 * 1,                 # the mask, 1 byte (CUDA)
        "fc": 2 * 4 * 4 * 4 * 4}                # its input (flattened view of dropout's output)
    cpu = T.saved_bytes_per_layer(T.saved_keys(load(net), T.TrainConfig(2, device="cpu"), T.requires_grad(load(net))))
    assert cpu[4] == 2 * 4 * 4 * 4 * 4          # on the CPU torch keeps the mask as a float tensor


def test_fit_is_the_largest_batch_that_fits():
    g = load("resnet18")
    budget = T.parse_bytes("4GB")
    b, at_least = T.fit_batch(g, budget, T.TrainConfig(1))
    assert T.step_memory(g, T.TrainConfig(b)).peak_bytes <= budget < T.step_memory(g, T.TrainConfig(b + 1)).peak_bytes
    assert not at_least and T.fit_batch(g, 1000, T.TrainConfig(1)) == (0, False)


def test_parse_bytes():
    assert T.parse_bytes("16GB") == 16 * 10**9 and T.parse_bytes("16GiB") == 16 * 2**30
    assert T.parse_bytes("512MB") == 512 * 10**6 and T.parse_bytes("80G") == 80 * 10**9 and T.parse_bytes("1000") == 1000
    for bad in ("16XB", "GB", "-3GB", "16iB"):
        with pytest.raises(cnncalc.CnncalcError):
            T.parse_bytes(bad)


def test_inference_peak_of_a_chain_is_the_largest_neighbouring_pair_plus_the_input():
    r = cnncalc.analyze("vgg16", memory=True)
    sizes = [4 * x.activations for x in r.layers]
    image = 4 * 3 * 224 * 224
    pairs = [a + b for a, b in zip(sizes, sizes[1:])]
    # flatten is a view: fc6 reads pool5's storage; the largest pair is conv1_1's output and relu's
    assert r.totals.peak_activation_bytes == image + max(pairs)
    assert r.totals.peak_activation_bytes < r.totals.activation_bytes


def test_default_json_has_no_training_fields():
    data = json.loads(cnncalc.analyze("lenet5").model_dump_json())
    assert "training" not in data["totals"] and "peak_activation_bytes" not in data["totals"]
    assert all("training" not in row for row in data["layers"])


def test_cli_train_json_and_text():
    res = runner.invoke(app, ["analyze", "resnet18", "--train", "--batch", "4", "--optimizer", "momentum",
                              "--fit", "8GB", "--json"])
    assert res.exit_code == 0, res.output
    tt = json.loads(res.output)["totals"]["training"]
    assert set(tt) >= {"backward_macs", "step_macs", "saved_activation_bytes", "param_bytes", "grad_bytes",
                       "optimizer_bytes", "peak_bytes", "fit"} and tt["fit"]["budget_bytes"] == 8 * 10**9
    assert json.loads(res.output)["layers"][0]["training"]["backward_macs"] > 0
    text = runner.invoke(app, ["analyze", "lenet5", "--train"]).output
    for s in ("bwd MACs", "saved for bwd", "peak live", "optimizer"):
        assert s in text
    assert "peak live" in runner.invoke(app, ["analyze", "lenet5", "--memory"]).output


@pytest.mark.parametrize("args,msg", [(["--dtype", "fp8"], "--dtype"), (["--optimizer", "lion"], "--optimizer"),
                                      (["--fit", "lots"], "--fit")])
def test_cli_bad_training_options(args, msg):
    res = runner.invoke(app, ["analyze", "lenet5", "--train", *args])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and msg in res.output and "Traceback" not in res.output

"""Shared weights (`share:`), weight_norm / spectral_norm and frozen batch norm, against PyTorch modules built
here: a module applied twice (params = numel of its unique parameters, MACs = FlopCounterMode / 2 over every
use), `torch.nn.utils.parametrizations.weight_norm/spectral_norm` (numel of parameters() and buffers()), and
torchvision's FrozenBatchNorm2d written out (four buffers per channel, no parameters).
"""
from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn.utils import parametrizations  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.pytorch.build import build  # noqa: E402
from cnncalc.pytorch.export import export_torch  # noqa: E402
from cnncalc.spec import yamlio  # noqa: E402
from util import row  # noqa: E402

torch.set_num_threads(1)


def spec(text: str) -> dict:
    return yamlio.loads(text, "net.yaml")


def counted(module: nn.Module, x) -> tuple[int, int, int]:
    """(params, buffers, MACs) of a torch module on x: unique tensors, FlopCounterMode / 2 over every call."""
    with FlopCounterMode(display=False) as c, torch.no_grad():
        module.eval()(x)
    return (sum(p.numel() for p in module.parameters()), sum(b.numel() for b in module.buffers()),
            c.get_total_flops() // 2)


HEADS = """
name: heads
input: [16, 16, 16]
blocks:
  head:
    layers:
      - {type: conv, filters: 16, kernel: 3, padding: 1}
      - relu
      - {type: conv, filters: 9, kernel: 3, padding: 1}
layers:
  - {name: p3, type: conv, filters: 16, kernel: 3, padding: 1}
  - {name: p4, type: conv, filters: 16, kernel: 3, stride: 2, padding: 1}
  - {name: h3, type: head, inputs: [p3]}
  - {name: h4, type: head, inputs: [p4], share: h3}
  - {name: q4, type: conv, filters: 16, kernel: 3, stride: 1, padding: 1, inputs: [p4], share: p3}
outputs: [h3, h4, q4]
"""


class Heads(nn.Module):
    """RetinaNet's way: one head module applied to two levels of different sizes, and a conv reused."""

    def __init__(self):
        super().__init__()
        self.p3 = nn.Conv2d(16, 16, 3, padding=1)
        self.p4 = nn.Conv2d(16, 16, 3, stride=2, padding=1)
        self.head = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 9, 3, padding=1))

    def forward(self, x):
        p3, p4 = self.p3(x), self.p4(x)
        return self.head(p3), self.head(p4), self.p3(p4)


def test_share_counts_params_once_and_macs_at_every_use():
    r = cnncalc.analyze(spec(HEADS))
    ref = Heads()
    params, buffers, macs = counted(ref, torch.randn(1, 16, 16, 16))
    assert r.totals.params == params == (16 * 16 * 9 + 16) * 3 + 16 * 9 * 9 + 9
    assert r.totals.macs == macs
    assert [o.output for o in r.outputs] == [[9, 16, 16], [9, 8, 8], [16, 8, 8]]
    # the first use holds the params; later uses show none, and say whose they reuse
    assert row(r, "h3.conv1").params == 16 * 16 * 9 + 16 and row(r, "h4.conv1").params == 0
    assert "shares h3.conv1" in row(r, "h4.conv1").notes and "shares p3" in row(r, "q4").notes
    assert row(r, "h4.conv1").macs == 16 * 16 * 9 * 8 * 8  # work at the smaller level
    assert next(b for b in r.blocks if b.name == "h4").params == 0
    from cnncalc.analysis.explain import explain
    (_, lines), = explain(cnncalc.load(spec(HEADS)), "h4.conv1")
    assert any(ln.startswith("shares the parameters of h3.conv1") for ln in lines)


def test_share_builds_one_module_and_verifies():
    net = build(spec(HEADS))
    assert sum(p.numel() for p in net.parameters()) == cnncalc.analyze(spec(HEADS)).totals.params
    assert net.node("h4.conv1")._target[0] is net.node("h3.conv1")
    v = cnncalc.verify(spec(HEADS))
    assert v.ok, [(x.name, x.mismatches) for x in v.layers if x.mismatches]


def test_share_exported_code_applies_one_module_again():
    code = export_torch(spec(HEADS))
    assert code.count("nn.Conv2d(16, 9") == 1
    env: dict = {}
    exec(compile(code, "heads.py", "exec"), env)
    model = env["Heads"]().eval()
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in Heads().parameters())
    model.load_state_dict(build(spec(HEADS)).state_dict())  # the same attribute names, one copy of each


def test_share_training_figures_count_gradients_and_optimizer_state_once():
    t = cnncalc.analyze(spec(HEADS), train=True).totals
    assert t.training.optimizer == "adam" and t.training.dtype == "fp32"
    assert t.training.grad_bytes == 4 * t.params
    assert t.training.optimizer_bytes == 2 * 4 * t.params  # Adam: two fp32 states per parameter


@pytest.mark.parametrize("change, fragment", [
    ("{name: q4, type: conv, filters: 8, kernel: 3, padding: 1, inputs: [p4], share: p3}", "filters 8 here, 16 there"),
    ("{name: q4, type: conv, filters: 16, kernel: 3, padding: 1, inputs: [h3], share: p3}",
     "9 input channels here, 16 there"),
    ("{name: q4, type: maxpool, kernel: 2, inputs: [p4], share: p3}", "maxpool here, conv there"),
    ("{name: q4, type: conv, filters: 16, kernel: 3, padding: 1, inputs: [p4], share: p9}", "no earlier layer"),
    ("{name: q4, type: head, inputs: [p4], share: p3}", "no earlier instance of block 'head'"),
])
def test_share_refuses_what_cannot_share_in_one_line_naming_both(change, fragment):
    text = HEADS.replace("{name: q4, type: conv, filters: 16, kernel: 3, stride: 1, padding: 1, inputs: [p4], share: p3}",
                         change)
    with pytest.raises(CnncalcError) as e:
        cnncalc.analyze(spec(text))
    msg = str(e.value)
    assert "\n" not in msg and fragment in msg and "line 15: layers[4]" in msg, msg
    if "there" in fragment:
        assert "q4" in msg and "p3" in msg


NORMED = [
    ("conv", [4, 10], {"filters": 6, "kernel": 3}, lambda: nn.Conv1d(4, 6, 3)),
    ("conv", [4, 7, 7], {"filters": 6, "kernel": 3, "groups": 2}, lambda: nn.Conv2d(4, 6, 3, groups=2)),
    ("conv", [2, 5, 5, 5], {"filters": 3, "kernel": 2, "bias": False}, lambda: nn.Conv3d(2, 3, 2, bias=False)),
    ("conv_transpose", [4, 5, 5], {"filters": 6, "kernel": 3, "stride": 2, "groups": 2},
     lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)),
    ("conv_transpose", [3, 8], {"filters": 5, "kernel": 4}, lambda: nn.ConvTranspose1d(3, 5, 4)),
    ("linear", [12], {"out": 7}, lambda: nn.Linear(12, 7)),
]


@pytest.mark.parametrize("kind, shape, fields, make", NORMED)
@pytest.mark.parametrize("norms", [("weight_norm",), ("spectral_norm",), ("weight_norm", "spectral_norm")])
def test_weight_and_spectral_norm_as_torch_parametrizations(kind, shape, fields, make, norms):
    ref = make()
    for name in norms:
        ref = getattr(parametrizations, name)(ref)
    params, buffers, macs = counted(ref, torch.randn(1, *shape))
    r = cnncalc.analyze({"name": "n", "input": shape, "layers": [{"type": kind, **fields, **{k: True for k in norms}}]})
    assert (r.totals.params, r.totals.buffers, r.totals.macs) == (params, buffers, macs)
    assert all(k.replace("_", " ") in r.layers[0].notes for k in norms)
    assert cnncalc.verify({"name": "n", "input": shape, "layers": [{"type": kind, **fields,
                                                                    **{k: True for k in norms}}]}).ok


def test_weight_norm_adds_one_g_per_output_channel_spectral_norm_u_and_v():
    conv = {"type": "conv", "filters": 8, "kernel": 3}
    plain = cnncalc.analyze({"name": "n", "input": [4, 9, 9], "layers": [conv]}).totals
    wn = cnncalc.analyze({"name": "n", "input": [4, 9, 9], "layers": [{**conv, "weight_norm": True}]}).totals
    sn = cnncalc.analyze({"name": "n", "input": [4, 9, 9], "layers": [{**conv, "spectral_norm": True}]}).totals
    assert wn.params - plain.params == 8 and wn.macs == plain.macs
    assert (sn.params, sn.buffers) == (plain.params, 8 + 4 * 3 * 3)


def test_exported_code_writes_the_parametrizations():
    s = {"name": "n", "input": [4, 9, 9], "layers": [{"type": "conv", "filters": 8, "kernel": 3, "weight_norm": True},
                                                      {"type": "linear", "out": 3, "spectral_norm": True}]}
    code = export_torch(s)
    assert "nn.utils.parametrizations.weight_norm(nn.Conv2d(4, 8, kernel_size=3))" in code
    env: dict = {}
    exec(compile(code, "n.py", "exec"), env)
    model = env["N"]()
    model.load_state_dict(build(s).state_dict())
    assert sum(b.numel() for b in model.buffers()) == cnncalc.analyze(s).totals.buffers


class FrozenBatchNorm2d(nn.Module):
    """torchvision.ops.FrozenBatchNorm2d's tensors: weight, bias, running_mean, running_var, all buffers."""

    def __init__(self, c):
        super().__init__()
        for name in ("weight", "bias", "running_mean", "running_var"):
            self.register_buffer(name, torch.ones(c))

    def forward(self, x):
        scale = self.weight * (self.running_var + 1e-5).rsqrt()
        return x * scale.reshape(1, -1, 1, 1) + (self.bias - self.running_mean * scale).reshape(1, -1, 1, 1)


def test_frozen_batchnorm_keeps_gamma_beta_as_buffers():
    s = {"name": "n", "input": [6, 5, 5], "layers": [{"type": "batchnorm", "frozen": True}]}
    r = cnncalc.analyze(s)
    params, buffers, _ = counted(FrozenBatchNorm2d(6), torch.randn(1, 6, 5, 5))
    assert (r.totals.params, r.totals.buffers) == (params, buffers) == (0, 4 * 6)
    assert cnncalc.verify(s).ok
    x = torch.randn(2, 6, 5, 5)
    ours = build(s).eval()
    ref = FrozenBatchNorm2d(6)
    ref.load_state_dict({k.split(".", 1)[1]: v for k, v in ours.state_dict().items()})
    assert torch.allclose(ours(x), ref(x))
    with pytest.raises(CnncalcError, match="affine: false"):
        cnncalc.analyze({"name": "n", "input": [6, 5, 5], "layers": [{"type": "batchnorm", "frozen": True,
                                                                      "affine": False}]})


PROJECTED = """
name: proj
input: [16, 16, 16]
blocks:
  basic:
    params: [c, s]
    layers:
      - residual:
          body:
            - {type: conv, filters: $c, kernel: 3, stride: $s, padding: 1}
          shortcut: $kind
layers:
  - {name: layer1, type: basic, c: 32, s: 1, repeat: 3}
"""


def test_projection_on_every_repeat_is_kept_and_noted_once():
    r = cnncalc.analyze(spec(PROJECTED.replace("$kind", "projection")))
    projections = [x for x in r.layers if x.name.endswith("downsample.0")]
    assert len(projections) == 3 and all(x.params == 32 * 32 for x in projections[1:])  # kept: 1×1 conv, no bias
    assert r.notes == ["line 11: shortcut: projection on all 3 repeats of layer1, 2 of which keep the shape; "
                       "`auto` projects only where the shape changes"]
    auto = cnncalc.analyze(spec(PROJECTED.replace("$kind", "auto")))
    assert len([x for x in auto.layers if x.name.endswith("downsample.0")]) == 1 and auto.notes == []
    assert r.totals.params - auto.totals.params == 2 * (32 * 32 + 2 * 32)  # two needless conv + BN
    assert "notes" not in json.loads(auto.model_dump_json()) and json.loads(r.model_dump_json())["notes"] == r.notes


MIXED = {"name": "mixed", "input": [4, 12], "layers": [
    {"type": "conv", "filters": 8, "kernel": 3, "weight_norm": True},
    {"type": "batchnorm", "frozen": True},
    {"type": "conv_transpose", "filters": 6, "kernel": 3, "groups": 2, "spectral_norm": True},
    {"type": "conv", "filters": 8, "kernel": 3, "weight_norm": True, "spectral_norm": True},
    {"type": "linear", "out": 5, "weight_norm": True},
    {"type": "linear", "out": 3, "spectral_norm": True}]}


@pytest.mark.parametrize("net", [MIXED, {"name": "first", "input": [8, 10], "layers": [
    {"type": "conv_transpose", "filters": 6, "kernel": 3, "stride": 2, "spectral_norm": True}]},
    {"name": "first", "input": [80], "layers": [{"type": "linear", "out": 5, "weight_norm": True}]}],
    ids=["mixed", "transposed first", "linear first"])
def test_training_figures_against_autograd(net):
    """Saved tensors, backward MACs and the inference peak: the reparametrised weights are computed each forward."""
    from cnncalc.pytorch.verify_train import verify_train
    v = verify_train(net, batches=(1, 2))
    assert v.ok, [(b.batch, b.peak_activation_bytes, b.torch_peak_activation_bytes,
                   [(r.name, r.mismatches) for r in b.layers if r.mismatches]) for b in v.batches]


def test_shared_heads_training_figures_against_autograd():
    from cnncalc.pytorch.verify_train import verify_train
    v = verify_train(spec(HEADS), batches=(1, 2))
    assert v.ok


@pytest.mark.parametrize("net", [HEADS, MIXED], ids=["shared heads", "reparametrised"])
def test_receptive_fields_against_the_gradient(net):
    from cnncalc.pytorch.rf_oracle import rf_verify
    v = rf_verify(spec(net) if isinstance(net, str) else net)
    assert v.ok, [(r.name, r.mismatches) for r in v.layers if not r.ok][:5]


@pytest.mark.parametrize("kind, hint", [("FrozenBatchNorm2d", "`batchnorm` with `frozen: true`"),
                                        ("weight_norm", "`weight_norm: true` on a conv"),
                                        ("spectral_norm", "`spectral_norm: true` on a conv")])
def test_pytorch_names_of_what_is_a_field_here(kind, hint):
    with pytest.raises(CnncalcError, match=f"PyTorch's {kind} is {hint}"):
        cnncalc.analyze({"name": "n", "input": [3, 8, 8], "layers": [{"type": kind}]})


def test_import_writes_share_for_a_module_called_again(tmp_path):
    """A torch model that applies one module to two levels imports as one layer and a `share:` of it."""
    import inspect
    from cnncalc.importers import import_model
    path = tmp_path / "heads.py"
    path.write_text("import torch\nfrom torch import nn\nfrom torch.nn import functional as F\n\n\n"
                    + inspect.getsource(Heads), encoding="utf-8")
    imported = import_model(f"{path}:Heads", input="16x16x16")
    shared = {x["name"]: x["share"] for x in imported.doc["layers"] if "share" in x}
    assert shared == {"head.0_2": "head.0", "head.2_2": "head.2", "p3_2": "p3"}
    total = cnncalc.analyze(imported.graph).totals
    assert total.params == sum(p.numel() for p in Heads().parameters())
    assert total.macs == counted(Heads(), torch.randn(1, 16, 16, 16))[2]

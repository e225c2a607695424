"""`cnncalc export --torch`: the code runs on its own, and torch measures what cnncalc reports."""
from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.analysis.analyze import load  # noqa: E402
from cnncalc.pytorch import ops as torch_ops  # noqa: E402
from cnncalc.spec.builtins import builtin_names  # noqa: E402
from cnncalc.cli import app  # noqa: E402
from cnncalc.pytorch.export import export_torch, module_code  # noqa: E402
from cnncalc.pytorch.build import build  # noqa: E402

torch.set_num_threads(min(2, torch.get_num_threads()))

RESIDUAL = {
    "name": "Tiny ResNet",
    "input": [3, 32, 32],
    "blocks": {"basic": {"params": {"c": None, "stride": 1}, "layers": [
        {"residual": {"body": [
            {"name": "conv1", "type": "conv", "filters": "$c", "kernel": 3, "stride": "$stride", "padding": 1,
             "bias": False},
            {"name": "bn1", "type": "batchnorm"}, "relu",
            {"name": "conv2", "type": "conv", "filters": "$c", "kernel": 3, "padding": 1, "bias": False},
            {"name": "bn2", "type": "batchnorm"}], "shortcut": "auto"}},
        "relu"]}},
    "layers": [
        {"name": "conv1", "type": "conv", "filters": 16, "kernel": 3, "padding": 1, "bias": False},
        {"name": "bn1", "type": "batchnorm"}, "relu",
        {"name": "layer1", "type": "basic", "repeat": 2, "c": 16},
        {"name": "layer2", "type": "basic", "repeat": 2, "c": 32, "stride": "${2 if i == 0 else 1}"},
        {"name": "custom", "residual": {"body": [{"name": "conv", "type": "conv", "filters": 32, "kernel": 3,
                                                  "padding": "same"}],
                                        "shortcut": [{"name": "pool", "type": "avgpool", "kernel": 3, "stride": 1,
                                                      "padding": 1}]}},
        "global_avgpool",
        {"name": "fc", "type": "linear", "out": 10},
    ],
}

BRANCHES = {
    "name": "Tiny Inception",
    "input": [3, 28, 28],
    "layers": [
        {"name": "stem", "type": "conv", "filters": 8, "kernel": 3, "padding": 1}, "relu",
        {"name": "mixed", "branches": [
            [{"name": "conv", "type": "conv", "filters": 8, "kernel": 1}],
            [{"name": "reduce", "type": "conv", "filters": 4, "kernel": 1}, "relu",
             {"name": "conv", "type": "conv", "filters": 8, "kernel": 3, "padding": 1}],
            [{"name": "pool", "type": "maxpool", "kernel": 3, "stride": 1, "padding": 1},
             {"name": "proj", "type": "conv", "filters": 4, "kernel": [1, 3], "padding": [0, 1]}],
            "identity"]},
        {"name": "dense", "type": "concat", "inputs": ["stem", "mixed"]},           # an explicit DAG edge
        {"name": "aux", "type": "conv", "filters": 2, "kernel": 1, "inputs": ["stem"],  # read by nobody:
         "train_only": True},                                          # a dead end must be train_only
        {"name": "pool", "type": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": True, "inputs": ["dense"]},
        {"name": "fc", "type": "linear", "out": 5},
        "softmax",
    ],
}


def load_exported(code: str) -> type:
    """Execute exported code as a module (not as __main__) and return its nn.Module class."""
    ns: dict = {"__name__": "cnncalc_exported"}
    exec(compile(code, "<cnncalc export>", "exec"), ns)
    classes = [v for v in ns.values()
               if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == ns["__name__"]]
    helpers = [c for c in classes if c.__name__ in torch_ops.EXPORTED]   # copied module classes come first
    assert len(classes) == len(helpers) + 1, classes
    return classes[-1]


@pytest.mark.parametrize("spec", ["lenet5", RESIDUAL, BRANCHES], ids=["lenet5", "residual", "branches"])
def test_exported_code_runs_and_matches_the_report(spec):
    report = cnncalc.analyze(spec)
    cls = load_exported(export_torch(spec))
    torch.manual_seed(0)
    model = cls().eval()
    x = torch.randn(2, *report.input)
    with torch.no_grad():
        y = model(x)
    assert list(y.shape) == [2, *report.output]
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    assert sum(b.numel() for b in model.buffers()) == report.totals.buffers
    # the same graph: torch_build's network, its weights loaded into the exported class, gives the same output
    net = build(load(spec)).eval()
    model.load_state_dict(net.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.allclose(model(x), net(x), atol=1e-6)


INLINE = [n for n in ("shufflenet_v2_x1_0", "mobilenet_v3_large", "densenet121") if n in builtin_names()]


@pytest.mark.parametrize("name", INLINE)
def test_inline_merges_compute_what_torch_build_computes(name):
    """Slices (ShuffleNet), broadcast products (squeeze-and-excitation), dense concats, written inline:
    with torch_build's weights the exported forward gives torch_build's output."""
    graph = load(name, "64")
    model = load_exported(export_torch(graph))().eval()
    net = build(graph).eval()
    model.load_state_dict(net.state_dict(), strict=True)
    x = torch.randn(2, *graph.input)
    with torch.no_grad():
        assert torch.allclose(model(x), net(x), rtol=1e-4, atol=1e-5)


def test_exported_lenet5_runs_as_a_script(tmp_path):
    path = tmp_path / "lenet5.py"
    path.write_text(export_torch("lenet5"), encoding="utf-8")
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    params = 5 * 5 * 1 * 6 + 6 + 5 * 5 * 6 * 16 + 16 + 5 * 5 * 16 * 120 + 120 + 120 * 84 + 84 + 84 * 10 + 10
    assert "output (1, 10)" in out.stdout and f"{params:,} params" in out.stdout


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_exports_the_same_modules(name):
    """On the meta device (no weights allocated): every layer of the exported class is the module
    torch_build makes (same class and constructor state), and the totals match the report."""
    report = cnncalc.analyze(name)
    cls = load_exported(export_torch(name))
    with torch.device("meta"):
        model = cls().eval()
        net = build(load(name))
    # cnncalc's own modules (torch_ops: concat, add, mul, slice) are written inline; those with weights
    # (LeNet's table conv, subsampling, RBF) have their class copied into the file: same name and state
    copied = torch_ops.EXPORTED
    layers = [(k, m) for k, m in net.named_children()
              if type(m).__module__ != torch_ops.__name__ or type(m).__name__ in copied]
    assert [k for k, _ in model.named_children()] == [k for k, _ in layers]
    for key, built in layers:
        ours = model.get_submodule(key)
        same = type(ours) is type(built) or type(built).__name__ in copied and type(ours).__name__ == type(built).__name__
        assert same and _state(ours) == _state(built), key
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    y = model(torch.empty(1, *report.input, device="meta"))
    outputs = [o.output for o in report.outputs] if report.outputs else [report.output]
    assert [list(t.shape) for t in (y if isinstance(y, tuple) else (y,))] == [[1, *o] for o in outputs]


def _state(m: nn.Module) -> dict:
    """A module's constructor state (kernel, stride, ceil_mode, count_include_pad, …) and its tensors'
    shapes; (3, 3) and 3 are the same kernel to a pooling module, so equal pairs count as one value."""
    def same(v):
        return v[0] if isinstance(v, tuple) and len(set(v)) == 1 else v
    out = {k: same(v) for k, v in vars(m).items() if not k.startswith("_") and k != "training"}
    out["tensors"] = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    out["children"] = [_state(c) for c in m.children()]
    return out


def test_module_code_reads_constructor_arguments_back():
    assert module_code(nn.Conv2d(3, 64, 7, 2, 3, bias=False)) == \
        "nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)"
    assert module_code(nn.Conv2d(4, 4, (1, 3), padding="same", groups=4)) == \
        "nn.Conv2d(4, 4, kernel_size=(1, 3), padding='same', groups=4)"
    assert module_code(nn.AvgPool2d(3, 2, ceil_mode=True, count_include_pad=False)) == \
        "nn.AvgPool2d(kernel_size=3, stride=2, ceil_mode=True, count_include_pad=False)"
    assert module_code(nn.Sequential(nn.Flatten(), nn.Linear(400, 84))) == \
        "nn.Sequential(nn.Flatten(), nn.Linear(400, 84))"
    assert module_code(nn.LeakyReLU(0.2)) == "nn.LeakyReLU(negative_slope=0.2)"


runner = CliRunner()


def test_cli_export(tmp_path):
    result = runner.invoke(app, ["export", "lenet5", "--torch"])
    assert result.exit_code == 0, result.output
    assert "class LeNet5(nn.Module):" in result.stdout and 'if __name__ == "__main__":' in result.stdout
    target = tmp_path / "net.py"
    result = runner.invoke(app, ["export", "resnet18", "--torch", "--input", "64", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "torch.randn(1, 3, 64, 64)" in target.read_text(encoding="utf-8")


def test_cli_export_needs_a_format():
    result = runner.invoke(app, ["export", "lenet5"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: export: choose a format: --torch (PyTorch code, the only one so far)"]


AUX = {"name": "aux", "input": [3, 16, 16], "layers": [
    {"name": "stem", "type": "conv", "filters": 8, "kernel": 3, "padding": 1},
    {"name": "head", "train_only": True, "type": "linear", "out": 5},      # an auxiliary classifier
    {"name": "pool", "type": "global_avgpool", "inputs": ["stem"]},
    {"name": "fc", "type": "linear", "out": 10}]}


def test_train_only_layers_run_only_in_training():
    from torch.utils.flop_counter import FlopCounterMode
    report = cnncalc.analyze(AUX)
    # params count the auxiliary head; the MAC total is the inference forward's
    assert report.totals.params == (3 * 3 * 3 + 1) * 8 + (8 * 16 * 16 + 1) * 5 + (8 + 1) * 10
    assert report.totals.macs == 3 * 3 * 3 * 16 * 16 * 8 + 8 * 10
    aux_macs = 8 * 16 * 16 * 5
    for net in (build(load(AUX)), load_exported(export_torch(AUX))()):
        assert sum(p.numel() for p in net.parameters()) == report.totals.params
        for mode, macs in (("eval", report.totals.macs), ("train", report.totals.macs + aux_macs)):
            getattr(net, mode)()
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                assert tuple(net(torch.zeros(1, 3, 16, 16)).shape) == (1, 10)
            assert counter.get_total_flops() == 2 * macs

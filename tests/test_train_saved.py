"""`analyze --train`'s saved-for-backward bytes equal what autograd keeps (issue 22): one computation
(analysis/training.py) behind `analyze --train` and `verify --train`, proved here on every built-in at a
small input with `torch.autograd.graph.saved_tensors_hooks`, storages counted once, parameters and
buffers aside. The CPU's kernels are measured (`--device cpu`); on CUDA dropout keeps a 1-byte mask
instead of a full-size one (tests/test_train_torch.py proves that kernel), the only difference."""
from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.analysis.training import TrainConfig  # noqa: E402
from cnncalc.cli import app  # noqa: E402
from cnncalc.pytorch.build import build  # noqa: E402
from cnncalc.spec.builtins import builtin_names  # noqa: E402

def autograd_saved_bytes(graph, batch: int) -> int:
    """One training forward: the bytes of the distinct storages autograd keeps for backward, parameters and
    buffers aside (the modules are allocated without initialising them: the values do not matter)."""
    with torch.device("meta"):
        net = build(graph)
    net = net.to_empty(device="cpu").train()
    skip = {t.untyped_storage().data_ptr() for t in list(net.parameters()) + list(net.buffers())}
    kept, seen, alive = [], set(), []

    def pack(t):
        # every packed tensor is held until the count is done: a branch whose output is dropped (inception's
        # aux head) frees its saved tensors mid-forward, and a later tensor at the same address would be taken
        # for one already counted (a flaky undercount, seen once in a full run)
        alive.append(t)
        st = t.untyped_storage()
        if st.data_ptr() not in skip and st.data_ptr() not in seen:
            seen.add(st.data_ptr())
            kept.append(st.nbytes())
        return t
    x = torch.randn(batch, *graph.input)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = net(x)
    del out
    return sum(kept)


def small_input(name: str) -> str | None:
    """The smallest of a few sizes (every spatial axis) the built-in accepts, None for a vector input."""
    r = cnncalc.analyze(name)
    if len(r.input) < 2:
        return None
    for s in (32, 48, 64, 96, 128, 160, 192, 224, 256, 320, 400, 512, 572):
        if s > max(r.input[1:]):
            break
        try:
            cnncalc.analyze(name, input=str(s))
            return str(s)
        except cnncalc.CnncalcError:
            continue
    return None


def lone_batchnorm(graph) -> bool:
    """A batch norm seeing one value per channel at batch 1, which torch refuses to train."""
    return any(nd.layer.type == "batchnorm" and all(x == 1 for x in nd.in_shapes[0][1:]) for nd in graph.nodes)


@pytest.mark.parametrize("name", builtin_names())   # about 25 s in all: forward only, uninitialised weights
def test_saved_for_backward_equals_autograd(name):
    graph = cnncalc.load(name, small_input(name))
    batch = 2 if lone_batchnorm(graph) else 1
    r = cnncalc.analyze(graph, batch=batch, train=TrainConfig(batch, device="cpu"))
    assert r.totals.training.saved_activation_bytes == autograd_saved_bytes(graph, batch)


def test_the_issues_vgg11_bn_figure_from_the_command_line():
    """`analyze vgg11_bn --train --batch 2 --input 3x64x64`: on the CPU what autograd keeps, which is also
    `verify --train`'s cnncalc column; on CUDA less by the two dropouts' masks, 3 bytes an element."""
    graph = cnncalc.load("vgg11_bn", "3x64x64")
    torch_bytes = autograd_saved_bytes(graph, 2)
    figures = {}
    for device in ("cpu", "cuda"):
        res = CliRunner().invoke(app, ["analyze", "vgg11_bn", "--train", "--batch", "2", "--input", "3x64x64",
                                       "--device", device, "--json"])
        assert res.exit_code == 0, res.output
        figures[device] = json.loads(res.output)["totals"]["training"]["saved_activation_bytes"]
    assert figures["cpu"] == torch_bytes == 13_215_232
    assert figures["cpu"] - figures["cuda"] == 2 * 4096 * 2 * (4 - 1)   # drop6, drop7: 4096 values, batch 2

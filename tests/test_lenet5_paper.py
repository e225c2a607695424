"""`lenet5-paper`: LeNet-5 as LeCun et al. 1998 print it, its new layer kinds, and the proof in torch.

Published figures (LeCun, Bottou, Bengio & Haffner 1998, section II.B): C1 156 trainable
parameters and 122,304 connections; S2 12 and 5,880; C3 1,516 and 151,600 (Table I); S4 32 and
2,000; C5 48,120 connections; F6 10,164 parameters; "340,908 connections, but only 60,000
trainable parameters" in all.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.exam.check import check

TABLE_I = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1],
           [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1], [5, 0, 1, 2],
           [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]


def test_the_papers_figures_per_layer(tmp_path: Path):
    p = tmp_path / "answers.yaml"
    p.write_text("""\
architecture: lenet5-paper
answers:
  C1: {output: 28x28x6, params: 156, connections: 122304}
  S2: {output: 14x14x6, params: 12, connections: 5880}
  C3: {output: 10x10x16, params: 1516, connections: 151600}
  S4: {output: 5x5x16, params: 32, connections: 2000}
  C5: {params: 48120, connections: 48120}
  F6: {params: 10164}
  total: {params: 60000, connections: 340908}
""", encoding="utf-8")
    result = check(p)
    assert result.ok, [(i.id, i.given, i.expected) for i in result.wrong]
    # the same figures as arithmetic: (weights + biases) and ×positions for the connections
    assert 60 == 6 * 3 + 6 * 4 + 3 * 4 + 1 * 6                       # Table I's connected pairs
    assert 1516 == 5 * 5 * 60 + 16 and 151_600 == 1516 * 10 * 10
    assert 12 == 6 + 6 and 5880 == (2 * 2 + 1) * 6 * 14 * 14
    assert 32 == 16 + 16 and 2000 == (2 * 2 + 1) * 16 * 5 * 5
    assert 122_304 == (5 * 5 + 1) * 6 * 28 * 28
    assert 340_908 == 122_304 + 5880 + 151_600 + 2000 + 48_120 + 10_164 + 84 * 10
    r = cnncalc.analyze("lenet5-paper")
    assert r.totals.params == 60_000 and r.totals.buffers == 84 * 10     # the RBF centres are fixed
    assert r.totals.macs == 5 * 5 * 6 * 28 * 28 + 4 * 6 * 14 * 14 + 5 * 5 * 60 * 10 * 10 + 4 * 16 * 5 * 5 \
        + 5 * 5 * 16 * 120 + 120 * 84 + 84 * 10


def test_a_dense_c3_answer_is_wrong_for_the_paper(tmp_path: Path):
    p = tmp_path / "answers.yaml"
    p.write_text("architecture: lenet5-paper\nanswers:\n  C3: {params: 2416}\n", encoding="utf-8")
    item = check(p).items[0]
    assert not item.ok and item.expected_value == 5 * 5 * 60 + 16
    assert any("60" in ln for ln in item.formula)


@pytest.mark.parametrize("layer, words", [
    ("{name: C3, type: sparse_conv, kernel: 5, table: [[0, 1], [6]]}", "input map 6"),
    ("{name: C3, type: sparse_conv, kernel: 5, table: [[0, 0]]}", "distinct input maps"),
    ("{name: C3, type: sparse_conv, kernel: 5, table: []}", "one list of input maps"),
    ("{name: S2, type: subsample, kernel: 9}", "larger than the input"),
])
def test_bad_tables_are_one_line_errors(tmp_path: Path, layer, words):
    p = tmp_path / "net.yaml"
    p.write_text(f"name: t\ninput: [6, 8, 8]\nlayers:\n  - {layer}\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["analyze", str(p)])
    assert res.exit_code == 2 and f"{p}:4:" in res.output and words in res.output, res.output
    assert "Traceback" not in res.output


# --------------------------------------------------------------------------------------
# the proof in torch

torch = pytest.importorskip("torch")


def test_verify_agrees_with_torch_on_cpu():
    """Params by numel, MACs by FlopCounterMode: every layer and the totals. The sparse C3 is built as
    one dense conv per output map over its connected input maps, so FlopCounterMode counts exactly
    the 5·5·60 connected multiply-adds per position (150,000), not a dense 5·5·6·16 (240,000)."""
    from cnncalc.pytorch.verify import verify
    v = verify("lenet5-paper", device="cpu")
    assert v.ok, [(r.name, r.mismatches) for r in v.layers if not r.ok]
    rows = {r.name: r for r in v.layers}
    assert rows["C3"].torch_macs == 5 * 5 * 60 * 10 * 10 and rows["C3"].torch_params == 1516
    assert rows["S2"].torch_params == 12 and rows["S4"].torch_params == 32
    assert v.totals.torch_params == 60_000 and v.totals.torch_buffers == 840
    res = CliRunner().invoke(app, ["verify", "lenet5-paper", "--device", "cpu"])
    assert res.exit_code == 0, res.output


def test_table_conv_is_a_masked_dense_conv():
    """The same weights in a dense conv whose unconnected (output, input) pairs are zero give the same
    output; FlopCounterMode counts that dense conv's 96 pairs (240,000 MACs), the table conv's 60."""
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.pytorch.ops import TableConv
    torch.manual_seed(0)
    sparse = TableConv(TABLE_I, (5, 5), (1, 1), (0, 0), True)
    dense = torch.nn.Conv2d(6, 16, 5)
    with torch.no_grad():
        dense.weight.zero_()
        for o, (row, conv) in enumerate(zip(TABLE_I, sparse.maps)):
            dense.weight[o, row] = conv.weight[0]
            dense.bias[o] = conv.bias[0]
    x = torch.randn(2, 6, 14, 14)
    with torch.no_grad():
        assert torch.allclose(sparse(x), dense(x), atol=1e-5)
        counts = []
        for m in (sparse, dense):
            with FlopCounterMode(display=False) as fc:
                m(x[:1])
            counts.append(fc.get_total_flops() // 2)
    assert counts == [5 * 5 * 60 * 10 * 10, 5 * 5 * 6 * 16 * 10 * 10]


def test_subsample_and_rbf_compute_the_papers_formulas():
    from cnncalc.pytorch.ops import RBF, Subsample
    torch.manual_seed(0)
    sub = Subsample(6, (2, 2), (2, 2), True)
    x = torch.randn(1, 6, 28, 28)
    with torch.no_grad():
        want = torch.nn.functional.avg_pool2d(x, 2) * 4 * sub.weight.view(1, 6, 1, 1) + sub.bias.view(1, 6, 1, 1)
        assert torch.allclose(sub(x), want, atol=1e-5)
        rbf = RBF(84, 10)
        v = torch.randn(3, 84)
        want = ((v[:, None, :] - rbf.centres[None]) ** 2).sum(-1)
        assert torch.allclose(rbf(v), want, atol=1e-3)

"""Several outputs (`outputs:`), layers that feed no output, `repeat: 0`, block parameters in mappings.

Every figure of a two-headed network is checked against torch modules built here by hand (Σ numel,
FlopCounterMode / 2) and against `verify`'s real forward pass; the exported code must return the
same tuple of tensors as the module cnncalc builds.
"""
from __future__ import annotations

import json
import textwrap

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from typer.testing import CliRunner

import cnncalc
from cnncalc.analysis.analyze import load
from cnncalc.analysis.compare import compare
from cnncalc.analysis.receptive import rf_report
from cnncalc.cli import app
from cnncalc.errors import SpecError
from cnncalc.pytorch.build import build
from cnncalc.pytorch.export import export_torch
from cnncalc.pytorch.verify import verify, verify_graph
from cnncalc.spec.expr import substitute_all
from test_errors import assert_clean_error
from test_export import load_exported

runner = CliRunner()

# stem → relu → head_a (full resolution); stem → mid (stride 2) → head_b: two heads, as FCN's out and aux
TWO = {
    "name": "two heads", "input": [3, 16, 16], "outputs": ["head_a", "head_b"],
    "layers": [
        {"name": "stem", "type": "conv", "filters": 8, "kernel": 3, "padding": 1}, "relu",
        {"name": "head_a", "type": "conv", "filters": 4, "kernel": 1},
        {"name": "mid", "type": "conv", "filters": 8, "kernel": 3, "stride": 2, "padding": 1, "inputs": ["stem"]},
        {"name": "head_b", "type": "conv", "filters": 2, "kernel": 1},
    ],
}


class TwoByHand(nn.Module):
    """TWO written directly in torch (the reference: nothing of cnncalc)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.head_a = nn.Conv2d(8, 4, 1)
        self.mid = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.head_b = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        s = self.stem(x)
        return self.head_a(torch.relu(s)), self.head_b(self.mid(s))


def test_two_outputs_every_figure_matches_the_hand_built_module():
    rep = cnncalc.analyze(TWO)
    ref = TwoByHand()
    x = torch.randn(1, 3, 16, 16)
    counter = FlopCounterMode(display=False)
    with counter:
        a, b = ref(x)
    assert [(o.name, o.output) for o in rep.outputs] == [("head_a", list(a.shape[1:])), ("head_b", list(b.shape[1:]))]
    assert rep.output == list(a.shape[1:])               # `output` is the first output's
    assert rep.totals.params == sum(p.numel() for p in ref.parameters())
    assert rep.totals.macs == counter.get_total_flops() // 2


def test_depth_is_the_longest_path_to_any_output():
    rep = cnncalc.analyze(TWO)
    assert rep.totals.depth == 3   # stem → mid → head_b (head_a's path has 2)
    one = dict(TWO, outputs=["head_a", "mid"], layers=TWO["layers"][:-1])
    assert cnncalc.analyze(one).totals.depth == 2


def test_json_names_the_outputs_only_when_there_are_several():
    many = json.loads(cnncalc.analyze(TWO).model_dump_json())
    assert many["outputs"] == [{"name": "head_a", "output": [4, 16, 16]}, {"name": "head_b", "output": [2, 8, 8]}]
    assert list(many).index("outputs") == list(many).index("output") + 1
    single = json.loads(cnncalc.analyze("lenet5").model_dump_json())
    assert "outputs" not in single and single["output"] == [10]
    # naming the last layer explicitly is the same single-output report, byte for byte
    plain = dict(TWO, layers=[TWO["layers"][0], *TWO["layers"][3:]])
    del plain["outputs"]
    named = dict(plain, outputs=["head_b"])
    assert cnncalc.analyze(named).model_dump_json() == cnncalc.analyze(plain).model_dump_json()


def test_verify_compares_each_output():
    v = verify(TWO)
    assert v.ok, v
    assert [(o.name, o.output, o.torch_output) for o in v.outputs] == [
        ("head_a", [1, 4, 16, 16], [1, 4, 16, 16]), ("head_b", [1, 2, 8, 8], [1, 2, 8, 8])]
    graph = load(TWO)
    rep = cnncalc.analyze(graph)
    rep.outputs[1].output = [2, 9, 9]                    # a wrong static shape for the second output
    bad = verify_graph(graph, rep)
    assert not bad.ok and bad.outputs[1].torch_output == [1, 2, 8, 8]
    assert "outputs" not in json.loads(verify("lenet5", device="meta").model_dump_json())


def test_verify_cli_shows_both_outputs(tmp_path):
    p = tmp_path / "two.yaml"
    p.write_text(json.dumps(TWO))     # JSON is YAML
    res = runner.invoke(app, ["verify", str(p), "--device", "meta"])
    assert res.exit_code == 0, res.output
    assert "outputs head_a 4×16×16, head_b 2×8×8" in res.output


def test_the_torch_network_returns_a_tuple_of_outputs():
    net = build(TWO).eval()
    ref = TwoByHand().eval()
    ref.load_state_dict({k.replace("relu1.", ""): v for k, v in net.state_dict().items()})
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        got, want = net(x), ref(x)
    assert isinstance(got, tuple) and len(got) == 2
    assert all(torch.allclose(g, w, atol=1e-6) for g, w in zip(got, want))


def test_exported_forward_returns_the_tuple():
    code = export_torch(TWO)
    assert "outputs (head_a 4×16×16, head_b 2×8×8)" in code
    model = load_exported(code)().eval()
    net = build(TWO).eval()
    model.load_state_dict(net.state_dict(), strict=True)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        got, want = model(x), net(x)
    assert isinstance(got, tuple) and len(got) == 2
    assert all(torch.allclose(g, w, atol=1e-6) for g, w in zip(got, want))


def test_an_output_read_later_is_not_overwritten_in_the_export():
    """An output that later layers also read (FPN-style) keeps its value to the end."""
    doc = {"name": "tap", "input": [3, 8, 8], "outputs": ["a", "c"], "layers": [
        {"name": "a", "type": "conv", "filters": 4, "kernel": 3, "padding": 1},
        {"name": "b", "type": "conv", "filters": 4, "kernel": 3, "padding": 1},
        {"name": "c", "type": "add", "inputs": ["a", "b"]}]}
    model = load_exported(export_torch(doc))().eval()
    net = build(doc).eval()
    model.load_state_dict(net.state_dict(), strict=True)
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        got, want = model(x), net(x)
        a = net.node("a")(x)
    assert torch.allclose(got[0], a) and torch.allclose(want[0], a)
    assert torch.allclose(got[1], want[1])


def test_rf_and_compare_see_every_output(tmp_path):
    rf = rf_report(load(TWO))
    assert rf.outputs == ["head_a", "head_b"]
    sizes = {r.name: r.size for r in rf.layers}
    assert sizes["head_a"] == 3 and sizes["head_b"] == 3 + (3 - 1) * 1   # RF_l = RF_{l−1} + (k − 1)·∏s
    assert "outputs" not in json.loads(rf_report(load("lenet5")).model_dump_json())
    p = tmp_path / "two.yaml"
    p.write_text(json.dumps(TWO))
    cmp = compare([str(p)])
    res = runner.invoke(app, ["rf", str(p)])
    assert (cmp.rows[0].final_rf, cmp.rows[0].final_rf_layer) == (5, "head_b")  # the larger of the two heads
    assert res.exit_code == 0 and "output head_b (2×8×8): receptive field 5, effective stride 2" in res.output


def test_named_blocks_and_repeats_can_be_outputs():
    doc = {"name": "t", "input": [3, 8, 8], "outputs": ["body", "tail"],
           "blocks": {"cbr": {"params": ["c"], "layers": [{"type": "conv", "filters": "$c", "kernel": 1}, "relu"]}},
           "layers": [{"name": "body", "type": "cbr", "c": 4},
                      {"name": "tail", "type": "conv", "filters": 2, "kernel": 1, "repeat": 2}]}
    rep = cnncalc.analyze(doc)
    assert [(o.name, o.output) for o in rep.outputs] == [("body.relu1", [4, 8, 8]), ("tail.1", [2, 8, 8])]


def test_a_train_only_head_may_follow_the_output():
    doc = {"name": "t", "input": [3, 8, 8], "outputs": ["main"], "layers": [
        {"name": "main", "type": "conv", "filters": 4, "kernel": 1},
        {"name": "aux", "type": "conv", "filters": 2, "kernel": 1, "inputs": ["main"], "train_only": True}]}
    rep = cnncalc.analyze(doc)
    assert rep.output == [4, 8, 8] and rep.totals.params == (3 * 4 + 4) + (4 * 2 + 2)
    assert rep.totals.macs == 3 * 4 * 8 * 8    # the inference forward: the aux head is not run
    assert verify(doc).ok


# -- bad input -----------------------------------------------------------------------------

def body(text: str) -> str:
    return "name: t\ninput: [3, 8, 8]\n" + textwrap.dedent(text)


LAYERS = """\
layers:
  - {name: stem, type: conv, filters: 4, kernel: 3, padding: 1}
  - {name: left, type: conv, filters: 2, kernel: 1}
  - {name: right, type: conv, filters: 2, kernel: 1, inputs: [stem]}
"""

BAD = [
    ("dead end", LAYERS, [":5:", "layers[1]", "left feeds no output: list it in `outputs:`, mark it `train_only`, "
                                              "or remove it"]),
    ("dead chain names its end", """\
layers:
  - {name: stem, type: conv, filters: 4, kernel: 3, padding: 1}
  - {name: a, type: conv, filters: 2, kernel: 1}
  - {name: b, type: relu}
  - {name: right, type: conv, filters: 2, kernel: 1, inputs: [stem]}
""", [":6:", "b feeds no output"]),
    ("unknown output", "outputs: [left, rihgt]\n" + LAYERS, [":3:", "outputs: no layer named 'rihgt'",
                                                             "did you mean 'right'"]),
    ("output is the input", "outputs: [input]\n" + LAYERS, ["outputs: 'input' is the network's input"]),
    ("duplicate output", "outputs: [left, left]\n" + LAYERS, ["outputs: 'left' is listed twice"]),
    ("empty outputs", "outputs: []\n" + LAYERS, ["outputs: expected a list of layer names"]),
    ("outputs not names", "outputs: {a: 1}\n" + LAYERS, ["outputs: expected a list of layer names"]),
    ("train_only output", """\
outputs: [stem, aux]
layers:
  - {name: stem, type: conv, filters: 4, kernel: 3, padding: 1}
  - {name: aux, type: conv, filters: 2, kernel: 1, train_only: true}
""", ["outputs: 'aux' is train_only: it is never produced at inference"]),
    ("vanished output is never produced", """\
outputs: [stem, gone]
layers:
  - {name: stem, type: conv, filters: 4, kernel: 3, padding: 1}
  - {name: gone, type: conv, filters: 2, kernel: 1, repeat: 0}
""", ["outputs: 'gone' is never produced (it has repeat: 0)"]),
    ("vanished input", """\
layers:
  - {name: stem, type: conv, filters: 4, kernel: 3, padding: 1}
  - {name: gone, type: conv, filters: 2, kernel: 1, repeat: 0}
  - {type: add, inputs: [stem, gone]}
""", [":6:", "inputs: 'gone' has repeat: 0, so it produces nothing"]),
    ("vanished size_of", """\
layers:
  - {name: stem, type: conv, filters: 4, kernel: 3, stride: 2, padding: 1}
  - {name: gone, type: conv, filters: 2, kernel: 1, repeat: 0}
  - {type: upsample, size_of: gone}
""", [":6:", "size_of: 'gone' has repeat: 0, so it produces nothing"]),
    ("nothing left", "layers:\n  - {type: conv, filters: 2, kernel: 1, repeat: 0}\n",
     ["layers: no layer is left (every item has repeat: 0)"]),
    ("negative repeat", "layers:\n  - {type: conv, filters: 2, kernel: 1, repeat: -1}\n",
     ["repeat: expected a whole number from 0 to"]),
]


@pytest.mark.parametrize("text,fragments", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_outputs_give_one_clear_line(tmp_path, text, fragments):
    p = tmp_path / "net.yaml"
    p.write_text(body(text))
    res = runner.invoke(app, ["analyze", str(p)])
    out = assert_clean_error(res, *fragments)
    assert out.startswith(f"error: {p}:")


# -- repeat: 0 and block parameters everywhere --------------------------------------------

def test_repeat_zero_vanishes():
    base = {"name": "t", "input": [3, 8, 8], "layers": [{"type": "conv", "filters": 4, "kernel": 1}]}
    gone = {**base, "layers": [{"name": "extra", "type": "conv", "filters": 9, "kernel": 3, "repeat": 0},
                               *base["layers"]]}
    a, b = cnncalc.analyze(base), cnncalc.analyze(gone)
    assert [r.name for r in b.layers] == ["conv1"] and b.blocks == [] and b.totals == a.totals
    # inside a block, with the count a parameter: a stage of 0 extra layers
    blk = {"name": "t", "input": [3, 8, 8],
           "blocks": {"stage": {"params": {"n": 0}, "layers": [
               {"type": "conv", "filters": 3, "kernel": 3, "padding": 1, "repeat": "$n"}]}},
           "layers": [{"name": "s", "type": "stage"}, {"type": "conv", "filters": 4, "kernel": 1}]}
    c = cnncalc.analyze(blk)
    assert [r.name for r in c.layers] == ["conv1"] and c.totals == a.totals


def test_block_parameters_substitute_inside_mappings_and_nested_lists():
    env = {"d": 3, "c": 16}
    got = substitute_all({"left": "${2*d}", "right": 0, "k": ["$d", ["${c//4}", 1]], "name": "x$d"}, env)
    assert got == {"left": 6, "right": 0, "k": [3, [4, 1]], "name": "x3"}


def test_a_bad_expression_inside_a_mapping_names_the_field():
    doc = {"name": "t", "input": [3, 8, 8],
           "blocks": {"b": {"params": ["d"], "layers": [
               {"type": "conv", "filters": 4, "kernel": 1, "padding": {"left": "${2*e}"}}]}},
           "layers": [{"type": "b", "d": 1}]}
    with pytest.raises(SpecError, match="'e'"):
        cnncalc.analyze(doc)


def test_block_parameters_substitute_in_a_padding_mapping():
    """A causal dilated 1-D conv (WaveNet/TCN): pad {left: 2·d, right: 0}, then a 3-tap conv dilated d keeps
    the length; each instance substitutes its own d inside the mapping."""
    doc = {"name": "causal", "input": [4, 50],
           "blocks": {"causal": {"params": ["d"], "layers": [
               {"type": "pad", "padding": {"left": "${2*d}", "right": 0}},
               {"type": "conv", "filters": 4, "kernel": 3, "dilation": "$d"}]}},
           "layers": [{"type": "causal", "d": 1}, {"type": "causal", "d": 2}, {"type": "causal", "d": 4}]}
    rep = cnncalc.analyze(doc)
    assert [r.output for r in rep.layers if r.type == "pad"] == [[4, 50 + 2 * 1], [4, 50 + 2 * 2], [4, 50 + 2 * 4]]
    assert rep.output == [4, 50]
    v = verify(doc)
    assert v.ok and v.torch_output == [1, 4, 50]

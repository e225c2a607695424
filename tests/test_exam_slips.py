"""`cnncalc check` as a teacher's assistant (issue 13): each slip on an exercise's own numbers, both
explanations where two fit, honest rounding, the figures courses ask, no internal words.

Every expected value is arithmetic; the exercises are the classic ones: AlexNet conv1 (227×227×3,
11×11/4, 96 filters), the CS231n VGG-16 table (activations and params per layer), the Inception
5×5 bottleneck (28×28×192), the LeNet-5 paper (LeCun et al. 1998), ResNet conv1 (7×7/2, 64).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.exam.check import check
from cnncalc.exam.numbers import parse_bytes, parse_number

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "answers.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def q(tmp_path, spec: str, answer: str, head: str = ""):
    """The one graded item of a one-question file."""
    result = check(write(tmp_path, f"{head}questions:\n  q1:\n    {spec}\n    answer: {{{answer}}}\n"))
    assert len(result.items) == 1
    return result.items[0]


def net(tmp_path, arch: str, answers: str, head: str = ""):
    result = check(write(tmp_path, f"{head}architecture: {arch}\nanswers:\n  {answers}\n"))
    assert len(result.items) == 1
    return result.items[0]


def names(item) -> set[str]:
    return set(item.slip.name.split(", or ")) if item.slip else set()


CONV1 = "conv: {input: 227x227x3, kernel: 11, stride: 4, filters: 96}"      # AlexNet conv1 → 55×55×96
NG = "conv: {input: 32x32x3, kernel: 5, filters: 6}"                          # → 28×28×6, (5·5·3 + 1)·6 = 456
C8 = "conv: {input: 32x32x8, kernel: 5, filters: 16}"                         # an 8-channel input
BOTTLENECK = ("net: {input: 28x28x192, layers: [{type: conv, filters: 16, kernel: 1}, "
              "{type: conv, filters: 32, kernel: 5, padding: 2}]}")
RESNET_CONV1 = "conv: {input: 224x224x3, kernel: 7, stride: 2, padding: 3, filters: 64}"   # → 112×112×64


# --------------------------------------------------------------------------------------
# each slip, on an exercise's own numbers


@pytest.mark.parametrize("spec, answer, slip", [
    # stride forgotten: (227 − 11)/1 + 1 = 217 instead of (227 − 11)/4 + 1 = 55
    (CONV1, f"output: {227 - 11 + 1}x{227 - 11 + 1}x96", "stride forgotten"),
    # output depth taken as the input depth: 28×28×8 for 16 filters
    (C8, "output: 28x28x8", "output depth taken as input depth"),
    # padding on one side only: 27 + 2 − 5 + 1 = 25 instead of 27 + 2·2 − 5 + 1 = 27
    ("conv: {input: 27x27x96, kernel: 5, padding: 2, filters: 256}", f"output: {27 + 2 - 5 + 1}x25x256",
     "padding on one side only"),
    # dilation ignored: 32 − 3 + 1 = 30; taken as d·k = 6: 32 − 6 + 1 = 27; right 32 − (2·(3 − 1) + 1) + 1 = 28
    ("conv: {input: 32x32x3, kernel: 3, dilation: 2, filters: 4}", f"output: {32 - 3 + 1}x30x4", "dilation ignored"),
    ("conv: {input: 32x32x3, kernel: 3, dilation: 2, filters: 4}", f"output: {32 - 2 * 3 + 1}x27x4",
     "dilation taken as d·k"),
    # one bias per layer instead of one per filter: 5·5·3·6 + 1
    (NG, f"params: {5 * 5 * 3 * 6 + 1}", "one bias per layer"),
    # parameter sharing forgotten: a weight per output position, (5·5·3 + 1)·6·28·28
    (NG, f"params: {(5 * 5 * 3 + 1) * 6 * 28 * 28}", "parameter sharing forgotten"),
    # one filter's weights only: 5·5·3 + 1
    (NG, f"params: {5 * 5 * 3 + 1}", "one filter's weights only"),
    # groups ignored: a depthwise 3×3 on 64 channels counted dense, 3·3·64·64 + 64 (right 3·3·1·64 + 64)
    ("conv: {input: 56x56x64, kernel: 3, padding: 1, filters: 64, groups: 64}", f"params: {3 * 3 * 64 * 64 + 64}",
     "groups ignored"),
    ("conv: {input: 56x56x64, kernel: 3, padding: 1, filters: 64, groups: 64}",
     f"macs: {3 * 3 * 64 * 56 * 56 * 64}", "groups ignored"),
    # input channels forgotten on an 8-channel input: 5·5·16 + 16 (right (5·5·8 + 1)·16)
    (C8, f"params: {5 * 5 * 16 + 16}", "input channels forgotten"),
    # input channels from the wrong layer: the 5×5 conv of the bottleneck with 192 channels (the net's input)
    (BOTTLENECK, f"params: {(1 * 1 * 192 + 1) * 16 + (5 * 5 * 192 + 1) * 32}", "input channels from the wrong layer"),
    # the fully-connected formula used for a conv: (32·32·3 + 1)·(28·28·6)
    (NG, f"params: {(32 * 32 * 3 + 1) * 28 * 28 * 6}", "fully-connected formula for a conv"),
    # the conv formula used for a fully connected layer: AlexNet fc6 on 6×6×256 counted as (256 + 1)·4096
    ("fc: {in: 6x6x256, out: 4096}", f"params: {(256 + 1) * 4096}", "conv formula for a fully connected layer"),
    # FLOPs vs MACs, bias counted as MACs: ResNet conv1, 7·7·3·112·112·64 MACs, + 64·112·112
    (RESNET_CONV1, f"macs: {2 * 7 * 7 * 3 * 112 * 112 * 64}", "FLOPs vs MACs"),
    (RESNET_CONV1, f"macs: {7 * 7 * 3 * 112 * 112 * 64 + 64 * 112 * 112}", "bias counted as MACs"),
    # bytes vs params: a 300×300×3 input fully connected to 100 units, 4 bytes each
    ("fc: {in: 300x300x3, out: 100}", f"params: {4 * (300 * 300 * 3 + 1) * 100}", "bytes vs params"),
    # the MACs counted at the input's positions: AlexNet conv1 11·11·3·96 per position × 227·227, not 55·55
    (CONV1, f"macs: {11 * 11 * 3 * 96 * 227 * 227}", "input size for the output size"),
    # a layer left out of a chain: the bottleneck without its 1×1 reduction, 5·5·16·28·28·32 = 10,035,200
    (BOTTLENECK, "macs: 1004万", "a layer left out"),
    # the connections given as the params (the LeNet paper's C1: 156 params, 122,304 connections)
    ("conv: {input: 32x32x1, kernel: 5, filters: 6}", f"connections: {(5 * 5 + 1) * 6}", "params vs connections"),
])
def test_each_slip_on_its_exercise(tmp_path, spec, answer, slip):
    item = q(tmp_path, spec, answer)
    assert not item.ok and slip in names(item), item


@pytest.mark.parametrize("rf, answer, slip", [
    # three 3×3 convs: 7; grown by k instead of k − 1: 1 + 3 + 3 + 3 = 10
    ("[conv3, conv3, conv3]", f"rf: {1 + 3 + 3 + 3}", "RF grown by k"),
    # a 3×3 dilated by 2 then a 3×3: 5 + 2 = 7; dilation ignored: 3 + 2 = 5; taken as d·k = 6: 6 + 2 = 8
    ("[conv3d2, conv3]", f"rf: {3 + 2}", "dilation ignored"),
    ("[conv3d2, conv3]", f"rf: {2 * 3 + 2}", "dilation taken as d·k"),
    # strides ignored: [conv3, pool2, conv3] is 3, 4, 8; without the strides 3, 4, 6
    ("[conv3, pool2, conv3]", "rf: 6", "stride product forgotten"),
])
def test_receptive_field_slips(tmp_path, rf, answer, slip):
    item = q(tmp_path, f"rf: {rf}", answer)
    assert not item.ok and slip in names(item), item


@pytest.mark.parametrize("answer, slip", [
    # same padding for a 3×3 dilated by 2: d·(k − 1)/2 = 2; without the dilation (3 − 1)/2 = 1
    ("padding: 1", "dilation ignored"),
    # with the dilated kernel taken as d·k = 6: (6 − 1)/2 = 2.5
    ("padding: 2.5", "dilation taken as d·k"),
])
def test_same_padding_with_dilation(tmp_path, answer, slip):
    item = q(tmp_path, "same_padding: {kernel: 3, dilation: 2}", answer)
    assert not item.ok and slip in names(item), item
    assert any("d·(k − 1)" in ln for ln in item.formula)


def test_pairs_of_slips(tmp_path):
    # input channels and bias both forgotten: 5·5·6 (right (5·5·3 + 1)·6 = 456)
    item = q(tmp_path, NG, f"params: {5 * 5 * 6}")
    assert item.slip.name == "bias forgotten and input channels forgotten", item
    # stride and padding both forgotten: AlexNet conv2's 27×27 input... here ResNet conv1: 224 − 7 + 1 = 218
    item = q(tmp_path, RESNET_CONV1, f"output: {224 - 7 + 1}x218x64")
    assert "padding forgotten and stride forgotten" in item.slip.name, item
    # FLOPs vs MACs on top of the channels forgotten: 2·5·5·6·28·28
    item = q(tmp_path, NG, f"macs: {2 * 5 * 5 * 6 * 28 * 28}")
    assert item.slip.name == "input channels forgotten and FLOPs vs MACs", item


def test_two_explanations_are_both_said(tmp_path):
    # 138.3M for VGG-16's 138,357,544: cut off instead of rounded, or 138,357,544 − 13,416 biases
    item = net(tmp_path, "vgg16", "total: {params: 138.3M}")
    assert names(item) == {"truncated instead of rounded", "bias forgotten"}, item
    # 1.19亿 for ResNet conv1's 118,013,952 MACs: the bias adds (+802,816) land there, but so does a
    # slip in the last digit (1.18亿): never asserted alone
    item = q(tmp_path, RESNET_CONV1, "macs: 1.19亿")
    assert names(item) == {"bias counted as MACs", "a slip in the last digit"}, item
    assert 7 * 7 * 3 * 112 * 112 * 64 == 118_013_952


def test_truncated_and_one_significant_figure(tmp_path):
    # the ResNet paper's "3.8 × 10⁹" for ResNet-50's 4,089,184,256 MACs would be wrong either way; here
    # a true 3.86 × 10⁹: VGG-16's 15,470,264,320 MACs written 15.4G (cut) instead of 15.5G
    item = net(tmp_path, "vgg16", "total: {macs: 15.4G}")
    assert "truncated instead of rounded" in names(item), item
    item = net(tmp_path, "vgg16", "fc6: {params: 100M}")            # (7·7·512 + 1)·4096 = 102,764,544
    assert not item.ok and names(item) == {"one significant figure"}, item
    assert "103M" in item.slip.detail


def test_unexplained_wrong_answers_say_so(tmp_path):
    item = q(tmp_path, CONV1, "params: '1,000,000'")
    assert not item.ok and item.slip is None
    assert item.rule == "no known slip explains 1,000,000"
    res = CliRunner().invoke(app, ["check", str(write(tmp_path, "questions:\n  q1:\n    " + CONV1
                                                      + "\n    answer: {params: 1000000}\n")), "--json"])
    assert "no known slip explains 1000000" in res.output
    res = CliRunner().invoke(app, ["check", str(tmp_path / "answers.yaml"), "--format", "github"])
    assert res.exit_code == 1 and "— no known slip explains 1000000" in res.output


# --------------------------------------------------------------------------------------
# the rounding rule: at least two significant figures


@pytest.mark.parametrize("spec, answer, right", [
    # the bottleneck's 1·1·192·28·28·16 + 5·5·16·28·28·32 = 12,443,648
    (BOTTLENECK, "macs: 1000万", False),
    (BOTTLENECK, "macs: 1240万", True),
    (BOTTLENECK, "macs: 1244萬", True),
    (BOTTLENECK, "macs: 1240万次", True),
    # ResNet conv1: 118,013,952 MACs
    (RESNET_CONV1, "macs: 1亿", False),
    (RESNET_CONV1, "macs: 1.2億次", True),
    (RESNET_CONV1, "macs: 1.18亿", True),
    # AlexNet-style fc: 25,088·4,096 = 102,760,448 multiplications
    ("fc: {in: 7x7x512, out: 4096}", "macs: 100M", False),
    ("fc: {in: 7x7x512, out: 4096}", "macs: 103M", True),
])
def test_rounding_needs_two_significant_figures(tmp_path, spec, answer, right):
    assert q(tmp_path, spec, answer).ok is right


def test_rounding_rule_cases_from_the_issue(tmp_path):
    assert net(tmp_path, "vgg16", "total: {params: 138M}").ok                   # 138,357,544
    assert parse_number("1000万").too_coarse and not parse_number("1000万").matches(12_443_648)
    assert not parse_number("1亿").matches(118_013_952)
    assert not parse_number("100M").matches(102_760_448)
    assert parse_number("138M").matches(138_357_544) and parse_number("1240万").matches(12_443_648)
    assert parse_number("100M").matches(102_760_448, tolerance=parse_number("0.05").value)  # an explicit tolerance
    assert parse_number("156个").value == 156 and parse_number("1.2亿次").value == 120_000_000
    assert parse_number("约1.2亿").value == parse_number("≈1.2亿次").value == 120_000_000
    assert parse_number("15.5 GFLOPs").value == parse_number("15.5G").value
    assert parse_number("138M params").value == parse_number("1.2亿次乘法").value + 18_000_000
    assert parse_number("60K").matches(60_000) and not parse_number("60K").matches(61_706)   # exact, or two figures


# --------------------------------------------------------------------------------------
# new figures: activations, memory, param_memory, connections


def test_vgg16_activations_and_memory_as_the_lecture_table(tmp_path):
    # CS231n's VGG-16 table: the input and each conv/pool/fc output once
    rows = ([224 * 224 * 3] + [224 * 224 * 64] * 2 + [112 * 112 * 64] + [112 * 112 * 128] * 2 + [56 * 56 * 128]
            + [56 * 56 * 256] * 3 + [28 * 28 * 256] + [28 * 28 * 512] * 3 + [14 * 14 * 512]
            + [14 * 14 * 512] * 3 + [7 * 7 * 512] + [4096, 4096, 1000])
    total = sum(rows)
    assert 15_200_000 < total < 15_300_000     # "about 15.2M"; torchvision's no-op adaptive 7×7 pool adds no row
    result = check(write(tmp_path, f"""\
architecture: vgg16
answers:
  conv1_1: {{activations: 3.2M, memory: 12.8 MB}}
  total: {{activations: {total}, memory: {total * 4}}}
  fc6: {{param_memory: {(7 * 7 * 512 + 1) * 4096 * 4}}}
"""))
    assert result.ok, [i for i in result.items if not i.ok]
    # the notes' "24M activations ≈ 93 MB" is flagged
    item = net(tmp_path, "vgg16", "total: {activations: 24M}")
    assert not item.ok and item.expected_value == total
    item = net(tmp_path, "vgg16", "total: {memory: 93 MB}")
    assert not item.ok and item.expected_value == 4 * total
    assert f"{total * 4 / 2 ** 20:.1f}" == "58.1"                      # ≈ 58 MiB, as the issue says
    assert net(tmp_path, "vgg16", "total: {memory: 58.1 MiB}").ok


def test_activation_conventions(tmp_path):
    # LeNet-5 (dense): input 32·32 + C1 6·28·28 + S2 6·14·14 + C3 16·10·10 + S4 16·5·5 + C5 120 + F6 84 + F7 10
    lecture = 32 * 32 + 6 * 28 * 28 + 6 * 14 * 14 + 16 * 10 * 10 + 16 * 5 * 5 + 120 + 84 + 10
    # every row: C1, relu, S2, C3, relu, S4, C5, relu, F6, relu, F7, softmax (no input)
    every = 2 * 6 * 28 * 28 + 6 * 14 * 14 + 2 * 16 * 10 * 10 + 16 * 5 * 5 + 2 * 120 + 2 * 84 + 2 * 10
    assert net(tmp_path, "lenet5", f"total: {{activations: {lecture}}}").ok
    item = net(tmp_path, "lenet5", f"total: {{activations: {every}}}")   # no convention declared: either is right
    assert item.ok and "right under `conventions: {activations: every_layer}`" in item.note
    item = net(tmp_path, "lenet5", f"total: {{activations: {every}}}", head="conventions: {activations: lecture}\n")
    assert not item.ok and "activations convention" in names(item)
    assert net(tmp_path, "lenet5", f"total: {{activations: {every}}}",
               head="conventions: {activations: every_layer}\n").ok
    item = net(tmp_path, "lenet5", f"total: {{activations: {lecture - 32 * 32}}}")
    assert "input not counted" in names(item)
    # memory in fp16: 2 bytes a value; given in fp32 bytes it is named
    assert net(tmp_path, "lenet5", f"total: {{memory: {2 * lecture}}}", head="conventions: {dtype: fp16}\n").ok
    item = net(tmp_path, "lenet5", f"total: {{memory: {lecture}}}")
    assert "elements vs bytes" in names(item)


def test_mib_vs_mb(tmp_path):
    # VGG-16's 138,357,544 params × 4 bytes = 553,430,176 bytes = 553.4 MB = 527.8 MiB
    assert 138_357_544 * 4 == 553_430_176
    assert net(tmp_path, "vgg16", "total: {param_memory: 553 MB}").ok
    assert net(tmp_path, "vgg16", "total: {param_memory: 528 MiB}").ok
    assert "MiB vs MB" in names(net(tmp_path, "vgg16", "total: {param_memory: 528 MB}"))
    assert "MB vs MiB" in names(net(tmp_path, "vgg16", "total: {param_memory: 553 MiB}"))
    assert parse_bytes("58.1MiB").value == parse_number("58.1").value * 2 ** 20


def test_connections_of_the_lenet_paper(tmp_path):
    # LeCun et al. 1998, C1: 156 trainable parameters, 122,304 connections = (5·5 + 1)·6·28·28
    item = q(tmp_path, "conv: {input: 32x32x1, kernel: 5, filters: 6}", "connections: 122304")
    assert item.ok and item.expected_value == (5 * 5 + 1) * 6 * 28 * 28


# --------------------------------------------------------------------------------------
# conventions a course may declare


def test_flops_conventions(tmp_path):
    # one 3×3 conv on 8×8×4 → 6×6×2 with biases: 3·3·4·6·6·2 = 2,592 MACs, 72 outputs, 2 biases × 36 positions
    spec = "conv: {input: 8x8x4, kernel: 3, filters: 2}"
    macs, outs = 3 * 3 * 4 * 6 * 6 * 2, 6 * 6 * 2
    assert q(tmp_path, spec, f"flops: {2 * macs}").ok
    item = q(tmp_path, spec, f"flops: {2 * macs + outs}")
    assert not item.ok and "FLOPs as 2mac+bias" in names(item)
    assert q(tmp_path, spec, f"flops: {2 * macs + outs}", head="conventions: {flops: 2mac+bias}\n").ok
    # mul+add: (2·36 − 1) per output + the bias add = 72 per output
    assert q(tmp_path, spec, f"flops: {(2 * 36 - 1) * outs + outs}", head="conventions: {flops: mul+add}\n").ok
    no_bias = "conv: {input: 8x8x4, kernel: 3, filters: 2, bias: false}"
    assert q(tmp_path, no_bias, f"flops: {(2 * 36 - 1) * outs}", head="conventions: {flops: mul+add}\n").ok


def test_params_weights_only(tmp_path):
    head = "conventions: {params: weights_only}\n"
    assert q(tmp_path, NG, f"params: {5 * 5 * 3 * 6}", head=head).ok
    item = q(tmp_path, NG, f"params: {(5 * 5 * 3 + 1) * 6}", head=head)
    assert not item.ok and "biases counted" in names(item)


def test_bad_conventions_are_errors(tmp_path):
    p = write(tmp_path, "conventions: {flops: 3mac}\narchitecture: lenet5\nanswers:\n  C1: {params: 156}\n")
    res = CliRunner().invoke(app, ["check", str(p)])
    assert res.exit_code == 2 and f"{p}:1:" in res.output and "2mac | 2mac+bias | mul+add" in res.output


# --------------------------------------------------------------------------------------
# words: the exercise's numbers, the file's layout, plurals, no internal words


def test_texts_use_the_exercise_numbers(tmp_path):
    item = q(tmp_path, C8, f"params: {5 * 5 * 16 + 16}")
    assert "5·5·8" in item.slip.detail and "76" not in item.slip.detail
    item = q(tmp_path, "fc: {in: 300x300x3, out: 100}", f"params: {4 * (300 * 300 * 3 + 1) * 100}")
    assert "244" not in item.slip.detail and "AlexNet" not in item.slip.detail
    assert f"{(300 * 300 * 3 + 1) * 100:,}" in item.slip.detail


def test_formulas_in_the_files_layout_and_plurals(tmp_path):
    item = q(tmp_path, "conv: {input: 15x15x3, kernel: 3, padding: 1, filters: 1}", "output: 15x15x2")
    out = [ln for ln in item.formula if ln.startswith("output:")]
    assert out and "15×15×1" in out[0] and "(1 filter)" in out[0], item.formula
    item = q(tmp_path, "conv: {input: 3x15x15, kernel: 3, padding: 1, filters: 16}", "output: 3x15x15",
             head="layout: CHW\n")
    assert any("16×15×15" in ln for ln in item.formula)


def _docstrings():
    for path in sorted((ROOT / "cnncalc").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]:
            doc = ast.get_docstring(node)
            if doc:
                yield path, doc


def test_no_internal_words():
    for path, doc in _docstrings():      # the course notes are never "seeds" (a random seed is fine)
        assert not re.search(r"\bseeds\b", doc.lower()), path
    shipped = list((ROOT / "examples").rglob("*.yaml")) + list((ROOT / "architectures").glob("*.yaml"))
    for path in shipped + [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert not re.search(r"\bseeds\b", path.read_text(encoding="utf-8")), path
    runner = CliRunner()
    for f in (ROOT / "examples" / "exam").glob("*.yaml"):
        if "architecture" in f.read_text(encoding="utf-8") or "questions" in f.read_text(encoding="utf-8"):
            for fmt in (["--json"], ["--format", "github"], []):
                out = runner.invoke(app, ["check", str(f), *fmt]).output
                assert "seed" not in out.lower(), (f, fmt)
    out = runner.invoke(app, ["check", str(ROOT / "examples" / "exam" / "student.yaml"), "--json"]).output
    for word in ("seeds", "seed 0", "§5.2 prints"):
        assert word not in out


def test_dilation_written_out_in_the_rf_formula(tmp_path):
    # conv3d2 spans 2·(3 − 1) + 1 = 5: r = 1 + (5 − 1)·1 = 5, then + (3 − 1) = 7
    item = q(tmp_path, "rf: [conv3d2, conv3]", "rf: 5")
    assert not item.ok and item.expected_value == 1 + (2 * (3 - 1) + 1 - 1) + (3 - 1)
    assert any("d·(k − 1) + 1 = 2·(3 − 1) + 1 = 5" in ln for ln in item.formula), item.formula

"""`cnncalc check`: number and shape parsing, the rounding rule, slips by name, exit codes and formats.

Expected values are written as arithmetic with their source: course notes 000 = the course notes
(sections C–D: LeNet-5, AlexNet, VGG16, the Inception bottleneck, stacked 3×3 receptive
fields), course notes 003 = Andrew Ng's course as written up (§5.2 padding, §5.5 the 39×39×3 example,
§5.7 the 5×5×3 filters).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.exam.check import check
from cnncalc.render.check import github_lines, junit_xml
from cnncalc.cli import app
from cnncalc.errors import SpecError
from cnncalc.exam.numbers import ParseError, parse_number, parse_shape, parse_tolerance, shape_matches

ROOT = Path(__file__).resolve().parents[1]
EXAM = ROOT / "examples" / "exam"
KEY = EXAM / "key.yaml"
STUDENT = EXAM / "student.yaml"
runner = CliRunner()


def run(*args):
    return runner.invoke(app, ["check", *map(str, args)])


def write(tmp_path: Path, text: str, name: str = "answers.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def by_id(result):
    return {f"{i.group}/{i.id}": i for i in result.items}


# --------------------------------------------------------------------------------------
# numbers


@pytest.mark.parametrize("text, value, quantum", [
    ("61706", 61706, 1),
    ("61,706", 61706, 1),
    ("61_706", 61706, 1),
    ("0.42M", Decimal("0.42") * 10**6, 10**4),
    ("15.5G", Decimal("15.5") * 10**9, 10**8),
    ("3.8e9", Decimal("3.8") * 10**9, 10**8),
    ("3.8e+9", Decimal("3.8") * 10**9, 10**8),
    ("3.8×10^9", Decimal("3.8") * 10**9, 10**8),
    ("3.8x10^9", Decimal("3.8") * 10**9, 10**8),
    ("3.8 × 10⁹", Decimal("3.8") * 10**9, 10**8),
    ("1.2亿", Decimal("1.2") * 10**8, 10**7),
    ("1240万", 1240 * 10**4, 10 * 10**4),          # trailing zero of a whole mantissa is not significant
    ("1244万", 1244 * 10**4, 10**4),
    ("34.9K", Decimal("34.9") * 10**3, 100),
    ("34.9k", Decimal("34.9") * 10**3, 100),
    ("138M", 138 * 10**6, 10**6),
    ("138.4M", Decimal("138.4") * 10**6, 10**5),
    ("240M", 240 * 10**6, 10**7),
    (416520, 416520, 1),
])
def test_number_parsing_table(text, value, quantum):
    n = parse_number(text)
    assert n.value == Decimal(value)
    assert n.quantum == Decimal(quantum)


@pytest.mark.parametrize("text", ["12 apples", "1,2", "1,23,456", "3.8e9M", "", "M", "0x10", "1.2.3", "5 亿亿"])
def test_unreadable_numbers_are_refused(text):
    with pytest.raises(ParseError, match="cannot read|expected"):
        parse_number(text)


@pytest.mark.parametrize("given, true, right", [
    ("138M", 138_357_544, True),             # VGG16 params, course notes 000 D.IV "138M"
    ("138.4M", 138_357_544, True),
    ("138.3M", 138_357_544, False),
    ("138.36M", 138_357_544, True),
    ("61706", 61706, True),
    ("61706", 61707, False),                 # a plain number is exact
    ("61,706", 61706, True),
    ("0.42M", 416_520, True),                # LeNet-5 MACs
    ("0.41M", 416_520, False),
    ("15.5G", 15_470_264_320, True),         # VGG16 MACs
    ("1.2亿", 5 * 5 * 192 * 28 * 28 * 32, True),                                   # course notes 000 D.V.3
    ("1240万", 1 * 1 * 192 * 28 * 28 * 16 + 5 * 5 * 16 * 28 * 28 * 32, True),      # course notes 000 D.V.3
    ("1250万", 1 * 1 * 192 * 28 * 28 * 16 + 5 * 5 * 16 * 28 * 28 * 32, False),
    ("3.8e9", 3_850_000_001, False),
    ("3.8e9", 3_849_999_999, True),
    ("3.8e9", 3_750_000_000, True),          # exactly half a unit away: either rounding direction is accepted
])
def test_rounding_rule(given, true, right):
    assert parse_number(given).matches(true) is right


def test_tolerance_replaces_the_rounding_rule():
    assert parse_tolerance("1%") == Decimal("0.01")
    assert parse_tolerance(0.01) == Decimal("0.01")
    assert parse_tolerance("0.5 %") == Decimal("0.005")
    with pytest.raises(ParseError):
        parse_tolerance("lots")
    with pytest.raises(ParseError):
        parse_tolerance(2)
    n = parse_number("62K")
    assert not n.matches(61_400)                     # 62K stands for 61,500 … 62,500
    assert n.matches(61_400, Decimal("0.01"))       # |62,000 − 61,400| = 0.98 % of 61,400
    assert not parse_number("61K").matches(61_706, Decimal("0.01"))  # 1.1 %
    assert not parse_number("138M").matches(138_357_544, Decimal(0))


def test_shapes_in_both_layouts():
    # LeNet C1: 28×28×6 in the course's H×W×C, 6×28×28 in PyTorch's C×H×W (course notes 000 D.I)
    c1 = (6, 28, 28)
    for text in ("28x28x6", "28×28×6", "28 x 28 x 6", "28*28*6", [28, 28, 6]):
        assert parse_shape(text, "HWC").chw == c1
    for text in ("6x28x28", [6, 28, 28]):
        assert parse_shape(text, "CHW").chw == c1
    assert parse_shape([6, 28, 28], "HWC").chw == (28, 6, 28)   # a list is read in the file's layout too
    assert shape_matches(parse_shape("28x28", "HWC"), c1)      # H×W only
    assert shape_matches(parse_shape("1x1x84", "HWC"), (84,))  # the notes' F6 "1×1×84" is the vector 84
    assert shape_matches(parse_shape(120, "HWC"), (120, 1, 1))
    assert not shape_matches(parse_shape("6x28x28", "HWC"), c1)
    with pytest.raises(ParseError):
        parse_shape("28x28x6x1x1", "HWC")  # four numbers are a 3-D map (issue 11)
    with pytest.raises(ParseError):
        parse_shape("big", "HWC")


# --------------------------------------------------------------------------------------
# the example files


def test_key_is_all_right_and_exits_0():
    res = run(KEY)
    assert res.exit_code == 0, res.output
    result = check(KEY)
    assert result.ok and result.failed == 0 and result.total >= 70
    items = by_id(result)
    # a few figures of the key, with their arithmetic
    assert items["lenet5/C3.params"].expected_value == 5 * 5 * 6 * 16 + 16                       # course notes 000 D.I
    assert items["lenet5/total.params"].expected_value == (5 * 5 * 1 * 6 + 6 + 5 * 5 * 6 * 16 + 16
                                                           + 5 * 5 * 16 * 120 + 120 + 120 * 84 + 84 + 84 * 10 + 10)
    assert items["vgg16/conv1_1.params"].expected_value == (3 * 3 * 3 + 1) * 64                   # a block's aggregate
    assert items["alexnet/conv1.params"].expected_value == (11 * 11 * 3 + 1) * 96
    assert items["alexnet/conv2.params"].expected_value == (5 * 5 * 48 + 1) * 256                 # groups 2
    assert items["ng39/flatten.output"].expected_value == [7 * 7 * 40]                           # course notes 003 §5.5
    assert items["ng39/conv3.output"].expected_value == [40, 7, 7]
    assert items["questions/inception_5x5.macs"].expected_value == 5 * 5 * 192 * 28 * 28 * 32
    assert items["questions/inception_bottleneck.macs"].expected_value == \
        1 * 1 * 192 * 28 * 28 * 16 + 5 * 5 * 16 * 28 * 28 * 32
    assert items["questions/stacked_3x3.rf"].expected_value == [3, 5, 7]                          # course notes 000 C.VIII
    assert items["questions/same_3x3.padding"].expected_value == (3 - 1) // 2


STUDENT_SLIPS = {
    "lenet5/C1.output": "H/W/C order swapped",
    "lenet5/C1.params": "bias forgotten",
    "lenet5/C3.params": "sparse LeNet C3",
    "lenet5/C3.macs": "sparse LeNet C3",
    "lenet5/F6.params": "bias forgotten",
    "lenet5/total.macs": "FLOPs vs MACs",
    "alexnet/conv2.output": "padding forgotten",
    "alexnet/total.params": "bytes vs params",
    "vgg16/total.flops": "FLOPs vs MACs",
    "questions/ng_conv1.params": "input channels forgotten",
    "questions/googlenet_pool.output": "floor vs ceil",
    # (3 + 1)/2 = 2 and 3 − 1 = 2: both explanations fit, so both are said
    "questions/same_3x3.padding": "same padding (f+1)/2, or both sides' padding",
    "questions/rf_with_pool.rf": "stride product forgotten",
}


def test_student_names_every_slip_and_exits_1():
    result = check(STUDENT)
    wrong = {f"{i.group}/{i.id}": i.slip.name for i in result.items if not i.ok}
    assert wrong == STUDENT_SLIPS
    items = by_id(result)
    assert items["lenet5/C3.params"].expected_value == 5 * 5 * 6 * 16 + 16
    assert items["alexnet/total.params"].expected_value == 60_965_224   # bvlc_alexnet; ×4 bytes ≈ 244 MB
    assert items["vgg16/total.params"].ok                              # 138.4M rounds right
    res = run(STUDENT)
    assert res.exit_code == 1
    for name in {part for names in STUDENT_SLIPS.values() for part in names.split(", or ")}:
        assert name in res.output, name
    assert "✗" in res.output and "✓" in res.output


def test_wrong_answers_carry_the_worked_formula():
    items = by_id(check(STUDENT))
    assert any("(5·5·6 + 1)·16 = 2,416" in ln for ln in items["lenet5/C3.params"].formula)
    assert any("(120 + 1)·84 = 10,164" in ln for ln in items["lenet5/F6.params"].formula)
    assert any("⌊(27 − 5 + 2·2)/1⌋ + 1 = 27" in ln for ln in items["alexnet/conv2.output"].formula)
    assert any("r = 4 + (3 − 1)·2 = 8" in ln for ln in items["questions/rf_with_pool.rf"].formula)


# --------------------------------------------------------------------------------------
# each slip on its own


def one(tmp_path, text):
    result = check(write(tmp_path, text))
    assert len(result.items) == 1
    return result.items[0]


@pytest.mark.parametrize("answers, slip", [
    # FLOPs vs MACs, both ways: LeNet C1 MACs = 5·5·1·28·28·6
    (f"C1: {{macs: {2 * 5 * 5 * 1 * 28 * 28 * 6}}}", "FLOPs vs MACs"),
    (f"C1: {{flops: {5 * 5 * 1 * 28 * 28 * 6}}}", "FLOPs vs MACs"),
    # bytes vs params: 4 bytes per fp32 parameter
    (f"total: {{params: {4 * 61706}}}", "bytes vs params"),
    ("total: {params: 247K}", "bytes vs params"),
    # bias forgotten: conv k·k·C_in·C_out, linear N_in·N_out
    (f"C3: {{params: {5 * 5 * 6 * 16}}}", "bias forgotten"),
    (f"F7: {{params: {84 * 10}}}", "bias forgotten"),
    # input channels forgotten: k·k·C_out (+ biases) instead of k·k·C_in·C_out
    (f"C3: {{params: {5 * 5 * 16 + 16}}}", "input channels forgotten"),
    (f"C3: {{macs: {5 * 5 * 10 * 10 * 16}}}", "input channels forgotten"),
    # the paper's sparse C3: 6·(3·25 + 1) + 9·(4·25 + 1) + (6·25 + 1) = 1,516; ×10·10 connections
    (f"C3: {{params: {6 * (3 * 25 + 1) + 9 * (4 * 25 + 1) + (6 * 25 + 1)}}}", "sparse LeNet C3"),
    (f"C3: {{macs: {(6 * (3 * 25 + 1) + 9 * (4 * 25 + 1) + (6 * 25 + 1)) * 10 * 10}}}", "sparse LeNet C3"),
    # H/W/C order
    ("C3: {output: 16x10x10}", "H/W/C order swapped"),
    ("C3: {output: 10x16x10}", "H/W/C order swapped"),
    # receptive field: S4 is 16 (course notes 000 C.VIII recursion); 1 + 4 + 1 + 4 + 1 = 11 without the strides
    ("S4: {rf: 11}", "stride product forgotten"),
])
def test_each_slip_is_named(tmp_path, answers, slip):
    item = one(tmp_path, f"architecture: lenet5\nanswers:\n  {answers}\n")
    assert not item.ok
    assert item.slip is not None and item.slip.name == slip, item


@pytest.mark.parametrize("question, slip", [
    # floor vs ceil: ⌊(112 − 3)/2⌋ + 1 = 55, ⌈…⌉ + 1 = 56
    ("pool: {input: 112x112x64, kernel: 3, stride: 2}\n    answer: {output: 56x56x64}", "floor vs ceil"),
    # ⌊109/2⌋ + 1 = 55 and ⌈109/2⌉ = 55: rounded the wrong way or the + 1 left out, both fit
    ("pool: {input: 112x112x64, kernel: 3, stride: 2, ceil: true}\n    answer: {output: 55x55x64}",
     "floor vs ceil, or +1 forgotten"),
    ("conv: {input: 32x32x3, kernel: 3, stride: 2, filters: 8}\n    answer: {output: 16x16x8}", "floor vs ceil"),
    # same padding: (f − 1)/2, not (f + 1)/2 (course notes 003 §5.2)
    ("same_padding: {kernel: 3}\n    answer: {padding: 2}", "same padding (f+1)/2, or both sides' padding"),
    ("same_padding: {kernel: 5}\n    answer: {padding: 3}", "same padding (f+1)/2"),
    ("same_padding: {kernel: 5}\n    answer: {padding: 4}", "both sides' padding"),
    # course notes 003 §5.7: "26 parameters per 5×5 filter" on a 3-channel input: 6·26 instead of 6·(5·5·3 + 1)
    (f"conv: {{input: 32x32x3, kernel: 5, filters: 6}}\n    answer: {{params: {6 * (5 * 5 + 1)}}}",
     "input channels forgotten"),
    (f"fc: {{in: 9216, out: 4096}}\n    answer: {{params: {9216 * 4096}}}", "bias forgotten"),
    (f"fc: {{in: 9216, out: 4096}}\n    answer: {{weights: {9217 * 4096}}}", "bias included in weights"),
    ("conv: {input: 27x27x96, kernel: 5, padding: 2, filters: 256}\n    answer: {output: 23x23x256}",
     "padding forgotten"),
    ("rf: [conv3, pool2, conv3]\n    answer: {rf: [3, 4, 6]}", "stride product forgotten"),
])
def test_question_slips(tmp_path, question, slip):
    item = one(tmp_path, f"questions:\n  q1:\n    {question}\n")
    assert not item.ok and item.slip is not None and item.slip.name == slip, item


def test_layout_chw_and_swapped_reading(tmp_path):
    item = one(tmp_path, "layout: CHW\narchitecture: lenet5\nanswers:\n  C1: {output: [6, 28, 28]}\n")
    assert item.ok
    item = one(tmp_path, "layout: CHW\narchitecture: lenet5\nanswers:\n  C1: {output: 28x28x6}\n")
    assert not item.ok and item.slip.name == "H/W/C order swapped"
    assert "H×W×C" in item.slip.detail


# --------------------------------------------------------------------------------------
# names, tolerances, questions


def test_block_and_suffix_names(tmp_path):
    arch = write(tmp_path, """\
name: tiny
input: [3, 32, 32]
blocks:
  stem: {layers: [{name: conv7, type: conv, filters: 8, kernel: 7, stride: 2, padding: 3}, relu]}
layers:
  - {name: s, type: stem}
  - {name: head, type: linear, out: 10}
""", "tiny.yaml")
    result = check(write(tmp_path, f"""\
architecture: {arch.name}
answers:
  conv7: {{params: {7 * 7 * 3 * 8 + 8}}}      # unique dotted suffix of s.conv7
  s: {{output: 16x16x8, macs: {7 * 7 * 3 * 16 * 16 * 8}}}   # the block's aggregate
  total: {{params: {7 * 7 * 3 * 8 + 8 + 16 * 16 * 8 * 10 + 10}}}
"""))
    assert result.ok, [i for i in result.items if not i.ok]
    assert "s.conv7" in result.items[0].note


def test_tolerance_levels(tmp_path):
    text = """\
tolerance: 1%
architecture: lenet5
answers:
  C1: {params: 155}                        # file-wide 1 %: |155 − 156| = 0.6 %
  C3: {params: 2400, tolerance: 0}         # per layer: exact
  C5: {params: {value: 48K, tolerance: 0.5%}}   # per answer: |48,000 − 48,120| = 0.25 %
  F6: {params: {value: 10K, tolerance: 1%}}     # 1.6 % off
"""
    items = {i.id: i for i in check(write(tmp_path, text)).items}
    assert items["C1.params"].ok and items["C1.params"].rule == "within 1%"
    assert not items["C3.params"].ok and items["C3.params"].slip.name == "bias forgotten"
    assert items["C5.params"].ok and items["C5.params"].rule == "within 0.5%"
    assert not items["F6.params"].ok


def test_network_input_override_and_questions(tmp_path):
    result = check(write(tmp_path, """\
networks:
  vgg64:
    architecture: vgg16
    input: 64x64x3
    answers:
      pool5: {output: 2x2x512}
questions:
  fc_from_map:
    fc: {in: 6x6x256, out: 4096}
    answer: {params: 37752832, flops: 75.5M}
  ceil_pool:
    pool: {input: 112x112x64, kernel: 3, stride: 2, ceil: true}
    answer: {output: 56x56x64}
  avg:
    pool: {input: 28x28x6, kernel: 2, type: avg}
    answer: {output: 14x14x6, params: 0}
  dilated:
    rf: [conv3d2, {kernel: 3, stride: 1, dilation: 4}]
    answer: {rf: [5, 13]}
  even:
    same_padding: {kernel: 4}
    answer: {padding: [1, 2]}
"""))
    assert result.ok, [i for i in result.items if not i.ok]
    items = by_id(result)
    assert items["questions/fc_from_map.params"].expected_value == (6 * 6 * 256 + 1) * 4096
    assert items["questions/dilated.rf"].expected_value == [1 + 2 * (3 - 1), 5 + 4 * (3 - 1)]


# --------------------------------------------------------------------------------------
# output formats


def test_junit_xml(tmp_path):
    out = tmp_path / "results.xml"
    res = run(STUDENT, "--junit", out)
    assert res.exit_code == 1
    root = ET.parse(out).getroot()
    cases = root.findall(".//testcase")
    result = check(STUDENT)
    assert len(cases) == result.total == int(root.get("tests"))
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == result.failed == len(STUDENT_SLIPS) == int(root.get("failures"))
    names = {(c.get("classname"), c.get("name")) for c in cases}
    assert ("lenet5", "C1.params") in names and ("questions", "same_3x3.padding") in names
    c3 = next(c for c in cases if c.get("name") == "C3.params")
    assert c3.find("failure").get("type") == "sparse LeNet C3"
    assert "2,416" in c3.find("failure").get("message")
    ok = ET.fromstring(junit_xml(check(KEY)))
    assert ok.get("failures") == "0" and not ok.findall(".//failure")


def test_github_format(tmp_path):
    res = run(STUDENT, "--format", "github")
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.startswith("::error ")]
    assert len(lines) == len(STUDENT_SLIPS)
    text = STUDENT.read_text(encoding="utf-8").splitlines()
    c3_line = next(i for i, ln in enumerate(text, 1) if ln.strip().startswith("C3:"))
    pat = re.compile(r"^::error file=([^,]+),line=(\d+),title=[^:]+::(.+)$")
    parsed = [pat.match(ln) for ln in lines]
    assert all(parsed), lines
    assert all(m.group(1).endswith("student.yaml") for m in parsed)
    c3 = [m for m in parsed if "C3.params" in m.group(3)]
    assert c3 and int(c3[0].group(2)) == c3_line and "sparse LeNet C3" in c3[0].group(3)
    assert all("\n" not in ln for ln in github_lines(check(STUDENT)))
    assert run(KEY, "--format", "github").exit_code == 0


def test_json_is_the_result_model():
    res = run(STUDENT, "--json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data == json.loads(check(STUDENT).model_dump_json())
    assert data["failed"] == len(STUDENT_SLIPS) and data["ok"] is False
    assert {"id", "given", "expected", "ok", "slip", "formula", "line"} <= set(data["items"][0])


# --------------------------------------------------------------------------------------
# malformed files: exit 2 with file:line


@pytest.mark.parametrize("text, line, words", [
    ("architecture: lenet5\nanswers:\n  C1: {params: [156\n", None, "not valid YAML"),
    ("architecture: lenet5\nanswers:\n  C1: {params: 156}\n  C9: {params: 1}\n", 4, "did you mean"),
    ("architecture: lenet5\nanswers:\n  C1:\n    params: 12 apples\n", 4, "cannot read '12 apples'"),
    ("answers:\n  C1: {params: 156}\n", 1, "needs `architecture:`"),
    ("architecture: lenet5\nanswers:\n  C1: {parms: 156}\n", 3, "did you mean 'params'"),
    ("architecture: lenet6\nanswers:\n  C1: {params: 156}\n", 1, "did you mean lenet5"),
    ("architecture: lenet5\nlayout: WHC\nanswers:\n  C1: {params: 156}\n", 2, "layout"),
    ("questions:\n  q1:\n    convolution: {input: 3x3x1}\n    answer: {output: 1}\n", 3, "did you mean 'conv'"),
    ("questions:\n  q1:\n    conv: {input: 5x5x3, kernel: 7, filters: 2}\n    answer: {output: 1}\n", 3,
     "larger than"),
    ("questions:\n  q1:\n    conv: {input: 5x5x3, kernel: 3, filters: 2}\n    answer: {rff: 3}\n", 4,
     "does not answer 'rff'"),
    ("questions:\n  q1:\n    rf: [conv3, conv3x]\n    answer: {rf: 5}\n", 3, "cannot read 'conv3x'"),
    ("architecture: vgg16\nanswers:\n  conv: {params: 1}\n", 3, "ambiguous"),
    ("tolerance: lots\narchitecture: lenet5\nanswers:\n  C1: {params: 156}\n", 1, "tolerance"),
    ("hello: 1\n", 1, "unknown top-level key"),
    ("questions:\n  q1:\n    rf: [conv3, conv3]\n    answer: {tolerance: 0}\n", 4, "gives no figure to grade"),
    ("questions:\n  q1:\n    same_padding: {kernel: 3}\n    answer: {tolerance: 0}\n", 4, "gives no figure"),
])
def test_malformed_files_exit_2_with_file_and_line(tmp_path, text, line, words):
    p = write(tmp_path, text)
    res = run(p)
    assert res.exit_code == 2, res.output
    out = res.output
    assert "Traceback" not in out
    prefix = f"{p}:{line}:" if line else f"{p}:"
    assert prefix in out, out
    assert words in out, out
    with pytest.raises(SpecError):
        check(p)


def test_missing_file_and_bad_format_option(tmp_path):
    res = run(tmp_path / "nope.yaml")
    assert res.exit_code == 2 and "no such file" in res.output
    assert run(KEY, "--format", "xml").exit_code == 2


def test_static_path_never_imports_torch():
    code = ("import sys; from typer.testing import CliRunner; from cnncalc.cli import app; "
            f"r = CliRunner().invoke(app, ['check', {str(KEY)!r}, '--json']); assert r.exit_code == 0, r.output; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_python_api_takes_a_parsed_mapping():
    # course notes 000 D.V.3, as a dict: the bottleneck chain and its 1240万 multiplications
    result = check({"questions": {"bottleneck": {
        "net": {"input": "28x28x192", "layers": [{"type": "conv", "filters": 16, "kernel": 1},
                                                 {"type": "conv", "filters": 32, "kernel": 5, "padding": 2}]},
        "answer": {"output": "28x28x32", "macs": "1240万", "params": (1 * 1 * 192 + 1) * 16 + (5 * 5 * 16 + 1) * 32},
    }}})
    assert result.ok and result.total == 3
    with pytest.raises(SpecError, match="bottleneck.net.layers"):
        check({"questions": {"bottleneck": {"net": {"input": "28x28x192", "layers": [{"type": "conv", "kernel": 1}]},
                                            "answer": {"macs": 1}}}})


def test_one_network_named_by_many_entries_is_loaded_and_searched_once(tmp_path, monkeypatch):
    """200 students' copies of one network in one answers file cost one load and one slip search per
    question (issue 26: 200 × densenet201 × 9 wrong totals took a minute): the results stay the same."""
    import cnncalc.exam.check as C
    import cnncalc.exam.slips as S
    loads, searches = [], []
    real_load, real_candidates = C.load, S.candidates
    monkeypatch.setattr(C, "load", lambda *a, **k: loads.append(a[0]) or real_load(*a, **k))
    monkeypatch.setattr(S, "candidates", lambda *a, **k: searches.append(a[1]) or real_candidates(*a, **k))
    wrong = {"params": 61706 - 6 * 16, "macs": 2 * 416520}     # C3's biases forgotten; FLOPs given as MACs
    text = "networks:\n" + "".join(
        f"  n{i}:\n    architecture: lenet5\n    answers:\n      total: {{params: {wrong['params']}, "
        f"macs: {wrong['macs']}}}\n" for i in range(5))
    p = tmp_path / "many.yaml"
    p.write_text(text, encoding="utf-8")
    r = check(str(p))
    assert loads == ["lenet5"]
    assert len(r.items) == 10 and not any(it.ok for it in r.items)
    slips = {(it.figure, it.slip.name if it.slip else None) for it in r.items}
    assert len(slips) == 2, slips              # every copy named the same slip
    assert searches.count("params") <= len(S.STAGES) and searches.count("macs") <= len(S.STAGES)

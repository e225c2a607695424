"""Bad input is a feature: one clear line naming file, line and layer path; exit 2; no traceback."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app

runner = CliRunner()

HEAD = "name: t\ninput: [3, 32, 32]\nlayers:\n"


def analyze_file(tmp_path, text, name="net.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    res = runner.invoke(app, ["analyze", str(p)])
    return p, res


def assert_clean_error(res, *fragments):
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    out = res.stderr if hasattr(res, "stderr") else res.output
    assert "Traceback" not in out
    assert out.startswith("error: ") and out.count("\n") == 1, out
    for frag in fragments:
        assert frag in out, (frag, out)
    return out


CASES = [
    # (id, yaml body, fragments expected in the message)
    ("unknown kind", HEAD + "  - {type: conv, filters: 4, kernel: 3}\n  - {type: convv, filters: 4}\n",
     [":5:", "layers[1]", "unknown layer kind 'convv'", "did you mean 'conv'"]),
    ("missing field", HEAD + "  - {type: conv, kernel: 3}\n", [":4:", "layers[0]", "missing field 'filters'"]),
    ("mistyped field name", HEAD + "  - {type: conv, filter: 4, kernel: 3}\n",
     [":4:", "unknown field 'filter'", "did you mean 'filters'"]),
    ("mistyped value", HEAD + "  - type: conv\n    filters: four\n    kernel: 3\n", [":5:", "filters", "whole number"]),
    ("zero kernel", HEAD + "  - {type: conv, filters: 4, kernel: 0}\n", [":4:", "kernel", "must be ≥ 1"]),
    ("negative padding", HEAD + "  - {type: conv, filters: 4, kernel: 3, padding: -1}\n", [":4:", "padding", "≥ 0"]),
    ("negative input", "input: [3, -32, 32]\nlayers: [relu]\n", [":1:", "input", "≥ 1"]),
    ("kernel larger than padded input", HEAD + "  - {type: conv, filters: 4, kernel: 5, stride: 4}\n"
     "  - {type: conv, filters: 4, kernel: 11, padding: 1}\n",
     [":5:", "layers[1]", "kernel 11", "padded input H=7+2=9"]),
    ("groups not dividing channels", HEAD + "  - {type: conv, filters: 4, kernel: 3, groups: 2}\n",
     [":4:", "groups=2 does not divide the 3 input channels"]),
    ("map shrinks to nothing", HEAD + "  - {type: maxpool, kernel: 2}\n" * 6, [":9:", "layers[5]", "kernel 2 is larger than the padded input H=1"]),
    ("pool padding over half kernel", HEAD + "  - {type: maxpool, kernel: 2, padding: 2}\n",
     [":4:", "padding 2 is more than half the kernel 2"]),
    ("python object tag", "input: !!python/object/apply:os.system [echo hi]\nlayers: [relu]\n",
     [":1:", "tag !!python/object/apply:os.system is not allowed"]),
    ("not yaml", "input: [3, 32, 32\nlayers: [relu]\n", [":2:", "not valid YAML"]),
    ("top level a list", "- relu\n- relu\n", [":1:", "top level must be a mapping"]),
    ("empty file", "", ["empty file"]),
    ("missing layers", "input: [3, 8, 8]\n", ["missing top-level key 'layers'"]),
    ("unknown top-level key", "input: [3, 8, 8]\nlayer: [relu]\n", [":2:", "unknown top-level key 'layer'", "'layers'"]),
    ("branches of different sizes", HEAD + "  - name: inc\n    branches:\n      - [{type: conv, filters: 4, kernel: 3}]\n"
     "      - [{type: conv, filters: 4, kernel: 1}]\n", [":4:", "inc", "b1 → 4×30×30", "b2 → 4×32×32"]),
    ("residual shapes", HEAD + "  - name: res\n    residual:\n      body: [{type: conv, filters: 8, kernel: 3, padding: 1}]\n",
     [":4:", "cannot add body output 8×32×32 to shortcut 3×32×32", "projection"]),
    ("self-referencing block", "input: [3, 8, 8]\nblocks:\n  a:\n    layers: [{type: b}]\n  b:\n    layers: [{type: a}]\n"
     "layers:\n  - {type: a}\n", [":6:", "block 'a' refers to itself (a → b → a)"]),
    ("undefined parameter", "input: [3, 8, 8]\nblocks:\n  a:\n    params: [c]\n    layers:\n"
     "      - {type: conv, filters: $d, kernel: 1}\nlayers:\n  - {type: a, c: 4}\n",
     [":6:", "undefined parameter 'd'"]),
    ("unknown input name", HEAD + "  - {name: a, type: relu}\n  - {type: concat, inputs: [a, bb]}\n",
     [":5:", "no earlier layer named 'bb'"]),
    ("block with two inputs", "input: [3, 8, 8]\nblocks:\n  b: {layers: [relu]}\nlayers:\n  - {name: a, type: relu}\n"
     "  - {type: b, inputs: [input, a]}\n", [":6:", "a block takes one input, got 2"]),
    ("inference reads a train_only layer", HEAD + "  - {name: aux, type: relu, train_only: true}\n"
     "  - {name: head, type: relu}\n", [":5:", "head runs at inference but reads aux, which is train_only"]),
    ("train_only not a flag", HEAD + "  - {type: relu, train_only: yes please}\n", [":4:", "train_only: expected true"]),
    ("duplicate name", HEAD + "  - {name: a, type: relu}\n  - {name: a, type: relu}\n", [":5:", "duplicate layer name 'a'"]),
    ("huge repeat", HEAD + "  - {type: relu, repeat: 100000000}\n", [":4:", "repeat"]),
    ("conv after flatten", HEAD + "  - flatten\n  - {type: conv, filters: 4, kernel: 1}\n",
     [":5:", "needs a C×H×W map, got a vector of 3,072"]),
    ("strided same", HEAD + "  - {type: conv, filters: 4, kernel: 3, stride: 2, padding: same}\n",
     [":4:", "padding 'same' needs stride 1"]),
    ("eval attempt", "input: [3, 8, 8]\nblocks:\n  a:\n    params: [c]\n    layers: [{type: conv, filters: $c, kernel: 1}]\n"
     "layers:\n  - {type: a, c: \"${__import__('os').getcwd()}\"}\n", [":7:", "only integers"]),
    # field names as PyTorch writes them
    ("out_channels", HEAD + "  - {type: conv, out_channels: 4, kernel: 3}\n",
     [":4:", "unknown field 'out_channels'", "PyTorch's out_channels is `filters` here"]),
    ("kernel_size", HEAD + "  - {type: conv, filters: 4, kernel_size: 3}\n",
     [":4:", "PyTorch's kernel_size is `kernel` here"]),
    ("out_features", HEAD + "  - flatten\n  - {type: linear, out_features: 10}\n", [":5:", "out_features is `out`"]),
    ("in_channels that differ", HEAD + "  - {type: conv, filters: 4, kernel: 3}\n"
     "  - {type: conv, in_channels: 3, filters: 4, kernel: 3}\n", [":5:", "in_channels 3 but the input has 4 channels"]),
    ("in_channels on a transposed conv", HEAD + "  - {type: conv_transpose, in_channels: 64, filters: 4, kernel: 2}\n",
     [":4:", "in_channels 64 but the input has 3 channels (3×32×32)"]),
    ("activation on a conv", HEAD + "  - {type: conv, filters: 4, kernel: 3, activation: ReLU}\n",
     [":4:", "unknown field 'activation'", "as its own layer", "`- relu`"]),
    ("Dropout2d", HEAD + "  - {type: Dropout2d, p: 0.2}\n", [":4:", "PyTorch's Dropout2d is `dropout` here"]),
]


@pytest.mark.parametrize("body,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_file_gives_one_clear_line(tmp_path, body, fragments):
    p, res = analyze_file(tmp_path, body)
    out = assert_clean_error(res, *fragments)
    if body:
        assert str(p) in out


def test_missing_file_and_directory(tmp_path):
    assert_clean_error(runner.invoke(app, ["analyze", str(tmp_path / "nope.yaml")]), "nope.yaml", "no such file")
    assert_clean_error(runner.invoke(app, ["analyze", str(tmp_path) + "/"]), "is a directory")


def test_unknown_builtin_suggests_close_names():
    assert_clean_error(runner.invoke(app, ["analyze", "vgg61"]), "'vgg61'", "vgg16")


def test_a_builtin_name_in_capitals_suggests_it():
    for name, near in (("VGG16", "did you mean vgg16,"), ("ResNet50", "did you mean resnet50,")):
        assert_clean_error(runner.invoke(app, ["analyze", name]), f"'{name}'", near)


def test_in_channels_equal_to_the_input_are_accepted_and_change_nothing(tmp_path):
    import cnncalc
    plain = {"input": [3, 32, 32], "layers": [{"type": "conv", "filters": 4, "kernel": 3}]}
    torchy = {"input": [3, 32, 32], "layers": [{"type": "conv", "in_channels": 3, "filters": 4, "kernel": 3}]}
    a, b = cnncalc.analyze(plain), cnncalc.analyze(torchy)
    assert b.totals.params == a.totals.params == 3 * 3 * 3 * 4 + 4 and b.layers[0].output == [4, 30, 30]


def test_absurdly_large_file(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_text(HEAD + "  - relu\n" * 1_200_000)
    assert_clean_error(runner.invoke(app, ["analyze", str(p)]), "big.yaml", "the limit is")


def test_binary_file(tmp_path):
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"\xff\xfe\x00\x01" * 10)
    assert_clean_error(runner.invoke(app, ["analyze", str(p)]), "not a UTF-8 text file")


def test_bad_options_exit_2():
    res = runner.invoke(app, ["analyze", "lenet5", "--batch", "0"])
    assert res.exit_code == 2
    assert_clean_error(runner.invoke(app, ["analyze", "lenet5", "--input", "3xabc"]), "--input")
    assert_clean_error(runner.invoke(app, ["analyze", "lenet5", "--explain", "C9"]), "no layer named 'C9'")


def test_real_process_has_no_traceback(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(HEAD + "  - {type: conv, filters: 4, kernel: 99}\n")
    out = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", str(p)], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"error: {p}:4: layers[0]")

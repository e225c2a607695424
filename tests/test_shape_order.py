"""One rule for the order of a written shape (issue 22): channels first for --input and `input:`, the
course's H×W×C for calc and check; where the numbers read naturally only in the other order and nothing
says which was meant, one line with both readings and how to say it — never a silent guess."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.spec.order import in_order, looks

runner = CliRunner()
RESNET18 = (11_689_512, 1_814_073_344)   # torchvision ResNet18_Weights: 11,689,512 params, 1.81 GFLOPS (MACs)


def one_line_error(res, *fragments):
    assert res.exit_code == 2, res.output
    out = res.output
    assert out.startswith("error: ") and out.count("\n") == 1 and "Traceback" not in out, out
    for frag in fragments:
        assert frag in out, (frag, out)
    return out


@pytest.mark.parametrize("dims,order", [
    ((224, 224, 3), "HWC"), ((3, 224, 224), "CHW"), ((28, 28, 1), "HWC"), ((1, 28, 28), "CHW"),
    ((16, 112, 112, 3), "HWC"), ((3, 16, 112, 112), "CHW"), ((16000, 1), "HWC"), ((1, 16000), "CHW"),
    ((3, 3, 3), None), ((64, 64, 64), None), ((4, 56, 4), None), ((2, 7, 7), None), ((7, 7, 2), None)])
def test_which_order_the_numbers_suggest(dims, order):
    assert looks(dims) == order


def test_a_stated_order_is_obeyed_even_against_the_look():
    assert in_order((224, 224, 3), "CHW", "CHW", flag=True) == (224, 224, 3)
    assert in_order((224, 224, 3), "HWC", "CHW", flag=True) == (3, 224, 224)
    assert in_order((3, 224, 224), None, "CHW", flag=True) == (3, 224, 224)
    assert in_order((224, 224, 3), None, "HWC", flag=True) == (3, 224, 224)


@pytest.mark.parametrize("cmd", [["analyze"], ["rf"], ["draw"], ["sweep"], ["verify"], ["bench"], ["export", "--torch"],
                                 ["compare", "vgg16"]])
def test_every_command_taking_input_refuses_an_ambiguous_order_naming_the_flag(cmd):
    res = runner.invoke(app, cmd[:1] + ["resnet18"] + cmd[1:] + ["--input", "224x224x3"])
    out = one_line_error(res, "error: --input 224x224x3: ", "224 channels of 224×3", "3 channels of 224×224",
                         "write 3x224x224", "--layout HWC")
    assert "yaml" not in out


@pytest.mark.parametrize("cmd", [["analyze"], ["rf"], ["compare", "resnet18"]])
def test_layout_hwc_reads_the_same_numbers_channels_last(cmd):
    a = runner.invoke(app, cmd[:1] + ["resnet18"] + cmd[1:] + ["--input", "224x224x3", "--layout", "HWC", "--json"])
    b = runner.invoke(app, cmd[:1] + ["resnet18"] + cmd[1:] + ["--input", "3x224x224", "--json"])
    assert a.exit_code == 0 and a.output == b.output


def test_resnet18_written_channels_last_has_the_published_figures():
    r = cnncalc.analyze("resnet18", input="224x224x3", layout="HWC")
    assert (r.totals.params, r.totals.macs) == RESNET18 and r.input == [3, 224, 224]
    with pytest.raises(cnncalc.CnncalcError, match="ambiguous"):
        cnncalc.analyze("resnet18", input="224x224x3")


def test_sweep_layout_hwc_equals_the_channels_first_spelling():
    a = runner.invoke(app, ["sweep", "resnet18", "--input", "{64..96..32}x{64..96..32}x3", "--layout", "hwc", "--json"])
    b = runner.invoke(app, ["sweep", "resnet18", "--input", "3x{64..96..32}x{64..96..32}", "--json"])
    assert a.exit_code == 0 and a.output == b.output


def test_an_error_the_flag_causes_names_the_flag_not_the_builtins_line():
    out = one_line_error(runner.invoke(app, ["analyze", "vgg16", "--input", "3x20x20"]), "error: --input 3x20x20: ",
                         "pool5", "kernel 2 is larger")
    assert "vgg16.yaml" not in out


def test_layout_without_input_and_a_bad_layout():
    one_line_error(runner.invoke(app, ["analyze", "resnet18", "--layout", "HWC"]), "--layout HWC", "give --input")
    one_line_error(runner.invoke(app, ["analyze", "resnet18", "--input", "3x64x64", "--layout", "WHC"]), "--layout",
                   "expected HWC")


def test_a_3d_and_a_1d_network(tmp_path):
    one_line_error(runner.invoke(app, ["analyze", "c3d", "--input", "16x112x112x3"]), "3 channels of 16×112×112",
                   "write 3x16x112x112")
    one_line_error(runner.invoke(app, ["analyze", "m5", "--input", "16000x1"]), "write 1x16000")
    assert cnncalc.analyze("m5", input="16000x1", layout="HWC").input == [1, 16000]


def test_an_architecture_file(tmp_path):
    p = tmp_path / "net.yaml"
    p.write_text("name: n\ninput: [224, 224, 3]\nlayers:\n  - {type: conv, filters: 8, kernel: 3}\n")
    one_line_error(runner.invoke(app, ["analyze", str(p)]), f"{p}:2: input: ", "224 channels of 224×3",
                   "write [3, 224, 224]", "`layout: HWC`")
    p.write_text("name: n\nlayout: HWC\ninput: [224, 224, 3]\nlayers:\n  - {type: conv, filters: 8, kernel: 3}\n")
    r = cnncalc.analyze(str(p))
    assert r.input == [3, 224, 224] and r.totals.params == 3 * 3 * 3 * 8 + 8
    assert cnncalc.analyze(str(p), input="3x32x32").layers[0].output == [8, 30, 30]   # --input is channels first
    p.write_text("name: n\nlayout: WHC\ninput: [3, 224, 224]\nlayers: [relu]\n")
    one_line_error(runner.invoke(app, ["analyze", str(p)]), f"{p}:2: layout: expected HWC")


def test_calc_reads_the_course_order_and_refuses_the_other_unless_told():
    one_line_error(runner.invoke(app, ["calc", "conv", "--input", "3x227x227", "-k", "11", "-s", "4", "-f", "96"]),
                   "error: --input 3x227x227: ", "3 channels of 227×227", "write 227x227x3", "--layout CHW")
    a = runner.invoke(app, ["calc", "conv", "--input", "227x227x3", "-k", "11", "-s", "4", "-f", "96", "--json"])
    b = runner.invoke(app, ["calc", "conv", "--input", "3x227x227", "-k", "11", "-s", "4", "-f", "96", "--json",
                            "--layout", "CHW"])
    assert a.exit_code == b.exit_code == 0 and a.output == b.output
    assert '"params": 34944' in a.output     # (11·11·3 + 1)·96


def test_check_refuses_an_ambiguous_input_unless_the_file_states_its_layout(tmp_path):
    q = "questions:\n  q1:\n    conv: {input: 3x227x227, kernel: 11, stride: 4, filters: 96}\n    answer: {params: 34944}\n"
    p = tmp_path / "a.yaml"
    p.write_text(q)
    one_line_error(runner.invoke(app, ["check", str(p)]), f"{p}:3: ", "input: the order is ambiguous",
                   "write 227x227x3", "`layout: CHW`")
    p.write_text("layout: CHW\n" + q)
    assert runner.invoke(app, ["check", str(p)]).exit_code == 0
    p.write_text("architecture: vgg16\ninput: [3, 224, 224]\nanswers:\n  conv1_1: {params: 1792}\n")
    one_line_error(runner.invoke(app, ["check", str(p)]), f"{p}:2: input: ", "write [224, 224, 3]")


def test_import_and_serve_take_the_same_rule():
    pytest.importorskip("torch")
    from pathlib import Path
    model = str(Path(__file__).parent / "import_resnet_like.py") + ":ResNet"
    one_line_error(runner.invoke(app, ["import", model, "--input", "64x64x3"]), "error: --input 64x64x3: ",
                   "write 3x64x64", "--layout HWC")
    a = runner.invoke(app, ["import", model, "--input", "64x64x3", "--layout", "HWC"])
    b = runner.invoke(app, ["import", model, "--input", "3x64x64"])
    assert a.exit_code == b.exit_code == 0 and a.output == b.output
    from cnncalc.serve.live import Live
    from cnncalc.spec.builtins import builtin_path
    live = Live(str(builtin_path("lenet5")), input="32x32x1")
    live.refresh()
    assert live.state()["error"].startswith("--input 32x32x1: the order is ambiguous")
    live = Live(str(builtin_path("lenet5")), input="32x32x1", order="HWC")
    live.refresh()
    assert live.state()["error"] is None and "1×32×32" in live.page

"""Help that reads well and the small things a new user trips over (issue 15)."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app

runner = CliRunner()


def commands():
    """Every command and calc subcommand, as argument lists."""
    out = [[c.name] for c in app.registered_commands]
    for group in app.registered_groups:
        out += [[group.name, c.name] for c in group.typer_instance.registered_commands]
    return out


@pytest.mark.parametrize("command", commands(), ids=" ".join)
def test_every_command_has_help_with_an_example_that_reads_well_at_80_columns(command):
    res = runner.invoke(app, [*command, "-h"], env={"COLUMNS": "80"})
    assert res.exit_code == 0
    text = res.output
    assert "Example" in text and f"cnncalc {' '.join(command)}" in text
    assert all(len(line) <= 80 for line in text.splitlines())
    assert not re.search(r"<(bool|str|int|float|path)[^>]*>", text), "Typer's type labels"
    lines = [ln.strip() for ln in text.splitlines()]
    usage = next(ln for ln in lines if ln.startswith("Usage:"))
    assert "{" not in usage and "<" not in usage, "usage shows ARCH, not {arch}"
    # no paragraph breaks mid-sentence: on a wide terminal every paragraph is one line ending a sentence
    wide = [ln.strip() for ln in runner.invoke(app, [*command, "-h"], env={"COLUMNS": "400"}).output.splitlines()]
    start = wide.index(next(ln for ln in wide if ln.startswith("Usage:"))) + 2
    prose = wide[start:wide.index(next(ln for ln in wide if ln.startswith("Example")))]
    for line in prose:
        assert not line or line.endswith((".", ":", ")")), line


def test_group_help_has_examples():
    res = runner.invoke(app, ["calc", "-h"], env={"COLUMNS": "80"})
    assert res.exit_code == 0 and "Example" in res.output


def test_a_yaml_name_that_is_no_file_is_the_builtin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", "lenet5.yaml", "--json"],
                         capture_output=True, text=True, env={**__import__("os").environ,
                                                              "PYTHONPATH": str(cnncalc.__file__).rsplit("/cnncalc/", 1)[0]})
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["totals"]["params"] == cnncalc.analyze("lenet5").totals.params
    assert res.stderr.strip() == "note: no file lenet5.yaml here: using the built-in lenet5"


def test_a_missing_yaml_that_is_no_builtin_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["analyze", "nothere.yaml"])
    assert res.exit_code == 2 and "nothere.yaml" in res.output


def test_a_path_into_architectures_works_from_the_repository_root(monkeypatch):
    from cnncalc.spec.builtins import ARCH_DIR
    monkeypatch.chdir(ARCH_DIR.parent)
    res = runner.invoke(app, ["analyze", "architectures/lenet5.yaml", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["totals"]["params"] == 61_706


def test_calc_fc_from_its_own_help():
    res = runner.invoke(app, ["calc", "fc", "--in", "9216", "--out", "4096"])
    assert res.exit_code == 0, res.output
    assert f"params {(9216 + 1) * 4096:,}" in res.output and f"MACs {9216 * 4096:,}" in res.output


def test_calc_fc_takes_a_map():
    res = runner.invoke(app, ["calc", "fc", "--in", "6x6x256", "--out", "4096", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["input"] == [256, 6, 6] and data["params"] == (6 * 6 * 256 + 1) * 4096


def test_verify_without_torch_is_one_line_and_exit_2():
    code = ("import sys; sys.modules['torch'] = None\n"
            "from cnncalc.cli import main; sys.argv = ['cnncalc', 'verify', 'lenet5']; main()")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 2
    [line] = res.stderr.strip().splitlines()   # one line that says how to get the CPU build
    assert line.startswith("error: verify needs PyTorch") and "CPU build" in line and "--index-url" in line


def test_bare_rf_says_what_to_give():
    res = runner.invoke(app, ["rf"])
    assert res.exit_code == 2 and "give an architecture" in res.output and "not both" not in res.output


def test_explain_suggests_prefix_matches_first():
    res = runner.invoke(app, ["analyze", "vgg16", "--explain", "conv1"])
    assert res.exit_code == 2
    assert "did you mean conv1_1, conv1_2" in res.output


def test_compare_needs_two_names():
    res = runner.invoke(app, ["compare", "vgg16"])
    assert res.exit_code == 2 and "two or more" in res.output
    assert "Two or more" in runner.invoke(app, ["compare", "-h"]).output


def test_export_says_what_it_wrote(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "r.py"
    res = runner.invoke(app, ["export", "lenet5", "--torch", "-o", str(out)])
    assert res.exit_code == 0 and out.is_file()
    assert str(out) in res.output and f"{len(out.read_text().splitlines())} lines" in res.output


def test_rf_shows_only_changes_unless_all():
    short = runner.invoke(app, ["rf", "resnet50", "--format", "csv"])
    every = runner.invoke(app, ["rf", "resnet50", "--all", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(short.output)))
    all_rows = list(csv.DictReader(io.StringIO(every.output)))
    assert len(all_rows) == len(cnncalc.analyze("resnet50").layers)
    names = [r["layer"] for r in rows]
    assert "bn1" not in names and "relu" not in names and "conv1" in names and "maxpool" in names
    # every hidden row has the same field as its input's row
    by_name = {r["layer"]: r for r in all_rows}
    assert by_name["bn1"]["size r"] == by_name["conv1"]["size r"]
    assert by_name["layer1.0.conv2"]["size r"] != by_name["layer1.0.conv1"]["size r"]
    assert "layer1.0.conv2" in names


def test_rf_depth_collapses_blocks():
    res = runner.invoke(app, ["rf", "resnet50", "--depth", "1", "--all", "--format", "csv"])
    names = [r["layer"] for r in csv.DictReader(io.StringIO(res.output))]
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]


def test_analyze_ends_with_where_the_work_goes():
    res = runner.invoke(app, ["analyze", "vgg16"])
    out = res.output
    assert "where the work goes" in out and "where the params are" in out
    # VGG-16's 56×56 stage: three 3×3 convs, 128→256, 256→256, 256→256 channels
    macs = 56 * 56 * 9 * (128 * 256 + 256 * 256 * 2)
    assert f"{macs / 1e9:.2f} G" in out.split("where the work goes")[1]


@pytest.mark.parametrize("command", [["analyze", "lenet5"], ["compare", "vgg16", "googlenet"], ["rf", "lenet5"],
                                     ["check", "examples/exam/key.yaml"], ["list"]])
def test_every_format(command):
    js = runner.invoke(app, [*command, "--format", "json"])
    assert js.exit_code in (0, 1) and json.loads(js.output) == json.loads(runner.invoke(app, [*command, "--json"]).output)
    rows = list(csv.reader(io.StringIO(runner.invoke(app, [*command, "--format", "csv"]).output)))
    assert len(rows) >= 2 and len({len(r) for r in rows}) == 1
    md = runner.invoke(app, [*command, "--format", "markdown"]).output.splitlines()
    assert md[0].startswith("| ") and re.fullmatch(r"\|(:?-+:?\|)+", md[1])
    assert len({ln.count(" | ") for ln in md if not ln.startswith("|:") and not ln.startswith("|-")}) == 1


def test_csv_has_plain_numbers():
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["analyze", "lenet5", "--format", "csv"]).output)))
    c1 = next(r for r in rows if r["layer"] == "C1")
    assert int(c1["params"]) == (5 * 5 * 1 + 1) * 6 and int(c1["MACs"]) == 5 * 5 * 1 * 28 * 28 * 6
    assert int(c1["FLOPs"]) == 2 * int(c1["MACs"])


def test_json_and_format_must_agree():
    res = runner.invoke(app, ["analyze", "lenet5", "--json", "--format", "csv"])
    assert res.exit_code == 2 and "--json" in res.output


def test_an_unknown_format_is_a_usage_error():
    res = runner.invoke(app, ["analyze", "lenet5", "--format", "xlsx"])
    assert res.exit_code == 2

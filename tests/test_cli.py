"""The thin CLI: what a new user types first."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app

runner = CliRunner()


def test_analyze_table_has_every_column_and_totals():
    res = runner.invoke(app, ["analyze", "lenet5"])
    assert res.exit_code == 0
    out = res.output
    for text in ("LeNet-5", "MACs", "FLOPs", "RF", "1×32×32 → 6×28×28", "5/1 p0", "61,706", "416,520",
                 "flattens 120×1×1 → 120", "buffers", "non-trainable", "FLOPs = 2×MACs", "activations", "fp32"):
        assert text in out, text


def test_json_is_exactly_the_report():
    res = runner.invoke(app, ["analyze", "vgg16", "--json", "--batch", "2", "--input", "3x64x64"])
    assert res.exit_code == 0
    assert json.loads(res.output) == json.loads(cnncalc.analyze("vgg16", batch=2, input="3x64x64").model_dump_json())
    data = json.loads(res.output)
    assert set(data["layers"][0]) >= {"name", "type", "input", "output", "params", "macs", "flops", "rf"}
    assert set(data["layers"][0]["rf"]) >= {"size", "stride", "padding"}
    assert set(data["totals"]) >= {"params", "trainable_params", "macs", "flops", "activations"}


def test_explain_prints_the_worked_formula():
    res = runner.invoke(app, ["analyze", "vgg16", "--explain", "conv1_1"])
    assert res.exit_code == 0
    assert "⌊(224 − 3 + 2·1)/1⌋ + 1 = 224" in res.output
    assert f"(3·3·3 + 1)·64 = {(3 * 3 * 3 + 1) * 64:,}" in res.output
    assert f"{3 * 3 * 3 * 224 * 224 * 64:,}" in res.output


def test_depth_collapses_blocks():
    res = runner.invoke(app, ["analyze", "vgg16", "--depth", "1"])
    assert res.exit_code == 0
    assert "conv1_1.conv" not in res.output and "[conv3]" in res.output and "2 layers" in res.output


def test_list_names_every_builtin():
    res = runner.invoke(app, ["list", "--json"])
    assert res.exit_code == 0
    rows = json.loads(res.output)
    assert {r["name"] for r in rows} == set(cnncalc.spec.builtins.builtin_names())
    lenet = next(r for r in rows if r["name"] == "lenet5")
    assert lenet["params"] == 61_706 and lenet["source"]


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"cnncalc {cnncalc.__version__}"


COMMANDS = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    res = runner.invoke(app, [command, "-h"])
    assert res.exit_code == 0
    assert "Example" in res.output or command == "calc"


@pytest.mark.parametrize("sub", ["conv", "pool", "fc", "chain"])
def test_calc_subcommands_have_examples(sub):
    res = runner.invoke(app, ["calc", sub, "-h"])
    assert res.exit_code == 0 and "Example" in res.output


def test_console_script_runs_from_another_directory(tmp_path):
    exe = [sys.executable, "-m", "cnncalc"]
    out = subprocess.run(exe + ["analyze", "vgg16", "--json"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout)["totals"]["params"] == 138_357_544

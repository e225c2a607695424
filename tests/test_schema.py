"""`cnncalc schema`: the JSON Schema of the architecture and answers formats, and of --json.

The architecture schema is generated from the layer kinds' pydantic models; it must accept every
built-in and example, refuse a misspelt field, document every kind and field, and equal the copy in
schema/ that the built-ins' first line points editors to (regenerate it with CNNCALC_UPDATE_GOLDEN=1).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cnncalc.analysis.report import Report, RFReport
from cnncalc.cli import app
from cnncalc.exam.schema import answers_schema
from cnncalc.layers import REGISTRY
from cnncalc.spec.builtins import ARCH_DIR, builtin_names
from cnncalc.spec.schema import architecture_schema, undocumented

jsonschema = pytest.importorskip("jsonschema")
ROOT = Path(__file__).resolve().parent.parent
MODELINE = "# yaml-language-server: $schema=../schema/architecture.schema.json"
runner = CliRunner()


@pytest.fixture(scope="module")
def arch():
    s = architecture_schema()
    jsonschema.Draft7Validator.check_schema(s)
    return jsonschema.Draft7Validator(s)


@pytest.fixture(scope="module")
def answers():
    s = answers_schema()
    jsonschema.Draft7Validator.check_schema(s)
    return jsonschema.Draft7Validator(s)


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_is_valid_and_names_the_schema_on_its_first_line(arch, name):
    path = ARCH_DIR / f"{name}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    assert (path.parent / MODELINE.split("=", 1)[1]).is_file()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in arch.iter_errors(yaml.safe_load(text))]
    assert not errors, errors[:3]


def test_the_example_architecture_is_valid(arch):
    assert not list(arch.iter_errors(yaml.safe_load((ROOT / "examples/exam/ng_39.yaml").read_text())))


@pytest.mark.parametrize("layer", [
    {"type": "conv", "filter": 6, "kernel": 5},          # misspelt field
    {"type": "conv", "filters": 6},                       # missing kernel
    {"type": "conv", "filters": 6, "kernel": 5, "bias": "yes"},
    {"type": "maxpool", "kernel": 2, "ceil": True},
    {"type": "linear"},
])
def test_a_bad_layer_is_refused(arch, layer):
    assert list(arch.iter_errors({"input": [3, 32, 32], "layers": [layer]}))


def test_block_parameters_and_composites_are_accepted(arch):
    doc = {"input": "3x32x32", "blocks": {"b": {"params": {"c": None}, "layers": [
        {"type": "conv", "filters": "$c", "kernel": 3, "padding": "same"}, "relu"]}},
           "layers": [{"name": "x", "type": "b", "c": 8, "repeat": 2},
                      {"branches": [[{"type": "conv", "filters": 4, "kernel": 1}], "identity"]},
                      {"residual": {"body": [{"type": "conv", "filters": 12, "kernel": 3, "padding": 1}],
                                    "shortcut": "auto"}},
                      {"type": "add", "inputs": ["x", "input"]}]}
    assert not [e.message for e in arch.iter_errors(doc)]


def test_every_kind_and_field_is_documented_with_its_default():
    assert undocumented() == {}
    defs = architecture_schema()["$defs"]
    assert {f"kind_{k}" for k in REGISTRY} <= set(defs)
    for kind, cls in REGISTRY.items():
        props = defs[f"kind_{kind}"]["properties"]
        assert defs[f"kind_{kind}"]["description"]
        for field, info in cls.model_fields.items():
            if field == "type":
                continue
            assert props[field]["description"], (kind, field)
            if not info.is_required():
                assert "default" in props[field], (kind, field)
    conv = defs["kind_conv"]["properties"]
    assert (conv["stride"]["default"], conv["padding"]["default"], conv["bias"]["default"]) == (1, 0, True)


@pytest.mark.parametrize("name, make", [("architecture", architecture_schema), ("answers", answers_schema)])
def test_the_committed_schema_is_the_generated_one(name, make):
    path = ROOT / "schema" / f"{name}.schema.json"
    text = json.dumps(make(), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"regenerate: cnncalc schema{' --answers' if name == 'answers' else ''} -o {path.relative_to(ROOT)}"


def test_the_command_prints_both_schemas():
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0 and json.loads(res.output) == architecture_schema()
    res = runner.invoke(app, ["schema", "--answers"])
    assert res.exit_code == 0 and json.loads(res.output) == answers_schema()


@pytest.mark.parametrize("name", ["key.yaml", "student.yaml"])
def test_the_example_answers_are_valid(answers, name):
    assert not list(answers.iter_errors(yaml.safe_load((ROOT / "examples/exam" / name).read_text())))


def test_a_misspelt_figure_is_refused(answers):
    assert list(answers.iter_errors({"architecture": "lenet5", "answers": {"C1": {"parms": 156}}}))
    assert list(answers.iter_errors({"architecture": "lenet5", "layuot": "CHW"}))


def described(schema: dict) -> list[str]:
    """Every property, in every model of a pydantic JSON schema, that has no description."""
    missing = []
    for name, model in [("", schema), *schema.get("$defs", {}).items()]:
        for field, prop in model.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{name or schema['title']}.{field}")
        if not model.get("description"):
            missing.append(name or schema["title"])
    return missing


@pytest.mark.parametrize("model", [Report, RFReport], ids=lambda m: m.__name__)
def test_the_json_output_is_documented(model):
    assert described(model.model_json_schema()) == []


def test_the_check_result_is_documented():
    from cnncalc.exam.result import CheckResult
    assert described(CheckResult.model_json_schema()) == []

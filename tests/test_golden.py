"""Golden reports for every built-in: any change to a figure shows up as a readable diff.

The figures themselves are proved elsewhere (test_core/test_zoo against published numbers,
test_verify against PyTorch); this file guards against silent drift. Regenerate after a
deliberate change with:  CNNCALC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import cnncalc
from cnncalc.spec.builtins import builtin_names

GOLDEN = Path(__file__).parent / "golden"


def render(report) -> str:
    """One JSON line per layer and block, so a diff points at the layer that changed."""
    data = json.loads(report.model_dump_json())
    head = {k: v for k, v in data.items() if k not in ("layers", "blocks")}
    lines = ["{", f' "head": {json.dumps(head, ensure_ascii=False)},', ' "layers": [']
    lines += [f"  {json.dumps(x, ensure_ascii=False)}," for x in data["layers"]]
    lines += [" ],", ' "blocks": [']
    lines += [f"  {json.dumps(x, ensure_ascii=False)}," for x in data["blocks"]]
    lines += [" ]", "}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", builtin_names())
def test_golden_report(name):
    path = GOLDEN / f"{name}.jsonl"
    text = render(cnncalc.analyze(name))
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file for {name}: run with CNNCALC_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_no_stale_golden_files():
    assert {p.stem for p in GOLDEN.glob("*.jsonl")} <= set(builtin_names())


def test_wheel_ships_the_builtins(tmp_path):
    import subprocess
    import sys
    import zipfile
    root = Path(__file__).parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), "-q"], check=True, capture_output=True)
    wheel, = tmp_path.glob("cnncalc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in builtin_names():
        assert f"cnncalc/architectures/{name}.yaml" in names

"""Every error of a file at once: each independent problem on its own `error: FILE:LINE: path: …` line (up to
20), the first one first, exit 2; what only follows from an earlier error (a shape, a name it left out) is not
reported, so a file with one mistake still gets exactly one line.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import cnncalc
from cnncalc.errors import CnncalcError
from cnncalc.spec.collect import MAX_ERRORS

ROOT = Path(__file__).parent.parent


def run(tmp_path, text: str) -> subprocess.CompletedProcess:
    (tmp_path / "net.yaml").write_text(text)
    return subprocess.run([sys.executable, "-m", "cnncalc", "analyze", "net.yaml"], capture_output=True, text=True,
                          cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "COLUMNS": "80", "PATH": "/usr/bin:/bin"})


THREE = """name: three
input: [3, 32, 32]
layers:
  - {type: conv, filtrs: 8, kernel: 3}
  - relu
  - {type: conv, filters: 8, kernel: 3, stride: 0}
  - {type: maxpol, kernel: 2}
  - {type: linear, out: 10}
"""


def test_each_independent_error_on_its_own_line_in_file_order(tmp_path):
    res = run(tmp_path, THREE)
    lines = res.stderr.splitlines()
    assert res.returncode == 2 and "Traceback" not in res.stderr and len(lines) == 3, res.stderr
    assert all(ln.startswith("error: net.yaml:") for ln in lines)
    assert lines[0].startswith("error: net.yaml:4: layers[0]: conv: unknown field 'filtrs'")
    assert lines[1].startswith("error: net.yaml:6: layers[2]: conv: stride:")
    assert lines[2].startswith("error: net.yaml:7: layers[3]: unknown layer kind 'maxpol'")


def test_the_python_api_raises_one_error_holding_each():
    with pytest.raises(CnncalcError) as e:
        cnncalc.analyze(cnncalc.spec.yamlio.loads(THREE, "net.yaml"))
    assert len(e.value.lines()) == 3 and str(e.value).splitlines() == e.value.lines()
    assert e.value.line == 4  # the first error's location


@pytest.mark.parametrize("text", [
    # the unknown kind leaves `a` out: the layer that reads it is not a second error
    "name: n\ninput: [3, 8, 8]\nlayers:\n  - {name: a, type: convv, filters: 4, kernel: 3}\n"
    "  - {type: relu, inputs: [a]}\n",
    # a layer left out changes the shapes after it: no shape error downstream
    "name: n\ninput: [3, 8, 8]\nlayers:\n  - {type: flatten, bogus: 1}\n  - {type: conv, filters: 4, kernel: 3}\n"
    "  - {type: conv, filters: 4, kernel: 9}\n",
    # a block used twice with the same mistake: its line once
    "name: n\ninput: [3, 8, 8]\nblocks:\n  b:\n    layers:\n      - {type: conv, filter: 4, kernel: 3}\n"
    "layers:\n  - {type: b}\n  - {type: b}\n",
])
def test_what_follows_from_one_error_is_not_another(tmp_path, text):
    res = run(tmp_path, text)
    assert res.returncode == 2 and res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr


def test_at_most_twenty_errors(tmp_path):
    layers = "".join(f"  - {{type: conv, filters: 4, kernel: 3, colour: {i}}}\n" for i in range(MAX_ERRORS + 5))
    res = run(tmp_path, "name: n\ninput: [3, 99, 99]\nlayers:\n" + layers)
    lines = res.stderr.splitlines()
    assert res.returncode == 2 and len(lines) == MAX_ERRORS == 20, res.stderr
    assert [ln.split(":")[2] for ln in lines] == [str(4 + i) for i in range(MAX_ERRORS)]  # lines 4, 5, …


def test_a_named_foreign_file_quotes_none_of_its_errors(tmp_path):
    """`check` may name any .yaml of a repository: every one of its errors has its quoted values hidden."""
    (tmp_path / "other.yaml").write_text("name: n\ninput: [3, 8, 8]\nlayers:\n  - {type: hunter2-a}\n"
                                         "  - {type: hunter2-b}\n")
    (tmp_path / "answers.yaml").write_text("architecture: other.yaml\nanswers:\n  total: {params: 1}\n")
    res = subprocess.run([sys.executable, "-m", "cnncalc", "check", "answers.yaml"], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "COLUMNS": "80", "PATH": "/usr/bin:/bin"})
    lines = res.stderr.splitlines()
    assert res.returncode == 2 and len(lines) == 2 and "hunter2" not in res.stderr, res.stderr
    assert all("other.yaml:" in ln and "(cnncalc analyze FILE shows the values)" in ln for ln in lines)


def test_an_independent_path_is_still_checked(tmp_path):
    """An error in one branch taints what is built on it, not a parallel branch or a path from the input."""
    res = run(tmp_path, """name: dag
input: [3, 8, 8]
layers:
  - name: mix
    branches:
      - [{type: conv, filtrs: 4, kernel: 1}]
      - [{type: conv, filters: 4, kernel: 11}]
  - {type: conv, filters: 4, kernel: 9}
  - {name: side, type: conv, filters: 4, kernel: 13, inputs: [input]}
""")
    lines = res.stderr.splitlines()
    assert res.returncode == 2 and len(lines) == 3, res.stderr
    assert [ln.split(":")[2] for ln in lines] == ["6", "7", "9"]   # not line 8: after the concat of a failed branch
    assert "unknown field 'filtrs'" in lines[0] and "kernel 11" in lines[1] and "kernel 13" in lines[2]

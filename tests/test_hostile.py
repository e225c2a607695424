"""Hostile input and safe files (issue 14): every input is untrusted (`check` runs in CI on students'
pull requests). One test per class: each ends in one `error:` line and exit 2, within bounds, never a
traceback, a crash, a hang, a clobbered file or a line of a foreign file in the log.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.errors import CnncalcError
from cnncalc.spec import yamlio
from cnncalc.spec.files import MAX_BYTES, atomic_write, read_text

ROOT = Path(__file__).parent.parent
runner = CliRunner()
HEAD = "input: [3, 8, 8]\nlayers:\n"
SECRET = "hunter2-do-not-print"


def cli(*args, cwd=None, env=None, stdin=None, timeout=30, **kw):
    """The real command in a fresh interpreter (exit codes, closed streams and encodings are real)."""
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="80", **(env or {}))
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout, stdin=stdin, **kw)


def one_error_line(res, *fragments):
    assert res.returncode == 2, (res.returncode, res.stdout[-500:], res.stderr)
    assert "Traceback" not in res.stderr and "╭" not in res.stderr, res.stderr
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    for frag in fragments:
        assert frag in res.stderr, (frag, res.stderr)
    return res.stderr


def load_error(text: str) -> CnncalcError:
    with pytest.raises(CnncalcError) as e:
        cnncalc.analyze(yamlio.loads(text, "net.yaml"))
    assert "\n" not in str(e.value)
    return e.value


# -- the bounded reader ------------------------------------------------------------------------------

def test_only_regular_files_are_read_and_the_size_is_checked_first(tmp_path):
    fifo = tmp_path / "net.yaml"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    one_error_line(cli("analyze", str(fifo)), "FIFO")      # would block forever if opened
    assert time.perf_counter() - t0 < 20
    one_error_line(cli("analyze", "/dev/zero"), "device")   # would be read whole (GBs) if opened
    one_error_line(cli("analyze", str(tmp_path)), "directory")
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(MAX_BYTES + 1)                          # sparse: the size is refused before any read
    with pytest.raises(CnncalcError, match="limit"):
        read_text(big)


def test_nul_and_control_characters_are_one_line_with_the_line_number(tmp_path):
    p = tmp_path / "net.yaml"
    p.write_bytes(b"input: [3, 8, 8]\nlayers:\n  - conv\x00\n")
    one_error_line(cli("analyze", str(p)), ":3:", "U+0000 (NUL)")
    # an escape that yields ESC inside a value reaches no terminal either
    assert "U+001B" in str(load_error(HEAD + '  - {type: relu, name: "\\e[31mRED"}\n'))


def test_deep_nesting_is_a_clean_error_not_a_crash(tmp_path):
    for opener, closer in (("[", "]"), ("{a: ", "}")):
        p = tmp_path / "deep.yaml"
        p.write_text("input: [3, 8, 8]\nlayers: " + opener * 50_000 + "1" + closer * 50_000 + "\n")
        t0 = time.monotonic()
        res = cli("analyze", str(p))
        # behaviour, not wording: whichever parser layer refuses first (ours, or libyaml's own limit),
        # it is one line naming the file and line 2, exit 2, quickly
        msg = one_error_line(res, "deep.yaml:2")
        assert time.monotonic() - t0 < 20 and len(msg) < 300


@pytest.mark.parametrize("value, fragment", [
    ("!!int abc", "!!int"), ("!!float", "!!float"), ("!!bool maybe", "!!bool"), ("!!timestamp garbage", "!!timestamp"),
    ("!!map x", "!!map"), ("!!seq x", "!!seq"), ("!!binary aGk=", "not allowed"), ("!!python/name:os.system x", "not allowed"),
    ("9" * 5000, "digits"), ("!!int 0x" + "f" * 5000, "larger than"), ("!!int 1" + ":1" * 5000, "digits"), ("0x" + "f" * 30, "larger than"),
])
def test_standard_tags_with_bad_content_and_huge_integers_are_clean_errors(value, fragment):
    err = load_error(HEAD + f"  - {{type: conv, filters: {value}, kernel: 3}}\n")
    assert fragment in str(err) and err.line == 3


def test_merge_keys_with_overrides_and_an_alias_reports_its_own_line():
    text = HEAD + "  - &c3 {type: conv, filters: 4, kernel: 3, name: c1}\n  - {<<: *c3, name: c2, filters: 8}\n"
    rep = cnncalc.analyze(yamlio.loads(text))
    assert [r.name for r in rep.layers] == ["c1", "c2"]
    assert rep.layers[1].output == [8, 8 - 2 - 2, 8 - 2 - 2]   # filters: the override wins over the merged 4
    err = load_error(HEAD + "  - &c {type: relu, name: a}\n\n  - *c\n")
    assert err.line == 5 and "duplicate layer name" in err.message   # the alias's line, not the anchor's


def test_an_alias_bomb_is_refused_as_the_values_it_stands_for():
    lines = ["a0: &a0 [relu, relu, relu, relu, relu, relu, relu, relu, relu]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    t0 = time.perf_counter()
    with pytest.raises(CnncalcError, match="values in one file") as e:
        yamlio.loads("\n".join(lines) + "\n")
    # 9 + 9·10 + 9·(9·10 + 1) + … passes 600,000 at the sixth level: refused there, not walked
    assert e.value.line == 6 and time.perf_counter() - t0 < 2
    # a few aliases of a small anchor (the ordinary use) stay shared and cheap
    doc = yamlio.loads("a: &a [relu, relu]\nb: [*a, *a, *a]\n")
    assert doc["b"][0] is not doc["a"] and doc["b"][0] == doc["a"]


# -- secrets -----------------------------------------------------------------------------------------

def test_a_file_that_is_no_architecture_is_named_never_quoted(tmp_path):
    p = tmp_path / "shadow"
    p.write_text(f"root:{SECRET}:20228:0:99999:7:::\n")
    assert SECRET not in one_error_line(cli("analyze", str(p)), "not an architecture")
    p.write_text(f"password: {SECRET}\n")
    assert SECRET not in one_error_line(cli("analyze", str(p)))
    p.write_text(f"x: *{SECRET}\n")                      # a syntax error that would name the token
    assert SECRET not in one_error_line(cli("analyze", str(p)))


def test_architecture_in_an_answers_file_must_stay_inside_the_tree(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(f"token: {SECRET}\n")
    (outside / "net.yaml").write_text(HEAD + "  - {type: conv, filters: 4, kernel: 3}\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    ans = repo / "answers.yaml"
    for target, fragment in (("../../../../etc/shadow", ".yaml/.yml"), ("/etc/passwd", ".yaml/.yml"),
                             ("../outside/secret.yaml", "must lie inside"), ("../outside/net.yaml", "must lie inside")):
        ans.write_text(f"architecture: {target}\nanswers: {{total: {{params: 1}}}}\n")
        assert SECRET not in one_error_line(cli("check", str(ans), cwd=repo), "answers.yaml:1:", fragment)
    (repo / "link.yaml").symlink_to(outside / "secret.yaml")   # a link out of the tree is refused too
    ans.write_text("architecture: link.yaml\nanswers: {total: {params: 1}}\n")
    one_error_line(cli("check", str(ans), cwd=repo), "must lie inside")
    # --root allows another tree
    ans.write_text("architecture: ../outside/net.yaml\nanswers: {total: {params: 1}}\n")
    res = cli("check", str(ans), "--root", str(tmp_path), cwd=repo)
    assert res.returncode in (0, 1) and "error" not in res.stderr, res.stderr


# -- messages ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, fragment", [
    (["analyze", "lenet5", "--batch", "0"], "--batch"), (["analyze", "lenet5", "--depth", "-1"], "--depth"),
    (["compare"], "Missing argument"), (["bench", "lenet5", "--repeat", "0"], "--repeat"),
    (["check", "x.yaml", "--format", "xml"], "--format"), (["analyze", "lenet5", "extra"], "extra"),
    (["analyze", "lenet5", "--nope"], "--nope"), (["rf", "-l", "conv"], "conv"), (["nosuch"], "nosuch"),
    (["analyze", "lenet5", "--batch", "9" * 5000], "--batch"),
    (["calc", "conv", "--input", "9" * 5000, "-k", "3", "-f", "1", "-c", "1"], "--input"),
    (["analyze", "lenet5", "--input", "9" * 5000], "--input"), (["rf", "-l", "conv" + "9" * 5000], "too large"),
])
def test_every_usage_error_is_one_line_and_exit_2(args, fragment):
    one_error_line(cli(*args), fragment)
    res = runner.invoke(app, args)                        # the same through the Python entry point
    assert res.exit_code == 2 and "╭" not in res.output


@pytest.mark.parametrize("token", ["conv0", "conv3s0", "pool0", "conv3d0", "conv3g0", "conv3f0"])
def test_rf_chain_rejects_what_calc_chain_rejects(token):
    a = one_error_line(cli("rf", "-l", token))
    b = one_error_line(cli("calc", "chain", "--input", "28x28x192", token))
    assert a.split(": ", 2)[-1] == b.split(": ", 2)[-1]


def test_output_errors_end_in_one_line_and_a_broken_pipe_quietly(tmp_path):
    closed = subprocess.run([sys.executable, "-c", "import os, sys, runpy; os.close(1); sys.stdout = None; "
                             "sys.argv = ['cnncalc', 'analyze', 'lenet5']; runpy.run_module('cnncalc', run_name='__main__')"],
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=False, stderr=subprocess.PIPE,
                            text=True, timeout=60)
    assert closed.returncode != 0 and closed.stderr.count("\n") == 1 and "Traceback" not in closed.stderr
    with open("/dev/full", "w") as full:
        res = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", "vgg16"], stdout=full,
                             stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and "No space left" in res.stderr, res.stderr
    res = cli("check", str(ROOT / "examples/exam/key.yaml"), env={"PYTHONIOENCODING": "ascii"})
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and "PYTHONIOENCODING" in res.stderr, res.stderr
    pipe = subprocess.run(f"{sys.executable} -m cnncalc analyze densenet121 | head -c 10 > /dev/null",
                          shell=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), stderr=subprocess.PIPE,
                          text=True, timeout=60)
    assert pipe.stderr == ""


# -- files written -----------------------------------------------------------------------------------

def test_outputs_are_atomic_never_an_input_and_say_when_they_replace(tmp_path):
    key = tmp_path / "key.yaml"
    key.write_text("architecture: lenet5\nanswers: {total: {params: 61706}}\n")
    before = key.read_text()
    one_error_line(cli("check", str(key), "--junit", str(key)), "also an input")
    assert key.read_text() == before
    src = tmp_path / "src.yaml"
    src.write_text(HEAD + "  - relu\n")
    one_error_line(cli("export", str(src), "--torch", "-o", str(src)), "also an input")
    assert src.read_text() == HEAD + "  - relu\n"
    fifo = tmp_path / "out.xml"
    os.mkfifo(fifo)
    one_error_line(cli("check", str(key), "--junit", str(fifo)), "not a regular file")
    out = tmp_path / "out.py"
    out.write_text("old")
    res = cli("export", str(src), "--torch", "-o", str(out))
    assert res.returncode == 0 and "replaced" in res.stderr and "class" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.yaml", "out.py", "out.xml", "src.yaml"]  # no temp left


def test_atomic_write_leaves_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old content")
    real_fsync = os.fsync

    def full_disk(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(CnncalcError, match="No space left"):
        atomic_write(target, "new content")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_text() == "old content" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    assert atomic_write(target, "new content") is True and target.read_text() == "new content"
    assert atomic_write(tmp_path / "fresh.txt", "x") is False


# -- work bounded before expansion -------------------------------------------------------------------

def _twice(depth: int) -> str:
    return ("blocks:\n" + "".join(f"  b{i}: {{layers: [b{i + 1}, b{i + 1}]}}\n" for i in range(depth))
            + f"  b{depth}: {{layers: [relu]}}\n")


def _bomb(levels: int) -> str:
    lines = ["x0: &a0 [relu, relu, relu, relu, relu, relu, relu, relu, relu]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "blocks:\n" + "".join(f"  {ln}\n" for ln in lines).replace(": &", ": {layers: &").replace("]\n", "]}\n")


BOMBS = {
    "next block twice, 40 deep": "input: [3, 8, 8]\n" + _twice(40) + "layers: [b0]\n",
    "repeat 99999 of a block": HEAD.replace("layers:\n", "blocks:\n  b: {layers: [relu, relu, relu]}\nlayers:\n")
                               + "  - {type: b, repeat: 99999}\n",
    "nested repeats": "input: [3, 8, 8]\nblocks:\n  b: {params: [n], layers: [{type: relu, repeat: $n}]}\n"
                      "layers:\n  - {type: b, n: 99999, repeat: 99999}\n",
    "a million layers": "input: [3, 8, 8]\nlayers: [" + "relu, " * 1_000_000 + "relu]\n",
    "600,000 layers": "input: [3, 8, 8]\nlayers: [" + "relu," * 600_000 + "relu]\n",
    "alias bomb": "input: [3, 8, 8]\ndescription:\n  - &a0 {branches: [[relu, relu], [relu, relu]]}\n" + "".join(
        f"  - &a{i} {{branches: [[*a{i - 1}, *a{i - 1}], [*a{i - 1}, *a{i - 1}]]}}\n" for i in range(1, 12))
        + "layers: [*a11]\n",
    "small alias use": "input: [3, 8, 8]\ndescription: [&c {type: conv, filters: 3, kernel: 1}]\n"
                       "layers: [*c, *c, *c]\n",
    "adaptive pooling to 10^9": HEAD + "  - {type: adaptive_avgpool, output: 1000000000}\n",
    "a size past the cap": HEAD + "  - {type: conv, filters: 3000000000, kernel: 1}\n",
}


def _bounded(path: Path, memory: int = 1 << 30):
    """`cnncalc analyze path` in a subprocess limited to `memory` bytes; (result, its CPU seconds)."""
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({m}, {m})); "
            "sys.argv = ['cnncalc', 'analyze', {p!r}, '--json']; from cnncalc.cli import main; main()"
            ).format(m=memory, p=str(path))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return res, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


@pytest.mark.parametrize("name", list(BOMBS))
def test_expansion_is_bounded_before_it_happens(name, tmp_path):
    p = tmp_path / "net.yaml"
    p.write_text(BOMBS[name])
    res, cpu = _bounded(p)
    if name in ("small alias use", "adaptive pooling to 10^9"):
        assert res.returncode == 0, res.stderr       # small after all: fine, and fast
    else:
        assert res.returncode == 2 and res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
        assert "Traceback" not in res.stderr
    assert cpu < 5, cpu       # CPU seconds (interpreter start included): CI machines are shared


def test_the_estimate_refuses_at_once_and_names_the_item():
    err = load_error(BOMBS["next block twice, 40 deep"])
    assert f"{2 ** 40:,}" in err.message or "expands into at least" in err.message
    err = load_error(BOMBS["repeat 99999 of a block"])
    assert err.line == 5 and f"99,999 × 3 = {99_999 * 3:,}" in err.message and err.path == "layers[0]"
    t0 = time.perf_counter()
    err = load_error(BOMBS["nested repeats"])
    assert time.perf_counter() - t0 < 5 and "expands into at least" in err.message


def test_an_alias_bomb_is_refused_before_it_is_expanded():
    t0 = time.perf_counter()
    err = load_error(BOMBS["alias bomb"])                 # 4^12 layers if expanded
    # the reader counts each alias as the values it repeats: refused there, before any layer is built
    assert time.perf_counter() - t0 < 2 and "values in one file" in err.message


def test_adaptive_windows_in_closed_form_match_the_enumeration():
    from cnncalc.analysis import formulas as f
    for n in range(1, 70):
        for out in range(1, 70):
            w = f.adaptive_windows(n, out)
            assert f.adaptive_window_total(n, out) == sum(w)
            assert f.adaptive_window_sizes(n, out) == tuple(sorted(set(w)))
    t0 = time.perf_counter()
    rep = cnncalc.analyze(yamlio.loads(BOMBS["adaptive pooling to 10^9"]))
    assert time.perf_counter() - t0 < 2
    assert rep.layers[0].other_ops == 3 * (8 + 10**9 - 8) ** 2   # n + out − gcd(n, out), gcd(8, 10^9) = 8


# -- the same verdict for the same value, wherever it appears ------------------------------------------

@pytest.mark.parametrize("field, bad", [("kernel", "3.0"), ("padding", "-0.0"), ("filters", "4.0"), ("stride", "true")])
def test_a_value_equal_to_an_earlier_int_gets_its_own_verdict(field, bad):
    good = {"kernel": "3", "padding": "0", "filters": "4", "stride": "1"}[field]
    layer = "  - {{type: conv, filters: 4, kernel: 3, {f}: {v}}}\n"
    alone = load_error(HEAD + layer.format(f=field, v=bad)).message
    after = load_error(HEAD + layer.format(f=field, v=good) + layer.format(f=field, v=bad)).message
    assert alone == after


def test_names_are_printable_text():
    for name in ('"a\\nerror: forged"', '"tab\\there"', '"\\x1b[31mred"', '"nul\\0"'):
        err = load_error(HEAD + f"  - {{type: relu, name: {name}}}\n")
        assert "\n" not in str(err) and "\x1b" not in str(err) and "\x00" not in str(err)
    err = load_error('name: "net\\nerror: x"\n' + HEAD + "  - relu\n")
    assert "printable" in err.message
    err = load_error(HEAD + '  - {branches: [{name: "b\\n1", layers: [relu]}, [relu]]}\n')
    assert "printable" in err.message


def test_an_int_key_among_block_params_is_a_clean_error():
    err = load_error(HEAD.replace("layers:\n", "blocks:\n  b: {params: [c], layers: [relu]}\nlayers:\n")
                     + "  - {type: b, 1: 2, c: 1}\n")
    assert "no parameter 1" in err.message
    err = load_error(HEAD.replace("layers:\n", "blocks:\n  b: {params: [c, 2], layers: [relu]}\nlayers:\n")
                     + "  - {type: b, c: 1}\n")
    assert "not a parameter name" in err.message


def test_every_size_is_capped():
    err = load_error(HEAD + "  - {type: conv, filters: 3000000000, kernel: 1}\n")
    assert "larger than the limit of 2,147,483,647" in err.message
    err = load_error(HEAD + "  - {type: conv, filters: '${1000000 * 1000000}', kernel: 1}\n")
    assert "larger than" in err.message
    err = load_error("input: [3, 3000000000, 8]\nlayers: [relu]\n")
    assert "larger than" in err.message


def test_a_file_name_with_control_characters_is_shown_escaped(tmp_path):
    out = one_error_line(cli("analyze", str(tmp_path / "x\nerror: forged.yaml")), "no such file")
    assert "x\\nerror: forged.yaml" in out


def test_an_output_size_past_the_cap_is_an_error_not_a_growing_number():
    # each layer may be within the caps while what it makes is not (an upsampling chain would grow without end)
    err = load_error("input: [3, 40000, 40000]\nlayers:\n  - {type: adaptive_avgpool, output: 2000000000}\n"
                     "  - {type: conv, filters: 2000000000, kernel: 1}\n  - flatten\n")
    assert "limit" in err.message


def test_bench_and_verify_refuse_what_cannot_fit_in_memory():
    from cnncalc.analysis.analyze import load
    from cnncalc.pytorch.memory import needed_bytes, refuse_if_too_big
    g = load("lenet5", "3x40000x40000")
    c1 = g.nodes[0]
    assert needed_bytes(g, 1) >= 4 * (3 * 40000 * 40000 + 6 * 39996 * 39996)   # C1's input and output, fp32
    with pytest.raises(CnncalcError, match="needs at least"):
        refuse_if_too_big(g, 1, "cpu", "bench")
    assert c1.out_shape == (6, 40000 - 4, 40000 - 4)
    one_error_line(cli("bench", "lenet5", "--input", "3x40000x40000"), "needs at least", "available")


def test_a_name_too_long_to_look_up_is_one_line(tmp_path):
    one_error_line(cli("analyze", "n" * 5000), "neither a file nor a built-in")
    ans = tmp_path / "answers.yaml"
    ans.write_text("architecture: lenet" + "9" * 5000 + "\nanswers: {total: {params: 1}}\n")
    one_error_line(cli("check", str(ans), cwd=tmp_path), "answers.yaml:1:")


def test_a_network_without_an_architecture_is_one_line(tmp_path):
    ans = tmp_path / "answers.yaml"
    ans.write_text("networks:\n  a: {answers: {total: {params: 1}}}\n")   # found by the deep mutation fuzz
    one_error_line(cli("check", str(ans), cwd=tmp_path), "missing `architecture:`")

"""Hostile input, round 2 (issue 26): a student's pull request attacks the CI that runs `cnncalc check`.

One test per class of the issue: denial of service through values, forged CI annotations, leaked secrets,
Rich markup and escape sequences, spreadsheet formulas, clobbered files, torch-side memory and work, mixed
types and other tracebacks, exports that do not run, silent lies, slow renderers. Every case ends in
exit 0/1/2 as it should, one clean line when it is an error, within 5 s of CPU and 1 GB, with no line
starting with `::` (after spaces) nor holding `##[` unless it is an annotation cnncalc means to emit, no
control character, no secret, nothing clobbered. A hypothesis property (CNNCALC_DEEP=1: 1,000 examples)
puts generated hostile text in every place a student can write it and checks the same invariants.
"""
from __future__ import annotations

import builtins
import csv
import io
import keyword
import json
import os
import re
import resource
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import CnncalcError, quote
from cnncalc.spec import yamlio
from cnncalc.spec.builtins import ARCH_DIR
from test_fuzz_input import RUNNER
from test_hostile import cli, one_error_line

SECRET = "tok3n-s3cr3t-never-printed"
H = "input: [3, 8, 8]\nlayers:\n"
NET = H + "  - {type: conv, filters: 4, kernel: 3}\n  - relu\n"
FORGED = re.compile(r"^[ \t]*::|##\[", re.M)
OURS = re.compile(r"^::error file=[^\n:]*,(?:line=\d+,)?title=cnncalc check [^\n]*::[^\n]*$")   # check --format github
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def bomb(levels: int = 60) -> str:
    """A flow list whose last item stands for 2^levels leaves (each anchor aliases the one before twice)."""
    return "[&a0 [1, 1], " + ", ".join(f"&a{k} [*a{k - 1}, *a{k - 1}]" for k in range(1, levels)) + "]"


def clean_output(name: str, text: str, github: bool = False) -> None:
    """No forged workflow command, no control character (a line break ends a line; a tab is no escape)."""
    for line in text.split("\n"):
        if github and OURS.match(line):
            assert "##[" not in line, (name, line)
            continue
        assert not FORGED.search(line), (name, line)
    assert not CONTROL.search(text.replace("\t", "")), (name, ascii(text[:300]))


# -- the corpus, through the real command in one process limited to 1 GB ----------------------------------

def corpus(d: Path) -> list:
    """(name, argv, exit codes allowed) cases; writes their files under d."""
    (d / "net.yaml").write_text(NET)
    b = bomb()
    answers = {   # 11 places of the answers format where a value may be an alias bomb
        "answer": "architecture: net.yaml\nanswers: {total: {params: %s}}\n",
        "architecture": "architecture: %s\nanswers: {total: {params: 1}}\n",
        "tolerance": "architecture: net.yaml\ntolerance: %s\nanswers: {total: {params: 1}}\n",
        "layout": "architecture: net.yaml\nlayout: %s\nanswers: {total: {params: 1}}\n",
        "conventions": "architecture: net.yaml\nconventions: %s\nanswers: {total: {params: 1}}\n",
        "input": "architecture: net.yaml\ninput: %s\nanswers: {total: {params: 1}}\n",
        "question input": "questions:\n  q1:\n    conv: {input: %s, kernel: 3, filters: 2}\n    answer: {params: 1}\n",
        "question kernel": "questions:\n  q1:\n    conv: {input: 8x8x3, kernel: %s, filters: 2}\n    answer: {params: 1}\n",
        "question answer": "questions:\n  q1:\n    conv: {input: 8x8x3, kernel: 3, filters: 2}\n    answer: {params: %s}\n",
        "network label": "networks:\n  a: {architecture: net.yaml, answers: {total: {params: %s}}}\n",
        "figure name": "architecture: net.yaml\nanswers: {total: %s}\n",
    }
    arch = {      # 7 places of the architecture format
        "kernel": H + "  - {type: conv, filters: 4, kernel: %s}\n",
        "name": H + "  - {type: conv, filters: 4, kernel: 3, name: %s}\n",
        "input": "input: %s\nlayers: [relu]\n",
        "source": "source: %s\n" + H + "  - relu\n",
        "network name": "name: %s\n" + H + "  - relu\n",
        "block parameter": "input: [3, 8, 8]\nblocks:\n  b: {params: [k], layers: [{type: conv, filters: 1, kernel: $k}]}\n"
                           "layers:\n  - {type: b, k: %s}\n",
        "defaults": "input: [3, 8, 8]\ndefaults: %s\nlayers: [relu]\n",
    }
    cases = []
    for i, (where, text) in enumerate(answers.items()):
        (d / f"bomb_a{i}.yaml").write_text(text % b)
        cases.append((f"alias bomb as {where} (answers)", ["check", str(d / f"bomb_a{i}.yaml")], {2}))
    for i, (where, text) in enumerate(arch.items()):
        (d / f"bomb_n{i}.yaml").write_text(text % b)
        cases.append((f"alias bomb as {where} (architecture)", ["analyze", str(d / f"bomb_n{i}.yaml")], {2}))
    # a finite bomb (2^18 leaves) quoted in an error: one short line, not megabytes
    (d / "finite.yaml").write_text("architecture: net.yaml\nanswers: {total: {params: %s}}\n" % bomb(18))
    cases.append(("finite bomb quoted", ["check", str(d / "finite.yaml")], {2}))
    twice = "".join(f"  b{i}: {{params: [s], layers: [{{type: b{i + 1}, s: '${{s}}${{s}}'}}]}}\n" for i in range(40))
    (d / "strings.yaml").write_text("input: [3, 8, 8]\nblocks:\n" + twice + "  b40: {params: [s], layers: [{type: relu, "
                                    "name: $s}]}\nlayers:\n  - {type: b0, s: ab}\n")
    lists = "".join(f"  b{i}: {{params: [s], layers: [{{type: b{i + 1}, s: [$s, $s]}}]}}\n" for i in range(40))
    (d / "lists.yaml").write_text("input: [3, 8, 8]\nblocks:\n" + lists + "  b40: {params: [s], layers: [{type: conv, "
                                  "filters: 1, kernel: $s}]}\nlayers:\n  - {type: b0, s: 1}\n")
    cases += [("a text doubled through 40 blocks", ["analyze", str(d / "strings.yaml")], {2}),
              ("a list doubled through 40 blocks", ["analyze", str(d / "lists.yaml")], {2})]

    # forged annotations: user text with newlines, `::` and `##[` in every place it reaches an output
    (d / "forge.yaml").write_text('name: "net ::error::forged ##[error]n"\nsource: "a\\n::add-mask::x\\n  ::stop-commands::t\\n'
                                  '##[error]boo"\n' + H + '  - {type: conv, filters: 4, kernel: 3, name: "##[error]x"}\n'
                                  '  - {type: relu, name: "' + "a" * 70 + '::error::wrapped"}\n')
    (d / "kind.yaml").write_text(H + '  - {type: "##[error]k", filters: 4}\n')
    (d / "labels.yaml").write_text('networks:\n  "n\\n::error file=x::forged ##[warning]w":\n'
                                   '    {architecture: net.yaml, answers: {total: {params: 1}}}\n')
    newline_name = d / "ans\n::error::forged ##[error]x.yaml"
    newline_name.write_text("architecture: net.yaml\nanswers: {total: {params: 1}}\n")
    for fmt in ("table", "csv", "markdown", "github", "json"):
        cases.append((f"forged label, check --format {fmt}", ["check", str(d / "labels.yaml"), "--format", fmt], {1}))
        cases.append((f"newline file name, check --format {fmt}", ["check", str(newline_name), "--format", fmt], {1}))
    for argv in (["analyze"], ["analyze", "--format", "csv"], ["analyze", "--format", "markdown"], ["rf"],
                 ["sizes"], ["sweep", "--sizes", "8:12:2"], ["analyze", "--explain", "##[error]x"],
                 ["analyze", "--train", "--memory"]):
        cases.append(("forged names, " + " ".join(argv), [argv[0], str(d / "forge.yaml"), *argv[1:]], {0}))
    (d / "nlname.yaml").write_text('name: "net\\n::error::forged"\n' + H + "  - relu\n")
    cases += [("a kind named ##[error]", ["analyze", str(d / "kind.yaml")], {2}),
              ("a network name with a line break", ["analyze", str(d / "nlname.yaml")], {2})]

    # secrets: any .yaml of the repository may be named as the architecture
    (d / "config.yaml").write_text(f"database:\n  password: {SECRET}\n")
    (d / "config2.yaml").write_text(f"input: [3, 8, 8]\nlayers: [{SECRET}]\n")
    (d / "config3.yaml").write_text(f"input: [3, 8, 8]\nlayers:\n  - {{type: conv, filters: {SECRET}, kernel: 3}}\n")
    (d / "config4.yaml").write_text(f"input: [3, 8, 8]\nlayers:\n  - {{type: {SECRET}}}\n")
    for i, name in enumerate(("config", "config2", "config3", "config4")):
        (d / f"leak{i}.yaml").write_text(f"architecture: {name}.yaml\nanswers: {{total: {{params: 1}}}}\n")
        cases.append((f"architecture: {name}.yaml", ["check", str(d / f"leak{i}.yaml")], {2}))

    # Rich markup in names, escape sequences in file names
    (d / "markup.yaml").write_text('name: "[/bold] x [link=https://example.invalid]LeNet[/link]"\n' + H
                                   + '  - {type: conv, filters: 4, kernel: 3, name: "[/red]c1"}\n  - relu\n')
    for argv in (["analyze"], ["rf"], ["sizes"], ["sweep", "--sizes", "8:12:2"], ["analyze", "--explain", "[/red]c1"],
                 ["analyze", "--train"], ["analyze", "--memory"]):
        cases.append(("markup, " + " ".join(argv), [argv[0], str(d / "markup.yaml"), *argv[1:]], {0}))
    esc = d / "esc\x1b[2J\x1b]0;title\x07.yaml"
    esc.write_text(NET)
    cases += [("ESC file name, analyze", ["analyze", str(esc)], {0}),
              ("ESC file name, analyze --json", ["analyze", str(esc), "--json"], {0})]
    nonutf8 = os.fsdecode(os.fsencode(str(d)) + b"/bad\xff.yaml")
    Path(nonutf8).write_text(NET)
    cases += [("non-UTF-8 file name --json", ["analyze", nonutf8, "--json"], {0}),
              ("non-UTF-8 file name, rf --json", ["rf", nonutf8, "--json"], {0})]

    # tracebacks that must be one line
    for i, expr in enumerate(["${'a' < 1}", "${s < 1}", "${s > 'a'}"]):
        for j, value in enumerate(["1", "[1, 2]", "2020-01-01"]):
            p = d / f"mixed{i}{j}.yaml"
            p.write_text("input: [3, 8, 8]\nblocks:\n  b: {params: [s], layers: [{type: conv, filters: 1, "
                         f"kernel: \"{expr}\"}}]}}\nlayers:\n  - {{type: b, s: {value}}}\n")
            cases.append((f"{expr} with s = {value}", ["analyze", str(p)], {0, 2}))
    cases += [("--fit with 400 digits", ["analyze", "lenet5", "--train", "--fit", "9" * 400], {2}),
              ("--fit 10TB", ["analyze", "lenet5", "--train", "--fit", "10TB"], {0})]
    for text in ("filters: 010", "filters: 1:30", "filters: 0x10", "kernel: .nan", "kernel: .inf"):
        p = d / f"yaml11_{len(cases)}.yaml"
        p.write_text(H + f"  - {{type: conv, {text if 'filters' in text else 'filters: 4'}, "
                     f"{text if 'kernel' in text else 'kernel: 3'}}}\n")
        cases.append((f"YAML 1.1 {text}", ["analyze", str(p)], {2}))
    (d / "nan.yaml").write_text(H + "  - {type: leaky_relu, slope: .nan}\n")
    cases.append(("a NaN slope", ["analyze", str(d / "nan.yaml")], {2}))

    # torch-side work and memory: refused in one line before any tensor
    (d / "tmac.yaml").write_text("input: [512, 1024, 1024]\nlayers:\n  - {type: conv, filters: 1024, kernel: 3, padding: 1}\n")
    (d / "params0.yaml").write_text(H + "  - relu\n")
    cases += [("verify of a 5-T-MAC conv", ["verify", str(d / "tmac.yaml")], {2}),
              ("bench of a 5-T-MAC conv", ["bench", str(d / "tmac.yaml")], {2}),
              ("verify --rf at 20000x20000", ["verify", "lenet5", "--rf", "--input", "1x20000x20000"], {2}),
              ("verify --train at 20000x20000", ["verify", "lenet5", "--train", "--input", "1x20000x20000"], {2}),
              ("verify --train without parameters", ["verify", str(d / "params0.yaml"), "--train"], {2})]
    return cases


def run_corpus(cases, cwd: Path, env: dict | None = None) -> list:
    spec = cwd / "cases.json"
    spec.write_text(json.dumps([(n, a) for n, a, _ in cases]))
    res = subprocess.run([sys.executable, "-c", RUNNER, str(spec)], capture_output=True, text=True, timeout=900,
                         cwd=cwd, env=dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent), COLUMNS="80",
                                           **(env or {})))
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads(res.stdout.splitlines()[-1])
    assert len(data["cases"]) == len(cases)
    return data


def test_the_hostile_corpus_of_issue_26_ends_cleanly_within_bounds(tmp_path):
    cases = corpus(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.glob("*.yaml")}
    builtins_before = {p: p.read_bytes() for p in ARCH_DIR.glob("*.yaml")}
    data = run_corpus(cases, tmp_path)
    for (name, _, codes), case in zip(cases, data["cases"]):
        code, err, out = case["code"], case["stderr"], case["stdout"]
        assert (code or 0) in codes, (name, code, err[-500:])
        assert "Traceback" not in err and "╭" not in err, (name, err)
        if code == 2:
            assert err.startswith("error: ") and err.count("\n") == 1 and len(err) < 1200, (name, err[:300])
        clean_output(name, out, github="github" in name)
        clean_output(name, err)
        assert SECRET not in out + err, name
        assert case["cpu"] < 5, (name, case["cpu"])
    assert {p: p.read_bytes() for p in before} == before
    assert {p: p.read_bytes() for p in builtins_before} == builtins_before
    slowest = max(data["cases"], key=lambda c: c["cpu"])
    print(f"\nissue-26 corpus: {len(cases)} cases, slowest {slowest['name']!r} {slowest['cpu']:.2f} s CPU, "
          f"peak RSS {data['maxrss'] / 2**20:.0f} MiB (address space limited to 1 GiB)")


# -- 1. denial of service through values ------------------------------------------------------------------

def test_an_alias_counts_as_the_values_it_repeats():
    t0 = time.process_time()
    with pytest.raises(CnncalcError, match="600,000 values") as e:
        yamlio.loads(f"source: {bomb()}\n" + H + "  - relu\n", "net.yaml")
    assert time.process_time() - t0 < 1 and e.value.line == 1
    doc = yamlio.loads("a: &a [1, 2, 3]\nb: [*a, *a]\n")          # ordinary aliases: shared, fine
    assert doc["b"] == [[1, 2, 3], [1, 2, 3]]


def test_a_quoted_value_is_cut_and_a_mapping_is_never_quoted():
    assert len(quote("x" * 10_000)) <= 60 and quote([1, 2]) == "[1, 2]"
    assert SECRET not in quote({"password": SECRET}) and quote({"a": 1, "b": 2}) == "a mapping (2 keys)"
    assert quote(list(range(1000))) == "a list (1,000 items)"


def test_values_built_by_block_parameters_are_bounded():
    from cnncalc.spec.expr import MAX_BUILT, MAX_TEXT, size, substitute, substitute_all
    x = [1, 1]
    for _ in range(60):
        x = [x, x]                                    # 2^61 leaves, 61 distinct lists
    t0 = time.process_time()
    assert size(x) == 2 ** 62 - 1 and time.process_time() - t0 < 1   # s(k+1) = 2·s(k) + 1, s(0) = 3
    with pytest.raises(CnncalcError, match=f"{MAX_BUILT:,} values"):
        substitute_all(["$s", "$s"], {"s": x})
    with pytest.raises(CnncalcError, match=f"{MAX_TEXT:,} characters"):
        substitute("${s}${s}", {"s": "a" * 600})
    assert substitute("${s}${s}", {"s": "ab"}) == "abab"   # the whole-string form is not greedy


# -- 2. forged CI annotations ------------------------------------------------------------------------------

def test_the_guard_defuses_workflow_commands_written_in_pieces():
    from cnncalc.render.safe import GuardedStream, guard
    text = "::error::a\n  ::add-mask::b ##[error]c\nx::y\n\t::stop-commands::t\n"
    assert not FORGED.search(guard(text)) and "x::y" in guard(text)      # `::` inside a line is harmless
    assert json.loads(guard(json.dumps("##[error]"))) == "##[error]"     # JSON still reads the same value
    for cut in range(len(text)):
        out = io.StringIO()
        g = GuardedStream(out)
        g.write(text[:cut])
        g.write(text[cut:])
        assert out.getvalue() == guard(text)


def test_check_github_format_emits_only_its_own_annotations(tmp_path):
    (tmp_path / "net.yaml").write_text(NET)
    ans = tmp_path / "a\n::warning::x.yaml"
    ans.write_text('networks:\n  "n\\n::error::forged ##[error]x":\n    {architecture: net.yaml, answers: '
                   '{total: {params: 1}}}\n')
    res = cli("check", str(ans), "--format", "github", cwd=tmp_path)
    assert res.returncode == 1
    ours = [ln for ln in res.stdout.splitlines() if ln.startswith("::")]
    assert len(ours) == 1 and OURS.match(ours[0]), res.stdout
    clean_output("github", res.stdout, github=True)


# -- 3. leaked secrets --------------------------------------------------------------------------------------

def test_an_architecture_named_by_an_answers_file_must_be_one_and_is_never_quoted(tmp_path):
    for i, text in enumerate([f"token: {SECRET}\n", f"input: [3, 8, 8]\nlayers: [{SECRET}]\n",
                              f"input: [3, 8, 8]\nlayers: {SECRET}\n",
                              f"input: [3, 8, 8]\nlayers:\n  - {{type: conv, filters: 4, kernel: {SECRET}}}\n"]):
        (tmp_path / f"c{i}.yaml").write_text(text)
        (tmp_path / f"a{i}.yaml").write_text(f"architecture: c{i}.yaml\nanswers: {{total: {{params: 1}}}}\n")
        msg = one_error_line(cli("check", str(tmp_path / f"a{i}.yaml"), cwd=tmp_path), f"c{i}.yaml")
        assert SECRET not in msg


# -- 4. Rich markup, escape sequences, JUnit ----------------------------------------------------------------

def test_markup_in_names_is_shown_as_written(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text('name: "[/bold] x [link=https://example.invalid]LeNet[/link]"\n' + H
                 + '  - {type: conv, filters: 4, kernel: 3, name: "[/red]c1"}\n')
    for argv in (["analyze"], ["rf"], ["sizes"], ["analyze", "--explain", "[/red]c1"], ["analyze", "--train"]):
        res = cli(argv[0], str(p), *argv[1:])
        assert res.returncode == 0, (argv, res.stderr)
        assert "[link=https://example.invalid]LeNet[/link]" in res.stdout or argv[1:2] == ["--explain"], argv
        assert "[/red]c1" in res.stdout or argv == ["sizes"], (argv, res.stdout[:500])   # sizes names no layer


def test_escape_sequences_in_a_file_name_are_shown_escaped_and_junit_stays_xml(tmp_path):
    (tmp_path / "net.yaml").write_text(NET)
    ans = tmp_path / "k\x1b[2J\x1b]0;t\x07.yaml"
    ans.write_text("architecture: net.yaml\nanswers: {total: {params: 1}}\n")
    res = cli("check", str(ans), "--junit", str(tmp_path / "j.xml"), cwd=tmp_path)
    assert res.returncode == 1 and "\x1b" not in res.stdout + res.stderr and "\\x1b[2J" in res.stdout
    root = ET.parse(tmp_path / "j.xml").getroot()                       # well-formed
    assert "\\x1b" in root.get("name") and "\\x07" in root.get("name")


# -- 5. CSV formula injection --------------------------------------------------------------------------------

def test_csv_cells_never_start_a_formula(tmp_path):
    p = tmp_path / "f.yaml"
    p.write_text(H + "".join(f'  - {{type: relu, name: "{c}cmd|calc"}}\n' for c in "=+-@"))
    res = cli("analyze", str(p), "--format", "csv")
    rows = list(csv.reader(io.StringIO(res.stdout)))[1:]
    assert [r[0] for r in rows] == [f"'{c}cmd|calc" for c in "=+-@"]
    assert all(not cell.startswith(tuple("=+-@")) for r in rows for cell in r)


# -- 6. clobbers ---------------------------------------------------------------------------------------------

def test_outputs_never_replace_a_builtin_and_write_through_links(tmp_path):
    builtin = ARCH_DIR / "lenet5.yaml"
    before = builtin.read_bytes()
    (tmp_path / "k.yaml").write_text("architecture: lenet5\nanswers: {total: {params: 1}}\n")
    one_error_line(cli("check", str(tmp_path / "k.yaml"), "--junit", str(builtin)), "input of this command")
    assert builtin.read_bytes() == before
    (tmp_path / "real.xml").write_text("old")
    (tmp_path / "link.xml").symlink_to("real.xml")
    assert cli("check", str(tmp_path / "k.yaml"), "--junit", str(tmp_path / "link.xml")).returncode == 1
    assert (tmp_path / "link.xml").is_symlink() and (tmp_path / "real.xml").read_text().startswith("<?xml")
    (tmp_path / "dangling.xml").symlink_to("nowhere/x.xml")
    one_error_line(cli("check", str(tmp_path / "k.yaml"), "--junit", str(tmp_path / "dangling.xml")), "link")
    res = cli("schema", "-o", "-")
    assert res.returncode == 0 and json.loads(res.stdout)["title"] and not (Path.cwd() / "-").exists()


# -- 7. torch-side memory and work ----------------------------------------------------------------------------

def test_torch_runs_are_refused_from_the_static_peak_and_work():
    from cnncalc.analysis.analyze import load
    from cnncalc.analysis.training import inference_peak
    from cnncalc.pytorch import memory
    g = load({"input": [64, 512, 512], "layers": ["sigmoid"] * 200})
    assert memory.needed_bytes(g, 1) >= inference_peak(g, 1, 4) >= 2 * 64 * 512 * 512 * 4   # input + one output
    big = load({"input": [512, 1024, 1024], "layers": [{"type": "conv", "filters": 1024, "kernel": 3, "padding": 1}]})
    with pytest.raises(CnncalcError, match="MACs"):
        memory.refuse_if_too_big(big, 1, "cpu", "verify", need=0)
    with pytest.raises(CnncalcError, match="out of memory"):
        with memory.out_of_memory_is_an_error("verify", "cpu"):
            raise RuntimeError("[enforce fail at alloc_cpu.cpp] DefaultCPUAllocator: can't allocate memory")
    with pytest.raises(ValueError):                    # anything else is not hidden
        with memory.out_of_memory_is_an_error("verify", "cpu"):
            raise ValueError("other")


# -- 8. tracebacks -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, value", [("${'a' < 1}", "1"), ("${s < 1}", "[1, 2]"), ("${s < 1}", "2020-01-01"),
                                         ("${s >= 'a'}", "1")])
def test_mixed_types_in_an_expression_are_one_error(expr, value):
    doc = ("input: [3, 8, 8]\nblocks:\n  b: {params: [s], layers: [{type: conv, filters: 1, "
           f"kernel: \"{expr}\"}}]}}\nlayers:\n  - {{type: b, s: {value}}}\n")
    with pytest.raises(CnncalcError, match="cannot order"):
        cnncalc.analyze(yamlio.loads(doc, "net.yaml"))


@pytest.mark.parametrize("columns", ["999999999", "9" * 400])
def test_a_huge_columns_is_capped(columns):
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "cnncalc", "sweep", "lenet5", "--sizes", "32:40:8"], capture_output=True,
                         text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent),
                                                          COLUMNS=columns))
    assert res.returncode == 0 and max(map(len, res.stdout.splitlines())) <= 1000 and time.perf_counter() - t0 < 30


# -- 9. export ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["none", "true", "False", "scale", "subsample", "print"])
def test_exported_classes_and_attributes_are_valid_unmangled_and_shadow_nothing(name):
    import torch
    from cnncalc.analysis.analyze import load
    from cnncalc.pytorch.build import build
    from cnncalc.pytorch.export import export_torch
    doc = {"name": name, "input": [3, 8, 8], "layers": [{"type": "conv", "filters": 4, "kernel": 3, "name": "__x"},
                                                         {"type": "subsample", "kernel": 2, "name": "s"}]}
    code = export_torch(load(doc))
    classes = re.findall(r"^class (\w+)\(nn\.Module\)", code, re.M)
    cls = classes[-1]                                   # the network's, after the helpers it uses
    assert classes.count(cls) == 1 and not keyword.iskeyword(cls) and cls not in dir(builtins), classes
    ns: dict = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), ns)
    net = ns[cls]()
    assert list(net.state_dict()) == list(build(load(doc)).state_dict())      # no `_Cls__x` keys
    assert net(torch.zeros(1, 3, 8, 8)).shape == (1, 4, 3, 3)


# -- 10. silent lies ------------------------------------------------------------------------------------------

def test_fit_is_exact_and_says_when_it_stopped_at_its_limit():
    from cnncalc.analysis.training import FIT_LIMIT, parse_bytes
    assert parse_bytes("123456789012345678901") == 123456789012345678901
    assert parse_bytes("0.1KB") == 100 and parse_bytes("1.5GiB") == 3 * 2**29
    res = cli("analyze", "lenet5", "--train", "--fit", "10TB")
    assert f"at least {FIT_LIMIT:,} (search limit)" in " ".join(res.stdout.split())   # however the line wraps
    one_error_line(cli("analyze", "lenet5", "--train", "--fit", "9" * 400), "--fit")


@pytest.mark.parametrize("text, value", [("010", 8), ("1:30", 90), ("0x10", 16), ("-010", -8), ("0b11", 3)])
def test_yaml_1_1_ints_are_refused_with_what_they_would_mean(text, value):
    with pytest.raises(CnncalcError, match=f"read as {value} by YAML 1.1"):
        yamlio.loads(H + f"  - {{type: conv, filters: {text}, kernel: 3}}\n")
    assert yamlio.loads("a: 007\nb: 1_000\n") == {"a": 7, "b": 1000}    # same value either way: fine


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf", "1.0e+999"])
def test_non_finite_numbers_are_refused_at_load(text):
    with pytest.raises(CnncalcError, match="not a finite number"):
        yamlio.loads(H + f"  - {{type: leaky_relu, slope: {text}}}\n")


# -- the hostile-text property ---------------------------------------------------------------------------------

PIECES = ["::", "::error::x", "##[", "##[error]", "\n", "\r", "\x1b[2J", "\x1b]0;t\x07", "[/bold]", "[link=x]",
          "[red]", "=", "+", "-", "@", "\u2028", "\t", " ", "a", "é", "%0A", ",", ":", "|", "<", "&"]
hostile = st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join)
PLACES = ("name", "source", "layer", "label", "file")
COMMANDS = (["analyze"], ["analyze", "--format", "csv"], ["analyze", "--format", "markdown"], ["rf"],
            ["check"], ["check", "--format", "github"], ["check", "--format", "csv"], ["check", "--junit", "J"])
DEEP = os.environ.get("CNNCALC_DEEP") == "1"


@settings(max_examples=1000 if DEEP else 30)
@given(text=hostile, place=st.sampled_from(PLACES), argv=st.sampled_from(COMMANDS))
def test_hostile_text_anywhere_reaches_no_output_unescaped(tmp_path_factory, text, place, argv):
    from typer.main import get_command

    from cnncalc.cli import app
    d = tmp_path_factory.mktemp("h")
    y = json.dumps   # a YAML double-quoted scalar that holds the text exactly
    net = (f"name: {y(text) if place == 'name' else 'n'}\nsource: {y(text) if place == 'source' else 's'}\n"
           + H + f"  - {{type: conv, filters: 4, kernel: 3, name: {y(text) if place == 'layer' else 'c1'}}}\n")
    (d / "net.yaml").write_text(net)
    fname = ("f" + text.replace("/", "_").replace("\x00", "") + ".yaml") if place == "file" else "key.yaml"
    label = y(text) if place == "label" else "a"
    try:
        (d / fname).write_text(f"networks:\n  {label}: {{architecture: net.yaml, answers: {{total: {{params: 1}}}}}}\n")
    except OSError:
        return                                          # a name this file system cannot hold
    args = [a if a != "J" else str(d / "j.xml") for a in argv]
    target = str(d / fname) if argv[0] == "check" else str(d / "net.yaml")
    out, err = io.StringIO(), io.StringIO()
    t0 = time.process_time()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        get_command(app).main(args=[args[0], target, *args[1:]], prog_name="cnncalc")
    except SystemExit as e:
        code = e.code
    finally:
        sys.stdout, sys.stderr = old
    assert time.process_time() - t0 < 5
    assert code in (0, 1, 2), (code, err.getvalue())
    if code == 2:
        assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1, err.getvalue()
    clean_output(f"{place} {argv}", out.getvalue(), github="github" in argv)
    clean_output(f"{place} {argv}", err.getvalue())
    if "--format" in argv and "csv" in argv and code != 2:
        for row in csv.reader(io.StringIO(out.getvalue())):
            assert not any(c.startswith(tuple("=+-@")) for c in row), row
    if "--junit" in argv and code in (0, 1):
        ET.parse(d / "j.xml")


# -- 11. slow on valid input ------------------------------------------------------------------------------------

def _cpu(*args) -> float:
    """CPU seconds of `cnncalc ARGS` in a fresh interpreter, output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run([sys.executable, "-m", "cnncalc", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, timeout=600, env=dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent),
                                                          COLUMNS="80"))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert res.returncode == 0, res.stderr
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def test_the_table_of_a_long_network_costs_about_what_its_json_costs(tmp_path):
    p = tmp_path / "long.yaml"
    p.write_text("input: [1, 4, 4]\nlayers:\n  - {type: conv, filters: 1, kernel: 1, repeat: 30000}\n")
    json_cpu, table_cpu = _cpu("analyze", str(p), "--json"), _cpu("analyze", str(p))
    assert table_cpu < 2 * json_cpu, (table_cpu, json_cpu)


@pytest.mark.parametrize("name, depth, width", [("lenet5", None, 80), ("googlenet", None, 200), ("resnet18", 1, 200),
                                                 ("unet", None, 120), ("densenet121", 1, 200)])
def test_the_fast_table_draws_exactly_what_rich_draws(name, depth, width):
    from rich.console import Console

    from cnncalc.render.fit import Lines, _layout, _table, drop_until
    from cnncalc.render.tables import layer_columns
    cols, _ = drop_until([c for c in layer_columns(cnncalc.analyze(name), depth) if not c.empty()], width)
    fast = _layout(cols, width, True)
    assert isinstance(fast, Lines)
    for color in (False, True):
        outs = []
        for renderable in (fast, _table(cols, width, True)):
            con = Console(width=width, force_terminal=color, color_system="truecolor" if color else None)
            with con.capture() as cap:
                con.print(renderable)
            outs.append(cap.get())
        assert outs[0] == outs[1]


def test_a_sweep_is_bounded_by_layers_times_sizes(tmp_path):
    from cnncalc.analysis.sweep import MAX_WORK
    p = tmp_path / "long.yaml"
    p.write_text("input: [1, 8, 8]\nlayers:\n  - {type: conv, filters: 1, kernel: 1, repeat: 10000}\n")
    t0 = time.process_time()
    one_error_line(cli("sweep", str(p), "--sizes", "8:5007:1"), f"{MAX_WORK:,}", "10,000 layers × 5,000")
    assert time.process_time() - t0 < 5


def test_a_written_number_of_thousands_of_digits_is_one_error():
    """Found by the deep mutation fuzz: `138.999…9M` (5,000 nines) made the rounding of the expected
    value raise decimal.InvalidOperation instead of an answer's error."""
    from cnncalc.exam.check import check
    with pytest.raises(CnncalcError, match="at most 40 digits"):
        check({"architecture": "lenet5", "answers": {"total": {"params": "138." + "9" * 5000 + "M"}}})

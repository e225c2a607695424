"""Tables that fit: every command's table at 60, 80, 120 and 200 columns.

At every width: no line is wider than the terminal; every layer name and every figure appears whole
(a column is either shown with every cell intact or named in the one "not shown" line); piped output
honours COLUMNS. The bench and verify renderers are fed saved result objects, so no torch is needed.
"""
from __future__ import annotations

import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

import cnncalc
from cnncalc.analysis.analyze import load
from cnncalc.analysis.compare import compare
from cnncalc.analysis.receptive import rf_report, rf_view
from cnncalc.cli import app
from cnncalc.exam.check import check
from cnncalc.render import tables
from cnncalc.render.bench import bench_columns
from cnncalc.render.check import check_columns
from cnncalc.render.fit import Col, cell_width, fit, plain
from cnncalc.render.verify import verification_columns

from saved_results import bench_report, verification

WIDTHS = [60, 80, 120, 200]
runner = CliRunner()


def render(cols: list[Col], width: int, footer: bool = False) -> str:
    con = Console(width=width, record=True, file=open("/dev/null", "w"), color_system=None)
    con.print(fit(cols, width, footer=footer))
    return con.export_text()


def assert_fits(cols: list[Col], width: int, footer: bool = False) -> str:
    text = render(cols, width, footer)
    lines = text.splitlines()
    assert all(cell_width(line.rstrip()) <= width for line in lines), max(lines, key=len)
    words = " ".join(lines)
    dropped = next((ln for ln in lines if ln.startswith("not shown at")), "")
    dropped += " " + " ".join(lines[lines.index(dropped) + 1:]) if dropped in lines else ""
    dropped = " ".join(dropped.split())
    shown_lines = [ln for ln in lines if not ln.startswith("not shown at")]
    for col in cols:
        cells = [plain(c) for c in col.cells if plain(c)]
        if not cells:
            continue
        if col.kind == "wrap":     # free text wraps between words: every word (and figure) is whole
            for cell in cells:       # (a word longer than the column, such as a path, may fold)
                for word in (w for w in cell.split() if len(w) <= col.min):
                    assert word in words or col.title in dropped, (col.title, word)
            continue
        if col.title and col.title in dropped and col.drop:
            continue
        for cell in cells:       # names, short texts and figures are never cut or folded
            assert any(cell in ln for ln in shown_lines), (width, col.title, cell)
    return text


def analyze_cols(name, depth=None):
    return tables.layer_columns(cnncalc.analyze(name), depth)


CASES = {
    "analyze lenet5": lambda: (analyze_cols("lenet5"), True),
    "analyze vgg16": lambda: (analyze_cols("vgg16"), True),
    "analyze googlenet": lambda: (analyze_cols("googlenet"), True),
    "analyze resnet50": lambda: (analyze_cols("resnet50"), True),
    "analyze resnet50 --depth 1": lambda: (analyze_cols("resnet50", 1), True),
    "analyze densenet121 --depth 2": lambda: (analyze_cols("densenet121", 2), True),
    "compare": lambda: (tables.compare_columns(compare(["vgg16", "googlenet", "resnet50", "mobilenet_v2"],
                                                       "flops")), False),
    "compare stages": lambda: (tables.stage_columns(compare(["vgg16", "googlenet"], "macs", None, 1, True)
                                                    .rows[1], "macs"), False),
    "rf resnet50": lambda: (tables.rf_columns(rf_view(load("resnet50"), rf_report(load("resnet50")))[0]), False),
    "rf googlenet --all": lambda: (tables.rf_columns(rf_report(load("googlenet")).layers), False),
    "list": lambda: (tables.list_columns([{"name": n, "input": r.input, "params": r.totals.params,
                                           "macs": r.totals.macs, "source": r.source}
                                          for n, r in ((n, cnncalc.analyze(n)) for n in ("alexnet", "vgg16",
                                                                                         "resnet152-tv"))]), False),
    "check": lambda: (check_columns(check("examples/exam/student.yaml")), False),
    "calc chain": lambda: (tables.chain_columns(__import__("cnncalc.analysis.calc", fromlist=["rf_chain"])
                                                .rf_chain(["conv3", "conv5s2", "pool3s2ceil", "conv3d2"])), False),
    "bench": lambda: (bench_columns(bench_report("resnet50")), False),
    "verify": lambda: (verification_columns(verification("googlenet")), True),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_table_fits_and_cuts_nothing(case, width):
    cols, footer = CASES[case]()
    assert_fits(cols, width, footer)


def test_the_name_column_never_disappears_and_flops_go_first():
    text = render(analyze_cols("vgg16"), 80, footer=True)
    assert "conv1_1.conv" in text and "36,928" in text
    assert "not shown at 80 columns: FLOPs (= 2×MACs)" in text
    # the input shape (the previous row's output) gives way before the kind and kernel/stride/padding
    assert "3/1 p1" in text and "conv1_2.conv  conv" in text and "(only the output shown)" in " ".join(text.split())


def test_two_lines_per_layer_when_names_are_long():
    text = render(analyze_cols("densenet121"), 60, footer=True)
    longest = max((r.name for r in cnncalc.analyze("densenet121").layers), key=len)
    assert longest in text and len(longest) > 30
    assert all(len(line.rstrip()) <= 60 for line in text.splitlines())


def test_empty_columns_take_no_width():
    cols = [Col("layer", ["a", "b"], kind="name"), Col("empty", ["", ""]), Col("n", ["1", "2"], kind="num")]
    assert "empty" not in render(cols, 80)


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("args", [["analyze", "vgg16"], ["analyze", "lenet5"], ["rf", "resnet50"],
                                  ["compare", "vgg16", "googlenet", "--flops"], ["list"],
                                  ["calc", "conv", "--input", "227", "-k", "11", "-s", "4", "--filters", "96",
                                   "--channels", "3"], ["rf", "-l", "conv3", "-l", "conv3"]])
def test_piped_output_honours_columns(args, width):
    res = runner.invoke(app, args, env={"COLUMNS": str(width)})
    assert res.exit_code == 0, res.output
    assert max(cell_width(line.rstrip()) for line in res.output.splitlines()) <= width


def test_piped_output_without_columns_is_wide(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    res = runner.invoke(app, ["analyze", "vgg16"])
    assert "FLOPs" in res.output and "not shown" not in res.output


def test_list_never_truncates_its_text():
    res = runner.invoke(app, ["list"], env={"COLUMNS": "80"})
    assert "…" not in res.output
    for name in cnncalc.spec.builtins.builtin_names():
        assert re.search(rf"(^|\s){re.escape(name)}\s", res.output, re.M), name


def printed(fn, *args, width=100) -> str:
    con = Console(width=width, record=True, file=open("/dev/null", "w"), color_system=None)
    fn(*args, con)
    return con.export_text()


def test_bench_says_when_the_layers_alone_take_longer_than_the_whole():
    from cnncalc.render.bench import print_bench
    r = bench_report("lenet5")
    slow = r.model_copy(update={"model": r.model.model_copy(update={"median_ms": r.layers_ms / 2})})
    text = " ".join(printed(print_bench, slow).split())
    assert "add up to" not in text and "more than the whole" not in text
    assert "take 200% of that time, longer than the whole forward" in text
    fast = " ".join(printed(print_bench, r).split())
    assert f"take {100 * r.layers_ms / r.model.median_ms:.0f}% of it" in fast


def test_bench_and_verify_as_csv_without_torch():
    from cnncalc.render.formats import to_csv
    rows = list(__import__("csv").DictReader(__import__("io").StringIO(to_csv(bench_columns(bench_report("vgg16"))))))
    convs = [x for x in cnncalc.analyze("vgg16").layers if x.type in ("conv", "linear")]
    assert [r["layer"] for r in rows] == [x.name for x in convs]
    assert [int(r["FLOPs"]) for r in rows] == [x.flops for x in convs]


def test_progress_only_on_a_terminal_and_never_with_json(monkeypatch):
    import io
    import sys

    from cnncalc.render.progress import progress_bar, wanted
    assert not wanted("json")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert wanted("table") and not wanted("json")
    with progress_bar("x", False) as cb:
        assert cb is None
    out = io.StringIO()
    with progress_bar("verify", True, Console(file=out, force_terminal=True, width=80)) as cb:
        for i in range(1, 13):
            cb(i, 12)
    assert "12/12" in out.getvalue()


def test_verify_and_bench_report_progress_layer_by_layer():
    pytest.importorskip("torch")
    from cnncalc.pytorch.verify import verify
    seen = []
    assert verify("lenet5", progress=lambda done, total: seen.append((done, total))).ok
    n = len(cnncalc.analyze("lenet5").layers)
    assert seen[-1] == (n, n) and len(seen) == n

"""Reading at 80 columns: every table keeps its names and figures whole, prose wraps between words,
and `--train`/`--memory` use the same fitted table as `analyze` (issue 22)."""
from __future__ import annotations

import re

import pytest

from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.render.fit import cell_width
from cnncalc.spec.builtins import builtin_names

runner = CliRunner()


def run(*args, width=80) -> str:
    env = {"COLUMNS": str(width)} if width else {}
    res = runner.invoke(app, list(args), env=env)
    assert res.exit_code in (0, 1), res.output
    lines = res.output.splitlines()
    assert all(cell_width(ln.rstrip()) <= (width or 200) for ln in lines), max(lines, key=len)
    return res.output


def whole_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines()]


def test_train_table_fits_80_columns_and_cuts_no_name():
    out = run("analyze", "resnet50", "--train")
    report = cnncalc.analyze("resnet50", train=True)
    for row in report.layers:   # each name whole, at a line's start
        assert any(ln.startswith(row.name + " ") for ln in whole_lines(out)), row.name
    tt = report.totals.training
    assert f"{tt.forward_macs:,}" in out and f"{tt.backward_macs:,}" in out
    assert "where the work goes" in out and "total" in out


def test_train_honours_depth():
    out = run("analyze", "resnet50", "--train", "--depth", "1")
    report = cnncalc.analyze("resnet50", train=True)
    rows = [ln.split()[0] for ln in whole_lines(out) if ln]
    assert "layer1" in rows and "layer1.0.conv1" not in out
    block = next(b for b in report.blocks if b.name == "layer1")
    inside = [r for r in report.layers if r.name.startswith("layer1.")]
    # the block's row sums its layers' backward MACs and saved bytes
    assert block.training.backward_macs == sum(r.training.backward_macs for r in inside)
    assert block.training.saved_bytes == sum(r.training.saved_bytes for r in inside)
    assert sum(r.training.saved_bytes for r in report.layers) == report.totals.training.saved_activation_bytes


def test_memory_keeps_the_table_the_totals_and_the_stage_bars():
    out = run("analyze", "densenet121", "--memory")
    report = cnncalc.analyze("densenet121", memory=True)
    longest = max((r.name for r in report.layers), key=len)
    assert longest in out and len(longest) > 30
    assert f"{report.totals.params:,}" in out and f"{report.totals.peak_activation_bytes:,}" in out
    assert "where the work goes" in out
    out = run("analyze", "densenet121", "--memory", "--depth", "1")
    rows = [ln.split()[0] for ln in whole_lines(out) if ln]
    assert "denseblock1" in rows and "denseblock1.denselayer.0.conv1" not in rows


def test_check_at_80_columns_names_its_lines_and_keeps_slip_and_formula_apart():
    out = run("check", "examples/exam/student.yaml")
    lines = whole_lines(out)
    assert {"answer", "given", "expected"} <= set(lines[1].split())   # the title line under the file
    # the slip (its own line) and the worked formula (a line of its own after it)
    slip = next(i for i, ln in enumerate(lines) if ln.startswith("bias forgotten: 150 counts"))
    assert any(ln.startswith("params: (5·5·1 + 1)·6 = 156") for ln in lines[slip + 1:slip + 4])


def test_list_at_80_columns_is_short_and_breaks_no_word():
    out = run("list")
    names = builtin_names()
    assert len(out.splitlines()) <= 3 * len(names)
    mnas = next(ln for ln in out.splitlines() if ln.startswith("mnasnet1_0"))
    assert '"MnasNet:' in mnas                  # the title is not cut at its own colon
    words = set(out.split())
    for name in names:                          # every word of every shown source is whole
        source = cnncalc.cli.analyze.first_sentence(cnncalc.analyze(name).source)
        assert source.count('"') % 2 == 0, name
        for word in source.split():
            assert word in words, (name, word)


def test_analyze_at_80_columns_keeps_kernel_and_stride_before_a_long_type():
    out = run("analyze", "resnet50")
    assert re.search(r"^layer1\.0\.conv1\s+1/2 p0", out, re.M) is None   # resnet50: the stride is on the 1×1
    assert re.search(r"^layer2\.0\.conv1\s+1/2 p0\s", out, re.M)
    assert "7/2 p3" in out


def test_piped_prose_wraps_between_words_at_80():
    out = run("analyze", "resnet50", width=None)            # piped, no COLUMNS: tables 200 wide
    report = cnncalc.analyze("resnet50")
    head = out[:out.index("layer ")]
    assert all(len(ln.rstrip()) <= 80 for ln in head.splitlines())
    assert " ".join(head.split()).count(" ".join(report.source.split())) == 1   # every word whole


def test_names_and_sources_are_never_markup():
    spec = {"name": "[red]net[/red]", "source": "[bold]paper", "input": [1, 8, 8],
            "layers": [{"type": "conv", "filters": 2, "kernel": 3}]}
    from rich.console import Console
    from cnncalc.render.tables import print_report
    con = Console(width=80, record=True, file=open("/dev/null", "w"))
    print_report(cnncalc.analyze(spec), con)
    text = con.export_text()
    assert "[red]net[/red]" in text and "[bold]paper" in text


# -- help that matches behaviour --------------------------------------------------------------------

def help_of(*command: str) -> str:
    res = runner.invoke(app, [*command, "-h"], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    return res.output


def all_commands():
    import typer.main
    root = typer.main.get_command(app)
    out = [((), root)]
    for name, cmd in root.commands.items():
        out.append(((name,), cmd))
        out += [((name, sub), c) for sub, c in getattr(cmd, "commands", {}).items()]
    return out


def test_every_help_indents_its_examples_and_keeps_sentences_whole():
    import inspect
    for path, cmd in all_commands():
        text = help_of(*path)
        examples = [ln for ln in text.splitlines() if ln.strip().startswith("cnncalc ")]
        assert examples, path                                        # `cnncalc -h` too has examples
        assert all(ln.startswith("   cnncalc") for ln in examples), (path, examples)
        for para in inspect.cleandoc(cmd.help or "").split("\n\n")[1:]:
            # Typer keeps a paragraph's line breaks: a sentence broken in the source breaks mid-line
            assert "\n" not in para or para.startswith(("\b", "  ")), (path, para[:60])


def test_rf_help_points_where_the_tokens_are():
    text = help_of("rf")
    assert "below)" not in text and "above)" in text
    assert text.index("Layer tokens") < text.index("--layer")


def test_compare_keeps_the_order_given_and_says_so():
    res = runner.invoke(app, ["compare", "resnet18", "vgg16", "--params", "--json"])
    rows = __import__("json").loads(res.output)["rows"]
    assert [r["name"] for r in rows] == ["resnet18", "vgg16"]         # not ranked
    assert rows[1]["ratio"] == rows[1]["params"] / rows[0]["params"]
    text = help_of("compare")
    assert "Rank" not in text and "order given" in text


def test_compare_explains_its_final_rf():
    out = run("compare", "vgg16", "resnet18")
    rep = cnncalc.analysis.compare.compare(["vgg16", "resnet18"])
    vgg = rep.rows[0]
    layer = next(r for r in cnncalc.analyze("vgg16").layers if r.name == vgg.final_rf_layer)
    assert layer.rf.size == vgg.final_rf == 212 and layer.output[1:] == [7, 7]   # (((2·…)…) as `rf vgg16` shows
    flat = " ".join(out.split())
    assert f"vgg16 {vgg.final_rf_layer}" in flat and "last map larger than 1×1" in flat


def test_check_help_first_example_runs_outside_the_clone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = next(ln.split()[1:] for ln in help_of("check").splitlines() if ln.strip().startswith("cnncalc "))
    res = runner.invoke(app, first)
    assert res.exit_code in (0, 1) and "answers right" in res.output, res.output
    assert runner.invoke(app, ["check", "key"]).exit_code == 0        # the shipped key: every answer right
    assert runner.invoke(app, ["check", "student"]).exit_code == 1    # the shipped slips
    assert runner.invoke(app, ["check", "no_such_answers"]).exit_code == 2


def test_sweep_says_what_plus_n_means():
    res = runner.invoke(app, ["sweep", "resnet50", "--sizes", "64:96:32"], env={"COLUMNS": "200"})
    assert "(+7 more)" in res.output and "(+N more) layers or merges" in res.output


def test_misaligned_paths_say_whether_by_design():
    for name in ("unet", "unet-same", "deeplabv3_resnet50", "yolov3_tiny"):
        for m in cnncalc.analyze(name).misaligned:
            assert "by design" in m and "upsampling or transposed conv" in m, m
    spec = {"input": [4, 8, 8], "layers": [{"branches": [
        [{"type": "conv", "filters": 4, "kernel": 3, "stride": 2, "padding": 1}], [{"type": "maxpool", "kernel": 2}]]}]}
    [m] = cnncalc.analyze(spec).misaligned       # a 3×3/2 p1 conv beside a 2×2/2 pool: half a row off
    assert "unusual" in m and "by design" not in m


# -- the Python API -----------------------------------------------------------------------------------

def test_a_report_shows_as_its_table_in_a_notebook_and_a_console():
    from html.parser import HTMLParser

    from rich.console import Console
    report = cnncalc.analyze("lenet5")
    con = Console(width=100, record=True, file=open("/dev/null", "w"), color_system=None)
    con.print(report)
    text = con.export_text()
    for row in report.layers:
        assert re.search(rf"^{re.escape(row.name)}\s", text, re.M), row.name
    assert f"{report.totals.params:,}" in text and "where the work goes" in text

    cells = []

    class Cells(HTMLParser):
        def handle_data(self, data):
            cells.append(data)
    html = report._repr_html_()
    Cells().feed(html)
    assert [r.name for r in report.layers] == [c for c in cells if c in {r.name for r in report.layers}]
    assert f"{report.totals.macs:,}" in " ".join(cells) and "<script" not in html

    spec = {"name": "<b>net</b>", "input": [1, 8, 8], "layers": [{"name": "<i>", "type": "conv", "filters": 2,
                                                                   "kernel": 3}]}
    html = cnncalc.analyze(spec)._repr_html_()
    assert "<b>net" not in html and "&lt;b&gt;net" in html and "<i>" not in html

    class Printer:
        def text(self, t):
            self.out = t
    p = Printer()
    report._repr_pretty_(p, False)                       # IPython in a terminal
    assert "C1" in p.out and "61,706" in p.out and "LayerRow(" not in p.out


def test_check_and_verify_have_real_signatures_and_docstrings():
    import inspect
    assert list(inspect.signature(cnncalc.check).parameters) == ["source", "base_dir", "root"]
    assert list(inspect.signature(cnncalc.verify).parameters) == ["spec", "input", "batch", "device", "seed"]
    for fn in (cnncalc.check, cnncalc.verify):
        assert "Returns" in fn.__doc__ and ">>>" in fn.__doc__
    with pytest.warns(UserWarning, match="example answers"):
        assert cnncalc.check("key").ok and not cnncalc.check("student").ok


def test_exported_code_never_embeds_an_absolute_path(tmp_path):
    from cnncalc.pytorch.export import export_torch
    net = tmp_path / "secret_dir" / "net.yaml"
    net.parent.mkdir()
    net.write_text("name: n\ninput: [1, 8, 8]\nlayers:\n  - {type: conv, filters: 2, kernel: 3}\n", encoding="utf-8")
    code = export_torch(str(net))
    assert "from net.yaml" in code and str(tmp_path) not in code and "secret_dir" not in code
    assert "cnncalc/architectures" not in export_torch("lenet5")


def test_wrapped_text_has_no_trailing_blanks():
    out = run("check", "examples/exam/student.yaml")
    assert all(ln == ln.rstrip() for ln in out.splitlines() if ln.startswith("    "))
    out = run("analyze", "resnet50")
    head = out[:out.index("layer ")]
    assert all(ln == ln.rstrip() for ln in head.splitlines())

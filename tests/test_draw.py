"""`cnncalc draw` and the HTML reports: the geometry of every built-in's diagram (no two boxes overlap,
no arrow passes through a box, one box per layer or per collapsed block, every edge of the graph drawn
once, in data order), the SVG is well-formed XML with real text, the HTML is self-contained."""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from cnncalc.analysis.analyze import load, report_of
from cnncalc.analysis.graph import INPUT
from cnncalc.analysis.layout import layout
from cnncalc.cli import app
from cnncalc.render.html import report_page
from cnncalc.render.svg import render_svg
from cnncalc.render.tables import rows_at_depth
from cnncalc.spec.builtins import builtin_names

runner = CliRunner()
EPS = 1e-6
SVG = "{http://www.w3.org/2000/svg}"
# nested skips across an encoder and a decoder, as a U-Net (same-size maps: the kinds on every branch)
NESTED = {"name": "nested skips", "input": [3, 32, 32], "layers": [
    {"name": n, "type": "conv", "filters": 8, "kernel": 3, "padding": 1} for n in ("e1", "e2", "e3", "mid")] + [
    x for k in (3, 2, 1) for x in ({"name": f"cat{k}", "type": "concat", "inputs": [f"d{k + 1}" if k < 3 else "mid", f"e{k}"]},
                                   {"name": f"d{k}", "type": "conv", "filters": 8, "kernel": 3, "padding": 1})]}
# a dense block written out: every layer reads every one before it (edges share their source's trunk)
DENSE = {"name": "dense", "input": [4, 8, 8], "layers": [{"name": "c0", "type": "conv", "filters": 4, "kernel": 3}] + [
    x for i in range(1, 9) for x in ({"name": f"cat{i}", "type": "concat", "inputs": [f"c{j}" for j in range(i)]},
                                     {"name": f"c{i}", "type": "conv", "filters": 4, "kernel": 3, "padding": 1})]}
DENSE["layers"][0]["padding"] = 1
CASES = ([(n, None, None, "TB") for n in builtin_names()] + [(n, 1, "macs", "LR") for n in builtin_names()]
         + [("nested", None, "rf", "TB"), ("nested", None, None, "LR"), ("dense", None, None, "TB"),
            ("dense", None, "params", "LR")])


def graph_and_report(name):
    graph = load({"nested": NESTED, "dense": DENSE}.get(name, name))
    return graph, report_of(graph)


def overlap(a, b) -> bool:
    """Open rectangles (x, y, w, h) share an interior point."""
    return a[0] < b[0] + b[2] - EPS and b[0] < a[0] + a[2] - EPS and a[1] < b[1] + b[3] - EPS and b[1] < a[1] + a[3] - EPS


def crosses(p, q, r) -> bool:
    """Segment p–q enters the open interior of rectangle r (Liang–Barsky clipping)."""
    x0, y0, x1, y1 = r[0] + EPS, r[1] + EPS, r[0] + r[2] - EPS, r[1] + r[3] - EPS
    dx, dy = q[0] - p[0], q[1] - p[1]
    lo, hi = 0.0, 1.0
    for d, a, b in ((dx, p[0] - x0, x1 - p[0]), (dy, p[1] - y0, y1 - p[1])):
        for den, num in ((-d, a), (d, b)):
            if den == 0:
                if num < 0:
                    return False
            else:
                t = num / den
                if den < 0:
                    lo = max(lo, t)
                else:
                    hi = min(hi, t)
    return lo < hi


def on_border(p, r) -> bool:
    x, y, w, h = r[:4]
    inside = x - EPS <= p[0] <= x + w + EPS and y - EPS <= p[1] <= y + h + EPS
    return inside and min(abs(p[0] - x), abs(p[0] - x - w), abs(p[1] - y), abs(p[1] - y - h)) < 1e-3


class Grid:
    """Rectangles bucketed in square cells, so a segment is tested only against those near it."""
    CELL = 120

    def __init__(self, rects):
        self.cells: dict = {}
        for r in rects:
            for key in self.keys((r[0], r[1]), (r[0] + r[2], r[1] + r[3])):
                self.cells.setdefault(key, []).append(r)

    def keys(self, p, q):
        (x0, x1), (y0, y1) = sorted((p[0], q[0])), sorted((p[1], q[1]))
        return [(i, j) for i in range(int(x0 // self.CELL), int(x1 // self.CELL) + 1)
                for j in range(int(y0 // self.CELL), int(y1 // self.CELL) + 1)]

    def near(self, p, q):
        return {r for key in self.keys(p, q) for r in self.cells.get(key, ())}


def test_the_checks_themselves():
    r = (0, 0, 10, 10)
    assert overlap(r, (5, 5, 10, 10)) and not overlap(r, (10, 0, 5, 5))    # touching is not overlapping
    assert crosses((-5, 5), (15, 5), r) and crosses((5, -1), (5, 1), r)
    assert not crosses((-5, 0), (15, 0), r) and not crosses((5, 10), (5, 20), r)   # along / from the border
    assert not crosses((-5, -5), (-1, 20), r) and crosses((-1, -1), (11, 11), r)
    grid = Grid([r + ("a",), (500, 500, 10, 10, "b")])
    assert grid.near((5, -20), (5, 5)) == {r + ("a",)} and len(grid.near((0, 0), (600, 600))) == 2


@pytest.mark.parametrize("name,depth,color,direction", CASES, ids=lambda x: str(x))
def test_no_box_overlaps_and_no_arrow_crosses_a_box(name, depth, color, direction):
    graph, report = graph_and_report(name)
    d = layout(graph, report, depth, color, direction)
    rects = sorted((b.x, b.y, b.w, b.h, b.id) for b in d.boxes)
    # one box per row of `analyze --depth` (rows_at_depth, the table's own grouping), plus the input
    assert len(d.boxes) == len(list(rows_at_depth(report, depth))) + 1
    assert len({b.id for b in d.boxes}) == len(d.boxes)
    for i, a in enumerate(rects):          # sweep along x: only boxes starting before a ends can overlap it
        for b in rects[i + 1:]:
            if b[0] >= a[0] + a[2]:
                break
            assert not overlap(a, b), f"{a[4]} overlaps {b[4]}"
    grid = Grid(rects)
    by_id = {r[4]: r for r in rects}
    along = 1 if direction == "TB" else 0
    for e in d.edges:
        assert on_border(e.points[0], by_id[e.src]) and on_border(e.points[-1], by_id[e.dst]), (e.src, e.dst)
        if not d.folded:      # the U layout's decoder rises: test_nested_skips_fold_into_a_u…
            assert e.points[-1][along] > e.points[0][along], f"{e.src} → {e.dst} runs against the data order"
        for p, q in zip(e.points, e.points[1:]):
            assert p[0] == q[0] or p[1] == q[1], "edges are orthogonal"
            for r in grid.near(p, q):
                assert not crosses(p, q, r), f"{e.src} → {e.dst} passes through {r[4]}"
    assert all(0 <= b.x and b.x + b.w <= d.width and 0 <= b.y and b.y + b.h <= d.height for b in d.boxes)


@pytest.mark.parametrize("name", ["lenet5", "googlenet", "resnet50", "densenet121", "inception_v3", "dense"])
def test_every_edge_of_the_graph_is_drawn_once(name):
    graph, report = graph_and_report(name)
    d = layout(graph, report)
    expected = {("input" if i == INPUT else graph.nodes[i].name, node.name) for node in graph.nodes for i in node.inputs}
    drawn = [(e.src, e.dst) for e in d.edges]
    assert len(drawn) == len(set(drawn)) and set(drawn) == expected
    outputs = [b.id for b in d.boxes if b.output]
    consumed = {i for node in graph.nodes for i in node.inputs}
    # one output each: the layer nothing reads (an auxiliary classifier, read by nothing either, only trains)
    assert outputs == [n.name for i, n in enumerate(graph.nodes) if i not in consumed and not n.train_only]


def test_branches_sit_side_by_side_and_a_residual_skip_runs_beside_the_body():
    graph, report = graph_and_report("googlenet")
    boxes = {b.id: b for b in layout(graph, report).boxes}
    heads = [boxes[f"inception_3a.branch{k}.0"] for k in (1, 2, 3, 4)]
    assert len({b.y for b in heads}) == 1 and [b.x for b in heads] == sorted(b.x for b in heads)
    graph, report = graph_and_report("resnet18")
    d = layout(graph, report)
    boxes = {b.id: b for b in d.boxes}
    skip = next(e for e in d.edges if (e.src, e.dst) == ("layer1.0.relu2", "layer1.1.add"))
    body = [boxes[f"layer1.1.{n}"] for n in ("conv1", "bn1", "relu1", "conv2", "bn2")]
    (x, y0), (_, y1) = max(zip(skip.points, skip.points[1:]), key=lambda s: abs(s[1][1] - s[0][1]))
    assert y0 <= min(b.y for b in body) and y1 >= max(b.y + b.h for b in body)   # passes the whole body…
    assert all(x > b.x + b.w or x < b.x for b in body)                           # …beside it


def test_nested_skips_nest_without_crossing():
    """U-Net-like skips: the outer skip runs outside the inner ones, every one beside the main path."""
    graph, report = graph_and_report("nested")
    d = layout(graph, report, direction="LR")
    far = {e.src: max(p[1] for p in e.points) for e in d.edges if e.src in ("e1", "e2", "e3")}
    right = {b.id: b.y + b.h for b in d.boxes}     # left to right: the skips run below the main path
    assert far["e3"] > right["mid"]
    assert far["e2"] > max(far["e3"], *(right[n] for n in ("e3", "mid", "cat3", "d3")))
    assert far["e1"] > max(far["e2"], *(right[n] for n in ("e2", "e3", "mid", "cat3", "d3", "cat2", "d2")))


def test_depth_collapses_blocks_with_their_totals():
    graph, report = graph_and_report("resnet50")
    d = layout(graph, report, depth=1)
    boxes = {b.id: b for b in d.boxes}
    assert [b.id for b in d.boxes] == ["input", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3",
                                      "layer4", "avgpool", "fc"]
    layer1 = next(b for b in report.blocks if b.name == "layer1")
    assert boxes["layer1"].layers == layer1.layers == 3 * 10 + 2    # 3 bottlenecks of 10 layers + 2 projection layers
    assert f"{layer1.params / 1e3:.3g}k" in " ".join(boxes["layer1"].lines)


def test_color_shades_by_the_figure_with_a_legend():
    graph, report = graph_and_report("vgg16")
    d = layout(graph, report, color="params")
    boxes = {b.id: b for b in d.boxes}
    assert boxes["fc6"].value == 512 * 7 * 7 * 4096 + 4096               # the largest layer of VGG-16
    assert boxes["fc6"].shade == 1.0 and boxes["input"].value is None and boxes["relu1"].shade == 0
    assert 0 < boxes["conv1_1.conv"].shade < boxes["conv1_2.conv"].shade < 1   # 1,792 < 36,928 params
    assert d.legend.label == "params" and d.legend.high == "103M"
    d = layout(graph, report, color="rf")
    assert {b.id: b.value for b in d.boxes}["conv1_1.conv"] == 3


@pytest.mark.parametrize("name", ["lenet5", "googlenet", "resnet50"])
def test_svg_is_valid_xml_with_real_text(name):
    graph, report = graph_and_report(name)
    d = layout(graph, report, color="memory")
    root = ET.fromstring(render_svg(d).encode())
    assert root.tag == f"{SVG}svg"
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "box"]
    assert len(groups) == len(report.layers) + 1
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for r in report.layers[:30]:
        assert r.name.split(".")[-1] in text
    assert "activation memory" in text       # the legend is text too
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]) == len(d.edges)


def test_html_report_is_self_contained():
    graph, report = graph_and_report("googlenet")
    from cnncalc.analysis.compare import stages
    html = report_page(report, layout(graph, report), stages(report))
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(http" not in html
    for needle in ("Conventions:", "inception_5b.concat", "MACs per layer", "per stage", "receptive field per layer",
                   'class="sortable"', "cnncalc-selfcheck", f"{report.totals.params:,}"):
        assert needle in html


def test_draw_command(tmp_path):
    out = tmp_path / "lenet5.svg"
    res = runner.invoke(app, ["draw", "lenet5", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert ET.parse(out).getroot().tag == f"{SVG}svg"
    res = runner.invoke(app, ["draw", "resnet18", "--depth", "1", "--color", "rf", "--direction", "LR",
                              "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 0 and (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    res = runner.invoke(app, ["draw", "lenet5"])
    assert res.exit_code == 0 and res.stdout.lstrip().startswith("<?xml")
    res = runner.invoke(app, ["draw", "lenet5", "--color", "flops"])
    assert res.exit_code == 2 and "--color must be one of macs, params, memory, rf" in res.output
    assert "Traceback" not in res.output


def test_analyze_and_compare_write_html(tmp_path):
    res = runner.invoke(app, ["analyze", "resnet18", "--depth", "1", "--html", str(tmp_path / "a.html")])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "a.html").read_text()
    assert text.count('class="box"') == len(list(rows_at_depth(report_of(load("resnet18")), 1))) + 1
    res = runner.invoke(app, ["compare", "lenet5", "alexnet", "--html", str(tmp_path / "c.html")])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "c.html").read_text()
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" class="diagram"') == 2
    assert 'id="d0-arrow"' in text and 'id="d1-arrow"' in text


def test_draw_and_html_never_import_torch(tmp_path):
    import subprocess
    import sys
    code = ("import sys; from typer.testing import CliRunner; from cnncalc.cli import app; r = CliRunner(); "
            f"r.invoke(app, ['draw', 'resnet18', '--color', 'macs', '-o', {str(tmp_path / 'a.svg')!r}]); "
            f"r.invoke(app, ['analyze', 'googlenet', '--html', {str(tmp_path / 'a.html')!r}]); "
            f"r.invoke(app, ['compare', 'lenet5', 'vgg11', '--html', {str(tmp_path / 'c.html')!r}]); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert all((tmp_path / f).stat().st_size > 1000 for f in ("a.svg", "a.html", "c.html"))


def test_output_errors_are_one_line_and_never_clobber_an_input(tmp_path):
    arch = tmp_path / "net.yaml"
    arch.write_text(load_text("lenet5"), encoding="utf-8")
    for args, message in [
        (["draw", "lenet5", "-o", str(tmp_path / "net.png")], "expected a file name ending in .svg or .html"),
        (["draw", "lenet5", "-o", str(tmp_path / "missing" / "n.svg")], "cannot write"),
        (["analyze", "lenet5", "--html", str(tmp_path)], "is a directory"),
        (["analyze", str(arch), "--html", str(arch)], "refusing to overwrite it"),
        (["compare", "vgg11", str(arch), "--html", str(arch)], "refusing to overwrite it"),
    ]:
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output, (args, res.output)
    assert arch.read_text(encoding="utf-8") == load_text("lenet5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]       # no temporary file left behind
    res = runner.invoke(app, ["draw", str(arch), "-o", str(tmp_path / "n.svg")])
    umask = os.umask(0)
    os.umask(umask)
    assert res.exit_code == 0 and (tmp_path / "n.svg").stat().st_mode & 0o777 == 0o666 & ~umask   # the usual mode


def load_text(name: str) -> str:
    from cnncalc.spec.builtins import builtin_path
    return builtin_path(name).read_text(encoding="utf-8")


def test_several_outputs_are_marked_even_when_another_layer_reads_one():
    conv = {"type": "conv", "filters": 8, "kernel": 3, "padding": 1}
    spec = {"name": "two heads", "input": [3, 16, 16], "outputs": ["head1", "c2", "head2"], "layers": [
        {"name": "c1", **conv}, {"name": "head1", "type": "conv", "filters": 4, "kernel": 1},
        {"name": "c2", "inputs": ["c1"], **conv}, {"name": "head2", "type": "conv", "filters": 4, "kernel": 1}]}
    graph = load(spec)
    d = layout(graph, report_of(graph))
    assert {b.id for b in d.boxes if b.output} == {"head1", "c2", "head2"}
    assert "outputs 4×16×16, 8×16×16, 4×16×16" in d.subtitle
    assert {(e.src, e.dst) for e in d.edges} == {("input", "c1"), ("c1", "head1"), ("c1", "c2"), ("c2", "head2")}


def test_names_are_escaped_in_svg_and_html():
    evil = '<img src=x onerror="alert(1)">&'
    spec = {"name": evil, "source": evil, "input": [1, 8, 8],
            "layers": [{"name": evil, "type": "conv", "filters": 2, "kernel": 3}, {"name": "x", "type": "relu"}]}
    graph = load(spec)
    report = report_of(graph)
    d = layout(graph, report)
    root = ET.fromstring(render_svg(d).encode())
    assert evil in [t.text for t in root.iter(f"{SVG}text")]              # shown as text, not markup
    from cnncalc.analysis.compare import stages
    page = report_page(report, d, stages(report))
    assert "<img" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;" in page


def test_nested_skips_fold_into_a_u_with_the_skips_across():
    """Top to bottom, an encoder–decoder with nested skips is drawn as a U: the decoder rises on the right and
    every skip leaves its encoder box sideways and enters its decoder box sideways, at about the same height."""
    graph, report = graph_and_report("nested")
    d = layout(graph, report)
    assert d.folded and "U layout" in d.subtitle
    boxes = {b.id: b for b in d.boxes}
    assert max(boxes[n].x + boxes[n].w for n in ("e1", "e2", "e3")) < min(boxes[n].x for n in ("cat1", "cat2", "d1"))
    assert boxes["d1"].y < boxes["cat2"].y < boxes["cat3"].y           # the decoder rises
    for k in (1, 2, 3):
        src, dst = boxes[f"e{k}"], boxes[f"cat{k}"]
        (skip,) = [e for e in d.edges if (e.src, e.dst) == (src.id, dst.id)]
        (x0, y0), (x1, y1) = skip.points[0], skip.points[-1]
        assert x0 == src.x + src.w and x1 == dst.x                    # out of the right side, into the left side
        assert [p[0] for p in skip.points] == sorted(p[0] for p in skip.points)   # left to right only
        assert abs(y1 - y0) < 3 * src.h                                # across, not down and back up
    assert not layout(graph, report, direction="LR").folded            # left to right the skips already run across
    assert not any(layout(*graph_and_report(n)).folded for n in ("resnet50", "googlenet", "densenet121", "dense"))

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
CASES = ([(n, None, None, "TB", True) for n in builtin_names()] + [(n, 1, "macs", "LR", True) for n in builtin_names()]
         + [(n, 1, None, "TB", True) for n in builtin_names()]       # residual blocks split, repeats ×N, columns
         + [(n, None, None, "TB", False) for n in builtin_names()]   # --unfold: every op its own box
         + [("nested", None, "rf", "TB", True), ("nested", None, None, "LR", True), ("dense", None, None, "TB", True),
            ("dense", None, "params", "LR", True)])


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


def assert_boxes_tile_the_rows(report, d, depth):
    """Every layer in exactly one box; every box inside one row of `analyze --depth` (rows_at_depth, the
    table's own grouping) and every row drawn; ids unique."""
    assert len({b.id for b in d.boxes}) == len(d.boxes)
    nodes = [n for b in d.boxes for n in b.nodes]
    assert sorted(nodes) == list(range(len(report.layers)))
    rows = {r.name for _, r in rows_at_depth(report, depth)}
    def row(name):
        return next(p for p in (".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 2)) if p in rows)
    covered = {"input"}
    for b in d.boxes[1:]:
        mine = {row(report.layers[n].name) for n in b.nodes}
        assert b.row in mine and (len(mine) == 1 or b.kind == "layer"), (b.id, mine)   # a block part: one block
        covered |= mine
    assert covered == rows | {"input"}


@pytest.mark.parametrize("name,depth,color,direction,fold", CASES, ids=lambda x: str(x))
def test_no_box_overlaps_and_no_arrow_crosses_a_box(name, depth, color, direction, fold):
    graph, report = graph_and_report(name)
    d = layout(graph, report, depth, color, direction, fold)
    rects = sorted((b.x, b.y, b.w, b.h, b.id) for b in d.boxes)
    assert_boxes_tile_the_rows(report, d, depth)
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
        if not d.folded and d.columns == 1:     # the U layout's decoder rises, a wrapped arrow climbs to the next column
            assert e.points[-1][along] > e.points[0][along], f"{e.src} → {e.dst} runs against the data order"
        for p, q in zip(e.points, e.points[1:]):
            assert p[0] == q[0] or p[1] == q[1], "edges are orthogonal"
            for r in grid.near(p, q):
                assert not crosses(p, q, r), f"{e.src} → {e.dst} passes through {r[4]}"
    assert all(0 <= b.x and b.x + b.w <= d.width and 0 <= b.y and b.y + b.h <= d.height for b in d.boxes)


@pytest.mark.parametrize("name", ["lenet5", "googlenet", "resnet50", "densenet121", "inception_v3", "dense"])
@pytest.mark.parametrize("fold", [False, True], ids=["unfolded", "folded"])
def test_every_edge_of_the_graph_is_drawn_once(name, fold):
    graph, report = graph_and_report(name)
    d = layout(graph, report, fold=fold)
    owner = {INPUT: "input"} | {n: b.id for b in d.boxes for n in b.nodes}
    expected = {(owner[i], owner[k]) for k, node in enumerate(graph.nodes) for i in node.inputs} - {
        (b.id, b.id) for b in d.boxes}
    drawn = [(e.src, e.dst) for e in d.edges]
    assert len(drawn) == len(set(drawn)) and set(drawn) == expected
    if not fold:
        assert len(d.boxes) == len(graph.nodes) + 1
    else:       # conv · BN · ReLU in one box: a chain of one-to-one layers, each of them a BN or an activation
        for b in d.boxes[1:]:
            assert all(graph.nodes[n].inputs == [n - 1] and graph.nodes[n].layer.type in FOLDED for n in b.nodes[1:])
    outputs = [b.id for b in d.boxes if b.output]
    consumed = {i for node in graph.nodes for i in node.inputs}
    # one output each: the layer nothing reads (an auxiliary classifier, read by nothing either, only trains)
    assert outputs == [owner[i] for i, n in enumerate(graph.nodes) if i not in consumed and not n.train_only]


FOLDED = {"batchnorm", "relu", "dropout", "softmax"}


def test_folding_draws_a_third_fewer_boxes_and_depth_keeps_the_skips():
    """ResNet-50: 174 layers; folded, each bottleneck is conv·BN·ReLU ×2, conv·BN, add·ReLU (+ conv·BN on
    the projection): 4 × 16 + 4 + the stem (conv1·BN·ReLU, maxpool), avgpool and fc, + the input."""
    graph, report = graph_and_report("resnet50")
    assert len(layout(graph, report).boxes) == 4 * 16 + 4 + 4 + 1
    d = layout(graph, report, depth=1)
    ids = [b.id for b in d.boxes]
    assert ids[:8] == ["input", "conv1", "maxpool", "layer1.0 body", "layer1.0.downsample", "layer1.0.add",
                       "layer1.1–2 body", "layer1.1–2.add"]
    edges = {(e.src, e.dst) for e in d.edges}
    assert ("maxpool", "layer1.0.downsample") in edges and ("layer1.0.add", "layer1.1–2.add") in edges  # the skips
    boxes = {b.id: b for b in d.boxes}
    assert boxes["layer1.1–2 body"].layers == 2 * 8 and "×2" in boxes["layer1.1–2.add"].lines[0]


def test_branches_sit_side_by_side_and_a_residual_skip_runs_beside_the_body():
    graph, report = graph_and_report("googlenet")
    boxes = {b.id: b for b in layout(graph, report).boxes}
    heads = [boxes[f"inception_3a.branch{k}.0"] for k in (1, 2, 3, 4)]
    assert len({b.y for b in heads}) == 1 and [b.x for b in heads] == sorted(b.x for b in heads)
    graph, report = graph_and_report("resnet18")
    d = layout(graph, report, fold=False)
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
    graph, report = graph_and_report("densenet121")
    d = layout(graph, report, depth=1)
    boxes = {b.id: b for b in d.boxes}
    assert [b.id for b in d.boxes] == ["input", "conv0", "pool0", "denseblock1", "transition1", "denseblock2",
                                      "transition2", "denseblock3", "transition3", "denseblock4", "norm5", "avgpool",
                                      "classifier"]
    block = next(b for b in report.blocks if b.name == "denseblock1")
    assert boxes["denseblock1"].layers == block.layers == 6 * 7     # 6 dense layers: BN, ReLU, conv, BN, ReLU, conv, concat
    assert f"{block.params / 1e3:.3g}k" in " ".join(boxes["denseblock1"].lines)


def test_color_shades_by_the_figure_with_a_legend():
    graph, report = graph_and_report("vgg16")
    d = layout(graph, report, color="params", fold=False)
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
    d = layout(graph, report, color="memory", fold=False)
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
    res = runner.invoke(app, ["draw", "vgg16", "--style", "maps", "-o", str(tmp_path / "maps.svg")])
    assert res.exit_code == 0 and "14 maps" in res.output
    assert len([g for g in ET.parse(tmp_path / "maps.svg").getroot().iter(f"{SVG}g") if g.get("class") == "map"]) == 14
    res = runner.invoke(app, ["draw", "lenet5", "--unfold"])
    assert res.exit_code == 0 and res.stdout.count('class="box"') == 12 + 1
    res = runner.invoke(app, ["draw", "lenet5", "--style", "maps", "--depth", "1", "--unfold"])
    assert res.exit_code == 2 and "--depth, --unfold: for --style graph" in res.output
    res = runner.invoke(app, ["draw", "lenet5", "--style", "boxes"])
    assert res.exit_code == 2 and "--style must be one of graph, maps" in res.output
    res = runner.invoke(app, ["draw", "lenet5", "--color", "flops"])
    assert res.exit_code == 2 and "--color must be one of macs, params, memory, rf" in res.output
    assert "Traceback" not in res.output


def test_analyze_and_compare_write_html(tmp_path):
    res = runner.invoke(app, ["analyze", "resnet18", "--depth", "1", "--html", str(tmp_path / "a.html")])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "a.html").read_text()
    graph = load("resnet18")
    assert text.count('class="box"') == len(layout(graph, report_of(graph), 1).boxes)
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


# -- the feature-map figure (--style maps) --------------------------------------------------------
def footprint(m):
    """A map's rectangle with its oblique depth and its label lines above (x, y, w, h)."""
    from cnncalc.analysis.layout import CHAR_W, LINE_H
    from cnncalc.analysis.maps import SLANT
    dx, dy = m.depth * SLANT[0], m.depth * SLANT[1]
    lines = [t for t in (*m.label, m.note) if t]
    text_w = max(len(t) for t in lines) * CHAR_W
    top = m.y + dy - 5 - len(lines) * LINE_H
    return (m.x, top, max(m.w + dx, text_w), m.y + m.h - top)


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "zfnet", "vgg16", "nin"])
def test_maps_of_the_sequential_nets_fit_one_screen(name):
    from cnncalc.analysis.maps import maps
    from cnncalc.render.maps import render_maps
    d = maps(load(name))
    assert d.width <= 1400 and d.height <= 1000
    rects = [footprint(m) for m in d.maps]
    assert all(not overlap(a, b) for i, a in enumerate(rects) for b in rects[i + 1:])
    assert all(0 <= r[0] and r[0] + r[2] <= d.width and 0 <= r[1] and r[1] + r[3] <= d.height for r in rects)
    root = ET.fromstring(render_maps(d).encode())
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "map"]) == len(d.maps)


@pytest.mark.parametrize("name", builtin_names())
def test_maps_of_every_builtin(name):
    """Every built-in draws (1-D and 3-D maps, auxiliary heads, two outputs), no two maps or labels overlap,
    rows at most the page wide, and a kernel window only on a map the next one reads."""
    from cnncalc.analysis.maps import WIDTH, maps
    graph = load(name)
    d = maps(graph)
    rects = [footprint(m) for m in d.maps]
    assert all(not overlap(a, b) for i, a in enumerate(rects) for b in rects[i + 1:])
    assert d.width <= WIDTH and all(r[0] + r[2] <= d.width and r[1] + r[3] <= d.height for r in rects)
    assert sorted(n for m in d.maps for n in m.nodes) == list(range(len(graph.nodes)))
    for a, b, s in zip(d.maps, d.maps[1:], d.steps):
        if s.window:
            assert (a.nodes[-1] if a.nodes else INPUT) in graph.nodes[b.nodes[0]].inputs
            x, y, w, h = s.window
            assert a.x <= x and x + w <= a.x + a.w + 1e-9 and a.y <= y and y + h <= a.y + a.h + 1e-9


def test_maps_label_lenet5_as_the_course_does():
    from cnncalc.analysis.maps import maps
    d = maps(load("lenet5"))
    assert [m.label for m in d.maps] == [("input", "1@32×32"), ("C1", "6@28×28"), ("S2", "6@14×14"), ("C3", "16@10×10"),
                                         ("S4", "16@5×5"), ("C5", "120@1×1"), ("F6", "84"), ("F7", "10")]
    assert [s.label for s in d.steps] == ["5×5 conv", "2×2 avg pool", "5×5 conv", "2×2 avg pool", "5×5 conv", "full", "full"]
    c1, s2 = d.maps[1], d.maps[2]
    assert c1.planes == 6 and d.maps[3].planes == 0          # six planes; sixteen drawn as a block
    assert c1.h > s2.h > d.maps[3].h > d.maps[4].h > d.maps[5].h   # height follows H: 28 > 14 > 10 > 5 > 1
    win = d.steps[1].window                                  # the 2×2 window on C1's 28×28 face
    assert win[0] >= c1.x and win[0] + win[2] <= c1.x + c1.w and abs(win[3] - max(3.0, c1.h * 2 / 28)) < 1e-9


def test_maps_of_branching_nets_draw_blocks_and_name_skips():
    from cnncalc.analysis.maps import maps
    d = maps(load("resnet50"))
    assert [m.id for m in d.maps] == ["input", "conv1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    assert [s.label for s in d.steps][2:6] == ["bottleneck ×3", "bottleneck ×4", "bottleneck ×6", "bottleneck ×3"]
    notes = {m.id: m.note for m in maps(load("deeplabv3_resnet50")).maps}
    assert notes["out"] == "size of input"
    unet = {m.id: m for m in maps(load("unet")).maps}
    assert unet["cat4"].note == "+ down4, crop 64→56" and unet["cat4"].kind == "merge"   # the copy and its crop


def test_size_only_edges_and_crops_are_marked():
    graph, report = graph_and_report("deeplabv3_resnet50")
    d = layout(graph, report)
    drawn = {(e.src, e.dst): e.size_only for e in d.edges}
    # the ASPP pooling branch takes layer4's size one step away: a thin dashed line; the heads take the
    # input's size from the top of the page: named in their boxes ('→size of input'), not drawn
    assert drawn[("backbone.layer4.2.add", "classifier.0.convs.4.interpolate")] is True
    assert ("input", "out") not in drawn and ("input", "aux") not in drawn and "size of input" in " ".join(
        next(b for b in d.boxes if b.id == "out").lines) and "named in its box" in d.subtitle
    assert [p for p, size in drawn.items() if size] == [("backbone.layer4.2.add", "classifier.0.convs.4.interpolate")]
    graph, report = graph_and_report("unet")
    boxes = {b.id: b for b in layout(graph, report).boxes}
    assert "crop 64→56" in boxes["cat4"].lines          # down4's 64×64 map cropped to up4's 56×56
    assert "crop 568→392" in boxes["cat1"].lines


# -- the report's charts ---------------------------------------------------------------------------
def test_stages_are_resolution_levels():
    """U-Net (unpadded): the convs that shrink 572 → 568 stay at their level; 5 levels down, 4 up, not one stage
    per conv size. Every layer counted once: the stages' sums are the totals."""
    from cnncalc.analysis.breakdown import levels
    graph, report = graph_and_report("unet")
    stages = levels(graph, report)
    assert [s.resolution.split(":")[0] for s in stages] == ["full size", "1/2", "1/4", "1/8", "1/16",
                                                           "↑ 1/8", "↑ 1/4", "↑ 1/2", "↑ full size"]
    assert stages[0].resolution == "full size: 570×570…568×568" and stages[1].layers == 5   # pool1, 2 × (conv, relu)
    assert sum(s.macs for s in stages) == report.totals.macs and sum(s.layers for s in stages) == len(report.layers)
    graph, report = graph_and_report("resnet50")
    assert [s.resolution for s in levels(graph, report)] == [
        "1/2: 112×112", "1/4: 56×56", "1/8: 28×28", "1/16: 14×14", "1/32: 7×7", "global (1×1)", "vector"]


def test_charts_follow_depth_and_title_their_axes():
    from cnncalc.analysis.breakdown import levels, rows
    from cnncalc.render.html import chart_section
    graph, report = graph_and_report("resnet50")
    assert len(rows(report, 1)) == len(list(rows_at_depth(report, 1))) == 10
    layer1 = next(r for r in rows(report, 1) if r.name == "layer1")
    assert layer1.macs == next(b.macs for b in report.blocks if b.name == "layer1")
    html = chart_section(report, levels(graph, report), 1)
    assert html.count("<rect x=") - html.count('width="10" height="8"') >= 3 * 10     # 10 columns per chart
    assert html.count("<circle") == 10                                                # 10 RF points, not 174
    for title in ("MACs (multiply-adds)", "parameters", "bytes", "receptive field (input pixels)",
                  "blocks at level 1 and layers, in data order"):
        assert title in html


def test_headings_name_every_output_and_compare_pages_chart_the_networks(tmp_path):
    res = runner.invoke(app, ["analyze", "deeplabv3_resnet50", "--html", str(tmp_path / "d.html")])
    assert res.exit_code == 0, res.output
    assert "outputs out 21×520×520, aux 21×520×520" in (tmp_path / "d.html").read_text()
    res = runner.invoke(app, ["compare", "lenet5", "alexnet", "--html", str(tmp_path / "c.html")])
    text = (tmp_path / "c.html").read_text()
    assert res.exit_code == 0 and "the networks side by side" in text
    assert "<title>LeNet-5 params: 61.71 k</title>" in text        # 61,706 parameters

"""`cnncalc sweep` and `cnncalc sizes` against `analyze --input` run size by size.

Every row of a sweep must be exactly what a fresh `analyze --input` (parse, validate, build, report) says
at that size: output, params, buffers, MACs, FLOPs, other ops, activations, the layers whose notes say
they drop or pad rows, the misaligned merges, the receptive field of the last feature map and the first
covering layer (`rf`); a size where analyze fails is a row naming the layer analyze's error names.
The peak live activations are checked against a brute-force set-based simulation and a hand count.
`sizes` is checked against a brute-force run of analyze over the range.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import cnncalc
from cnncalc.analysis.analyze import load
from cnncalc.analysis.receptive import rf_report
from cnncalc.analysis.sizes import describe, shapes_of, sizes
from cnncalc.analysis.liveness import liveness, peak_live, segments
from cnncalc.analysis.sweep import Sweeper, load_for_sweep, reshape
from cnncalc.cli import app
from cnncalc.errors import CnncalcError, SpecError
from cnncalc.spec.builtins import builtin_names
from cnncalc.layers import numel

DEEP = os.environ.get("CNNCALC_DEEP") == "1"
runner = CliRunner()
SWEEPERS: dict = {}


def sweeper(name: str) -> Sweeper:
    if name not in SWEEPERS:
        SWEEPERS[name] = Sweeper(load_for_sweep(name))
    return SWEEPERS[name]


def uneven_by_notes(report) -> dict[str, str]:
    """Layer → 'drops'/'pads' as analyze's notes word it ("floor drops 1 input row", "ceil pads 1 col implicitly")."""
    out = {}
    for r in report.layers:
        words = {w for n in r.notes for w in ("drops", "pads") if re.search(rf"\b{w}\b \d+", n)}
        if words:
            out[r.name] = "/".join(sorted(words))
    return out


def odd_crops(report) -> set[str]:
    """Merges whose notes say they crop a map by an odd number of rows on some axis ("crops 512×65×64 → 56×56")."""
    out = set()
    for r in report.layers:
        for n in r.notes:
            m = re.match(r"crops \d+×([\d×]+) → ([\d×]+)", n)
            if m and any((int(a) - int(b)) % 2 for a, b in zip(m[1].split("×"), m[2].split("×"))):
                out.add(r.name)
    return out


def uneven_by_row(row) -> dict[str, str]:
    out = {}
    for u in row.uneven:
        words = {"drops" if x > 0 else "pads" for x in u.leftover if x}
        out[u.layer] = "/".join(sorted(words))
    return out


def last_map_rf(report) -> list[int]:
    """The field of the last layer whose output is a map larger than one position (else the last map)."""
    maps = [r for r in report.layers if len(r.output) == len(report.input)]
    big = [r for r in maps if max(r.output[1:]) > 1] or maps
    r = big[-1].rf
    return [r.size, r.size_w][:len(report.input) - 1]


def brute_peak(graph) -> int:
    """Peak over steps of the elements of every tensor made so far and still read at or after this step."""
    nodes = [(i, nd) for i, nd in enumerate(graph.nodes) if not nd.train_only]
    readers: dict[int, list[int]] = {}
    for i, nd in nodes:
        for src in nd.inputs:
            readers.setdefault(src, []).append(i)
    size = {-1: numel(graph.input), **{i: numel(nd.out_shape) for i, nd in enumerate(graph.nodes)}}
    outs = graph.output_nodes
    peak = 0
    for step, _ in nodes:
        live = [t for t in [-1] + [i for i, _ in nodes if i <= step]
                if t == step or t in outs or any(r >= step for r in readers.get(t, []))]
        peak = max(peak, sum(size[t] for t in live))
    return peak


def assert_row_is_analyze(name: str, shape: tuple) -> None:
    row = sweeper(name).row(shape)
    text = "x".join(map(str, shape))
    try:
        graph = load(name, text)
    except CnncalcError as e:
        assert not row.ok, f"{name} {text}: analyze fails ({e}) but the sweep row is valid"
        parent = row.collapse.layer.rsplit(".", 1)[0]
        assert row.collapse.layer in str(e) or parent in str(e), (str(e), row.collapse)
        return
    assert row.ok, f"{name} {text}: analyze works but the sweep says {row.collapse}"
    rep = cnncalc.analyze(graph)
    t = rep.totals
    assert row.output == rep.output and row.outputs == [o.output for o in rep.outputs]
    assert (row.params, row.buffers, row.macs, row.flops, row.other_ops, row.activations, row.activation_bytes) == (
        t.params, t.buffers, t.macs, t.flops, t.other_ops, t.activations, t.activation_bytes)
    crops = odd_crops(rep)
    assert {k: v for k, v in uneven_by_row(row).items() if k not in crops} == uneven_by_notes(rep)
    assert {u.layer for u in row.uneven} - set(uneven_by_notes(rep)) == crops
    assert row.misaligned == rep.misaligned
    assert row.first_covering == rf_report(graph).first_covering
    assert row.rf == last_map_rf(rep)
    assert row.exact == (not uneven_by_notes(rep) and not crops)
    assert row.peak_activations == brute_peak(graph) and row.peak_bytes == 4 * row.peak_activations


SMALL = [n for n in builtin_names() if n not in ("resnet152", "resnet152-tv", "resnet101", "resnet101-tv")]


@settings(max_examples=2000 if DEEP else 25)
@given(name=st.sampled_from(SMALL), h=st.integers(1, 400), w=st.integers(1, 400), square=st.booleans())
@example(name="resnet50", h=16, w=16, square=True)     # a projection's stride changes (1×1 map): full rebuild
@example(name="alexnet", h=60, w=60, square=True)      # pool5 collapses
@example(name="googlenet", h=225, w=225, square=True)  # ceil pads implicitly
@example(name="dcgan_generator", h=1, w=1, square=True)  # transposed convs: a fractional field
def test_every_sweep_row_is_analyze_at_that_size(name, h, w, square):
    base = load_for_sweep(name).input
    if len(base) != 3:       # H×W sizes: C×H×W networks only (c3d's clips and m5's waveforms have other axes)
        return
    assert_row_is_analyze(name, (base[0], h, h if square else w))


def test_rows_of_one_sweep_are_independent_of_order_and_neighbours():
    """Memoised shapes, shared segments and the resumed receptive-field pass give the same rows in any order."""
    sizes_ = [(3, n, n) for n in (224, 225, 17, 16, 512, 225, 33, 1)]
    fresh = [Sweeper(load_for_sweep("resnet50")).row(s) for s in sizes_]
    one = Sweeper(load_for_sweep("resnet50"))
    assert [one.row(s) for s in sizes_] == fresh
    assert [one.row(s) for s in reversed(sizes_)] == fresh[::-1]


def test_reshape_builds_the_graph_analyze_builds():
    g = load_for_sweep("googlenet")
    for n in (224, 300):
        mine, theirs = reshape(g, (3, n, n)), load("googlenet", f"3x{n}x{n}")
        assert [(nd.name, nd.in_shapes, nd.out_shape) for nd in mine.nodes] == \
            [(nd.name, nd.in_shapes, nd.out_shape) for nd in theirs.nodes]
        assert [(x.name, x.in_shape, x.out_shape) for x in mine.groups] == \
            [(x.name, x.in_shape, x.out_shape) for x in theirs.groups]


# -- collapse rows ------------------------------------------------------------------------------

def test_a_size_where_a_layer_collapses_is_a_row_naming_it():
    r = cnncalc.analysis.sweep.sweep("alexnet", [(3, n, n) for n in (60, 66, 67, 227)])
    assert [x.ok for x in r.rows] == [False, False, True, True]
    c = r.rows[0].collapse
    # analyze at 60: conv1 ⌊(60 − 11)/4⌋ + 1 = 13, pool1 ⌊(13 − 3)/2⌋ + 1 = 6, conv2 (p2) 6, pool2 2: pool5's 3 > 2
    assert c.layer == "pool5" and "kernel 3 is larger than the padded input H=2+0=2" in c.reason
    with pytest.raises(CnncalcError, match=re.escape(c.reason)):
        load("alexnet", "3x60x60")
    assert r.rows[3].output == [1000] and r.rows[0].macs is None


BRANCHES = {"name": "t", "input": [4, 8, 8], "layers": [
    {"type": "conv", "filters": 4, "kernel": 3, "padding": 1},
    {"branches": [[{"type": "conv", "filters": 4, "kernel": 3, "stride": 2, "padding": 1}],
                  [{"type": "maxpool", "kernel": 2}]]}]}


def test_branches_that_disagree_at_a_size_collapse_at_their_concat():
    # conv 3/2 p1 gives ⌊(n + 2 − 3)/2⌋ + 1 = ⌈n/2⌉, max pool 2/2 gives ⌊n/2⌋: they differ at odd n
    rows = cnncalc.analysis.sweep.sweep(BRANCHES, [(4, 8, 8), (4, 9, 9), (4, 2, 1)]).rows
    # conv 3/2 p1 on 8: 8 + 2 − (3·2 + 3) = 1 padded row left over; the branches' fields do not line up either
    assert rows[0].ok and rows[0].output == [8, 4, 4] and not rows[0].exact
    assert [(u.layer, u.leftover) for u in rows[0].uneven] == [("branches1.b1.conv1", [1, 1])]
    # the pool's 2×2 windows are centred half a row off the conv's 3×3 ones: r=4, P=1 against r=5, P=2
    assert rows[0].misaligned[0].startswith("branches1.concat: paths misaligned (H/W): branches1.b1.conv1: r=5 j=2 "
                                            "P=2; branches1.b2.maxpool1: r=4 j=2 P=1 — unusual")
    assert not rows[1].ok and rows[1].collapse.layer == "branches1.concat"
    assert "spatial sizes differ" in rows[1].collapse.reason and "4×5×5, 4×4×4" in rows[1].collapse.reason
    with pytest.raises(CnncalcError, match="branches end in different spatial sizes"):
        load(BRANCHES, "4x9x9")
    assert not rows[2].ok and rows[2].collapse.layer == "branches1.b2.maxpool1"  # kernel 2 > W = 1


def test_uneven_layers_are_named_with_their_leftover_rows():
    row = sweeper("resnet50").row((3, 224, 224))
    # conv1 7/2 p3: 224 + 6 − ((112 − 1)·2 + 7) = 1 row dropped; maxpool 3/2 p1 on 112: 114 − (55·2 + 3) = 1
    assert row.uneven[0].layer == "conv1" and row.uneven[0].leftover == [1, 1]
    assert row.uneven[1].layer == "maxpool" and row.uneven[1].leftover == [1, 1]
    assert not row.exact and sweeper("resnet50").row((3, 225, 225)).exact
    pads = sweeper("googlenet").row((3, 224, 224))
    # GoogLeNet's ceil-mode maxpool1 3/2 on 112: ⌈(112 − 3)/2⌉ + 1 = 56 windows need 55·2 + 3 = 113 rows:
    # 1 padded implicitly
    assert {u.layer: u.leftover for u in pads.uneven}["maxpool1"] == [-1, -1]


# -- peak live activations -------------------------------------------------------------------------

def test_peak_live_activations_by_hand():
    doc = {"name": "t", "input": [1, 4, 4], "layers": [
        {"type": "conv", "name": "a", "filters": 2, "kernel": 3, "padding": 1},                 # 2×4×4 = 32
        {"residual": {"body": [{"type": "conv", "name": "b", "filters": 2, "kernel": 3, "padding": 1},  # 32
                               {"type": "relu", "name": "c"}]}},                               # 32, add 32
        {"type": "linear", "name": "fc", "out": 3}]}                                            # 3
    row = Sweeper(load_for_sweep(doc)).row((1, 4, 4))
    # a: input 16 + 32 = 48; b: a 32 + b 32 = 64; c: a + b + c = 96; add: a + c + sum = 96; fc: 32 + 3
    assert row.peak_activations == 32 + 32 + 32
    assert row.activations == 32 * 4 + 3


def test_peak_live_ignores_training_only_heads():
    # input 7; node 0 (10) reads the input; node 1 (20) reads node 0; node 2 (5) reads node 0
    assert peak_live([7, 10, 20, 5], [[0], [], [1, 2]], [False, False, False]) == max(7 + 10, 10 + 20, 10 + 20 + 5)
    assert peak_live([7, 10, 20, 5], [[0], [], [1]], [False, True, False]) == max(7 + 10, 10 + 5)


def test_liveness_frees_each_tensor_after_its_last_reader():
    g = load_for_sweep(BRANCHES)
    names = [nd.name for nd in g.nodes]
    assert names == ["conv1", "branches1.b1.conv1", "branches1.b2.maxpool1", "branches1.concat"]
    # indices into [input, conv1, b1.conv1, b2.maxpool1, concat]: conv1 is the input's last reader; the
    # pool conv1's; the concat both branches'; the concat, the network output, is never freed
    inputs, skip = [nd.inputs for nd in g.nodes], [False] * 4
    assert liveness(inputs, skip) == [[0], [], [1], [2, 3]]
    # a training-only reader keeps nothing alive: the pool (skipped) no longer holds conv1
    assert liveness(inputs, [False, False, True, False]) == [[0], [1], [], [2, 3]]


def test_segments_split_at_single_tensor_cuts_and_share_equal_structure():
    g = load_for_sweep("resnet50")
    sw = Sweeper(g)
    segs = segments(sw.inputs, sw.keys, sw.skip)
    assert [s.start for s in segs][0] == 0 and segs[-1].end == len(g.nodes)
    assert all(a.end == b.start for a, b in zip(segs, segs[1:]))
    blocks = [s for s in segs if g.nodes[s.end - 1].name.endswith(".add")]
    # ResNet-50: 16 bottlenecks; inside a stage the blocks after the first are alike (3 + 4 + 6 + 3 − 4 = 12)
    assert len(blocks) == 3 + 4 + 6 + 3
    assert len({s.sig for s in blocks}) == 4 + 4
    for seg in segs:  # nothing inside reads a tensor made before the segment's entering one
        assert all(i >= seg.start - 1 for j in range(seg.start, seg.end) for i in g.nodes[j].inputs)


TWO_HEADS = {"name": "t", "input": [1, 8, 8], "outputs": ["head1", "head2"], "layers": [
    {"type": "conv", "name": "trunk", "filters": 2, "kernel": 3, "padding": 1},          # 2×8×8 = 128
    {"type": "conv", "name": "head1", "filters": 1, "kernel": 1},                         # 1×8×8 = 64
    {"type": "conv", "name": "down", "filters": 4, "kernel": 2, "stride": 2, "inputs": ["trunk"]},  # 4×4×4 = 64
    {"type": "conv", "name": "head2", "filters": 3, "kernel": 1}]}                        # 3×4×4 = 48


def test_several_outputs_are_all_kept_to_the_end():
    g = load_for_sweep(TWO_HEADS)
    row = Sweeper(g).row((1, 8, 8))
    assert row.output == [1, 8, 8] and row.outputs == [[1, 8, 8], [3, 4, 4]]
    # trunk: 64 (input) + 128; head1: 128 + 64 (input freed); down: 128 + 64 + 64 (trunk's last reader);
    # head2: head1 64 + down 64 + 48 — head1, an output, stays
    assert row.peak_activations == max(64 + 128, 128 + 64, 128 + 64 + 64, 64 + 64 + 48) == brute_peak(g)
    at12 = cnncalc.analyze(TWO_HEADS, input="1x12x12")
    assert Sweeper(g).row((1, 12, 12)).outputs == [o.output for o in at12.outputs] == [[1, 12, 12], [3, 6, 6]]


# -- the size grammar -------------------------------------------------------------------------

def test_size_specs():
    assert shapes_of(["3x{64..512..32}"], (3, 224, 224)) == [(3, n, n) for n in range(64, 513, 32)]
    assert len(shapes_of(["3x{64..512..32}"], (3, 224, 224))) == (512 - 64) // 32 + 1 == 15
    assert shapes_of(["3x{64..128..32}x{96..160..32}"], (3, 224, 224)) == [
        (3, h, w) for h in (64, 96, 128) for w in (96, 128, 160)]
    assert shapes_of(["{64,96}", "3x50", "1x7x9"], (3, 224, 224)) == [(3, 64, 64), (3, 96, 96), (3, 50, 50), (1, 7, 9)]
    assert shapes_of(["64:128:32x96"], (3, 224, 224), channels=False) == [(3, 64, 96), (3, 96, 96), (3, 128, 96)]
    assert shapes_of(["{512..448..32}"], (3, 224, 224)) == [(3, 512, 512), (3, 480, 480), (3, 448, 448)]
    assert shapes_of(["1x{100..300..100}"], (1, 8000)) == [(1, 100), (1, 200), (1, 300)]          # 1-D: C×L
    assert shapes_of(["3x16x{112..128..16}"], (3, 16, 112, 112)) == [(3, 16, 112, 112), (3, 16, 128, 128)]
    assert shapes_of(["3x{8..16..8}"], (3, 16, 112, 112)) == [(3, 8, 8, 8), (3, 16, 16, 16)]      # 3-D: cube
    for bad in ("3x{64..}", "3x64x64x64", "0x5", "3x{1..5..0}", "abc"):
        with pytest.raises(SpecError):
            shapes_of([bad], (3, 224, 224))


def test_describe_names_progressions():
    assert describe(list(range(188, 1021, 16)), 572) == (
        "every 16 from 188 (53 sizes): 188, 204, 220, …, 572, …, 1020")
    assert describe(list(range(29, 1025))) == "all from 29 to 1024"
    assert describe([]) == "none"
    assert describe([5]) == "5"
    two = sorted(n for n in range(33, 300) if n % 32 in (1, 5))
    assert describe(two) == f"every 32 from each of 33, 37 up to 293 ({len(two)} sizes)"
    assert describe([3, 4, 5, 9, 20, 21]) == "3–5, 9, 20–21 (6 sizes)"


# -- sizes against brute force -------------------------------------------------------------------

def brute_sizes(name: str, lo: int, hi: int) -> tuple[list[int], list[int]]:
    valid, exact = [], []
    for n in range(lo, hi + 1):
        try:
            graph = load(name, f"{n}")
        except CnncalcError:
            continue
        valid.append(n)
        rep = cnncalc.analyze(graph)
        if not uneven_by_notes(rep) and not odd_crops(rep):
            exact.append(n)
    return valid, exact


@pytest.mark.parametrize("name,lo,hi", [("resnet50", 1, 1024 if DEEP else 130), ("alexnet", 50, 130)])
def test_sizes_is_a_brute_force_run_of_analyze(name, lo, hi):
    (ax,) = sizes(name, lo, hi).axes
    assert (ax.valid, ax.exact) == brute_sizes(name, lo, hi)


def test_sizes_of_resnet50_every_32_from_33():
    (ax,) = sizes("resnet50", 32, 1024).axes
    # exact needs conv1 7/2 p3 even: (n + 6 − 7) even, n odd; then each of the five halvings odd again
    assert ax.exact == list(range(33, 1025, 32))
    assert ax.exact_text.startswith("every 32 from 33 (31 sizes): 33, 65, 97")
    assert ax.valid_text == "all from 32 to 1024"


def exact_on(report, axis: str) -> bool:
    """No note says a row (H) or col (W) is dropped or padded."""
    word = {"H": "row", "W": "col"}[axis]
    uneven = any(re.search(r"\b(drops|pads)\b", n) and re.search(rf"\b{word}s?\b", n)
                 for r in report.layers for n in r.notes)
    return not uneven


@pytest.mark.parametrize("name", ["lenet5", "squeezenet1_0"])
def test_sizes_per_axis_varies_one_axis_with_the_other_as_the_input(name):
    lo, hi = (20, 40) if name == "lenet5" else (200, 260)
    rep = sizes(name, lo, hi, per_axis=True)
    assert [a.axis for a in rep.axes] == ["H", "W"]
    own = rep.input[1]
    for ax, spec in zip(rep.axes, ("{}x%d" % own, "%dx{}" % own)):
        valid, exact = [], []
        for n in range(lo, hi + 1):
            try:
                r = cnncalc.analyze(load(name, spec.format(n)))
            except CnncalcError:
                continue
            valid.append(n)
            exact += [n] if exact_on(r, ax.axis) else []
        assert (ax.valid, ax.exact) == (valid, exact)
    if name == "lenet5":
        # C1 5×5, S2 2/2, C3 5×5, S4 2/2, C5 5×5: valid from ⌊(⌊(n − 4)/2⌋ − 4)/2⌋ ≥ 5, i.e. n ≥ 32; exact every 4
        assert rep.axes[0].valid == list(range(32, 41)) and rep.axes[0].exact == [32, 36, 40]
    else:
        assert rep.axes[0].exact  # exact on H although the W axis (224) is uneven in SqueezeNet's pools


# -- the commands ------------------------------------------------------------------------------

def test_sweep_command_json_csv_and_table():
    res = runner.invoke(app, ["sweep", "lenet5", "--input", "1x{28..36..4}", "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert [r["input"] for r in rep["rows"]] == [[1, 28, 28], [1, 32, 32], [1, 36, 36]]
    assert rep["rows"][0]["collapse"]["layer"] == "C5" and rep["rows"][0]["macs"] is None
    assert rep["rows"][1]["macs"] == cnncalc.analyze("lenet5").totals.macs
    res = runner.invoke(app, ["sweep", "lenet5", "--sizes", "28:36:4", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["input"] for r in rows] == ["1×28×28", "1×32×32", "1×36×36"]
    assert [int(r["MACs"]) if r["MACs"] else None for r in rows] == [r["macs"] for r in rep["rows"]]
    assert [int(r["peak"]) if r["peak"] else None for r in rows] == [r["peak_bytes"] for r in rep["rows"]]
    assert rows[0]["ok"] == "False" and rows[0]["collapses at"].startswith("C5: kernel 5")  # 28: 5×5 on 4×4
    # the shell expands 1x{28..36..4} into separate words: they are sizes too
    res = runner.invoke(app, ["sweep", "lenet5", "--input", "1x28", "1x32", "1x36"], env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    for text in ("1×28×28", "1×36×36", "MACs and peak activation memory"):
        assert text in res.stdout


def test_sweep_command_collapse_row_and_bad_input():
    res = runner.invoke(app, ["sweep", "alexnet", "--sizes", "60,227"])
    assert res.exit_code == 2  # 60,227 is not a size spec: {60,227} is
    assert res.output.startswith("error: ") and len(res.output.strip().splitlines()) == 1
    res = runner.invoke(app, ["sweep", "alexnet", "--sizes", "{60,227}", "--json"])
    rows = json.loads(res.stdout)["rows"]
    assert rows[0]["collapse"]["layer"] == "pool5" and rows[1]["output"] == [1000]
    res = runner.invoke(app, ["sweep", "alexnet"])
    assert res.exit_code == 2 and "give the sizes" in res.output


def test_sizes_command():
    res = runner.invoke(app, ["sizes", "resnet50", "--range", "32..300"])
    assert res.exit_code == 0, res.output
    assert "exact: every 32 from 33 (9 sizes): 33, 65, 97, …, 289" in res.stdout
    res = runner.invoke(app, ["sizes", "resnet50", "--range", "300..32"])
    assert res.exit_code == 2


def test_sweep_never_imports_torch():
    import subprocess
    import sys
    code = ("import sys; from cnncalc.cli import app; from typer.testing import CliRunner; "
            "r = CliRunner().invoke(app, ['sweep', 'resnet18', '--sizes', '64:96:32']); assert r.exit_code == 0; "
            "r = CliRunner().invoke(app, ['sizes', 'lenet5', '--range', '28..40']); assert r.exit_code == 0; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- benchmarks/bench_sweep.py -------------------------------------------------------------------

def bench_sweep():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).parent.parent / "benchmarks" / "bench_sweep.py"
    spec = importlib.util.spec_from_file_location("bench_sweep", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_sweep_ratio_and_readme_section(tmp_path, monkeypatch):
    mod = bench_sweep()
    times = {"analyze": [1.0, 2.0, 3.0], "every size": [2.0, 2.5, 3.0], "every 4th": [3.0, 3.5, 4.0],
             "every 32nd": [4.0, 4.2, 9.0]}
    m = {"date": "d", "cpu": "c", "cores": "2", "load": "0"}
    text = mod.table(times, m, 3)
    # medians: analyze 2.0 s; sweeps 2.5, 3.5 and 4.2 s → 1.25×, 1.75×, 2.10×
    assert "**1.25×**" in text and "**1.75×**" in text and "**2.10×**" in text
    assert "worst **2.10×** — NOT met" in text
    monkeypatch.setattr(mod, "HERE", tmp_path)
    (tmp_path / "README.md").write_text("# head\n\n### Machine\n\n| a | b |\n", encoding="utf-8")
    mod.write(text)
    mod.write(text)  # a second run replaces its section, it does not append another
    out = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert out.startswith("# head") and out.count(mod.MARK) == 1 and out.endswith(text)


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_sweep_table_fits_every_width_without_cutting_a_figure(width):
    from rich.console import Console
    from cnncalc.render.sweep import print_sweep
    from cnncalc.render.tables import human
    rep = cnncalc.analysis.sweep.sweep("resnet18", [(3, n, n) for n in (1, 64, 225, 512)] + [(3, 64, 96)])
    con = Console(width=width, record=True, file=io.StringIO())
    print_sweep(rep, con)
    text = con.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    for r in rep.rows:
        assert "×".join(map(str, r.input)) in text and human(r.macs) in text and human(r.peak_bytes, "B") in text


def test_hostile_sizes_are_one_clear_error_or_a_collapse_row():
    for spec in ("9" * 5000, "1:" + "9" * 30, "1:100000", "3000000000"):
        res = runner.invoke(app, ["sweep", "lenet5", "--sizes", spec])
        assert res.exit_code == 2 and res.output.startswith("error: ") and len(res.output.splitlines()) == 1, spec
    res = runner.invoke(app, ["sizes", "lenet5", "--range", "1..100000"])
    assert res.exit_code == 2 and "at most 5,000 sizes" in res.output
    # a padded 1×1 conv grows the map: 2,147,483,647 + 2·1000 is past the size limit (as analyze says)
    doc = {"name": "t", "input": [1, 8, 8], "layers": [{"type": "conv", "filters": 1, "kernel": 1, "padding": 1000}]}
    (row,) = cnncalc.analysis.sweep.sweep(doc, [(1, 2147483647, 8)]).rows
    assert not row.ok and "over the limit of 2,147,483,647" in row.collapse.reason
    with pytest.raises(CnncalcError, match=re.escape(row.collapse.reason)):
        load(doc, "1x2147483647x8")


def test_an_off_centre_crop_is_uneven():
    from cnncalc.analysis.sweep import uneven_crop

    class CentreCrop:  # what a cropping concat tells the receptive field: ⌊(n − n_min)/2⌋ dropped before
        def rf_offsets(self, ins):
            return [tuple((n - m) // 2 for n, m in zip(s[1:], (9, 8))) for s in ins]
    # 13 → 9 drops 2 before and 2 after (centred); 11 → 8 drops 1 before and 2 after: one more after
    assert uneven_crop(CentreCrop(), [(4, 13, 8), (4, 9, 8)], (8, 9, 8)) == (0, 0)
    assert uneven_crop(CentreCrop(), [(4, 12, 11), (4, 9, 8)], (8, 9, 8)) == (1, 1)
    assert uneven_crop(object(), [(4, 9, 8), (4, 9, 8)], (8, 9, 8)) == ()

"""`cnncalc import` of ONNX files: round trips of built-ins, the mapping's kinds, and hostile files."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("torch")

from onnx import TensorProto, helper  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.spec.builtins import builtin_names  # noqa: E402
from cnncalc.importers import import_model  # noqa: E402
from cnncalc.importers.ops import ModelError  # noqa: E402
from importing import figures, onnx_of  # noqa: E402

ROUND_TRIP = [("lenet5", None), ("resnet18", "64"), ("googlenet", None), ("mobilenet_v3_small", "64"),
              ("densenet121", "32"), ("efficientnet_b0", "32"), ("unet-same", "32"), ("dcgan_generator", None),
              ("m5", None), ("c3d", "3x16x32x32"), ("yolov3_tiny", "64")]


def cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=os.getcwd(), COLUMNS="100")
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


@pytest.mark.parametrize("name,size", ROUND_TRIP, ids=[n for n, _ in ROUND_TRIP])
def test_round_trip_through_onnx_keeps_every_figure(name, size, tmp_path):
    graph = cnncalc.load(name, size)
    path = onnx_of(graph, tmp_path / f"{name}.onnx")
    imported = import_model(str(path))
    assert figures(cnncalc.analyze(imported.graph)) == figures(cnncalc.analyze(graph))


def model(nodes, inputs, outputs, initializers=(), name="m"):
    g = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def tensor(name, dims, value=0.0):
    n = 1
    for d in dims:
        n *= d
    return helper.make_tensor(name, TensorProto.FLOAT, dims, [value] * n)


def io(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def save(m, path):
    path.write_bytes(m.SerializeToString())
    return str(path)


def conv_model(**attrs):
    return model([helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", **attrs)],
                 [io("x", [1, 3, 9, 9])], [io("y", None)], [tensor("w", [8, 3, 3, 3]), tensor("b", [8])])


def test_same_upper_padding_becomes_a_pad_layer_before_the_conv(tmp_path):
    # SAME_UPPER on 9 with k 3, s 2: ⌈9/2⌉ = 5 outputs need (5−1)·2 + 3 − 9 = 2 padded rows, 1 before, 1 after;
    # on 10 they need (5−1)·2 + 3 − 10 = 1: 0 before, 1 after
    m = conv_model(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
    m.graph.input[0].type.tensor_type.shape.dim[3].dim_value = 10
    imp = import_model(save(m, tmp_path / "same.onnx"))
    layers = imp.doc["layers"]
    assert [ly["type"] for ly in layers] == ["pad", "conv"]
    assert layers[0]["padding"] == {"top": 1, "bottom": 1, "right": 1}
    r = cnncalc.analyze(imp.graph)
    assert r.layers[-1].output == [8, 5, 5]
    assert r.totals.params == 3 * 3 * 3 * 8 + 8 and r.totals.macs == 3 * 3 * 3 * 8 * 5 * 5


def test_an_op_without_a_kind_fails_naming_its_type_count_and_nodes(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r"),
             helper.make_node("Erf", ["a"], ["b"], name="erf1"),
             helper.make_node("Erf", ["b"], ["c"], name="erf2"),
             helper.make_node("Det", ["c"], ["y"], name="det")]
    path = save(model(nodes, [io("x", [1, 3, 4, 4])], [io("y", None)]), tmp_path / "odd.onnx")
    with pytest.raises(ModelError) as e:
        import_model(path)
    assert "Erf ×2 (erf1, erf2)" in str(e.value) and "Det ×1 (det)" in str(e.value)
    res = cli("import", path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "Erf ×2" in res.stderr


# -- hostile files: one line, exit 2, bounded time, nothing read outside the model's folder -----------------

def refused(path, *more, cwd=None):
    start = time.monotonic()
    res = cli("analyze", str(path), *more, cwd=cwd)
    assert time.monotonic() - start < 60
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "Traceback" not in res.stderr
    return res.stderr


def test_corrupt_and_truncated_files_are_refused(tmp_path):
    good = conv_model(kernel_shape=[3, 3]).SerializeToString()
    (tmp_path / "garbage.onnx").write_bytes(b"\x08\x07\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01garbage")
    (tmp_path / "cut.onnx").write_bytes(good[: len(good) // 2])
    (tmp_path / "empty.onnx").write_bytes(b"")
    for f in ("garbage.onnx", "cut.onnx", "empty.onnx"):
        refused(tmp_path / f)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    from cnncalc.importers.onnx_front import MAX_ONNX_BYTES
    big = tmp_path / "big.onnx"
    with open(big, "wb") as fh:
        fh.truncate(MAX_ONNX_BYTES + 1)   # sparse: no disk used
    assert "limit" in refused(big)


def test_a_cycle_is_refused(tmp_path):
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="one"), helper.make_node("Relu", ["a"], ["b"], name="two"),
             helper.make_node("Relu", ["a"], ["y"], name="three")]
    path = save(model(nodes, [io("x", [1, 3, 4, 4])], [io("y", None)]), tmp_path / "cycle.onnx")
    assert "cycle" in refused(path)


def test_a_million_nodes_are_refused_quickly(tmp_path):
    node = helper.make_node("Relu", ["x"], ["x"], name="r").SerializeToString()
    g = helper.make_graph([], "big", [io("x", [1, 3, 4, 4])], [io("x", None)])
    m = helper.make_model(g)
    # a GraphProto's node is field 1 (length-delimited); a ModelProto's graph is field 7
    nodes = b"".join(b"\x0a" + _varint(len(node)) + node for _ in range(1_000_000))
    graph = g.SerializeToString() + nodes
    m.ClearField("graph")
    data = m.SerializeToString() + b"\x3a" + _varint(len(graph)) + graph
    (tmp_path / "million.onnx").write_bytes(data)
    assert "limit" in refused(tmp_path / "million.onnx")


def _varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def test_an_initializer_claiming_a_trillion_elements_is_refused(tmp_path):
    m = conv_model(kernel_shape=[3, 3])
    w = m.graph.initializer[0]
    del w.dims[:]
    w.dims.extend([10**6, 10**6])
    assert "claims" in refused(save(m, tmp_path / "huge.onnx"))


@pytest.mark.parametrize("location", ["../../etc/passwd", "/etc/passwd", "link"])
def test_external_data_outside_the_folder_is_refused_and_never_read(tmp_path, location):
    folder = tmp_path / "model"
    folder.mkdir()
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\0" * (8 * 3 * 3 * 3 * 4))
    (folder / "link").symlink_to(secret)
    m = conv_model(kernel_shape=[3, 3])
    w = m.graph.initializer[0]
    w.ClearField("float_data")
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value=location)
    path = save(m, folder / "ext.onnx")
    before = os.stat(secret).st_atime_ns
    msg = refused(path)
    assert "outside the model's folder" in msg or "not a file name inside" in msg
    assert os.stat(secret).st_atime_ns == before


def test_external_data_inside_the_folder_is_fine_and_not_read(tmp_path):
    m = conv_model(kernel_shape=[3, 3])
    w = m.graph.initializer[0]
    w.ClearField("float_data")
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="weights.bin")   # absent: never opened
    r = cnncalc.analyze(import_model(save(m, tmp_path / "ext.onnx")).graph)
    assert r.totals.params == 3 * 3 * 3 * 8 + 8


DEEP = os.environ.get("CNNCALC_DEEP") == "1"


@pytest.mark.skipif(not DEEP, reason="every built-in at its own input: CNNCALC_DEEP=1")
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_round_trips_through_onnx(name, tmp_path):
    graph = cnncalc.load(name)
    imported = import_model(str(onnx_of(graph, tmp_path / "net.onnx")))
    assert figures(cnncalc.analyze(imported.graph)) == figures(cnncalc.analyze(graph))


def test_pixel_shuffle_unshuffle_prelu_and_crops_from_torchs_exporter(tmp_path):
    import torch
    from torch import nn

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.c, self.p = nn.Conv2d(3, 16, 3, padding=1), nn.PReLU(16)
            self.ps, self.pu, self.p1 = nn.PixelShuffle(2), nn.PixelUnshuffle(2), nn.PReLU()

        def forward(self, x):
            x = self.pu(self.ps(self.p(self.c(x))))        # PixelUnshuffle is exported as Reshape–Transpose–Reshape
            return self.p1(nn.functional.pad(x, (1, 1, 2, 2))[:, :, 2:-2, 1:-1])

    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(M().eval(), (torch.zeros(1, 3, 16, 16),), str(tmp_path / "m.onnx"), dynamo=False)
    imp = import_model(str(tmp_path / "m.onnx"))
    assert [ly["type"] for ly in imp.doc["layers"]] == ["conv", "prelu", "pixel_shuffle", "pixel_unshuffle", "pad",
                                                       "crop", "crop", "prelu"]
    r = cnncalc.analyze(imp.graph)
    assert r.totals.params == 3 * 3 * 3 * 16 + 16 + 16 + 1
    assert r.layers[-1].output == [16, 16, 16]


def test_every_command_takes_an_onnx_file(tmp_path):
    import json

    from typer.testing import CliRunner

    from cnncalc.cli import app
    path = str(onnx_of(cnncalc.load("resnet18", "64"), tmp_path / "r18.onnx"))
    runner = CliRunner()

    def run(*args):
        res = runner.invoke(app, list(args))
        assert res.exit_code == 0, res.output
        return res.output

    report = json.loads(run("analyze", path, "--json"))
    assert report["totals"]["params"] == cnncalc.analyze("resnet18", input="64").totals.params
    assert json.loads(run("rf", path, "--json"))["layers"]
    assert json.loads(run("compare", path, "resnet18", "--input", "64", "--json"))["rows"][0]["ratio"] == 1.0
    assert "<svg" in run("draw", path)
    sweep = json.loads(run("sweep", path, "--sizes", "64:96:32", "--json"))
    assert [r["input"] for r in sweep["rows"]] == [[3, 64, 64], [3, 96, 96]]
    assert json.loads(run("sizes", path, "--range", "32..64", "--json"))

"""Property tests: random layer configurations and small graphs, cnncalc against PyTorch.

The expected figures come from torch, independently of cnncalc: every torch module here is built
by the test from the layer's fields (never through cnncalc's `torch_module`), run on a random
input, and measured: output shape from the tensor, params/buffers as numel, MACs as
FlopCounterMode FLOPs / 2.

Validity is a property too. Where torch refuses a configuration (construction or forward
raises), cnncalc must refuse it with a CnncalcError (and the CLI with exit 2 and one line);
where cnncalc refuses, torch must refuse as well — except for deliberate, stricter refusals
that the test's `stricter()` names with their reason: a residual whose body and shortcut shapes
differ only where one of them is 1 (torch's `a + b` broadcasts it; a residual connection adds
equal shapes), and a `slice` that is empty, reaches past the channels or is taken of a vector
(Python slicing would clip it or return 0 channels).

CI runs the "ci" hypothesis profile (60 examples per property, tests/conftest.py);
`CNNCALC_DEEP=1 python -m pytest tests/test_properties.py` runs 4,000 per property (28,000 in all).
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
import yaml  # noqa: E402
from hypothesis import event, example, given, note  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.cli import app  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402

torch.set_num_threads(1)
TORCH_REFUSES = (RuntimeError, ValueError)


# -- torch's side ---------------------------------------------------------------------------

@dataclass
class Measured:
    output: list[int]
    params: int
    buffers: int
    macs: int


def measure(module: nn.Module, in_shape) -> Measured:
    """Run `module` on a random 1×in_shape input; what torch says about it."""
    module.eval()
    x = torch.randn(1, *in_shape)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = module(x)
    flops = counter.get_total_flops()
    assert flops % 2 == 0, f"odd FLOP count {flops}"
    return Measured(list(y.shape[1:]), sum(p.numel() for p in module.parameters()),
                    sum(b.numel() for b in module.buffers()), flops // 2)


def torch_side(make, in_shape):
    try:
        return measure(make(), in_shape), None
    except TORCH_REFUSES as e:
        return None, e


def cli_refuses(spec: dict) -> None:
    """The CLI refuses the same spec: exit 2, one `error:` line per independent error (a random graph may
    have one in each of two parallel branches), no traceback."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d, "net.yaml")
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        result = CliRunner().invoke(app, ["analyze", str(path)])
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert 1 <= len(lines) <= 20 and all(ln.startswith("error: ") for ln in lines), result.stderr


def agree(spec: dict, make, in_shape, stricter=lambda spec, err: None) -> None:
    """cnncalc's report for `spec` equals torch's measurement of `make()`, or both refuse."""
    theirs, torch_err = torch_side(make, in_shape)
    try:
        ours, our_err = cnncalc.analyze(spec), None
    except CnncalcError as e:
        ours, our_err = None, e
    note(f"spec: {spec}")
    note(f"torch: {theirs or torch_err!r}")
    note(f"cnncalc: {our_err!r}" if our_err else f"cnncalc: {ours.output}, {ours.totals.params} params, "
         f"{ours.totals.buffers} buffers, {ours.totals.macs} MACs")
    if torch_err is not None:
        assert our_err is not None, f"torch refuses ({torch_err}) but cnncalc accepts"
        event("both refuse: " + re.sub(r"\d+", "N", our_err.message)[:48])
        cli_refuses(spec)
        return
    if our_err is not None:
        reason = stricter(spec, our_err)
        assert reason, f"cnncalc refuses ({our_err}) but torch accepts: {theirs}"
        event(f"deliberately stricter: {reason}")
        cli_refuses(spec)
        return
    event("both accept")
    assert ours.output == theirs.output
    assert ours.totals.params == theirs.params
    assert ours.totals.buffers == theirs.buffers
    assert ours.totals.macs == theirs.macs
    assert ours.totals.flops == 2 * theirs.macs


# -- strategies -----------------------------------------------------------------------------

def pair(lo: int, hi: int):
    """An int or an asymmetric [h, w], as the YAML format takes them."""
    return st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=2, max_size=2))


def tup(v):
    return (v, v) if isinstance(v, int) else tuple(v)


channels = st.integers(1, 8)
sizes = st.integers(1, 24)     # tiny and odd sizes included; hypothesis shrinks towards 1
maps = st.tuples(st.integers(1, 6), sizes, sizes)


def one_layer(in_shape, layer: dict) -> dict:
    # channels first, said so: a drawn shape such as [8, 8, 1] would otherwise be refused as ambiguous
    return {"name": "prop", "input": list(in_shape), "layout": "CHW", "layers": [layer]}


# -- one layer against torch ----------------------------------------------------------------

@given(c=channels, h=sizes, w=sizes, filters=channels, groups=st.one_of(st.just(1), st.integers(1, 4)),
       kernel=pair(1, 7), stride=pair(1, 4), padding=st.one_of(pair(0, 4), st.sampled_from(["same", "valid"])),
       dilation=pair(1, 3), bias=st.booleans())
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_conv_matches_torch(c, h, w, filters, groups, kernel, stride, padding, dilation, bias):
    layer = {"type": "conv", "filters": filters, "kernel": kernel, "stride": stride, "padding": padding,
             "dilation": dilation, "groups": groups, "bias": bias}
    pad = padding if isinstance(padding, str) else tup(padding)
    agree(one_layer((c, h, w), layer),
          lambda: nn.Conv2d(c, filters, tup(kernel), tup(stride), pad, tup(dilation), groups, bias), (c, h, w))


@given(kind=st.sampled_from(["maxpool", "avgpool"]), shape=maps, kernel=pair(1, 6),
       stride=st.one_of(st.none(), pair(1, 4)), padding=pair(0, 3), dilation=pair(1, 3),
       ceil_mode=st.booleans(), count_include_pad=st.booleans())
# found by this test: with ceil_mode torch keeps one clipped window when the kernel exceeds the input
@example(kind="maxpool", shape=(1, 1, 1), kernel=2, stride=None, padding=0, dilation=1, ceil_mode=True,
         count_include_pad=True)
@example(kind="avgpool", shape=(3, 2, 2), kernel=3, stride=2, padding=0, dilation=1, ceil_mode=True,
         count_include_pad=True)
def test_pool_matches_torch(kind, shape, kernel, stride, padding, dilation, ceil_mode, count_include_pad):
    layer = {"type": kind, "kernel": kernel, "padding": padding, "ceil_mode": ceil_mode}
    if stride is not None:
        layer["stride"] = stride
    s = None if stride is None else tup(stride)
    if kind == "maxpool":
        layer["dilation"] = dilation
        make = lambda: nn.MaxPool2d(tup(kernel), s, tup(padding), tup(dilation), ceil_mode=ceil_mode)  # noqa: E731
    else:
        layer["count_include_pad"] = count_include_pad
        make = lambda: nn.AvgPool2d(tup(kernel), s, tup(padding), ceil_mode=ceil_mode,  # noqa: E731
                                    count_include_pad=count_include_pad)
    agree(one_layer(shape, layer), make, shape)


@given(shape=st.one_of(st.tuples(st.integers(1, 300)), maps), out=st.integers(1, 40), bias=st.booleans())
def test_linear_matches_torch(shape, out, bias):
    n = 1
    for d in shape:
        n *= d
    layer = {"type": "linear", "out": out, "bias": bias}
    agree(one_layer(shape, layer), lambda: nn.Sequential(nn.Flatten(), nn.Linear(n, out, bias)), shape)


@given(shape=maps, output=pair(1, 12), glob=st.booleans())
def test_adaptive_pool_matches_torch(shape, output, glob):
    layer = {"type": "global_avgpool"} if glob else {"type": "adaptive_avgpool", "output": output}
    agree(one_layer(shape, layer), lambda: nn.AdaptiveAvgPool2d((1, 1) if glob else tup(output)), shape)


ELEMENTWISE = {"relu": nn.ReLU, "relu6": nn.ReLU6, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU,
               "silu": nn.SiLU, "hardswish": nn.Hardswish, "elu": nn.ELU, "mish": nn.Mish,
               "identity": nn.Identity, "flatten": nn.Flatten}


@given(shape=st.one_of(st.tuples(st.integers(1, 64)), maps),
       kind=st.sampled_from(["batchnorm", "lrn", "dropout", "leaky_relu", "softmax", *ELEMENTWISE]),
       affine=st.booleans(), size=st.integers(1, 7), p=st.floats(0, 1), slope=st.floats(0, 1))
def test_shape_keeping_layers_match_torch(shape, kind, affine, size, p, slope):
    """batchnorm (params 2C, buffers 2C + 1), lrn, dropout, activations, flatten: shapes and counts."""
    layer = {"type": kind}
    if kind == "batchnorm":
        layer["affine"] = affine
        bn = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
        make = lambda: bn(shape[0], affine=affine)  # noqa: E731
    elif kind == "lrn":
        layer["size"] = size
        make = lambda: nn.LocalResponseNorm(size)  # noqa: E731
    elif kind == "dropout":
        layer["p"] = p
        make = lambda: nn.Dropout(p)  # noqa: E731
    elif kind == "leaky_relu":
        layer["slope"] = slope
        make = lambda: nn.LeakyReLU(slope)  # noqa: E731
    elif kind == "softmax":
        make = lambda: nn.Softmax(dim=1)  # noqa: E731
    else:
        make = ELEMENTWISE[kind]
    agree(one_layer(shape, layer), make, shape)


class ChannelSlice(nn.Module):
    def __init__(self, start, end):
        super().__init__()
        self.start, self.end = start, end

    def forward(self, x):
        return x[:, self.start:self.end]


@given(shape=st.one_of(st.tuples(st.integers(1, 12), sizes, sizes), st.tuples(st.integers(1, 12), sizes, sizes),
                       st.tuples(st.integers(1, 12))),
       kind=st.sampled_from(["slice", "channel_shuffle"]), start=st.integers(0, 12),
       end=st.one_of(st.none(), st.integers(1, 14)), groups=st.integers(1, 6))
def test_channel_layers_match_torch(shape, kind, start, end, groups):
    """slice (ShuffleNet's channel split) and channel_shuffle."""
    if kind == "channel_shuffle":
        layer, make = {"type": kind, "groups": groups}, (lambda: nn.ChannelShuffle(groups))
    else:
        layer = {"type": kind, "start": start} | ({} if end is None else {"end": end})
        make = lambda: ChannelSlice(start, end)  # noqa: E731

    def stricter(spec, err):
        # Python slicing clips an end beyond the channels and gives 0 channels for an empty range;
        # cnncalc asks for a non-empty range inside the input's channels, and a C×H×W map
        c, stop = shape[0], shape[0] if end is None else end
        if kind != "slice":
            return None
        if len(shape) == 1:
            return "slice of a vector"
        if stop > c:
            return "slice end beyond the channels (Python slicing clips it)"
        if start >= stop:
            return "empty slice (torch gives 0 channels)"
        return None
    agree(one_layer(shape, layer), make, shape, stricter)


# -- random small graphs: branches and residuals --------------------------------------------

@st.composite
def leaf(draw, keep: bool = False):
    """A random leaf layer; `keep`: one that keeps H×W (stride 1, 'same' padding), as in Inception paths."""
    kind = draw(st.sampled_from(["conv", "conv", "conv", "maxpool", "avgpool", "relu", "batchnorm"]))
    if kind == "conv":
        k = draw(st.sampled_from([1, 3, 5]))
        stride = 1 if keep else draw(st.sampled_from([1, 1, 2]))
        pads = [k // 2, "same"] if keep else [0, k // 2, "same"] if stride == 1 else [0, k // 2]
        return {"type": "conv", "filters": draw(st.integers(1, 6)), "kernel": k, "stride": stride,
                "padding": draw(st.sampled_from(pads)), "bias": draw(st.booleans())}
    if kind in ("maxpool", "avgpool"):
        k = 3 if keep else draw(st.sampled_from([2, 3]))
        return {"type": kind, "kernel": k, "stride": 1 if keep else draw(st.sampled_from([1, 2])),
                "padding": 1 if keep else draw(st.integers(0, k // 2)), "ceil_mode": draw(st.booleans())}
    return kind if draw(st.booleans()) else {"type": kind}   # a bare name, or a mapping


def item(depth: int, keep: bool = False):
    leaves = st.one_of(*[leaf(keep=True)] * 6, leaf()) if keep else leaf()
    if depth >= 2:
        return leaves
    paths = st.lists(st.deferred(lambda: item(depth + 1, keep=True)), max_size=3)
    branches = st.builds(lambda ps, ident: {"branches": [p if p or not ident else "identity" for p in ps]},
                         st.lists(paths, min_size=2, max_size=3), st.booleans())
    residual = st.builds(lambda body, sc: {"residual": {"body": body, "shortcut": sc}},
                         st.lists(st.deferred(lambda: item(depth + 1, keep)), min_size=1, max_size=3),
                         st.sampled_from(["identity", "projection", "auto", "auto", "auto", "auto"]))
    return st.one_of(leaves, leaves, branches, residual)


class Cat(nn.Module):
    def __init__(self, paths):
        super().__init__()
        self.paths = nn.ModuleList(paths)

    def forward(self, x):
        return torch.cat([p(x) for p in self.paths], dim=1)


class Residual(nn.Module):
    def __init__(self, body, shortcut):
        super().__init__()
        self.body, self.shortcut = body, shortcut
        self.broadcast = False   # torch broadcast a size-1 dimension instead of failing

    def forward(self, x):
        a, b = self.body(x), self.shortcut(x)
        self.broadcast |= a.shape != b.shape
        return a + b


def probe(module, shape):
    with torch.no_grad():
        return tuple(module.eval()(torch.zeros(1, *shape)).shape[1:])


def torch_leaf(spec, shape):
    spec = {"type": spec} if isinstance(spec, str) else spec
    t = spec["type"]
    if t == "conv":
        return nn.Conv2d(shape[0], spec["filters"], spec["kernel"], spec["stride"], spec["padding"],
                         bias=spec["bias"])
    if t == "maxpool":
        return nn.MaxPool2d(spec["kernel"], spec["stride"], spec["padding"], ceil_mode=spec["ceil_mode"])
    if t == "avgpool":
        return nn.AvgPool2d(spec["kernel"], spec["stride"], spec["padding"], ceil_mode=spec["ceil_mode"])
    if t == "relu":
        return nn.ReLU()
    if t == "batchnorm":
        return nn.BatchNorm2d(shape[0])
    if t == "global_avgpool":
        return nn.AdaptiveAvgPool2d(1)
    if t == "linear":
        return nn.Sequential(nn.Flatten(), nn.Linear(shape[0] * shape[1] * shape[2], spec["out"]))
    raise AssertionError(t)


def projection(a, b):
    """torchvision's downsample: a 1×1 conv (no bias), strided to map a's H, W onto b's, + BN."""
    strides = []
    for x, y in zip(a[1:], b[1:]):
        s = next((s for s in range(1, x + 1) if (x - 1) // s + 1 == y), None)
        if s is None:
            raise ValueError(f"no strided 1×1 convolution maps {x} to {y}")
        strides.append(s)
    return nn.Sequential(nn.Conv2d(a[0], b[0], 1, tuple(strides), bias=False), nn.BatchNorm2d(b[0]))


def torch_seq(items, shape):
    """The test's own interpretation of a layer list: (module, output shape)."""
    mods = []
    for it in items:
        if isinstance(it, dict) and "branches" in it:
            paths = [torch_seq([] if p == "identity" else p, shape)[0] for p in it["branches"]]
            m = Cat(paths)
        elif isinstance(it, dict) and "residual" in it:
            body, out = torch_seq(it["residual"]["body"], shape)
            sc = it["residual"].get("shortcut", "identity")  # the format's default
            if sc == "auto":
                sc = "identity" if out == shape else "projection"
            m = Residual(body, nn.Identity() if sc == "identity" else projection(shape, out))
        else:
            m = torch_leaf(it, shape)
        shape = probe(m, shape)
        mods.append(m)
    return nn.Sequential(*mods), shape


graph_sizes = st.one_of(st.integers(8, 24), st.integers(1, 24))


@given(shape=st.tuples(st.integers(1, 4), graph_sizes, graph_sizes),
       items=st.lists(st.one_of(item(0, keep=True), item(0)), min_size=1, max_size=5), head=st.integers(0, 12))
# found by this test: unnamed residuals nested in (or beside) an unnamed residual took the same
# generated names (residual1.add twice) and a valid graph was refused as "duplicate layer name"
@example(shape=(2, 8, 8), items=[{"residual": {"body": [{"residual": {"body": ["relu"]}}]}}], head=0)
@example(shape=(2, 8, 8), items=[{"residual": {"body": [{"residual": {"body": ["relu"]}},
                                                        {"residual": {"body": ["relu"], "shortcut": "auto"}}]}}],
         head=3)
def test_random_graphs_match_torch(shape, items, head):
    layers = list(items)
    if head:
        layers += [{"type": "global_avgpool"}, {"type": "linear", "out": head}]
    spec = {"name": "random", "input": list(shape), "layers": layers}
    built: dict = {}

    def make():
        built["net"] = torch_seq(layers, shape)[0]
        return built["net"]

    def stricter(spec, err):
        net = built.get("net")
        if net is not None and any(getattr(m, "broadcast", False) for m in net.modules()):
            # `a + b` broadcasts a size-1 dimension; a residual connection adds equal shapes only
            return "residual shapes differ (torch would broadcast)"
        return None

    agree(spec, make, shape, stricter)
    if built.get("net") is not None and not any(getattr(m, "broadcast", False) for m in built["net"].modules()):
        # the same graph through cnncalc's own torch builder: every layer agrees
        from cnncalc.pytorch.verify import verify
        try:
            v = verify(spec, device="cpu")
        except CnncalcError:
            return
        assert v.ok, [(r.name, r.mismatches) for r in v.layers if not r.ok]

"""One exercise answered with its worked formula: `cnncalc calc conv|pool|fc`, and the compact
layer tokens of `cnncalc rf -l …` / `cnncalc calc chain` (conv3, conv5s2, pool2, conv3d2, conv5f32same).

Every figure comes from the same layer classes as `analyze`: the exercise is built as a
one-layer architecture and analyzed.
"""
from __future__ import annotations

import re

from pydantic import BaseModel, ValidationError

from . import formulas as f
from .analyze import load, report_of
from ..errors import SpecError, quote
from .explain import explain
from ..layers import REGISTRY
from ..spec.builder import parse_shape
from ..spec.order import in_order, parse_layout
from ..spec.files import MAX_SIZE

TOKEN_HELP = """Layer tokens: KIND K then any of sS (stride), pP (padding), dD (dilation), gG (groups),
fN (filters), same (same padding), ceil (ceil mode). KIND is conv, pool (= maxpool), maxpool,
avgpool. Pool stride defaults to its kernel. Examples: conv3, conv5s2, conv3d2, pool2, pool3s2ceil,
conv1f16, conv5f32same, conv3s2p1f64g4."""

_TOKEN = re.compile(r"^(conv|pool|maxpool|avgpool)(\d+)((?:s\d+|p\d+|d\d+|g\d+|f\d+|same|ceil)*)$")
_PART = re.compile(r"(s|p|d|g|f)(\d+)|(same|ceil)")


def parse_token(token: str) -> dict:
    """`conv5s2p1f32` → {'type': 'conv', 'kernel': 5, 'stride': 2, 'padding': 1, 'filters': 32}."""
    m = _TOKEN.match(token.strip().lower())
    if not m:
        raise SpecError(f"cannot read layer token {quote(token)}. {TOKEN_HELP}")
    if any(len(n) > 9 for n in re.findall(r"\d+", m.group(0))):
        raise SpecError(f"{quote(token)}: a number too large (sizes are at most {MAX_SIZE:,})")
    kind = "maxpool" if m.group(1) == "pool" else m.group(1)
    spec: dict = {"type": kind, "kernel": int(m.group(2))}
    names = {"s": "stride", "p": "padding", "d": "dilation", "g": "groups", "f": "filters"}
    for key, val, word in _PART.findall(m.group(3)):
        if word == "same":
            spec["padding"] = "same"
        elif word == "ceil":
            spec["ceil_mode"] = True
        else:
            spec[names[key]] = int(val)
    if kind == "conv":
        spec.setdefault("filters", 1)
    elif "filters" in spec or "groups" in spec:
        raise SpecError(f"{quote(token)}: a pool has no filters or groups")
    return _valid(token, spec)


def _valid(token: str, spec: dict) -> dict:
    """The token's layer as its layer class accepts it (kernel 0, stride 0, 0 filters… are refused here,
    exactly as `calc chain` and `analyze` refuse them)."""
    try:
        REGISTRY[spec["type"]].model_validate(spec)
    except ValidationError as e:
        err = e.errors()[0]
        field = next((str(x) for x in err["loc"] if not isinstance(x, int)), "")
        text = err["msg"].removeprefix("Value error, ")
        raise SpecError(f"{quote(token)}: {spec['type']}: {field + ': ' if field else ''}{text}") from None
    return spec


class RFStepRow(BaseModel):
    token: str
    kernel: int          # effective kernel d·(k−1)+1
    stride: int
    padding: int
    size: int
    jump: int            # ∏ strides so far
    eff_padding: int
    formula: str


def rf_chain(tokens: list[str]) -> list[RFStepRow]:
    """The course notes' RF_l = RF_{l−1} + (f_l − 1)·∏_{i<l} s_i, written out for each step."""
    if not tokens:
        raise SpecError("give at least one layer: -l conv3 -l conv3 -l conv3")
    rows, r, j, P = [], 1, 1, 0
    for tok in tokens:
        spec = parse_token(tok)
        k, d = spec["kernel"], spec.get("dilation", 1)
        s = spec.get("stride", 1 if spec["type"] == "conv" else k)
        pad = spec.get("padding", 0)
        if pad == "same":
            pad = f.same_padding(k, d)[0]
        k_eff = f.effective_kernel(k, d)
        nr, nj, nP = f.rf_step(r, j, P, k_eff, s, pad)
        fk = f"{k_eff}" if d == 1 else f"{k_eff} (= {d}·({k}−1)+1)"
        formula = f"RF = {r} + ({fk} − 1)·{j} = {nr}"
        rows.append(RFStepRow(token=tok, kernel=k_eff, stride=s, padding=pad, size=nr, jump=nj, eff_padding=nP,
                              formula=formula))
        r, j, P = nr, nj, nP
    return rows


class CalcResult(BaseModel):
    kind: str
    input: list[int]          # C, H, W
    output: list[int]
    params: int
    weights: int
    biases: int
    macs: int
    flops: int
    other_ops: int
    floor_output: list[int] | None = None   # pools: the other rounding, where it differs
    ceil_output: list[int] | None = None
    same_padding: list[int] | None = None    # convs: padding that keeps the size at stride 1
    lines: list[str]
    notes: list[str]


def read_input(text: str, channels: int | None, layout: str | None = None) -> tuple[int, ...]:
    """`227` (with --channels), `227x227x3` (HWC, the course's way) or `3x227x227` with --layout CHW;
    `3x227x227` without --layout is refused as ambiguous (spec/order.py)."""
    if len(re.findall(r"\d", text)) > 30:
        raise SpecError(f"--input: numbers too large (sizes are at most {MAX_SIZE:,})")
    if re.fullmatch(r"\s*\d+\s*", text):
        n = int(text)
        if channels is None:
            raise SpecError("--input 227 needs --channels C (or write --input 227x227x3)")
        return parse_shape([channels, n, n], "--input")
    parts = parse_shape(text, "--input")
    if len(parts) == 2:
        if channels is None:
            raise SpecError("--input HxW needs --channels C")
        return (channels,) + parts
    if len(parts) != 3:
        raise SpecError("--input: expected N, HxW or HxWxC")
    try:
        parts = in_order(parts, None if layout is None else parse_layout(layout, "--layout"), "HWC", flag=True)
    except SpecError as e:
        raise SpecError(e.message if e.message.startswith("--layout") else
                        f"--input {'x'.join(map(str, parts))}: {e.message}") from None
    if channels is not None and channels != parts[0]:
        raise SpecError(f"--channels {channels} contradicts the input's {parts[0]} channels")
    return parts


def calc_layer(shape: tuple[int, ...], layer: dict) -> CalcResult:
    graph = load({"name": "exercise", "input": list(shape), "layers": [dict(layer, name="layer")]})
    node = graph.nodes[0]
    row = report_of(graph).layers[0]
    (_, lines), = explain(graph, "layer")
    lay = node.layer
    biases = lay.biases(node.in_shapes, node.out_shape)
    res = CalcResult(kind=lay.type, input=list(shape), output=row.output, params=row.params, weights=row.params - biases,
                     biases=biases, macs=row.macs, flops=row.flops, other_ops=row.other_ops,
                     lines=lines, notes=row.notes)
    if lay.type in ("maxpool", "avgpool"):
        other = other_rounding(shape, layer)
        if other is not None and other != row.output:
            res.floor_output, res.ceil_output = (other, row.output) if layer.get("ceil_mode") else (row.output, other)
    if lay.type == "conv":
        res.same_padding = [f.same_padding(k, d)[0] for k, d in zip(lay.kernel, lay.dilation)]
        k, d = lay.kernel[0], lay.dilation[0]
        before, after = f.same_padding(k, d)
        if before == after:
            half_up = (k + 1) // 2 if k % 2 else None
            text = f"same padding (stride 1): p = d·(k − 1)/2 = {d}·({k} − 1)/2 = {before}"
            if half_up is not None and d == 1:
                grown = shape[1] + 2 * half_up - k + 1
                text += f"  (the notes' (f+1)/2 = {half_up} would give {grown}, not {shape[1]})"
        else:
            text = f"same padding (stride 1): total d·(k − 1) = {before + after}, {before} before and {after} after"
        res.lines.append(text)
    return res


def other_rounding(shape, layer) -> list[int] | None:
    """The pool's output under the other rounding (None where PyTorch would refuse it)."""
    try:
        g = load({"input": list(shape), "layers": [dict(layer, ceil_mode=not layer.get("ceil_mode", False))]})
    except SpecError:
        return None
    return list(g.nodes[0].out_shape)


def calc_chain(shape: tuple[int, ...], tokens: list[str]):
    """Several token layers in a row (the Inception bottleneck: conv1f16 conv5f32same) → Report."""
    if not tokens:
        raise SpecError("give at least one layer token, e.g. conv1f16 conv5f32same")
    layers = [dict(parse_token(t), name=f"{i + 1}:{t}") for i, t in enumerate(tokens)]
    return report_of(load({"name": "chain", "input": list(shape), "layers": layers}))

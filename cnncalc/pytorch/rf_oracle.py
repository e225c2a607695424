"""Prove the receptive field by running it: the gradient oracle behind `cnncalc verify --rf`.

A unit's receptive field is exactly the set of input positions with a non-zero gradient of that unit
when the network is made linear and monotone: every weight positive (1/fan-in: with an input of ones
every value stays near 1), biases 0, batch norm and the other norms replaced by
identity, activations by identity, dropout off (eval), max pooling replaced by a positive average of
the same geometry (kernel, stride, padding, dilation, ceil_mode). Everything left — average pools,
upsampling, padding, concatenation, residual adds, slicing — is already linear with non-negative
weights. A squeeze-and-excitation multiply keeps its broadcast channel weights constant (detached):
they bring global context but, as the static analysis says, no spatial field.

Only the support of a gradient matters, not its size: every fourth node's output passes through an
identity whose backward replaces the gradient by 1 where it is non-zero, so a deep network neither
underflows (a field's corner is reached through one path only) nor overflows, in float32. Weights need no
gradient, so a backward pass costs about one forward pass.

Per layer with a spatial output, three units are run backward in one pass (one per sample of a batch
of 3): unit 0 on every axis, unit 1, and the central unit; each unit's support is summed over the
output channels (the larger field wins, as in the static recursion) and projected on each axis. The
seen positions must equal the static prediction exactly, clipped to the input:
{u·j − P + t : bit t of the field's seen mask} ∩ [0, n − 1], which checks the size r, the effective
stride j, the effective padding P and the holes of dilated stacks at once. A layer whose static field
equals that of its only input (batch norm, activations) is checked through that input.

torch is imported here only: `import cnncalc` never imports it.
"""
from __future__ import annotations


import math
import time
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import BaseModel
from torch import nn
from torch.nn.utils import parametrize

from ..analysis.analyze import load
from ..analysis.graph import INPUT, Graph
from ..analysis.receptive import num, receptive_fields, seen_positions, unit_seen
from ..errors import CnncalcError
from . import ops
from .memory import out_of_memory_is_an_error, refuse_if_too_big, weight_bytes

# what the oracle may spend before it runs at a smaller input: float32 elements kept alive (3 samples of
# every layer's output and what autograd saves), and MACs of all its backward passes together
DEFAULT_BUDGET = (150_000_000, 80_000_000_000)
SUPPORT_EVERY = 4     # nodes between two resets of the gradient to 1 (at most ~4 layers of 1/fan-in factors)
_IDENTITY = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm,
             nn.Dropout, nn.Dropout2d, nn.Dropout3d, nn.Dropout1d, nn.AlphaDropout,
             nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
             nn.Sigmoid, nn.Tanh, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Softmax, nn.LogSoftmax,
             nn.Softplus)


class AxisCheck(BaseModel):
    """One axis of one layer: the static field beside the gradient's support."""
    size: int | str                # a fraction written "1/2" after upsampling or a transposed conv
    stride: int | str
    padding: int | str
    seen: int | None               # positions of the r really seen (fewer than r: holes from dilation);
                                   # None where the stride went fractional
    torch_seen: int | None = None  # the same count measured on a unit whose field lies inside the input
    whole: bool                    # some checked unit's field lies inside the input: r and holes checked whole
    region: list[int]              # unit 0's field clipped to the input (static)
    torch_region: list[int]        # the support of unit 0's gradient on this axis


class RFLayerCheck(BaseModel):
    name: str
    type: str
    axes: list[AxisCheck]
    checked: bool = True           # False: equal to its input's field, checked through it
    bound: bool = False            # the static field is a declared upper bound (after a permute that moves the
                                   # axes of a multi-axis map): the gradient's support must lie inside it
    mismatches: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.mismatches


class RFVerification(BaseModel):
    name: str
    input: list[int]
    reduced_from: list[int] | None = None   # the architecture's own input, when the oracle ran smaller
    layers: list[RFLayerCheck]
    checked: int                            # layers whose units were run backward
    seconds: float
    ok: bool
    mismatches: int


# -- making the network linear and monotone ------------------------------------------------------

class PositivePool(nn.Module):
    """Max pooling's geometry with a positive average instead of the max: pad (zeros, and on the right
    what ceil_mode adds), then a depthwise convolution with equal positive weights, cropped to the size
    the max pool gives (PyTorch drops a last window that would start in the right padding)."""

    def __init__(self, pool: nn.Module):
        super().__init__()
        self.pool = pool
        n = pool.__class__.__name__[-2]          # MaxPool1d/2d/3d
        self.dims = int(n)

    def forward(self, x):
        p = self.pool
        dims = self.dims
        k, s, pad, d = (_tuple(getattr(p, a), dims) for a in ("kernel_size", "stride", "padding", "dilation"))
        with torch.no_grad():
            target = p(x.detach()).shape[2:]
        sizes = x.shape[2:]
        pads = []
        for n, kk, ss, pp, dd, o in zip(sizes, k, s, pad, d, target):
            right = max(pp, (o - 1) * ss + dd * (kk - 1) + 1 - n - pp)
            pads.append((pp, right))
        flat = [v for pair in reversed(pads) for v in pair]   # F.pad wants the last axis first
        y = F.pad(x, flat)
        c = x.shape[1]
        w = torch.full((c, 1, *k), 1.0 / math.prod(k), dtype=x.dtype, device=x.device)
        conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
        y = conv(y, w, stride=s, dilation=d, groups=c)
        return y[(slice(None), slice(None)) + tuple(slice(0, o) for o in target)]


class Support(torch.autograd.Function):
    """Identity forward; backward keeps only where the gradient is non-zero (as 1)."""

    @staticmethod
    def forward(ctx, y):
        return y.view_as(y)

    @staticmethod
    def backward(ctx, g):
        return torch.sign(g)              # gradients here are never negative: 1 where non-zero


class ConstantBroadcastMul(nn.Module):
    """Squeeze-and-excitation's product with its broadcast (C×1×1) weights held constant."""

    def forward(self, *xs):
        full = max(xs, key=lambda t: t[0].numel())
        out = full
        for t in xs:
            if t is not full:
                out = out * (t.detach() if t[0].numel() < full[0].numel() else t)
        return out


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _positive(module: nn.Module) -> None:
    """Weights 1/fan-in (positive, magnitudes near 1 however deep), biases 0."""
    with torch.no_grad():
        for name, p in module.named_parameters(recurse=False):
            if name == "bias":
                p.zero_()
            elif p.dim() > 1:
                p.fill_(1.0 / max(1, p[0].numel()))
            else:
                p.fill_(1.0)


def linearize(module: nn.Module) -> nn.Module:
    """The module made linear and monotone, in place where possible (see the module docstring)."""
    if isinstance(module, ops.Reuse):  # `share:` the same layer again, made linear the same way
        return ops.Reuse(linearize(module._target[0]), module.key)
    if parametrize.is_parametrized(module):  # weight_norm / spectral_norm: a plain weight sees the same
        for name in list(module.parametrizations):
            parametrize.remove_parametrizations(module, name)
    if isinstance(module, _IDENTITY) or "Norm" in type(module).__name__:
        return nn.Identity()
    if isinstance(module, nn.modules.pooling._MaxPoolNd):
        return PositivePool(module)
    if isinstance(module, nn.modules.pooling._AdaptiveMaxPoolNd):
        cls = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)[int(type(module).__name__[-2]) - 1]
        return cls(module.output_size)
    if isinstance(module, ops.Mul):
        return ConstantBroadcastMul()
    _positive(module)
    for name, child in list(module.named_children()):
        setattr(module, name, linearize(child))
    return module


# -- the oracle ----------------------------------------------------------------------------------

def _units(out_shape) -> list[tuple[int, ...]]:
    """Unit 0, unit 1 and the central unit of a map (per spatial axis)."""
    sizes = out_shape[1:]
    return [tuple(0 for _ in sizes), tuple(min(1, o - 1) for o in sizes), tuple(o // 2 for o in sizes)]


def _positions(mask: int, start: int = 0) -> set[int]:
    """The set bits of a mask, numbered from `start`."""
    out, t = set(), start
    while mask:
        if mask & 1:
            out.add(t)
        mask >>= 1
        t += 1
    return out


def _support(grad, axis: int) -> set[int]:
    """Positions along spatial `axis` with a non-zero gradient (summed over channels and other axes)."""
    g = grad.abs().sum(dim=0)                       # over channels
    other = tuple(a for a in range(g.dim()) if a != axis)
    line = g.sum(dim=other) if other else g
    return set(torch.nonzero(line > 0).flatten().tolist())


def _span(s: set[int]) -> str:
    if not s:
        return "nothing"
    lo, hi = min(s), max(s)
    holes = hi - lo + 1 - len(s)
    return f"[{lo}, {hi}]" + (f" with {holes} holes" if holes else "")


def check_layer(graph: Graph, idx: int, st, mask, grads, bound: bool = False) -> RFLayerCheck:
    """One layer: each unit's gradient support equals the positions the static analysis says it sees
    (clipped layer by layer); where a unit's field lies inside the input, those positions are also the
    Distill field {u·j − P + t : bit t of the seen mask}, which checks r, j, P and the holes whole.
    `bound`: the static field is a declared upper bound; the support must lie inside it."""
    node = graph.nodes[idx]
    units = _units(node.out_shape)
    seen = [unit_seen(graph, idx, u) for u in units]
    axes, bad = [], []
    for a, (ax, m) in enumerate(zip(st, mask)):
        whole, torch_seen = False, None
        for u, g, (exact, clipped) in zip(units, grads, seen):
            want, got = _positions(exact[a]), _support(g, a)
            if not got <= want if bound else want != got:
                bad.append(f"axis {a}: unit {u[a]} sees {_span(got)}, cnncalc says {_span(want)}")
            if not any(clipped) and m is not None:  # a field clear of every border: r, j, P and holes whole
                whole, torch_seen = True, len(got)
                model = _positions(m, u[a] * ax.j - ax.P)
                if not got <= model if bound else model != got:
                    bad.append(f"axis {a}: unit {u[a]} sees {_span(got)}, the field r={ax.r} j={ax.j} "
                               f"P={ax.P} says {_span(model)}")
        region0, got0 = sorted(_positions(seen[0][0][a])), sorted(_support(grads[0], a))
        axes.append(AxisCheck(size=num(ax.r), stride=num(ax.j), padding=num(ax.P),
                              seen=bin(m).count("1") if m is not None else None, torch_seen=torch_seen,
                              whole=whole, region=[region0[0], region0[-1]] if region0 else [],
                              torch_region=[got0[0], got0[-1]] if got0 else []))
    return RFLayerCheck(name=node.name, type=node.layer.type, axes=axes, bound=bound, mismatches=bad)


def oracle_cost(g: Graph) -> tuple[int, int]:
    """(float32 elements kept: 3 samples of every output and as much again saved for backward;
    MACs: every changing layer's backward runs through the layers before it, about their forward work)."""
    from ..analysis.analyze import report_of
    macs = [row.macs for row in report_of(g).layers]
    states, _ = receptive_fields(g)
    work, before = 0, 0
    for i, node in enumerate(g.nodes):
        before += macs[i] if i < len(macs) else 0
        if len(node.out_shape) >= 2 and (not node.inputs or node.inputs[0] == INPUT or len(node.inputs) > 1
                                         or states[node.inputs[0]] != states[i]):
            work += before
    return 2 * 3 * sum(math.prod(n.out_shape) for n in g.nodes), 3 * work


def _fits(g: Graph, budget: tuple[int, int]) -> bool:
    mem, work = oracle_cost(g)
    return mem <= budget[0] and work <= budget[1]


def affordable_input(spec: Any, graph: Graph, budget: tuple[int, int]) -> tuple[Graph, list[int] | None]:
    """The graph at its own input or, when that would exceed the budget, at a smaller size the
    architecture accepts: the estimate scaled down by the excess, then up 8% a step until valid and
    within budget (the smallest valid size if none is); with the original input as the second value."""
    if len(graph.input) < 3 or isinstance(spec, Graph) or _fits(graph, budget):
        return graph, None
    c, *sizes = graph.input
    mem, work = oracle_cost(graph)
    scale = min(math.sqrt(budget[0] / mem), math.sqrt(budget[1] / work))
    smallest = None
    for step in range(60):                       # sizes growing by 8% a step, up to the original
        size = [min(s, max(2, int(s * scale * 1.08 ** step))) for s in sizes]
        if size == sizes:
            break
        try:
            g = load(spec, "x".join(map(str, [c] + size)))
        except CnncalcError:
            continue
        smallest = smallest or g
        if _fits(g, budget):
            return g, list(graph.input)
    return (smallest, list(graph.input)) if smallest is not None else (graph, None)


def rf_verify(spec: Any, *, input: Any = None, budget: tuple[int, int] = DEFAULT_BUDGET) -> RFVerification:
    """Check the static receptive field of every spatial layer of `spec` against autograd's support
    (refused in one line, before any tensor, when it would not fit or would run for hours)."""
    t0 = time.perf_counter()
    graph0 = load(spec, input)
    graph, reduced = (graph0, None) if input is not None else affordable_input(spec, graph0, budget)
    kept, work = oracle_cost(graph)
    refuse_if_too_big(graph, 3, "cpu", "verify --rf", need=weight_bytes(graph) + 4 * kept, work=work,
                      figure="the weights and 3 samples of every layer's output, kept for the gradients,")
    with out_of_memory_is_an_error("verify --rf", "cpu"):
        return _rf_verify(graph, reduced, t0)


def _rf_verify(graph: Graph, reduced: list[int] | None, t0: float) -> RFVerification:
    """The oracle's run on `graph`: a linearized forward of 3 samples, one gradient per changing layer."""
    from .build import build

    states, _ = receptive_fields(graph)
    masks = seen_positions(graph, states)
    net = build(graph).eval()
    for key in net.node_keys:
        setattr(net, key, linearize(net._modules[key]))
    net.requires_grad_(False)
    x = torch.ones((3, *graph.input), requires_grad=True)
    outs = _forward_all(net, x)
    rows, checked = [], 0
    bounds: list[bool] = []       # per node: its field is an upper bound (it, or a layer before it, declares one)
    for i, node in enumerate(graph.nodes):
        bounds.append(node.layer.rf_bound(list(node.in_shapes)) or any(bounds[j] for j in node.inputs if j != INPUT))
        if len(node.out_shape) < 2 or node.train_only or outs[i] is None:
            continue
        src = node.inputs[0]
        same = (len(node.inputs) == 1 and src != INPUT and states[src] == states[i] and masks[src] == masks[i]
                and node.in_shapes[0][1:] == node.out_shape[1:] and rows and rows[-1].name == graph.nodes[src].name)
        if same:
            prev = rows[-1]
            rows.append(RFLayerCheck(name=node.name, type=node.layer.type, axes=prev.axes, checked=False,
                                     mismatches=prev.mismatches))
            continue
        units = _units(node.out_shape)
        sel = sum(outs[i][(b, slice(None)) + u].sum() for b, u in enumerate(units))
        grad, = torch.autograd.grad(sel, x, retain_graph=True)
        rows.append(check_layer(graph, i, states[i], masks[i], [grad[b] for b in range(3)], bounds[i]))
        checked += 1
    bad = sum(1 for r in rows if r.mismatches)
    return RFVerification(name=graph.name, input=list(graph.input), reduced_from=reduced, layers=rows,
                          checked=checked, seconds=round(time.perf_counter() - t0, 3), ok=bad == 0, mismatches=bad)


def _forward_all(net, x) -> list:
    """Every node's output (train-only nodes skipped), kept for the backward passes."""
    outs: list = [None] * len(net.node_keys)
    for i, (key, srcs) in enumerate(zip(net.node_keys, net.node_inputs)):
        if not net.node_train_only[i]:
            out = net._modules[key](*[x if j == INPUT else outs[j] for j in srcs])
            outs[i] = Support.apply(out) if i % SUPPORT_EVERY == SUPPORT_EVERY - 1 else out
    return outs

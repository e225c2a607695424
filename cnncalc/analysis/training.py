"""Training figures: backward MACs, memory of a training step, the largest batch that fits, and the
peak live activations of inference. Small pure functions over the Graph; every per-kind fact comes
from the layer classes (`backward_macs`, `saved`, `aliases_input`, `temp_elements`).

Conventions (docs/commands.md "Training"): one step = forward (training mode, auxiliary heads included),
backward of the sum of the outputs, optimizer step; gradients are set to None between steps
(PyTorch's default), the network input needs no gradient. Memory is counted as tensor storages:
a view (flatten, slice, identity) has none of its own, and a storage kept by several layers'
backward (a ReLU's output that the next conv keeps too) counts once, at the first layer keeping it.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecError, quote
from ..layers import numel
from .graph import INPUT, Graph

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}   # fp32 tensors per parameter
FP32 = 4


@dataclass(frozen=True)
class TrainConfig:
    batch: int = 1
    dtype: str = "fp32"          # activations, parameters and gradients; fp16/bf16 = mixed precision
    optimizer: str = "adam"
    device: str = "cuda"         # whose kernels: dropout keeps a 1-byte mask on CUDA, one in the activations' dtype
                                 # on the CPU (there torch's dropout multiplies by a noise tensor it keeps)

    def __post_init__(self):
        if self.dtype not in DTYPE_BYTES:
            raise SpecError(f"--dtype {quote(self.dtype)}: expected one of {', '.join(DTYPE_BYTES)}")
        if self.optimizer not in OPTIMIZER_STATES:
            raise SpecError(f"--optimizer {quote(self.optimizer)}: expected one of {', '.join(OPTIMIZER_STATES)}")
        if self.device not in ("cuda", "cpu"):
            raise SpecError(f"--device {quote(self.device)}: expected cuda or cpu (whose kernels' saved tensors to count)")
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise SpecError(f"batch must be a whole number ≥ 1, got {quote(self.batch)}")

    def bytes_of(self, dtype: str) -> int:
        act = DTYPE_BYTES[self.dtype]
        return {"act": act, "fp32": FP32, "int64": 8, "mask": 1 if self.device.startswith("cuda") else act}[dtype]


# -- gradients and storages ------------------------------------------------------------------------
def requires_grad(graph: Graph) -> list[bool]:
    """Per node: does its output need a gradient (it has parameters, or an input that does)?"""
    rg: list[bool] = []
    for node in graph.nodes:
        own = node.layer.params(node.in_shapes, node.out_shape) > 0
        rg.append(own or any(rg[j] for j in node.inputs if j != INPUT))
    return rg


def input_grads(graph: Graph, rg: list[bool]) -> list[tuple[bool, ...]]:
    return [tuple(j != INPUT and rg[j] for j in node.inputs) for node in graph.nodes]


def storage_owners(graph: Graph, training: bool) -> list[int]:
    """Per node: the node whose storage its output is (itself, or its input's owner for a view)."""
    own: list[int] = []
    for i, node in enumerate(graph.nodes):
        src = node.inputs[0]
        aliased = node.layer.aliases_input(training)
        own.append((INPUT if src == INPUT else own[src]) if aliased else i)
    return own


def output_bytes(graph: Graph, idx: int, batch: int, per: int) -> int:
    return numel(graph.shape_of(idx)) * batch * per


def saved_keys(graph: Graph, cfg: TrainConfig, rg: list[bool]) -> list[list[tuple]]:
    """Per node: (storage key, bytes) of every tensor its backward keeps, views resolved to storages."""
    own = storage_owners(graph, training=True)
    grads = input_grads(graph, rg)
    act = cfg.bytes_of("act")
    out: list[list[tuple]] = []
    for i, node in enumerate(graph.nodes):
        keys = []
        if rg[i]:  # autograd records nothing for a layer whose output needs no gradient
            for k, s in enumerate(node.layer.saved(node.in_shapes, node.out_shape, cfg.batch, grads[i])):
                if s.source == "new":
                    keys.append((("new", i, k), s.elements * cfg.bytes_of(s.dtype)))
                    continue
                src = i if s.source == "out" else node.inputs[int(s.source[2:])]
                owner = src if src == INPUT else own[src]
                keys.append((owner, output_bytes(graph, owner, cfg.batch, act)))
        out.append(keys)
    return out


def first_savers(keys: list[list[tuple]]) -> dict:
    """Storage key → (index of the first node keeping it, bytes)."""
    first: dict = {}
    for i, ks in enumerate(keys):
        for key, size in ks:
            first.setdefault(key, (i, size))
    return first


def saved_bytes_per_layer(keys: list[list[tuple]]) -> list[int]:
    """Each distinct storage counted once, at the first layer that keeps it."""
    per = [0] * len(keys)
    for i, size in first_savers(keys).values():
        per[i] += size
    return per


def backward_macs(graph: Graph, rg: list[bool], batch: int) -> list[int]:
    grads = input_grads(graph, rg)
    return [node.layer.backward_macs(node.in_shapes, node.out_shape, any(g)) * batch if rg[i] else 0
            for i, (node, g) in enumerate(zip(graph.nodes, grads))]


# -- memory over time -------------------------------------------------------------------------------
def last_uses(graph: Graph, training: bool) -> list[int]:
    """Per node: the last node reading its output (itself if none); at inference auxiliary heads do not run."""
    last = list(range(len(graph.nodes)))
    for i, node in enumerate(graph.nodes):
        if training or not node.train_only:
            for j in node.inputs:
                if j != INPUT:
                    last[j] = max(last[j], i)
    return last


def activation_spans(graph: Graph, training: bool) -> dict[int, list[int]]:
    """Storage owner → [created, last step it is needed] in the forward (the final output is kept)."""
    owners = storage_owners(graph, training)
    last = last_uses(graph, training)
    spans: dict[int, list[int]] = {}
    for j, node in enumerate(graph.nodes):
        if owners[j] == INPUT or (node.train_only and not training):
            continue
        span = spans.setdefault(owners[j], [owners[j], j])
        span[1] = max(span[1], last[j])
    for o in graph.output_nodes:   # the network's outputs are kept
        if o != INPUT and owners[o] != INPUT:
            spans[owners[o]][1] = len(graph.nodes)
    return spans


def running_max(n: int, events: list[tuple[int, int, int]], base: int = 0) -> int:
    """max over steps 0…n−1 of base + Σ size of the events (start, end, size) with start ≤ step ≤ end."""
    delta = [0] * (n + 2)
    for start, end, size in events:
        if start <= end:
            delta[max(start, 0)] += size
            delta[min(end, n) + 1] -= size
    best, cur = base, base
    for step in range(n):
        cur += delta[step]
        best = max(best, cur)
    return best


def inference_peak(graph: Graph, batch: int = 1, per: int = FP32) -> int:
    """Peak bytes of live activations in an inference forward when every tensor is freed after its last
    consumer: the input (the caller holds it), the outputs still needed, the one being computed and the
    layer's own temporaries."""
    n = len(graph.nodes)
    events = [(c, u, output_bytes(graph, c, batch, per)) for c, u in activation_spans(graph, False).values()]
    events += [(i, i, nd.layer.temp_elements(nd.in_shapes, nd.out_shape, batch) * per)
               for i, nd in enumerate(graph.nodes) if not nd.train_only]
    return running_max(n, events, output_bytes(graph, INPUT, batch, per))


def forward_peak(graph: Graph, cfg: TrainConfig, keys: list[list[tuple]]) -> int:
    """Training forward: activations live until their last consumer, or to the backward if kept."""
    n, act = len(graph.nodes), cfg.bytes_of("act")
    first = first_savers(keys)
    events = []
    for c, u in activation_spans(graph, True).values():
        events.append((c, n if c in first else u, output_bytes(graph, c, cfg.batch, act)))
    events += [(i, n, size) for key, (i, size) in first.items() if isinstance(key, tuple)]
    return running_max(n, events, output_bytes(graph, INPUT, cfg.batch, act))


def backward_peak(graph: Graph, cfg: TrainConfig, keys: list[list[tuple]], rg: list[bool]) -> int:
    """Backward, node by node in reverse: what it keeps until its first keeper's backward has run, the
    gradients of activations (from their last consumer's backward to their producer's), the parameter
    gradients produced so far; the input and the output stay with the caller."""
    n, act = len(graph.nodes), cfg.bytes_of("act")
    if not n:
        return 0
    owners, last = storage_owners(graph, True), last_uses(graph, True)
    held = {INPUT: output_bytes(graph, INPUT, cfg.batch, act)}
    for o in graph.output_nodes:
        key = INPUT if o == INPUT else owners[o]
        held[key] = output_bytes(graph, key, cfg.batch, act)
    events = [(i, n, size) for key, (i, size) in first_savers(keys).items() if key not in held]
    grad_from = list(range(n))  # a shared parameter's gradient exists from the backward of its last use on
    for j, nd in enumerate(graph.nodes):
        if nd.shares is not None:
            grad_from[nd.shares] = max(grad_from[nd.shares], j)
    for j, nd in enumerate(graph.nodes):
        if rg[j] and owners[j] == j and last[j] > j:       # a sink's gradient is an expanded scalar
            events.append((j, last[j], output_bytes(graph, j, cfg.batch, act)))
        events.append((0, grad_from[j], nd.own_params() * act))  # its gradient, from its backward on
    return running_max(n, events, sum(held.values()))


@dataclass(frozen=True)
class Memory:
    param_bytes: int       # parameters and buffers in the training dtype
    grad_bytes: int
    optimizer_bytes: int   # fp32 states (momentum 1×, Adam 2×) + fp32 master weights under fp16/bf16
    saved_activation_bytes: int
    peak_bytes: int
    peak_phase: str


def optimizer_bytes(params: int, cfg: TrainConfig) -> int:
    master = params * FP32 if cfg.dtype != "fp32" else 0
    return OPTIMIZER_STATES[cfg.optimizer] * params * FP32 + master


def step_memory(graph: Graph, cfg: TrainConfig) -> Memory:
    rg = requires_grad(graph)
    keys = saved_keys(graph, cfg, rg)
    act = cfg.bytes_of("act")
    params = sum(nd.own_params() for nd in graph.nodes)    # shared parameters: one copy, one gradient, one state
    buffers = sum(nd.own_buffers() for nd in graph.nodes)
    fixed = (params + buffers) * act + optimizer_bytes(params, cfg)
    # the optimizer step: every gradient, and (Adam's foreach kernels on CUDA) one fp32 temporary per parameter
    step = params * act + (params * FP32 if OPTIMIZER_STATES[cfg.optimizer] == 2 else 0)
    phases = {"forward": forward_peak(graph, cfg, keys), "backward": backward_peak(graph, cfg, keys, rg),
              "optimizer step": step}
    phase = max(phases, key=phases.get)
    return Memory(param_bytes=(params + buffers) * act, grad_bytes=params * act,
                  optimizer_bytes=optimizer_bytes(params, cfg),
                  saved_activation_bytes=sum(size for _, size in first_savers(keys).values()),
                  peak_bytes=fixed + phases[phase], peak_phase=phase)


FIT_LIMIT = 1 << 24   # the largest batch --fit searches for


def fit_batch(graph: Graph, budget: int, cfg: TrainConfig, limit: int = FIT_LIMIT) -> tuple[int, bool]:
    """(the largest batch whose training-step peak fits in `budget` bytes (0 if not even batch 1), whether
    the search stopped at `limit`: then the answer is "at least" that batch)."""
    def fits(b: int) -> bool:
        return step_memory(graph, TrainConfig(b, cfg.dtype, cfg.optimizer, cfg.device)).peak_bytes <= budget
    if not fits(1):
        return 0, False
    lo, hi = 1, 2
    while hi <= limit and fits(hi):
        lo, hi = hi, hi * 2
    if hi > limit:
        return lo, True
    while hi - lo > 1:               # fits(lo), not fits(hi): the peak grows with the batch
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo, False


def parse_bytes(text: str) -> int:
    """'16GB' (10⁹), '16GiB' (2³⁰), '512MB', '80G' (= GB), a plain number of bytes."""
    import re
    from decimal import Decimal
    m = re.fullmatch(r"\s*([0-9]{1,30}(?:\.[0-9]{1,30})?)\s*([kKMGT]?)(i?)([bB]?)\s*", str(text))
    if not m or (m.group(3) and not m.group(2)):
        raise SpecError(f"--fit {quote(text)}: expected a size such as 16GB, 16GiB or 512MB (at most 30 digits)")
    power = " KMGT".index(m.group(2).upper() or " ")
    return int(Decimal(m.group(1)) * (1024 if m.group(3) else 1000) ** power)   # exact: no float rounding


def breakdown(graph: Graph, cfg: TrainConfig) -> dict:
    """The memory of one training step at cfg.batch, as the report carries it."""
    m = step_memory(graph, cfg)
    return dict(batch=cfg.batch, param_bytes=m.param_bytes, grad_bytes=m.grad_bytes,
                optimizer_bytes=m.optimizer_bytes, saved_activation_bytes=m.saved_activation_bytes,
                peak_bytes=m.peak_bytes, peak_phase=m.peak_phase)


def training_section(graph: Graph, cfg: TrainConfig, fit: int | None = None) -> tuple[list[dict], dict]:
    """Per layer {backward_macs, saved_bytes} and the totals of one training step (forward in training
    mode, auxiliary heads included, + backward), with the largest batch fitting `fit` bytes if asked."""
    rg = requires_grad(graph)
    bwd = backward_macs(graph, rg, cfg.batch)
    saved = saved_bytes_per_layer(saved_keys(graph, cfg, rg))
    forward = sum(nd.layer.macs(nd.in_shapes, nd.out_shape) for nd in graph.nodes) * cfg.batch
    totals = dict(dtype=cfg.dtype, optimizer=cfg.optimizer, device=cfg.device, forward_macs=forward, backward_macs=sum(bwd),
                  step_macs=forward + sum(bwd), **breakdown(graph, cfg))
    if fit is not None:
        best, at_least = fit_batch(graph, fit, cfg)
        totals["fit"] = dict(budget_bytes=fit, at_least=at_least,
                             **(breakdown(graph, TrainConfig(best, cfg.dtype, cfg.optimizer, cfg.device))
                                if best else dict(batch=0)))
    return [dict(backward_macs=b, saved_bytes=s) for b, s in zip(bwd, saved)], totals

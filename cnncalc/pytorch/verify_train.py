"""Prove the training figures against PyTorch: `cnncalc verify ARCH --train`.

For each batch (1 and 2 by default) the graph is built as a torch module in training mode, and
  - one forward + backward (of the sum of the outputs, auxiliary heads included) runs under
    `FlopCounterMode` and `torch.autograd.graph.saved_tensors_hooks`. Backward MACs: each backward
    op's FLOPs (FlopCounterMode's formulas) / 2, charged to the layer whose forward created the
    autograd node running it. Torch 2.13's formula counts a grouped convolution's weight gradient
    `groups` times too high (it drops the group division; pytorch/pytorch#183405): the per-layer count
    restores the division; FlopCounterMode's own total is reported beside it, and the same formulas as
    shipped, summed per op, must equal that total (tests/test_train_torch.py proves the correction by
    splitting a grouped conv into dense ones). Saved bytes: the distinct storages (by data pointer)
    autograd keeps, parameters and buffers aside, each at the first layer keeping it;
  - an inference forward (eval, no_grad) runs under a dispatch mode that tracks the live tensor
    storages (weak references, checked after every operation): its peak, plus the input, is the peak
    of live activations;
  - at the last batch, one training step (forward, backward, optimizer step, after a warm-up step) runs
    under the same tracker; on CUDA `torch.cuda.max_memory_allocated` too. Both are set beside the
    predicted peak as ratios: allocator rounding, workspaces and the CPU's per-tensor optimizer make
    equality impossible.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..analysis import training as T
from ..analysis.analyze import load
from ..analysis.graph import INPUT, Graph
from ..errors import CnncalcError
from .verify import resolve_device
from .memory import forward_macs, out_of_memory_is_an_error, refuse_if_too_big


class TrainLayerCheck(BaseModel):
    name: str
    type: str
    backward_macs: int
    torch_backward_macs: int
    saved_bytes: int
    torch_saved_bytes: int
    mismatches: list[str] = []


class TrainBatchCheck(BaseModel):
    batch: int
    backward_macs: int
    torch_backward_macs: int
    torch_backward_macs_stock: int          # FlopCounterMode as shipped (grouped weight gradients × groups)
    counters_agree: bool = True             # FlopCounterMode's total = the per-layer dispatch count of its formulas
    saved_activation_bytes: int
    torch_saved_activation_bytes: int
    peak_activation_bytes: int              # inference, live tensors freed after their last consumer
    torch_peak_activation_bytes: int
    step_peak_bytes: int                    # predicted training-step peak (this device's dropout rule)
    torch_step_peak_bytes: int | None = None      # dispatch-level tracker of live storages
    cuda_max_memory_allocated: int | None = None
    layers: list[TrainLayerCheck] = []

    @property
    def ok(self) -> bool:
        return (self.counters_agree and self.backward_macs == self.torch_backward_macs and self.peak_activation_bytes ==
                self.torch_peak_activation_bytes and self.saved_activation_bytes == self.torch_saved_activation_bytes
                and not any(r.mismatches for r in self.layers))


class TrainVerification(BaseModel):
    name: str
    input: list[int]
    notes: list[str] = []
    device: str
    optimizer: str
    torch_version: str
    batches: list[TrainBatchCheck]
    ok: bool


def grouped_conv_backward_flop(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed,
                               _output_padding, groups, output_mask, out_shape, **kwargs) -> int:
    """torch's convolution_backward formula with the weight gradient divided by the groups."""
    from torch.utils.flop_counter import conv_flop_count

    def t(shape):
        return [shape[1], shape[0]] + list(shape[2:])
    flops = 0
    if output_mask[0]:
        flops += conv_flop_count(grad_out_shape, w_shape, list(out_shape[0]), not transposed)
    if output_mask[1]:
        a, b = (grad_out_shape, x_shape) if transposed else (x_shape, grad_out_shape)
        flops += conv_flop_count(t(a), t(b), t(list(out_shape[1])), transposed=False) // groups
    return flops


def node_hooks(net, state: dict, on_exit=None) -> list:
    """Forward pre/post hooks that keep state['current'] = index of the node running."""
    handles = []
    for i, (_, m) in enumerate(net.named_nodes()):
        def pre(module, args, i=i):
            state["current"] = i

        def post(module, args, out, i=i):
            if on_exit:
                on_exit(i, out)
            state["current"] = None
        handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    return handles


def sinks(graph: Graph) -> set[int]:
    """The outputs and the nodes nobody reads (auxiliary heads): the loss is the sum of their sums."""
    used = {j for nd in graph.nodes for j in nd.inputs}
    return {i for i in range(len(graph.nodes)) if i not in used} | {o for o in graph.output_nodes if o != INPUT}


def forward_train(net, graph: Graph, x, state: dict, on_exit=None):
    """A training forward; returns the loss (sum of every sink's sum)."""
    import torch
    outs = []
    ends = sinks(graph)

    def exit_hook(i, out):
        if on_exit:
            on_exit(i, out)
        if i in ends and isinstance(out, torch.Tensor):
            outs.append(out)
    handles = node_hooks(net, state, exit_hook)
    try:
        net(x)
    finally:
        for h in handles:
            h.remove()
    return sum(o.float().sum() for o in outs)


def node_counter(owner: dict, per: list, stock: list):
    """A dispatch mode adding each backward op's FLOPs to the layer whose forward created the autograd node
    running it (`owner`: id(grad_fn) → layer index; the last slot of `per`: no layer). FlopCounterMode's
    formulas, the grouped weight gradient divided by the groups; `stock[0]` sums the formulas as shipped."""
    import torch
    from torch.utils.flop_counter import flop_registry, shape_wrapper
    from torch.utils._python_dispatch import TorchDispatchMode
    fixed = {**flop_registry, torch.ops.aten.convolution_backward: shape_wrapper(grouped_conv_backward_flop)}

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            node = torch._C._current_autograd_node()
            packet = func._overloadpacket
            if packet in fixed and node is not None:
                per[owner.get(id(node), -1)] += fixed[packet](*args, **kwargs, out_val=out)
                stock[0] += flop_registry[packet](*args, **kwargs, out_val=out)
            return out
    return Count()


def measure_pass(net, graph: Graph, x) -> tuple[list[int], list[int], int, int]:
    """One training forward + backward. Per layer: backward MACs (each backward op charged to the layer whose
    forward created its autograd node) and the bytes of the distinct storages autograd keeps (by data
    pointer, parameters and buffers aside, at the first layer keeping each); FlopCounterMode's backward
    total / 2 as shipped, and the dispatch count of the same formulas as shipped (they must agree)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    n = len(graph.nodes)
    owner: dict[int, int] = {}
    keep: list = []
    skip = {t.untyped_storage().data_ptr() for t in list(net.parameters()) + list(net.buffers())}
    seen: set[int] = set()
    saved = [0] * n
    state: dict = {"current": None}

    def claim(i, out):  # the autograd nodes this layer's forward made: reachable from its output, not yet owned
        stack = [out.grad_fn] if isinstance(out, torch.Tensor) and out.grad_fn is not None else []
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in owner:
                continue
            owner[id(fn)] = i
            keep.append(fn)
            stack.extend(f for f, _ in fn.next_functions)

    def pack(t):
        st = t.untyped_storage()
        ptr = st.data_ptr()
        if ptr not in skip and ptr not in seen and st.nbytes():
            seen.add(ptr)
            if state["current"] is None:
                raise CnncalcError("autograd kept a tensor outside every layer")
            saved[state["current"]] += st.nbytes()
        keep.append(t)
        return t
    per, stock = [0] * (n + 1), [0]
    counter = FlopCounterMode(display=False)
    with counter:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = forward_train(net, graph, x, state, claim)
        forward = counter.get_total_flops()
        with node_counter(owner, per, stock):
            loss.backward()
    net.zero_grad(set_to_none=True)
    del loss
    keep.clear()
    if per[-1]:
        raise CnncalcError(f"{per[-1]:,} backward FLOPs ran outside every layer")
    return [f // 2 for f in per[:-1]], saved, (counter.get_total_flops() - forward) // 2, stock[0] // 2


def live_tracker(baseline: list):
    """A TorchDispatchMode tracking the bytes of live tensor storages created under it (storages of
    `baseline` tensors, e.g. parameters, are known and not counted); `.peak` after the run."""
    import torch
    from torch.multiprocessing.reductions import StorageWeakRef
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class Live(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.known = {t.untyped_storage().data_ptr() for t in baseline}
            self.live: dict[int, tuple[Any, int]] = {}
            self.peak = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            self.live = {p: (w, n) for p, (w, n) in self.live.items() if not w.expired()}
            for t in tree_leaves(out):
                if isinstance(t, torch.Tensor):
                    st = t.untyped_storage()
                    if st.data_ptr() not in self.known and st.data_ptr() not in self.live:
                        self.live[st.data_ptr()] = (StorageWeakRef(st), st.nbytes())
            self.peak = max(self.peak, sum(n for _, n in self.live.values()))
            return out
    return Live()


def measure_inference_peak(net, x) -> int:
    import torch
    net.eval()
    tracker = live_tracker(list(net.parameters()) + list(net.buffers()) + [x])
    with torch.no_grad(), tracker:
        y = net(x)
    del y
    net.train()
    return tracker.peak + x.untyped_storage().nbytes()


def make_optimizer(net, name: str):
    import torch
    params = list(net.parameters())
    if name == "sgd":
        return torch.optim.SGD(params, lr=1e-3)
    if name == "momentum":
        return torch.optim.SGD(params, lr=1e-3, momentum=0.9)
    return (torch.optim.Adam if name == "adam" else torch.optim.AdamW)(params, lr=1e-3)


def measure_step_peak(net, graph: Graph, x, optimizer: str, dev) -> tuple[int, int | None]:
    """One training step (after a warm-up step, gradients set to None): tracked peak, CUDA's peak."""
    import torch
    opt = make_optimizer(net, optimizer)
    for warm in (True, False):
        opt.zero_grad(set_to_none=True)
        if not warm:
            state = [t for s in opt.state.values() for t in s.values() if isinstance(t, torch.Tensor)]
            tracker = live_tracker(list(net.parameters()) + list(net.buffers()) + state + [x])
            base = sum(t.untyped_storage().nbytes() for t in list(net.parameters()) + list(net.buffers()) + state)
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
                torch.cuda.reset_peak_memory_stats(dev)
            with tracker:
                loss = forward_train(net, graph, x, {})
                loss.backward()
                del loss
                opt.step()
        else:
            loss = forward_train(net, graph, x, {})
            loss.backward()
            del loss
            opt.step()
    cuda = torch.cuda.max_memory_allocated(dev) if dev.type == "cuda" else None
    opt.zero_grad(set_to_none=True)
    return tracker.peak + base + x.untyped_storage().nbytes(), cuda


def check_batch(graph: Graph, batch: int, dev, optimizer: str, seed: int, step: bool = True) -> TrainBatchCheck:
    import torch
    from .build import build
    cfg = T.TrainConfig(batch, "fp32", optimizer, "cuda" if dev.type == "cuda" else "cpu")
    rg = T.requires_grad(graph)
    ours_bwd = T.backward_macs(graph, rg, batch)
    ours_saved = T.saved_bytes_per_layer(T.saved_keys(graph, cfg, rg))
    torch.manual_seed(seed)
    with torch.device(dev):
        net = build(graph)
    net.train()
    x = torch.randn(batch, *graph.input, device=dev)
    bwd, saved, stock, stock_dispatch = measure_pass(net, graph, x)
    rows = []
    for i, nd in enumerate(graph.nodes):
        bad = [w for w, a, b in (("backward_macs", ours_bwd[i], bwd[i]), ("saved_bytes", ours_saved[i], saved[i]))
               if a != b]
        rows.append(TrainLayerCheck(name=nd.name, type=nd.layer.type, backward_macs=ours_bwd[i],
                                    torch_backward_macs=bwd[i], saved_bytes=ours_saved[i], torch_saved_bytes=saved[i],
                                    mismatches=bad))
    step_peak, cuda = measure_step_peak(net, graph, x, optimizer, dev) if step else (None, None)
    return TrainBatchCheck(
        batch=batch, backward_macs=sum(ours_bwd), torch_backward_macs=sum(bwd), torch_backward_macs_stock=stock,
        counters_agree=stock == stock_dispatch,
        saved_activation_bytes=sum(ours_saved), torch_saved_activation_bytes=sum(saved),
        peak_activation_bytes=T.inference_peak(graph, batch), torch_peak_activation_bytes=measure_inference_peak(net, x),
        step_peak_bytes=T.step_memory(graph, cfg).peak_bytes, torch_step_peak_bytes=step_peak,
        cuda_max_memory_allocated=cuda, layers=rows)


def default_batches(graph: Graph) -> tuple[tuple[int, ...], list[str]]:
    """Batch 1 and 2 — or 2 and 3 where a batch norm sees one value per channel at batch 1 (torch refuses
    to train it: an auxiliary head's BN on a 1×1 map)."""
    lone = [nd.name for nd in graph.nodes if nd.layer.type == "batchnorm" and len(nd.in_shapes[0]) >= 1
            and all(x == 1 for x in nd.in_shapes[0][1:])]
    if lone:
        return (2, 3), [f"batch 2 and 3: at batch 1 torch cannot train {lone[0]} (one value per channel)"]
    return (1, 2), []


def verify_train(spec: Any, *, input: Any = None, batches: tuple[int, ...] | None = None, device: str = "cpu",
                 optimizer: str = "adam", seed: int = 0) -> TrainVerification:
    """Check backward MACs, saved activations and the inference peak against PyTorch at each batch."""
    import torch
    T.TrainConfig(1, "fp32", optimizer)  # validates the optimizer's name
    dev = resolve_device(device)
    if dev.type == "meta":
        raise CnncalcError("--train needs real tensors: use --device cpu or cuda (with a smaller --input)")
    graph = load(spec, input)
    if not any(nd.own_params() for nd in graph.nodes):
        raise CnncalcError("--train: the network has no parameters, so a training step has nothing to train")
    notes: list[str] = []
    if batches is None:
        batches, notes = default_batches(graph)
    if dev.type in ("cpu", "cuda"):
        most = max(batches)
        need = max(T.step_memory(graph, T.TrainConfig(b, "fp32", optimizer, dev.type)).peak_bytes for b in batches)
        refuse_if_too_big(graph, most, str(dev), "verify --train", need=need, work=3 * forward_macs(graph, most),
                          figure="the training step's peak, as analyze --train reports it,")
    with out_of_memory_is_an_error("verify --train", dev):
        checks = [check_batch(graph, b, dev, optimizer, seed, step=k == len(batches) - 1)
                  for k, b in enumerate(batches)]
    return TrainVerification(name=graph.name, input=list(graph.input), notes=notes, device=str(dev), optimizer=optimizer,
                             torch_version=torch.__version__, batches=checks, ok=all(c.ok for c in checks))

"""The ONNX front-end: a .onnx file → the captured model (ops.py), read as untrusted data.

- The file is read through a bounded reader (a regular file of at most MAX_ONNX_BYTES, protobuf's own
  limit), parsed, and refused in one line when it is corrupt, truncated, larger than the limit, holds
  more than MAX_NODES nodes, a cycle, or an initializer whose data does not match its dimensions.
- External data is never loaded (nothing but the dimensions is needed): every `location` must still
  name a file inside the model's folder (no absolute path, no `..`, no symlink out), else the file is
  refused; the tensors themselves are never read.
- Shapes come from onnx's shape inference, run on a copy whose large initializers are emptied (their
  dimensions are what matters), with the batch set to 1.
"""
from __future__ import annotations

import ast
import heapq
import os
import stat
from pathlib import Path

from .onnx_proto import from_array, infer_shapes, pb, to_array

from ..spec.bounds import MAX_NODES
from ..spec.builder import override_input
from ..spec.files import MAX_SIZE
from .ops import SMALL, Captured, Const, ModelError, Op

MAX_ONNX_BYTES = 2**31 - 1     # protobuf cannot hold more; weights beyond it live in external data


def read_bytes(path: Path, name: str) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ModelError("no such file", file=name) from None
    except (OSError, ValueError) as e:
        raise ModelError(f"cannot read: {getattr(e, 'strerror', None) or 'bad path'}", file=name) from None
    if not stat.S_ISREG(st.st_mode):
        raise ModelError("not a regular file: refused", file=name)
    if st.st_size > MAX_ONNX_BYTES:
        raise ModelError(f"the model is {st.st_size:,} bytes; the limit is {MAX_ONNX_BYTES:,} (protobuf's)", file=name)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ModelError("not a regular file: refused", file=name)
        data = fh.read(MAX_ONNX_BYTES + 1)
    if len(data) > MAX_ONNX_BYTES:
        raise ModelError(f"the model is larger than the limit of {MAX_ONNX_BYTES:,} bytes", file=name)
    return data


def parse(data: bytes, name: str):
    model = pb().ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf's DecodeError (and its C++ twin): corrupt or truncated
        raise ModelError("not an ONNX model (the file is corrupt or truncated)", file=name) from None
    if not model.HasField("graph") or not model.graph.node:
        raise ModelError("not an ONNX model (no graph, or a graph without nodes; truncated?)", file=name)
    return model


def check_external(tensor, folder: Path, name: str) -> None:
    """External data must stay inside the model's folder; it is never read."""
    info = {e.key: e.value for e in tensor.external_data}
    loc = info.get("location", "")
    where = f"initializer {tensor.name!r}: external data {loc!r}"
    if not loc or os.path.isabs(loc) or loc.startswith(("/", "\\")) or ":" in loc:
        raise ModelError(f"{where} is not a file name inside the model's folder: refused", file=name)
    parts = Path(loc).parts
    if ".." in parts:
        raise ModelError(f"{where} points outside the model's folder: refused", file=name)
    target = folder / loc
    try:
        real = target.resolve(strict=False)
        inside = real.is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):
        inside = False
    if not inside:
        raise ModelError(f"{where} resolves outside the model's folder (a symlink?): refused", file=name)


# bytes per element of the types whose stored size is checked: FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT64, INT32,
# INT8, UINT8, BOOL (TensorProto.DataType's numbers)
ITEM = {1: 4, 11: 8, 10: 2, 16: 2, 7: 8, 6: 4, 3: 1, 2: 1, 9: 1}
EXTERNAL = 1    # TensorProto.DataLocation EXTERNAL
FIELDS = ("float_data", "int32_data", "int64_data", "double_data", "uint64_data", "string_data")


def numel(dims) -> int:
    out = 1
    for d in dims:
        out *= int(d)
    return out


def tensor_const(t, folder: Path, name: str, role: str) -> Const:
    """An initializer's shape (and its contents when small), after checking that it holds what it claims."""
    shape = tuple(int(d) for d in t.dims)
    if any(d < 0 for d in shape):
        raise ModelError(f"initializer {t.name!r} has a negative dimension {list(shape)}", file=name)
    count = numel(shape)
    if count > MAX_SIZE:
        raise ModelError(f"initializer {t.name!r} claims {count:,} elements (dims {list(shape)}): more than the "
                         f"limit of {MAX_SIZE:,}", file=name)
    if t.data_location == EXTERNAL:
        check_external(t, folder, name)
        return Const(shape, None, role)
    if t.data_type in ITEM:
        held = len(t.raw_data)
        stored = held // ITEM[t.data_type] if held else sum(len(getattr(t, f)) for f in FIELDS)
        if stored != count or held % ITEM[t.data_type]:
            raise ModelError(f"initializer {t.name!r} claims {count:,} elements but holds "
                             f"{f'{held:,} bytes' if held else f'{stored:,}'} (corrupt or truncated)", file=name)
    return Const(shape, to_array(t) if count <= SMALL else None, role)


# AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, GRAPH 5, FLOATS 6, INTS 7, STRINGS 8, GRAPHS 10
ATTR_FIELDS = {1: "f", 2: "i", 3: "s", 6: "floats", 7: "ints", 8: "strings"}


def attrs_of(node) -> dict:
    out = {}
    for a in node.attribute:
        if a.type == 4:
            t = a.t
            n = 1
            for d in t.dims:
                n *= d
            out[a.name] = to_array(t) if n <= SMALL and t.data_location != EXTERNAL else None
        elif a.type in (5, 10):
            out[a.name] = "graph"
        elif a.type in ATTR_FIELDS:
            v = getattr(a, ATTR_FIELDS[a.type])
            if a.type == 3:
                v = v.decode("utf-8", "replace")
            elif a.type in (6, 7):
                v = list(v)
            elif a.type == 8:
                v = [x.decode("utf-8", "replace") for x in v]
            out[a.name] = v
    return out


def module_path(node) -> str:
    """The PyTorch module that made a node, as torch's exporters record it: the dynamo exporter's
    `pkg.torch.onnx.name_scopes`, or the TorchScript exporter's node name (/layer1/layer1.0/conv1/Conv)."""
    for p in node.metadata_props:
        if p.key == "pkg.torch.onnx.name_scopes" and len(p.value) < 10_000:
            try:
                scopes = ast.literal_eval(p.value)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                break
            if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
                return ".".join(s for s in scopes[1:-1] if s)
    if node.name.startswith("/"):
        path = ""
        for seg in node.name.strip("/").split("/")[:-1]:
            path = seg if not path or seg.startswith(path + ".") else f"{path}.{seg}"
        return path
    return ""


def ordered(nodes, known: set[str], name: str) -> list:
    """The nodes in an order where each reads only values made before it (the file's own order where
    that already holds); a cycle, or a value nothing makes, is refused."""
    made_by: dict[str, int] = {}
    for i, nd in enumerate(nodes):
        for o in nd.output:
            if o:
                made_by[o] = i
    waiting = [0] * len(nodes)
    users: dict[int, list[int]] = {}
    for i, nd in enumerate(nodes):
        for v in set(nd.input):
            if not v or v in known:
                continue
            j = made_by.get(v)
            if j is None:
                raise ModelError(f"node {nd.name or nd.op_type!r} reads {v!r}, which no node makes", file=name)
            waiting[i] += 1
            users.setdefault(j, []).append(i)
    ready = [i for i, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(nodes[i])
        for u in users.get(i, ()):
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(nodes):
        stuck = next(nodes[i] for i, w in enumerate(waiting) if w)
        raise ModelError(f"the graph has a cycle (through node {stuck.name or stuck.op_type!r})", file=name)
    return order


def dims(vi) -> tuple[int, ...] | None:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        if not d.HasField("dim_value") or d.dim_value < 1:
            return None
        out.append(int(d.dim_value))
    return tuple(out)


def set_input(vi, text: str | None, name: str, layout: str | None = None) -> tuple[int, ...]:
    """Fix the input's dimensions: batch 1, `--input` where given (as for a YAML file: `64` sets every
    spatial size); every other one must be known."""
    t = vi.type.tensor_type
    have = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in t.shape.dim]
    if len(have) < 2:
        raise ModelError(f"the input {vi.name!r} has {len(have)} dimensions: expected a batch and C×H×W "
                         "(or C×L, C×D×H×W, N)", file=name)
    if text is not None:
        base = tuple(d or 1 for d in have[1:])
        want = [1, *override_input(base, text, layout)]
        if len(want) != len(have):
            raise ModelError(f"--input {text}: the model's input {vi.name!r} has {len(have) - 1} dimensions besides "
                             "the batch", file=name)
    else:
        want = [1] + list(have[1:])
        if any(d is None for d in want):
            raise ModelError(f"the input {vi.name!r} has unknown dimensions "
                             f"({' × '.join('?' if d is None else str(d) for d in have)}): give --input", file=name)
    del t.shape.dim[:]
    for d in want:
        t.shape.dim.add().dim_value = int(d)
    return tuple(want)


def capture(path: str | Path, input_text: str | None = None, layout: str | None = None) -> Captured:
    """Read an ONNX file into the captured model (see the module doc)."""
    path = Path(path)
    name = str(path)
    model = parse(read_bytes(path, name), name)
    g = model.graph
    if len(g.node) > MAX_NODES or len(g.initializer) > MAX_NODES:
        raise ModelError(f"the graph has {len(g.node):,} nodes and {len(g.initializer):,} initializers; the limit is "
                         f"{MAX_NODES:,}", file=name)
    folder = path.parent
    consts = {t.name: tensor_const(t, folder, name, "param") for t in g.initializer}
    for t in g.sparse_initializer:
        raise ModelError(f"sparse initializer {t.values.name!r}: not supported", file=name)
    inputs = [vi for vi in g.input if vi.name not in consts]
    if len(inputs) != 1:
        raise ModelError(f"the model has {len(inputs)} inputs ({', '.join(vi.name for vi in inputs[:5])}); "
                         "cnncalc takes one", file=name)
    fixed = set_input(inputs[0], input_text, name, layout)
    known = set(consts) | {inputs[0].name}
    nodes = ordered(list(g.node), known, name)
    shapes = infer(model, name)
    shapes[inputs[0].name] = fixed
    ops = []
    for i, nd in enumerate(nodes):
        if nd.domain not in ("", "ai.onnx"):
            kind = f"{nd.domain}.{nd.op_type}"
        else:
            kind = nd.op_type
        ops.append(Op(kind, nd.name or f"{nd.op_type}_{i}", list(nd.input), list(nd.output), attrs_of(nd),
                      module_path(nd)))
    cap = Captured(name=g.name or path.stem, source=path.name, input=inputs[0].name,
                   outputs=[o.name for o in g.output], ops=ops, consts=consts, shapes=shapes)
    folded(cap, model, nodes, name)
    cap.ops = local_response_norms(cap)
    return cap


# the ops torch's TorchScript exporter writes for one nn.LocalResponseNorm (F.local_response_norm's arithmetic)
LRN_OPS = {"Mul", "Unsqueeze", "Reshape", "Pad", "AveragePool", "Squeeze", "Add", "Pow", "Div", "Shape", "Gather",
           "Concat", "Slice", "If", "ConstantOfShape", "Cast", "Sub", "Equal", "Transpose", "Identity", "Constant"}


def local_response_norms(cap: Captured) -> list[Op]:
    """A module's ops that are F.local_response_norm's arithmetic (x / (k + α·avg(x²))^β over `size` channels)
    → one LRN op, its size, α, β and k read from the pooling window and the constants."""
    by_module: dict[str, list[Op]] = {}
    for op in cap.ops:
        if op.module:
            by_module.setdefault(op.module, []).append(op)
    replaced: dict[int, Op | None] = {}
    for module, ops in by_module.items():
        kinds = {op.kind for op in ops}
        if not {"Pow", "AveragePool", "Div"} <= kinds or not kinds <= LRN_OPS:
            continue
        inside = {o for op in ops for o in op.outputs}
        ins = {v for op in ops for v in op.inputs if v and v not in inside and v not in cap.consts}
        divs = [op for op in ops if op.kind == "Div"]
        attrs = lrn_attrs(ops, cap)
        if len(ins) != 1 or len(divs) != 1 or attrs is None:
            continue
        for op in ops:
            replaced[id(op)] = None
        replaced[id(divs[0])] = Op("LRN", module, [ins.pop()], divs[0].outputs, attrs, module)
    return [replaced.get(id(op), op) for op in cap.ops if replaced.get(id(op), op) is not None]


def lrn_attrs(ops: list[Op], cap: Captured) -> dict | None:
    def scalar(op: Op):
        values = [cap.consts[v].value for v in op.inputs if v in cap.consts and cap.consts[v].value is not None]
        return float(values[0].reshape(-1)[0]) if len(values) == 1 and values[0].size == 1 else None
    pool = next(op for op in ops if op.kind == "AveragePool")
    beta = next((scalar(op) for op in ops if op.kind == "Pow"), None)
    alpha = next((x for op in ops if op.kind == "Mul" for x in [scalar(op)] if x is not None), None)
    k = next((x for op in ops if op.kind == "Add" for x in [scalar(op)] if x is not None), None)
    if None in (beta, alpha, k):
        return None
    return {"size": int(pool.attrs["kernel_shape"][0]), "alpha": alpha, "beta": beta, "bias": k}


def folded(cap: Captured, model, nodes: list, name: str, rounds: int = 4) -> None:
    """Fold the shape arithmetic into constants; where shapes stayed unknown behind it (a Pad whose pads
    are computed), infer them again with the folded constants written in, a few rounds at most."""
    from .mapping_common import Context
    from .mapping_shape import fold_constants
    by_output = {nd.output[0]: nd for nd in nodes if nd.output}
    for _ in range(rounds):
        cap.ops = fold_constants(cap, Context(cap))
        if all(v in cap.shapes for op in cap.ops for v in op.outputs if v):
            return
        again = pb().ModelProto()
        again.CopyFrom(model)
        del again.graph.node[:]
        again.graph.node.extend(by_output[op.outputs[0]] for op in cap.ops)
        known = {t.name for t in again.graph.initializer}
        again.graph.initializer.extend(from_array(c.value, v) for v, c in cap.consts.items()
                                       if v not in known and c.value is not None)
        before = len(cap.shapes)
        cap.shapes.update(infer(again, name))
        if len(cap.shapes) == before:
            return


def infer(model, name: str) -> dict[str, tuple[int, ...]]:
    """Every value's shape by onnx's shape inference, on a copy whose large tensors are emptied."""
    light = pb().ModelProto(ir_version=model.ir_version, opset_import=model.opset_import, functions=model.functions)
    g = light.graph
    g.node.extend(model.graph.node)
    for node in g.node:   # torch's exporter writes movedim's perm with -1, which onnx's inference refuses
        if node.op_type == "Transpose":
            for a in node.attribute:
                if a.name == "perm" and any(p < 0 for p in a.ints):
                    fixed = [p % len(a.ints) for p in a.ints]
                    del a.ints[:]
                    a.ints.extend(fixed)
    g.input.extend(model.graph.input)
    g.output.extend(model.graph.output)
    for t in model.graph.initializer:
        if numel(t.dims) <= SMALL:
            g.initializer.append(t)
        else:   # the dimensions only: the data is never needed (and never copied)
            g.initializer.add(name=t.name, dims=t.dims, data_type=t.data_type, data_location=EXTERNAL).external_data.add(
                key="location", value="cnncalc-not-read")
    try:
        inferred = pb().ModelProto()
        inferred.ParseFromString(infer_shapes(light.SerializeToString()))
    except Exception as e:  # onnx's InferenceError and friends: the model contradicts itself
        raise ModelError(f"shape inference failed: {str(e).splitlines()[0][:200] if str(e) else type(e).__name__}",
                         file=name) from None
    out = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
        d = dims(vi)
        if d is not None:
            out[vi.name] = d
    return out


"""The PyTorch front-end: `file.py:NAME` or `package.module:NAME` → the captured model (ops.py).

NAME (found by torch_source) is an nn.Module class or a function returning one, called with `--kwargs`;
it is built on the meta device (no weights allocated) where it can be, and captured with torch.export,
whose nodes are ATen ops with their output shapes and the module path that made them
(`nn_module_stack`). Each ATen op is written in ONNX's vocabulary (Conv, Gemm, BatchNormalization, …;
the handlers are in torch_aten) so that mapping.py serves both front-ends; a module whose forward is a
composite of many ops with one layer kind (nn.LocalResponseNorm) becomes that one op.

Imports torch only inside its functions (cnncalc's static path never imports it).
"""
from __future__ import annotations

import operator
from pathlib import Path

import numpy as np

from .ops import Captured, Const, ModelError, Op
from .torch_aten import IDENTITY, SIMPLE, AtenHandlers
from .torch_source import input_shape, load_object

# modules whose forward is many ATen ops but one layer kind: (the op, its attributes from the module)
COMPOSITES = {
    "LocalResponseNorm": lambda m: ("LRN", {"size": m.size, "alpha": m.alpha, "beta": m.beta, "bias": m.k}),
    "FrozenBatchNorm2d": lambda m: ("BatchNormalization", {"epsilon": m.eps, "frozen": 1}),    # torchvision's
    "FrozenBatchNorm": lambda m: ("BatchNormalization", {"epsilon": m.eps, "frozen": 1}),      # cnncalc export's
    "L2Norm": lambda m: ("L2Norm", {"scale": m.args[2] if getattr(m, "args", None) else None,
                                    "epsilon": getattr(m, "eps", 1e-12)}),
    # the LeNet-5 paper's layers, as `cnncalc export --torch` writes them (their constructor's arguments in .args)
    "TableConv": lambda m: ("SparseConv", dict(zip(("table", "kernel", "stride", "padding", "bias"), m.args))),
    "Subsample": lambda m: ("Subsample", dict(zip(("channels", "kernel", "stride", "bias"), m.args))),
    "RBF": lambda m: ("RBF", dict(zip(("inputs", "out"), m.args))),
}


def build_model(obj, kwargs: dict, where: str):
    """The nn.Module: NAME(**kwargs), built on the meta device where possible (no weights allocated)."""
    import torch
    from torch import nn

    if not callable(obj):
        raise ModelError(f"{where}: not an nn.Module class or a function returning one")
    for device in ("meta", None):
        try:
            if device:
                with torch.device(device):
                    model = obj(**kwargs)
            else:
                model = obj(**kwargs)
            break
        except TypeError as e:
            raise ModelError(f"{where}: calling it with --kwargs {kwargs}: {e}") from None
        except Exception as e:
            if device is None:
                raise ModelError(f"{where}: building the model failed: {type(e).__name__}: {str(e)[:200]}") from None
    if not isinstance(model, nn.Module):
        raise ModelError(f"{where}: returned a {type(model).__name__}, not an nn.Module")
    return model.eval()


def export(model, shape: tuple[int, ...], where: str):
    import torch
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    x = torch.zeros(1, *shape, device=device)
    try:
        return torch.export.export(model, (x,))
    except Exception as e:
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        raise ModelError(f"{where}: torch.export cannot capture it: {first}") from None


def capture(source: str, input_text: str | None, kwargs: dict, layout: str | None = None) -> Captured:
    module, obj = load_object(source)
    where = source
    model = build_model(obj, kwargs, where)
    shape = input_shape(module, input_text, where, layout)
    ep = export(model, shape, where)
    where, _, name = source.rpartition(":")
    shown = f"{Path(where).name}:{name}" if where.endswith(".py") else source   # never a full path
    return Translator(ep, model).captured(shown, getattr(obj, "__name__", name))


# -- the ATen graph → ops (each op's handler in torch_aten) -------------------------------------------

class Translator(AtenHandlers):
    def __init__(self, ep, model):
        self.ep, self.model = ep, model
        self.consts: dict[str, Const] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.alias: dict[str, str] = {}
        self.ops: list[Op] = []
        self.multi: set[str] = set()   # nodes with several outputs (read through getitem)
        self.n = 0

    # values
    def name(self, a) -> str:
        if a is None:
            return ""
        if hasattr(a, "name") and hasattr(a, "op"):
            return self.alias.get(a.name, a.name)
        return self.const(np.asarray(a))

    def const(self, value) -> str:
        self.n += 1
        v = f"#const{self.n}"
        value = np.asarray(value)
        self.consts[v] = Const(tuple(value.shape), value)
        return v

    def captured(self, source: str, name: str) -> Captured:
        from torch.export.graph_signature import InputKind
        sig = self.ep.graph_signature
        user = None
        for spec in sig.input_specs:
            arg_name = spec.arg.name
            if spec.kind == InputKind.USER_INPUT:
                user = arg_name
            else:
                role = {InputKind.PARAMETER: "param", InputKind.BUFFER: "buffer"}.get(spec.kind, "const")
                self.consts[arg_name] = Const(tuple(self.val_shape(arg_name)), None, role)
        nodes = list(self.ep.graph.nodes)
        composite = self.composites(nodes)
        for node in nodes:
            val = node.meta.get("val")
            if hasattr(val, "shape"):
                self.shapes[node.name] = tuple(int(d) for d in val.shape)
            if node.op != "call_function" or node.name in composite.get("skip", set()):
                continue
            if node.name in composite:
                self.ops.append(composite[node.name])
                continue
            self.translate(node)
        out_node = next(n for n in nodes if n.op == "output")
        outs = out_node.args[0]
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        outputs = [self.name(o) for o in outs if o is not None]
        classes = {str(path): (cls if isinstance(cls, str) else getattr(cls, "__qualname__", "")).rsplit(".", 1)[-1]
                   for n in nodes for path, cls in (n.meta.get("nn_module_stack") or {}).values()}
        return Captured(name=name, source=source, input=user, outputs=outputs, ops=self.ops,
                        consts=self.consts, shapes=self.shapes, classes=classes)

    def val_shape(self, arg_name: str):
        node = next(n for n in self.ep.graph.nodes if n.name == arg_name)
        return node.meta["val"].shape

    def composites(self, nodes) -> dict:
        """For each module in COMPOSITES: one op in place of its ops (at its last op)."""
        groups: dict[str, list] = {}
        for node in nodes:
            if node.op != "call_function":
                continue
            path, cls = self.module(node)
            if cls.rsplit(".", 1)[-1] in COMPOSITES:
                groups.setdefault(path, []).append(node)
        out: dict = {"skip": set()}
        for path, group in groups.items():
            inside = {n.name for n in group}
            ins = [a for n in group for a in n.all_input_nodes if a.name not in inside and a.op != "get_attr"
                   and a.name not in self.consts]
            sub = self.model.get_submodule(path)
            kind, attrs = COMPOSITES[type(sub).__name__](sub)
            attrs["held"] = sum(p.numel() for p in sub.parameters())   # its parameters, for the proof
            last = group[-1]
            out["skip"].update(inside - {last.name})
            out[last.name] = Op(kind, path, [self.name(ins[0])], [last.name], attrs, path)
        return out

    @staticmethod
    def module(node) -> tuple[str, str]:
        stack = node.meta.get("nn_module_stack") or {}
        if not stack:
            return "", ""
        path, cls = list(stack.values())[-1]
        return str(path), cls if isinstance(cls, str) else getattr(cls, "__qualname__", str(cls))

    def emit(self, node, kind: str, inputs: list, attrs: dict | None = None, outputs: list[str] | None = None):
        path, _ = self.module(node)
        self.ops.append(Op(kind, node.name, [self.name(a) if not isinstance(a, str) else a for a in inputs],
                           outputs or [node.name], attrs or {}, path))

    def translate(self, node) -> None:
        target = node.target
        if target is operator.getitem:
            src, idx = node.args
            self.alias[node.name] = f"{self.name(src)}#{idx}" if src.name in self.multi else self.name(src)
            if node.name in self.shapes:
                self.shapes[self.alias[node.name]] = self.shapes[node.name]
            return
        name = str(getattr(target, "__name__", target))   # conv2d.default
        op = name.split(".")[0]
        handler = getattr(self, "t_" + op, None)
        if handler is None:
            if op in SIMPLE:
                self.emit(node, SIMPLE[op], [node.args[0]])
                return
            if op in IDENTITY:
                self.alias[node.name] = self.name(node.args[0])
                return
            self.emit(node, f"aten.{op}", [a for a in node.args if hasattr(a, "op")])
            return
        handler(node)

"""The PyTorch front-end: `file.py:NAME` or `package.module:NAME` → the captured model (ops.py).

Importing the file RUNS ITS CODE (as `python file.py` would): that is what the user asks for, and the
CLI's help says so; `check` never imports a model. NAME is an nn.Module class or a function returning
one, called with `--kwargs`; it is built on the meta device (no weights allocated) where it can be,
and captured with torch.export, whose nodes are ATen ops with their output shapes and the module
path that made them (`nn_module_stack`). Each ATen op is written in ONNX's vocabulary (Conv, Gemm,
BatchNormalization, …) so that mapping.py serves both front-ends; a module whose forward is a
composite of many ops with one layer kind (nn.LocalResponseNorm) becomes that one op.

Imports torch only inside its functions (cnncalc's static path never imports it).
"""
from __future__ import annotations

import importlib
import importlib.util
import operator
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..spec.builder import flag_shape, parse_shape
from .ops import Captured, Const, ModelError, Op

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


def load_object(source: str):
    """The object NAME of `file.py:NAME` or `package.module:NAME` (importing runs the module's code)."""
    where, _, name = source.rpartition(":")
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ModelError(f"{where}: no such file")
        mod_name = f"cnncalc_import_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        sys.path.insert(0, str(path.resolve().parent))   # the file's own imports of its neighbours
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            raise ModelError(f"{where}: running it failed: {type(e).__name__}: {str(e)[:200]}") from None
        finally:
            sys.path.remove(str(path.resolve().parent))
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as e:
            raise ModelError(f"{where}: cannot import it: {str(e)[:200]}") from None
        except Exception as e:
            raise ModelError(f"{where}: importing it failed: {type(e).__name__}: {str(e)[:200]}") from None
    if not hasattr(module, name):
        raise ModelError(f"{where} has no {name!r}")
    return module, getattr(module, name)


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


def input_shape(module, text: str | None, where: str, layout: str | None = None) -> tuple[int, ...]:
    if text is not None:
        return flag_shape(text, layout)
    value = getattr(module, "INPUT", None)
    if value is None:
        raise ModelError(f"{where}: give --input C×H×W (or define INPUT = (3, 224, 224) in the file)")
    return parse_shape(list(value) if isinstance(value, tuple) else value, f"{where}: INPUT")


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


# -- ATen → ONNX's vocabulary -------------------------------------------------------------------------

def arg(node, i: int, name: str, default=None):
    if len(node.args) > i:
        return node.args[i]
    return node.kwargs.get(name, default)


def pairs(v, rank: int) -> list[int]:
    if isinstance(v, int):
        return [v] * rank
    v = list(v)
    return v * rank if len(v) == 1 else v


class Translator:
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

    # -- handlers ----------------------------------------------------------------------------------
    def conv(self, node, x, w, b, stride, padding, dilation, groups, transposed=False, output_padding=0):
        wshape = self.consts[self.name(w)].shape if self.name(w) in self.consts else self.shapes[w.name]
        rank = len(wshape) - 2
        stride, dilation = pairs(stride, rank), pairs(dilation, rank)
        attrs = {"kernel_shape": list(wshape[2:]), "strides": stride, "dilations": dilation, "group": groups}
        if padding == "same":
            attrs["auto_pad"] = "SAME_UPPER"   # PyTorch's 'same': the odd one after, as SAME_UPPER
        elif padding != "valid":
            p = pairs(padding, rank)
            attrs["pads"] = p + p
        if transposed:
            attrs["output_padding"] = pairs(output_padding, rank)
        self.emit(node, "ConvTranspose" if transposed else "Conv", [x, w, b], attrs)

    def t_conv1d(self, node):
        self.conv(node, *[arg(node, i, k, d) for i, (k, d) in enumerate(
            [("input", None), ("weight", None), ("bias", None), ("stride", 1), ("padding", 0), ("dilation", 1),
             ("groups", 1)])])

    t_conv2d = t_conv3d = t_conv1d

    def t_convolution(self, node):
        x, w, b, stride, padding, dilation, transposed, output_padding, groups = node.args[:9]
        self.conv(node, x, w, b, stride, padding, dilation, groups, transposed, output_padding)

    def t_conv_transpose1d(self, node):
        g = lambda i, k, d: arg(node, i, k, d)  # noqa: E731
        self.conv(node, g(0, "input", None), g(1, "weight", None), g(2, "bias", None), g(3, "stride", 1),
                  g(4, "padding", 0), g(7, "dilation", 1), g(6, "groups", 1), True, g(5, "output_padding", 0))

    t_conv_transpose2d = t_conv_transpose3d = t_conv_transpose1d

    def t_linear(self, node):
        self.emit(node, "Gemm", [node.args[0], node.args[1], arg(node, 2, "bias")], {"transB": 1})

    def t_batch_norm(self, node):
        x, w, b, mean, var = node.args[:5]
        self.emit(node, "BatchNormalization", [x, w, b, mean, var], {"epsilon": float(arg(node, 7, "eps", 1e-5))})

    def t__native_batch_norm_legit_no_training(self, node):
        x, w, b, mean, var = node.args[:5]
        self.multi.add(node.name)
        self.emit(node, "BatchNormalization", [x, w, b, mean, var], {"epsilon": float(arg(node, 6, "eps", 1e-5))},
                  [f"{node.name}#0"])

    def t_instance_norm(self, node):
        self.emit(node, "InstanceNormalization", [node.args[0], node.args[1], node.args[2]],
                  {"epsilon": float(arg(node, 7, "eps", 1e-5))})

    def t_group_norm(self, node):
        self.emit(node, "GroupNormalization", [node.args[0], arg(node, 2, "weight"), arg(node, 3, "bias")],
                  {"num_groups": int(node.args[1]), "epsilon": float(arg(node, 4, "eps", 1e-5))})

    def pool(self, node, kind: str, rank: int):
        k = pairs(node.args[1], rank)
        stride = arg(node, 2, "stride", None)
        stride = k if not stride else pairs(stride, rank)
        p = pairs(arg(node, 3, "padding", 0), rank)
        attrs = {"kernel_shape": k, "strides": stride, "pads": p + p}
        if kind == "MaxPool":
            attrs["dilations"] = pairs(arg(node, 4, "dilation", 1), rank)
            attrs["ceil_mode"] = int(bool(arg(node, 5, "ceil_mode", False)))
        else:
            attrs["ceil_mode"] = int(bool(arg(node, 4, "ceil_mode", False)))
            attrs["count_include_pad"] = int(bool(arg(node, 5, "count_include_pad", True)))
            if arg(node, 6, "divisor_override", None):
                raise ModelError(f"{node.name}: avg_pool with divisor_override: no layer kind")
        self.emit(node, kind, [node.args[0]], attrs)

    def t_max_pool1d(self, node):
        self.pool(node, "MaxPool", 1)

    def t_max_pool2d(self, node):
        self.pool(node, "MaxPool", 2)

    def t_max_pool3d(self, node):
        self.pool(node, "MaxPool", 3)

    def t_max_pool2d_with_indices(self, node):
        self.multi.add(node.name)
        self.pool(node, "MaxPool", 2)
        self.ops[-1].outputs = [f"{node.name}#0"]

    def t_avg_pool1d(self, node):
        self.pool(node, "AveragePool", 1)

    def t_avg_pool2d(self, node):
        self.pool(node, "AveragePool", 2)

    def t_avg_pool3d(self, node):
        self.pool(node, "AveragePool", 3)

    def adaptive(self, node, kind: str):
        rank = len(self.shapes[node.args[0].name]) - 2   # adaptive_max_pool's value is (values, indices): no shape
        self.emit(node, kind, [node.args[0]], {"output": list(pairs(node.args[1], rank))})

    def t_adaptive_avg_pool1d(self, node):
        self.adaptive(node, "AdaptiveAvgPool")

    t_adaptive_avg_pool2d = t_adaptive_avg_pool3d = t__adaptive_avg_pool2d = t_adaptive_avg_pool1d

    def t_adaptive_max_pool2d(self, node):
        self.multi.add(node.name)
        self.adaptive(node, "AdaptiveMaxPool")
        self.ops[-1].outputs = [f"{node.name}#0"]

    t_adaptive_max_pool1d = t_adaptive_max_pool3d = t_adaptive_max_pool2d

    def t_mean(self, node):
        dims = arg(node, 1, "dim", None)
        self.emit(node, "ReduceMean", [node.args[0]], {"axes": list(dims) if dims is not None else [],
                                                        "keepdims": int(bool(arg(node, 2, "keepdim", False)))})

    def t_amax(self, node):
        dims = arg(node, 1, "dim", [])
        self.emit(node, "ReduceMax", [node.args[0]], {"axes": [int(d) for d in dims] if dims else [],
                                                       "keepdims": int(bool(arg(node, 2, "keepdim", False)))})

    def t_leaky_relu(self, node):
        self.emit(node, "LeakyRelu", [node.args[0]], {"alpha": float(arg(node, 1, "negative_slope", 0.01))})

    t_leaky_relu_ = t_leaky_relu

    def t_elu(self, node):
        self.emit(node, "Elu", [node.args[0]], {"alpha": float(arg(node, 1, "alpha", 1.0))})

    t_elu_ = t_elu

    def t_hardsigmoid(self, node):
        self.emit(node, "HardSigmoid", [node.args[0]], {"alpha": 1 / 6, "beta": 0.5})

    t_hardsigmoid_ = t_hardsigmoid

    def t_hardtanh(self, node):
        self.emit(node, "Clip", [node.args[0]], {"min": float(arg(node, 1, "min_val", -1.0)),
                                                 "max": float(arg(node, 2, "max_val", 1.0))})

    t_hardtanh_ = t_hardtanh

    def t_relu6(self, node):
        self.emit(node, "Clip", [node.args[0]], {"min": 0.0, "max": 6.0})

    def t_gelu(self, node):
        if arg(node, 1, "approximate", "none") != "none":
            self.emit(node, "aten.gelu(approximate=tanh)", [node.args[0]])
            return
        self.emit(node, "Gelu", [node.args[0]])

    def t_softmax(self, node):
        self.emit(node, "Softmax", [node.args[0]], {"axis": int(node.args[1])})

    t__softmax = t_softmax

    def t_prelu(self, node):
        self.emit(node, "PRelu", [node.args[0], node.args[1]])

    def binary(self, node, kind: str):
        a, b = node.args[0], node.args[1]
        if kind == "Add" and arg(node, 2, "alpha", 1) != 1:
            raise ModelError(f"{node.name}: add with alpha: no layer kind")
        self.emit(node, kind, [a, b])

    def t_add(self, node):
        self.binary(node, "Add")

    t_add_ = t_add

    def t_mul(self, node):
        self.binary(node, "Mul")

    t_mul_ = t_mul

    def t_cat(self, node):
        self.emit(node, "Concat", list(node.args[0]), {"axis": int(arg(node, 1, "dim", 0))})

    t_concat = t_cat

    def t_flatten(self, node):
        start, end = int(arg(node, 1, "start_dim", 0)), int(arg(node, 2, "end_dim", -1))
        if end not in (-1, len(self.shapes[node.args[0].name]) - 1):
            raise ModelError(f"{node.name}: flatten of axes {start}..{end}: no layer kind")
        self.emit(node, "Flatten", [node.args[0]], {"axis": start})

    def t_view(self, node):
        self.emit(node, "Reshape", [node.args[0]], {"shape": list(node.args[1])})

    t_reshape = t__unsafe_view = t_view

    def t_squeeze(self, node):
        self.emit(node, "Reshape", [node.args[0]], {"shape": list(self.shapes[node.name])})

    t_unsqueeze = t_squeeze

    def t_clamp(self, node):
        lo, hi = arg(node, 1, "min", None), arg(node, 2, "max", None)
        self.emit(node, "Clip", [node.args[0]], {"min": None if lo is None else float(lo),
                                                 "max": None if hi is None else float(hi)})

    t_clamp_ = t_clamp

    def t_clamp_min(self, node):
        self.emit(node, "Clip", [node.args[0]], {"min": float(node.args[1]), "max": None})

    t_clamp_min_ = t_clamp_min

    def t_dropout(self, node):
        self.emit(node, "Dropout", [node.args[0]], {"ratio": float(arg(node, 1, "p", 0.5))})

    t_feature_dropout = t_dropout_ = t_dropout

    def upsample(self, node, mode: str, align: Any = None, scales: Any = None):
        size = arg(node, 1, "output_size", None)
        attrs = {"mode": mode}
        if align:
            attrs["coordinate_transformation_mode"] = "align_corners"
        elif mode != "nearest":
            attrs["coordinate_transformation_mode"] = "pytorch_half_pixel"
        inputs = [node.args[0], "", self.const([1.0, 1.0] + [float(s) for s in scales]) if scales else ""]
        if size and not scales:
            inputs.append(self.const([1, self.shapes[node.name][1]] + list(size)))
        self.emit(node, "Resize", inputs, attrs)

    def t_upsample_nearest1d(self, node):
        self.upsample(node, "nearest", None, arg(node, 2, "scale_factors", None))

    t_upsample_nearest2d = t_upsample_nearest3d = t_upsample_nearest1d

    def t_upsample_bilinear2d(self, node):
        self.upsample(node, "linear", arg(node, 2, "align_corners", False), arg(node, 3, "scale_factors", None))

    t_upsample_linear1d = t_upsample_trilinear3d = t_upsample_bilinear2d

    def t_upsample_bicubic2d(self, node):
        self.upsample(node, "cubic", arg(node, 2, "align_corners", False), arg(node, 3, "scale_factors", None))

    def pad_op(self, node, mode: str, pad, value=0.0):
        rank = len(self.shapes[node.name])
        pad = list(pad)
        before, after = [0] * rank, [0] * rank
        for i in range(len(pad) // 2):     # PyTorch lists (before, after) from the last axis
            before[rank - 1 - i], after[rank - 1 - i] = pad[2 * i], pad[2 * i + 1]
        self.emit(node, "Pad", [node.args[0], self.const(before + after), self.const([float(value or 0.0)])],
                  {"mode": mode})

    def t_pad(self, node):
        mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[
            arg(node, 2, "mode", "constant")]
        self.pad_op(node, mode, node.args[1], arg(node, 3, "value", 0.0))

    def t_constant_pad_nd(self, node):
        self.pad_op(node, "constant", node.args[1], arg(node, 2, "value", 0.0))

    def t_reflection_pad2d(self, node):
        self.pad_op(node, "reflect", node.args[1])

    t_reflection_pad1d = t_reflection_pad3d = t_reflection_pad2d

    def t_replication_pad2d(self, node):
        self.pad_op(node, "edge", node.args[1])

    t_replication_pad1d = t_replication_pad3d = t_replication_pad2d

    def t_slice(self, node):
        dim, start, end, step = (arg(node, 1, "dim", 0), arg(node, 2, "start", None), arg(node, 3, "end", None),
                                 arg(node, 4, "step", 1))
        big = 2**62
        self.emit(node, "Slice", [node.args[0], self.const([start or 0]), self.const([big if end is None else end]),
                                  self.const([dim]), self.const([step])])

    def t_split_with_sizes(self, node):
        sizes, dim = list(node.args[1]), int(arg(node, 2, "dim", 0))
        self.multi.add(node.name)
        self.emit(node, "Split", [node.args[0]], {"split": sizes, "axis": dim},
                  [f"{node.name}#{i}" for i in range(len(sizes))])

    def t_split(self, node):
        size, dim = int(node.args[1]), int(arg(node, 2, "dim", 0))
        n = self.shapes[node.args[0].name][dim]
        sizes = [min(size, n - s) for s in range(0, n, size)]
        self.multi.add(node.name)
        self.emit(node, "Split", [node.args[0]], {"split": sizes, "axis": dim},
                  [f"{node.name}#{i}" for i in range(len(sizes))])

    def t_chunk(self, node):
        chunks, dim = int(node.args[1]), int(arg(node, 2, "dim", 0))
        n = self.shapes[node.args[0].name][dim]
        size = -(-n // chunks)
        sizes = [min(size, n - s) for s in range(0, n, size)]
        self.multi.add(node.name)
        self.emit(node, "Split", [node.args[0]], {"split": sizes, "axis": dim},
                  [f"{node.name}#{i}" for i in range(len(sizes))])

    def t_pixel_shuffle(self, node):
        self.emit(node, "DepthToSpace", [node.args[0]], {"blocksize": int(node.args[1]), "mode": "CRD"})

    def t_pixel_unshuffle(self, node):
        self.emit(node, "SpaceToDepth", [node.args[0]], {"blocksize": int(node.args[1])})

    def t_channel_shuffle(self, node):
        self.emit(node, "ChannelShuffle", [node.args[0]], {"groups": int(node.args[1])})

    t_native_channel_shuffle = t_channel_shuffle

    def t_transpose(self, node):
        rank = len(self.shapes[node.name])
        a, b = int(node.args[1]) % rank, int(node.args[2]) % rank
        perm = list(range(rank))
        perm[a], perm[b] = perm[b], perm[a]
        self.emit(node, "Transpose", [node.args[0]], {"perm": perm})

    def t_movedim(self, node):
        rank = len(self.shapes[node.name])
        src, dst = int(node.args[1]) % rank, int(node.args[2]) % rank
        order = [d for d in range(rank) if d != src]
        order.insert(dst, src)
        self.emit(node, "Transpose", [node.args[0]], {"perm": order})

    def t_layer_norm(self, node):
        shape = list(node.args[1])
        self.emit(node, "LayerNormalization", [node.args[0], arg(node, 2, "weight"), arg(node, 3, "bias")],
                  {"axis": -len(shape), "epsilon": float(arg(node, 4, "eps", 1e-5))})

    def t_permute(self, node):
        self.emit(node, "Transpose", [node.args[0]], {"perm": [int(d) for d in node.args[1]]})


SIMPLE = {"relu": "Relu", "relu_": "Relu", "sigmoid": "Sigmoid", "sigmoid_": "Sigmoid", "tanh": "Tanh",
          "tanh_": "Tanh", "hardswish": "HardSwish", "hardswish_": "HardSwish", "silu": "Silu", "silu_": "Silu",
          "mish": "Mish", "mish_": "Mish"}
IDENTITY = {"clone", "contiguous", "alias", "detach", "_to_copy", "to", "lift_fresh_copy", "type_as"}

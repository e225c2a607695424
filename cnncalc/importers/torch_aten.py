"""ATen ops → ONNX's vocabulary (Conv, Gemm, BatchNormalization, …): the handlers of torch_front's Translator.

Translator.translate calls `t_<op>` for an ATen op of that name (conv2d.default → t_conv2d); an op with
no handler is in SIMPLE (one input, no attributes), in IDENTITY (an alias of its input), or kept as
`aten.<op>`. The handlers live in a mixin that uses the Translator's state (consts, shapes, ops, multi)
and its emit, name and const. Never imports torch: the nodes it reads come from torch_front.
"""
from __future__ import annotations

from typing import Any

from .ops import ModelError


def arg(node, i: int, name: str, default=None):
    if len(node.args) > i:
        return node.args[i]
    return node.kwargs.get(name, default)


def pairs(v, rank: int) -> list[int]:
    if isinstance(v, int):
        return [v] * rank
    v = list(v)
    return v * rank if len(v) == 1 else v


def pool_handler(kind: str, rank: int):
    """The handler of max_pool{rank}d / avg_pool{rank}d: pool() with its kind and rank."""
    def handler(self, node):
        self.pool(node, kind, rank)
    return handler


class AtenHandlers:
    """The `t_<op>` handlers (mixed into torch_front.Translator)."""

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

    t_max_pool1d, t_max_pool2d, t_max_pool3d = (pool_handler("MaxPool", rank) for rank in (1, 2, 3))

    def t_max_pool2d_with_indices(self, node):
        self.multi.add(node.name)
        self.pool(node, "MaxPool", 2)
        self.ops[-1].outputs = [f"{node.name}#0"]

    t_avg_pool1d, t_avg_pool2d, t_avg_pool3d = (pool_handler("AveragePool", rank) for rank in (1, 2, 3))

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

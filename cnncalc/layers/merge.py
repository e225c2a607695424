"""concat, add and mul: the nodes where graph paths meet."""
from __future__ import annotations

from typing import ClassVar, Literal, Optional

from ..errors import LayerError
from .base import Layer, Saved, fmt_shape, n, numel


class Concat(Layer):
    """Concatenate on channels (Inception, DenseNet). Spatial sizes must agree, unless `crop: center`
    center-crops the larger inputs to the smallest size on each axis (U-Net's copy-and-crop)."""
    kinds = ("concat",)
    arity = 0
    crop: Optional[Literal["center"]] = None

    def check_input(self, ins):
        if len({len(s) for s in ins}) > 1:
            raise LayerError("cannot concatenate on channels: ranks differ: " + ", ".join(fmt_shape(s) for s in ins))
        differ = len({s[1:] for s in ins}) > 1
        if differ and self.crop is None:
            raise LayerError("cannot concatenate on channels: spatial sizes differ: "
                             + ", ".join(fmt_shape(s) for s in ins) + " (crop: center crops the larger ones)")
        if not differ and self.crop is not None:
            raise LayerError("crop: center, but the inputs' spatial sizes agree (" + ", ".join(fmt_shape(s) for s in ins)
                             + "): nothing to crop; remove `crop`")

    def spatial(self, ins) -> tuple[int, ...]:
        return tuple(min(sizes) for sizes in zip(*(s[1:] for s in ins)))

    def offsets(self, ins) -> list[tuple[int, ...]]:
        """Per input, the units cropped before the kept window on each axis: ⌊(n − n_min)/2⌋."""
        keep = self.spatial(ins)
        return [tuple((size - k) // 2 for size, k in zip(s[1:], keep)) for s in ins]

    def rf_offsets(self, ins):
        return self.offsets(ins) if self.crop else None

    def output_shape(self, ins):
        return (sum(s[0] for s in ins),) + self.spatial(ins)

    def notes(self, ins, out):
        if not self.crop:
            return []
        return [f"crops {fmt_shape(s)} → {'×'.join(map(str, out[1:]))}" for s in ins if s[1:] != out[1:]]

    def explain(self, ins, out):
        lines = [f"output: channels {' + '.join(str(s[0]) for s in ins)} = {out[0]} → {fmt_shape(out)}; params: 0"]
        for s, off in zip(ins, self.offsets(ins)):
            if self.crop and s[1:] != out[1:]:
                lines.append(f"center crop {fmt_shape(s)}: drop ⌊(n − {'×'.join(map(str, out[1:]))})/2⌋ = "
                             f"{'×'.join(map(str, off))} before on each axis (the rest after)")
        return lines

    def torch_module(self, ins):
        from ..pytorch.ops import Concat as M
        return M(crop=bool(self.crop))


class _Elementwise(Layer):
    """A merge computing one operation per output element per extra input (counted as other ops)."""
    arity = 0
    op: ClassVar[str]           # the word for the operation, as explanations say it
    torch_name: ClassVar[str]   # the module in pytorch.ops

    def other_ops(self, ins, out):
        return (len(ins) - 1) * numel(out)

    def explain(self, ins, out):
        return [f"output: {' ⊙ '.join(fmt_shape(s) for s in ins)} → {fmt_shape(out)}; params: 0",
                f"other ops: {len(ins) - 1} {self.op} per element = {n(self.other_ops(ins, out))}"]

    def torch_module(self, ins):
        from ..pytorch import ops as torch_ops
        return getattr(torch_ops, self.torch_name)()


class Add(_Elementwise):
    """Element-wise sum (residual connections). Shapes must be equal."""
    kinds = ("add",)
    op, torch_name = "add", "Add"

    def temp_elements(self, ins, out, batch):
        return numel(out) * batch if len(ins) > 2 else 0  # the running sum

    def check_input(self, ins):
        if len(set(ins)) > 1:
            raise LayerError("cannot add: shapes differ: " + " vs ".join(fmt_shape(s) for s in ins))


class Mul(_Elementwise):
    """Element-wise product with broadcasting of 1×1 maps: squeeze-and-excitation's channel scaling."""
    kinds = ("mul",)
    op, torch_name = "multiply", "Mul"

    def check_input(self, ins):
        out = self.output_shape(ins)
        for s in ins:
            if len(s) != len(out) or any(a not in (1, b) for a, b in zip(s, out)):
                raise LayerError("cannot multiply: shapes do not broadcast: " + " × ".join(fmt_shape(s) for s in ins))

    def output_shape(self, ins):
        return tuple(max(dims) for dims in zip(*ins)) if len({len(s) for s in ins}) == 1 else ins[0]

    def saved(self, ins, out, batch, grads):
        # a·b keeps b for a's gradient and a for b's; more inputs multiply pairwise, left to right
        saved, left, left_grad = [], "in0", grads[0]
        for i in range(1, len(ins)):
            if left_grad:
                saved.append(Saved(f"in{i}"))
            if grads[i]:
                saved.append(Saved(left) if left.startswith("in") else Saved("new", numel(out) * batch))
            left, left_grad = "partial", left_grad or grads[i]
        return saved

    def temp_elements(self, ins, out, batch):
        return numel(out) * batch if len(ins) > 2 else 0  # the running product

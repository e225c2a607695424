"""conv_transpose: the transposed ("fractionally strided") convolution of U-Net, DCGAN and FCN decoders."""
from __future__ import annotations

from typing import ClassVar, Optional

from pydantic import model_validator

from ..analysis import formulas as f
from ..errors import LayerError
from .reparam import Reparametrised
from .base import Layer, check_in_channels, Pad, Pair, PosInt, RFStep, Saved, axis_letters, fmt_pair, fmt_shape, n, numel


class ConvTranspose(Reparametrised, Layer):
    """Every input element scatters its kernel into the output: the gradient of a conv with the same fields.

    MACs are counted over input positions (each input element times each kernel tap), which is what the
    scatter form computes and what FlopCounterMode counts; the output-size form a regular conv would
    suggest counts the zeros between the inputs too and comes out about stride^rank times higher."""
    kinds = ("conv_transpose", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    weight_layer = True
    needs_map = True
    ranks = (1, 2, 3)
    axis_fields = ("kernel", "stride", "padding", "output_padding", "dilation")

    filters: PosInt
    kernel: Pair
    stride: Pair = 1
    padding: Pad = 0
    output_padding: Pad = 0
    dilation: Pair = 1
    groups: PosInt = 1
    bias: bool = True
    in_channels: Optional[PosInt] = None
    weight_norm: bool = False
    spectral_norm: bool = False
    spectral_dim: ClassVar[int] = 1  # torch's spectral_norm normalises a transposed conv's weight along dim 1

    @model_validator(mode="after")
    def _check(self):
        if self.filters % self.groups:
            raise ValueError(f"groups={self.groups} does not divide filters={self.filters}")
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= s and op >= d:  # PyTorch: "output padding must be smaller than either stride or dilation"
                raise ValueError(f"output_padding {op} must be smaller than the stride {s} or the dilation {d} "
                                 "(as PyTorch)")
        return self

    def check_input(self, ins):
        super().check_input(ins)
        check_in_channels(self.in_channels, ins)
        if ins[0][0] % self.groups:
            raise LayerError(f"groups={self.groups} does not divide the {ins[0][0]} input channels")

    def per_axis(self, ins):
        return zip(ins[0][1:], self.kernel, self.stride, self.padding, self.output_padding, self.dilation)

    def output_shape(self, ins):
        return (self.filters,) + tuple(f.conv_transpose_out(size, k, s, p, op, d)
                                       for size, k, s, p, op, d in self.per_axis(ins))

    def weights(self, ins) -> int:
        return f.conv_transpose_weights(self.kernel, ins[0][0], self.filters, self.groups)

    def biases(self, ins, out):
        return self.filters if self.bias else 0

    def weight_shape(self, ins):
        return (ins[0][0], self.filters // self.groups) + self.kernel

    def params(self, ins, out):
        return self.weights(ins) + self.biases(ins, out) + self.norm_params(ins)

    def buffers(self, ins, out):
        return self.norm_buffers(ins)

    def macs(self, ins, out):
        return f.conv_transpose_macs(self.kernel, ins[0][0], self.filters, ins[0][1:], self.groups)

    def backward_macs(self, ins, out, input_grad):
        # weight gradient as many MACs as the forward; the input gradient (a conv of grad_out) as many again
        return self.macs(ins, out) * (2 if input_grad else 1)

    def saved(self, ins, out, batch, grads):
        return [Saved("in0")] + self.norm_saved(ins)  # its input (and its weight, a parameter)

    def temp_elements(self, ins, out, batch):
        return self.norm_temp(ins, numel(out) * batch)

    def rf_steps(self, ins):
        # output unit o reads the inputs i with i·s − p + t·d = o (t = 0 … k−1): unit 0 reads ⌈(p − d(k−1))/s⌉
        # … ⌊p/s⌋, exactly; the next units move 1/s of an input on average (a fractional stride)
        return tuple(RFStep(*f.conv_transpose_rf(k, s, p, d)) for _, k, s, p, _, d in self.per_axis(ins))

    def rf_taps(self, ins, axis, u):
        # the inputs output unit u reads: i·s − p + t·d = u for a tap t, ascending
        k, s, p, d = self.kernel[axis], self.stride[axis], self.padding[axis], self.dilation[axis]
        return sorted((u + p - t * d) // s for t in range(k) if (u + p - t * d) % s == 0)

    def config(self):
        s = f"{fmt_pair(self.kernel)}/{fmt_pair(self.stride)} p{fmt_pair(self.padding)}"
        if set(self.output_padding) != {0}:
            s += f" op{fmt_pair(self.output_padding)}"
        if set(self.dilation) != {1}:
            s += f" d{fmt_pair(self.dilation)}"
        return s + (f" g{self.groups}" if self.groups != 1 else "")

    def notes(self, ins, out):
        return ["MACs over input positions"] + ([] if self.bias else ["no bias"]) + self.norm_notes()

    def output_size_macs(self, ins, out) -> int:
        """What counting it like a conv over the output positions would give."""
        return f.conv_macs_nd(self.kernel, ins[0][0], self.filters, out[1:], self.groups)

    def explain(self, ins, out):
        c_in, sizes = ins[0][0], ins[0][1:]
        lines = []
        per_axis = list(self.per_axis(ins))
        letters = axis_letters(len(sizes))
        same = len(per_axis) > 1 and len(set(per_axis)) == 1
        for axis, (size, k, s, p, op, d), o in zip(letters, per_axis, out[1:]):
            lines.append(f"output {' = '.join(letters) if same else axis}: ({size} − 1)·{s} − 2·{p} + {d}·({k} − 1) + "
                         f"{op} + 1 = {o}  ((n − 1)·s − 2p + d·(k − 1) + output_padding + 1)")
            if same:
                break
        lines.append(f"output: {fmt_shape(out)} ({self.filters} filters)")
        per_group = self.filters // self.groups
        kk = "·".join(map(str, self.kernel))
        lines.append(f"params: {c_in}·{per_group}·{kk}{' + ' + str(self.filters) if self.bias else ''} = "
                     f"{n(self.weights(ins) + self.biases(ins, out))}  "
                     f"(C_in·(C_out/groups)·Πk{' + C_out biases' if self.bias else ', no bias'})")
        lines += self.norm_explain(ins)
        macs = self.macs(ins, out)
        lines.append(f"MACs: {c_in}·{per_group}·{kk}·{'·'.join(map(str, sizes))} = {n(macs)}  "
                     "(C_in·(C_out/groups)·Πk·Π n_in: every input element times every kernel tap, the scatter "
                     "form; what FlopCounterMode counts)")
        lines.append(f"  counted over the output positions like a conv (Πk·C_in/groups·Π n_out·C_out) it would be "
                     f"{n(self.output_size_macs(ins, out))}: that counts the zeros between the inputs")
        lines.append(f"FLOPs: 2·MACs = {n(2 * macs)}")
        return lines

    def torch_module(self, ins):
        from torch import nn
        cls = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)[len(ins[0]) - 2]
        return self.reparametrise(cls(ins[0][0], self.filters, self.kernel, self.stride, self.padding,
                                      self.output_padding, self.groups, self.bias, self.dilation))

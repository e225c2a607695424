"""The captured model both front-ends hand to the mapping: ops in execution order over named values.

An op's `kind` and `attrs` use ONNX's vocabulary (Conv with kernel_shape/strides/pads/dilations/group,
Gemm, BatchNormalization, …) whichever front-end read it: the PyTorch front-end translates ATen ops
into it, so that one mapping (mapping.py) serves both. Values are named; a value is either an
activation (the network input, or an op's output) or a constant (`Const`: its shape, its role —
parameter, buffer or plain constant — and its contents where it is small enough to read).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import CnncalcError

SMALL = 4096   # a constant with at most this many elements is read (shapes, pads, scales); larger ones never are


class ModelError(CnncalcError):
    """A model that cannot be imported (the CLI prints one line and exits 2)."""


@dataclass
class Const:
    shape: tuple[int, ...]
    value: Any = None           # a numpy array when small enough to read (≤ SMALL elements), else None
    role: str = "const"         # "param", "buffer" or "const"


@dataclass
class Op:
    kind: str                   # ONNX's op type (Conv, Gemm, Relu, …)
    name: str                   # the model's name for it: a module path, or the node name
    inputs: list[str]
    outputs: list[str]
    attrs: dict = field(default_factory=dict)
    module: str = ""            # the module path that made it ('' = the model's own forward)


@dataclass
class Captured:
    name: str
    source: str                 # where it came from, as written in `source:` (a file name, never a full path)
    input: str                  # the value name of the network's input
    outputs: list[str]
    ops: list[Op]
    consts: dict[str, Const]
    shapes: dict[str, tuple[int, ...]]   # every activation's shape, batch first
    classes: dict[str, str] = field(default_factory=dict)   # module path → its class's name (PyTorch)

    def numel(self, value: str) -> int:
        out = 1
        for d in self.consts[value].shape:
            out *= d
        return out

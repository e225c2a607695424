"""Real models → the same architecture document a YAML file gives (`cnncalc import`, and every command
that takes a .onnx file or a PyTorch module in place of a YAML file).

ops (the captured model), mapping (one op → kind mapping for both front-ends: the dispatch table and the
walk; its mappers and patterns in mapping_common, mapping_conv, mapping_norm, mapping_shape), onnx_front (ONNX
files, read as untrusted data), torch_front (PyTorch modules through torch.export,
imported lazily; torch_source finds and loads the user's module, torch_aten writes ATen ops as ONNX's
vocabulary), writer (the YAML a person would write), structure (the model's repeated modules as
blocks and repeats), against (`verify --against`: a YAML file against the real model).

May import: errors, spec, layers, analysis; onnx (only here) and torch (lazily, in torch_front). Never:
exam, pytorch, render, cli — and spec, layers and analysis never import this package.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..analysis.graph import Graph
from ..errors import CnncalcError
from ..layers import fmt_shape
from ..spec.builder import build_graph
from .ops import Captured, ModelError

if TYPE_CHECKING:
    from .mapping_common import Mapped

_MODULE = re.compile(r"^(?P<where>.+):(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")


def is_onnx(source: str) -> bool:
    return str(source).lower().endswith(".onnx")


def is_module(source: str) -> bool:
    """`path/to/file.py:NAME` or `package.module:NAME`."""
    m = _MODULE.match(str(source))
    if not m:
        return False
    where = m["where"]
    return where.endswith(".py") or all(part.isidentifier() for part in where.split("."))


def is_source(source: Any) -> bool:
    """Whether a command's architecture argument names a model to import rather than a YAML file."""
    return isinstance(source, str) and (is_onnx(source) or is_module(source))


def source_file(source: str) -> str | None:
    """The file a source reads (for commands that must not write over it), None for a package module."""
    if is_onnx(source):
        return source
    m = _MODULE.match(source)
    return m["where"] if m and m["where"].endswith(".py") else None


@dataclass
class Imported:
    doc: dict                 # the architecture document (what `cnncalc import` writes)
    graph: Graph              # built from it, every layer proved against the model
    layers: list[Mapped]      # the mapped layers, in the order of the flat document
    captured: Captured


def capture(source: str, input: str | None = None, kwargs: dict | None = None, layout: str | None = None) -> Captured:
    """The model's ops and shapes; `input` (--input as written, channels last with layout="HWC") fixes its input."""
    if is_onnx(source):
        from .onnx_front import capture as onnx_capture
        return onnx_capture(source, input, layout)
    if is_module(source):
        from .torch_front import capture as torch_capture
        return torch_capture(source, input, kwargs or {}, layout)
    raise ModelError(f"{source}: expected a .onnx file, path/to/file.py:NAME or package.module:NAME")


def import_model(source: str, input: str | None = None, kwargs: dict | None = None, flat: bool = False,
                 layout: str | None = None) -> Imported:
    """Capture, map and write the model; build the document and prove every layer against the model."""
    from .mapping import layers_of
    from .writer import document
    cap = capture(source, input, kwargs, layout)
    mapped = layers_of(cap)
    doc, mapped = document(cap.name, cap.source, cap.shapes[cap.input][1:], cap.input, mapped, cap.outputs)
    graph = build_graph(doc, cap.source)
    prove(graph, mapped, cap)
    if not flat:
        doc, graph = with_blocks(doc, graph, cap)
    return Imported(doc, graph, mapped, cap)


def with_blocks(doc: dict, graph: Graph, cap: Captured) -> tuple[dict, Graph]:
    """The document with the model's repeated modules as blocks, when it builds the very same layers
    (names, kinds, shapes) as the flat one; else the flat one."""
    from .structure import structured
    blocked = structured(doc, cap.classes)
    if blocked is doc:
        return doc, graph
    try:
        other = build_graph(blocked, cap.source)
    except CnncalcError:  # a `share:` the blocks cannot name as the flat file does: keep the flat one
        return doc, graph
    same = figures_of(other) == figures_of(graph)
    return (blocked, other) if same else (doc, graph)


def figures_of(graph: Graph) -> list[tuple]:
    """Per node what the document must keep: name, layer, shape and whose parameters it shares."""
    return [(n.name, n.layer, n.out_shape, None if n.shares is None else graph.nodes[n.shares].name)
            for n in graph.nodes]


def prove(graph: Graph, mapped: list[Mapped], cap: Captured) -> None:
    """Every layer's output shape and parameter count as the model has them, else one line naming it."""
    for node, m in zip(graph.nodes, mapped):
        want = cap.shapes.get(m.output)
        if want is not None and tuple(want[1:]) != tuple(node.out_shape):
            raise ModelError(f"{node.name}: cnncalc's {node.layer.type} gives {fmt_shape(node.out_shape)} but the model "
                             f"gives {fmt_shape(want[1:])}: cannot import it faithfully", file=cap.source)
        params = node.layer.params(node.in_shapes, node.out_shape)
        if params != m.params:
            raise ModelError(f"{node.name}: the model holds {m.params:,} parameters, cnncalc's {node.layer.type} "
                             f"would have {params:,}: cannot import it faithfully", file=cap.source)


def load_source(source: str, input: str | None = None) -> Graph:
    """The graph of a model named on a command line (imported in memory)."""
    return import_model(source, input).graph


__all__ = ["Imported", "ModelError", "import_model", "is_source", "load_source", "source_file"]

"""Graph → torch.nn.Module: one submodule per graph node, called in the graph's order.

Every node of the analyzed graph becomes exactly one submodule (its layer's `torch_module`),
so forward hooks can attribute shapes, parameters and FLOPs to the node that produced them.
PyTorch module names cannot contain '.', so the dotted node names (`layer1.0.conv1`) are kept
as attribute names with '_' (`layer1_0_conv1`); `Network.node(dotted)` and `named_nodes()` map
back. `cnncalc export --torch` writes the same attribute names, so the state dicts match.

Imported only by verify, export and bench: `import cnncalc` never imports torch.
"""
from __future__ import annotations

import keyword
import re
from typing import Any, Iterator

import torch
from torch import nn

from ..analysis.graph import INPUT, Graph
from .ops import Reuse
from ..errors import quote

# attributes a Network sets on itself besides its node modules (names must not collide with them)
_OWN_ATTRS = ("graph_name", "input_shape", "node_names", "node_keys", "node_inputs", "node_train_only", "_release",
              "_key_of", "output_nodes", "_release_eval")


def _reserved() -> set[str]:
    return set(dir(nn.Module())) | set(vars(Network)) | set(_OWN_ATTRS) | {"x", "self", "torch", "nn"}


def identifier(name: str) -> str:
    """A dotted layer name as a Python identifier: every other character becomes '_'; a leading digit or
    underscore gets `layer_` in front (`self.__x` inside a class body would be name-mangled into `_Net__x`,
    and `__init__` would be nn.Module's own)."""
    s = re.sub(r"[^0-9A-Za-z_]", "_", name)
    return s if s and not s[0].isdigit() and s[0] != "_" else "layer_" + s


def attr_names(graph: Graph) -> list[str]:
    """One attribute name per node, in node order: `identifier(name)`, made unique and kept clear of
    Python keywords and of nn.Module's own attributes (a clash gets a numeric suffix)."""
    taken = _reserved()
    out = []
    for node in graph.nodes:
        base = identifier(node.name)
        key, k = base, 1
        while key in taken or keyword.iskeyword(key):
            k += 1
            key = f"{base}_{k}"
        taken.add(key)
        out.append(key)
    return out


def last_uses(graph: Graph, inference: bool = False) -> list[int]:
    """For each node, the index of the last node that reads its output (itself if none does);
    `inference`: auxiliary heads (train_only) do not run, so they read nothing."""
    last = list(range(len(graph.nodes)))
    for i, node in enumerate(graph.nodes):
        if inference and node.train_only:
            continue
        for j in node.inputs:
            if j != INPUT:
                last[j] = max(last[j], i)
    return last


class Network(nn.Module):
    """The graph as a module: `forward(x)` runs every node in topological order; a merge
    (concat, add) gets all its inputs as positional arguments. It returns the output, or the
    tuple of outputs (in `outputs:` order) when the network has several."""

    def __init__(self, graph: Graph):
        super().__init__()
        self.graph_name = graph.name
        self.input_shape = tuple(graph.input)
        self.node_names = [node.name for node in graph.nodes]
        self.node_keys = attr_names(graph)
        self.node_inputs = [tuple(node.inputs) for node in graph.nodes]
        self.node_train_only = [node.train_only for node in graph.nodes]
        self._key_of = dict(zip(self.node_names, self.node_keys))
        self.output_nodes = graph.output_nodes
        # values no longer needed after node i (freed during forward; the network's outputs are kept);
        # in eval mode the auxiliary heads do not run, so what only they read is freed earlier
        self._release = self.releases(last_uses(graph), set(self.output_nodes))
        self._release_eval = self.releases(last_uses(graph, inference=True), set(self.output_nodes))
        for node, key in zip(graph.nodes, self.node_keys):
            if node.shares is not None:  # `share:` one module, applied again here
                owner = self.node_keys[node.shares]
                self.add_module(key, Reuse(self._modules[owner], owner))
            else:
                self.add_module(key, node.layer.torch_module(list(node.in_shapes)))

    @staticmethod
    def releases(last: list[int], kept: set[int]) -> list[list[int]]:
        release: list[list[int]] = [[] for _ in last]
        for j, i in enumerate(last):
            if j not in kept:
                release[i].append(j)
        return release

    def forward(self, x):
        outs: list[Any] = [None] * len(self.node_keys)
        release = self._release if self.training else self._release_eval
        for i, (key, srcs) in enumerate(zip(self.node_keys, self.node_inputs)):
            if self.training or not self.node_train_only[i]:  # auxiliary heads run only in training
                outs[i] = self._modules[key](*[x if j == INPUT else outs[j] for j in srcs])
            for j in release[i]:
                outs[j] = None
        if not outs:
            return x
        if len(self.output_nodes) == 1:
            return outs[self.output_nodes[0]]
        return tuple(outs[o] for o in self.output_nodes)

    def node(self, name: str) -> nn.Module:
        """The submodule of the node with this dotted name (`layer1.0.conv1`)."""
        try:
            return self._modules[self._key_of[name]]
        except KeyError:
            raise KeyError(f"no layer named {quote(name)}") from None

    def named_nodes(self) -> Iterator[tuple[str, nn.Module]]:
        """(dotted name, submodule) for every node, in graph order."""
        for name, key in zip(self.node_names, self.node_keys):
            yield name, self._modules[key]

    def extra_repr(self) -> str:
        return f"{self.graph_name!r}, input={'×'.join(map(str, self.input_shape))}"


def build(graph: Any, input: Any = None) -> Network:
    """A Network for a Graph (or anything `cnncalc.load` takes: a path, a built-in name, a dict).

    Modules are created on torch's current default device: under `with torch.device("meta"):`
    nothing is allocated, which is how `verify --device meta` handles huge inputs."""
    if not isinstance(graph, Graph):
        from ..analysis.analyze import load
        graph = load(graph, input)
    return Network(graph)


__all__ = ["Network", "build", "attr_names", "identifier", "last_uses"]

"""`share: NAME`: a layer or block instance that reuses the parameters of an earlier one.

A mixin of the Builder (spec/builder.py): the item is built as usual, then each of its nodes with
parameters is linked to its counterpart in the earlier one, which must hold the same parameters
(`share_mismatch` says why not: another kind, config or input).
"""
from __future__ import annotations

from ..analysis.graph import Node
from ..errors import quote, suggest
from ..layers import fmt_shape
from ..layers.base import fmt_pair
from .composites import STRUCT
from .scope import Scope
from .yamlio import line_of, without


class Sharing:
    """Builder methods for `share:` (see Builder for the state they use)."""

    def shared(self, item, sc: Scope, cur: int) -> int:
        """`share: NAME`: the layer (or block instance) reuses the parameters of the earlier one named NAME."""
        target = self.scalar(item, "share", sc)
        line = line_of(item, "share")
        if not isinstance(target, str) or not target:
            raise self.err(f"share: expected the name of an earlier layer or block instance, got {quote(target)}",
                           line, sc.path)
        if any(k in item for k in STRUCT):
            raise self.err("share: goes on a layer or a block instance, not on branches or a residual", line, sc.path)
        first = len(self.graph.nodes)
        out = self.one(without(item, "share", sc.line), sc, cur)
        if item.get("type") in self.blocks:
            old = self.instance(target, item["type"], sc, line)
        else:
            old = [self.named(target, item, "share", sc)]
        self.share_params(old, list(range(first, len(self.graph.nodes))), line, sc.path)
        return out

    def instance(self, target: str, kind: str, sc: Scope, line) -> list[int]:
        """The nodes of the earlier instance of block `kind` named `target` (here, or by its full name)."""
        for name in (sc.prefix + target, target):
            for grp in self.graph.groups:
                if grp.name == name and grp.type == kind:
                    return list(range(grp.first, grp.last + 1))
        instances = [g.name for g in self.graph.groups if g.type == kind]
        raise self.err(f"share: no earlier instance of block {quote(kind)} named {quote(target)}{suggest(target, instances)}",
                       line, sc.path, derived=True)

    def share_params(self, old: list[int], new: list[int], line, path: str) -> None:
        """Link each new node with parameters to its counterpart in `old`; both must hold the same parameters."""
        nodes = self.graph.nodes
        if len(old) != len(new):
            raise self.err(f"share: {nodes[new[-1]].name} has {len(new)} layers, {nodes[old[-1]].name} has "
                           f"{len(old)}", line, path, derived=self.tainted(*old, *new))
        for o, k in zip(old, new):
            a, b = nodes[o], nodes[k]
            why = share_mismatch(a, b)
            if why:
                raise self.err(f"share: {b.name} cannot reuse the parameters of {a.name}: {why}", line, path,
                               derived=self.tainted(o, k))
            if a.layer.params(a.in_shapes, a.out_shape) or a.layer.buffers(a.in_shapes, a.out_shape):
                b.shares = o if a.shares is None else a.shares


def share_mismatch(a: Node, b: Node) -> str:
    """Why node `b` cannot reuse node `a`'s parameters ('' when it can): another kind, config or input."""
    if type(a.layer) is not type(b.layer):
        return f"{b.layer.type} here, {a.layer.type} there"
    fields = [k for k in type(a.layer).model_fields if k != "type" and getattr(a.layer, k) != getattr(b.layer, k)]
    if fields:
        return "; ".join(f"{k} {_shown(getattr(b.layer, k))} here, {_shown(getattr(a.layer, k))} there"
                         for k in fields)
    ca, cb = [s[0] for s in a.in_shapes], [s[0] for s in b.in_shapes]
    if ca != cb:
        return f"{', '.join(map(str, cb))} input channels here, {', '.join(map(str, ca))} there"
    pa, pb = a.layer.params(a.in_shapes, a.out_shape), b.layer.params(b.in_shapes, b.out_shape)
    if pa != pb:
        return f"{pb:,} params here, {pa:,} there (input {fmt_shape(b.in_shapes[0])} vs {fmt_shape(a.in_shapes[0])})"
    return ""


def _shown(v) -> str:
    return fmt_pair(v) if isinstance(v, tuple) and v and all(isinstance(x, int) for x in v) else repr(v)

"""Leaf layers of an architecture file: fields validated by the layer's class, shapes checked on the way.

A mixin of the Builder (spec/builder.py): `leaf` validates a layer's fields (equal fields share one
frozen instance) and `add` appends its node after checking its input and output shapes. An error names
the field; a kind or field written as PyTorch names it gets its name here (`pytorch_field`, `unknown_kind`).
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..analysis.graph import INPUT, Node
from ..errors import LayerError, SpecError, quote, suggest
from ..layers import REGISTRY, Layer, fmt_shape
from ..layers.base import FIELD_SYNONYMS, SYNONYMS
from .bounds import MAX_NODES, check_sizes
from .expr import substitute_all
from .files import MAX_SIZE
from .scope import Scope
from .yamlio import line_of


class Leaves:
    """Builder methods for leaf layers and the names they read (see Builder for the state they use)."""

    def leaf(self, item, kind: str, name: str, sc: Scope, src: list[int]) -> int:
        cls = REGISTRY[kind]
        fields = dict(self.defaults.get(kind, {}))
        for k, v in item.items():
            if k in ("name", "inputs"):
                continue
            fields[k] = self.deep(v, item, k, sc)
        fields["type"] = kind
        too_big = check_sizes(fields)
        if too_big:
            raise self.err(f"{kind}: {too_big}", sc.line, sc.path)
        rank = len(self.graph.shape_of(src[0])) - 1  # spatial axes: an int kernel/stride spreads over them
        key = _freeze(fields)
        key = None if key is None else (rank, key)
        layer = self.validated.get(key) if key is not None else None
        if layer is None:
            try:
                layer = cls.model_validate(fields, context={"rank": rank})
            except ValidationError as e:
                raise self.validation(e, item, kind, sc) from None
            if key is not None:
                self.validated[key] = layer  # layers are frozen: equal fields share one instance
        if cls.arity == 0 and "inputs" not in item:
            raise self.err(f"{kind} needs `inputs: [name, …]` naming the layers it joins", sc.line, sc.path)
        if cls.arity == 1 and len(src) != 1:
            raise self.err(f"{kind} takes one input, got {len(src)}", line_of(item, "inputs"), sc.path)
        if getattr(layer, "size_of", None) is not None:  # upsample to another layer's size: read as a 2nd input
            src = src + [self.named(layer.size_of, item, "size_of", sc)]
        return self.add(name, layer, src, sc)

    def named(self, nm: str, item, key: str, sc: Scope) -> int:
        """The node an earlier layer's name (or `input`, the sequence's input) stands for here."""
        if nm in sc.local and sc.local[nm] is None:
            raise self.err(f"{key}: {quote(nm)} has repeat: 0, so it produces nothing", line_of(item, key), sc.path)
        if nm in sc.local:
            return sc.local[nm]
        if nm in self.names:
            return self.names[nm]
        raise self.err(f"{key}: no earlier layer named {quote(nm)}{suggest(nm, list(sc.local) + list(self.names))}",
                       line_of(item, key), sc.path, derived=True)

    def deep(self, v, item, key, sc: Scope):
        """A field's value with the block parameters substituted, in lists and mappings at any depth."""
        try:
            return substitute_all(v, sc.env)
        except SpecError as e:
            raise e.located(self.file, line_of(item, key), sc.path)

    def validation(self, e: ValidationError, item, kind: str, sc: Scope) -> SpecError:
        # a misspelt field shows up as both 'unknown' and 'missing': name the misspelling
        err = sorted(e.errors(), key=lambda x: x["type"] != "extra_forbidden")[0]
        loc = [str(x) for x in err["loc"] if not isinstance(x, int)]
        field_name = loc[0] if loc else None
        allowed = [f for f in REGISTRY[kind].model_fields if f != "type"]
        if err["type"] == "missing":
            msg = f"{kind}: missing field {quote(field_name)} (fields: {', '.join(allowed)})"
            return self.err(msg, sc.line, sc.path)
        if err["type"] == "extra_forbidden":
            hint = pytorch_field(kind, field_name, allowed, item.get(field_name))
            if hint:
                return self.err(f"{kind}: {hint}", line_of(item, field_name), sc.path)
            msg = f"{kind}: unknown field {quote(field_name)}{suggest(field_name, allowed)} (fields: {', '.join(allowed)})"
            return self.err(msg, line_of(item, field_name), sc.path)
        text = err["msg"].removeprefix("Value error, ")
        if field_name:
            got = err.get("input")
            msg = f"{kind}: {field_name}: {text}" + (f" (got {quote(got)})" if got is not None and "got" not in text else "")
            return self.err(msg, line_of(item, field_name), sc.path)
        return self.err(f"{kind}: {text}", sc.line, sc.path)

    def add(self, name: str, layer: Layer, src: list[int], sc: Scope) -> int:
        g, line, path = self.graph, sc.line, sc.path
        if name in self.names:
            first = g.nodes[self.names[name]]
            where = f"line {first.line}" if first.line else first.path
            raise self.err(f"duplicate layer name {quote(name)} (first at {where})", line, path)
        if len(g.nodes) >= MAX_NODES:
            raise self.err(f"more than {MAX_NODES:,} layers", line, path, fatal=True)
        ins = [g.shape_of(i) for i in src]
        tainted = self.tainted(*src)  # a shape error may then follow from the earlier error
        if not self.training_only:
            for i in src:
                if i != INPUT and g.nodes[i].train_only:
                    raise self.err(f"{name} runs at inference but reads {g.nodes[i].name}, which is train_only",
                                   line, path)
        try:
            layer.check_input(ins)
            out = layer.output_shape(ins)
        except LayerError as e:
            e.derived = tainted
            raise e.located(self.file, line, f"{path} ({name}, input {', '.join(fmt_shape(s) for s in ins)})")
        if min(out) < 1:
            raise self.err(f"{layer.type} on input {', '.join(fmt_shape(s) for s in ins)} gives "
                           f"{fmt_shape(out)}: the map shrinks to nothing", line, f"{path} ({name})", derived=tainted)
        if max(out) > MAX_SIZE:
            raise self.err(f"{layer.type} gives a size over the limit of {MAX_SIZE:,} ({max(out):.3g})", line,
                           f"{path} ({name})", derived=tainted)
        g.nodes.append(Node(name, layer, src, ins, out, line, path, sc.groups, self.training_only > 0))
        self.names[name] = len(g.nodes) - 1
        if tainted:
            self.suspect.add(len(g.nodes) - 1)
        return len(g.nodes) - 1


def pytorch_field(kind: str, field_name: str, allowed: list[str], value: Any = None) -> str | None:
    """The error for a field written as PyTorch (or Keras) names it, where the kind has its equivalent."""
    ours = FIELD_SYNONYMS.get(field_name)
    if ours in allowed:
        return f"unknown field {quote(field_name)}: PyTorch's {field_name} is `{ours}` here"
    if field_name == "activation":
        act = (SYNONYMS.get(value) or value.lower()) if isinstance(value, str) and value.isidentifier() else "relu"
        return f"unknown field 'activation': write the activation as its own layer after this one (`- {act}`)"
    return None


# PyTorch's modules that are a field of a kind here
AS_FIELD = {"frozenbatchnorm2d": "`batchnorm` with `frozen: true`",
            "weight_norm": "`weight_norm: true` on a conv, conv_transpose or linear",
            "spectral_norm": "`spectral_norm: true` on a conv, conv_transpose or linear"}


def unknown_kind(kind: str, blocks: list[str]) -> str:
    """The error for an unknown `type`: PyTorch's name for a kind gets its cnncalc name; otherwise the kinds."""
    if kind in SYNONYMS or kind.lower() in SYNONYMS:
        return f"unknown layer kind {quote(kind)}: PyTorch's {kind} is `{SYNONYMS.get(kind) or SYNONYMS[kind.lower()]}` here"
    if kind.lower() in AS_FIELD:
        return f"unknown layer kind {quote(kind)}: PyTorch's {kind} is {AS_FIELD[kind.lower()]} here"
    hint = suggest(kind, list(REGISTRY) + blocks)
    return f"unknown layer kind {quote(kind)}{hint}; layer kinds: {', '.join(sorted(REGISTRY))}" + (
        f"; blocks: {', '.join(blocks)}" if blocks else "")


def _freeze(fields: dict):
    """A hashable key for a layer's fields (None when a value is not a plain scalar or list)."""
    try:
        key = tuple(sorted((k, _frozen(v)) for k, v in fields.items()))
        hash(key)
        return key
    except TypeError:
        return None


def _frozen(v):
    """A value with its type: 3, 3.0 and True are equal and hash alike, but a layer validates them differently."""
    if isinstance(v, list):
        return tuple(_frozen(x) for x in v)
    if isinstance(v, dict):
        return ("{}",) + tuple((k, _frozen(x)) for k, x in v.items())
    return (type(v).__name__, v)

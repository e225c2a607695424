"""Composite items of an architecture file: blocks, branches, residuals and their groups.

A mixin of the Builder (spec/builder.py): these methods expand a composite into leaf layers through the
builder's own `seq` and `add`, so names, errors and groups are made in one place.
"""
from __future__ import annotations

from dataclasses import replace

from ..analysis.graph import Group, Rule
from ..errors import quote, suggest
from ..layers import REGISTRY, Shape, fmt_shape
from ..layers.base import axis_letters
from .bounds import MAX_DEPTH, Nesting, printable, too_many
from .expr import substitute
from .scope import Scope
from .yamlio import line_of

STRUCT = ("branches", "residual")


class Composites:
    """Builder methods for blocks, branches and residuals (see Builder for the state they use)."""

    def open_group(self, name: str, gtype: str, sc: Scope, cur: int) -> int:
        g = self.graph
        g.groups.append(Group(sc.prefix + name, gtype, sc.level, cur, g.shape_of(cur), first=len(g.nodes)))
        return len(g.groups) - 1

    def close_group(self, gidx, last):
        grp = self.graph.groups[gidx]
        if grp.first == len(self.graph.nodes):  # nothing inside (repeat: 0): no group to report
            del self.graph.groups[gidx:]
            return
        grp.last = last
        grp.out_shape = self.graph.shape_of(last)

    def branches(self, item, name: str, sc: Scope, cur: int, flat=None) -> int:
        """Parallel paths concatenated on channels; `flat` (the enclosing counters): add no name level."""
        spec = item["branches"]
        bpath = f"{sc.path}.branches"
        if not isinstance(spec, list) or len(spec) < 2:
            raise self.err("branches: expected a list of at least two paths (each a list of layers)",
                           line_of(item, "branches"), bpath)
        gidx = None if flat is not None else self.open_group(name, "branches", sc, cur)
        full = sc.prefix if flat is not None else sc.prefix + name + "."
        outs = []
        for b, br in enumerate(spec):
            bname, layers = f"b{b + 1}", br
            if isinstance(br, dict):
                bname = printable(str(br.get("name", bname)), self.err("", line_of(br, "name"), f"{bpath}[{b}]"))
                layers = br.get("layers")
                if layers is None:
                    raise self.err("a named branch needs `layers:`", line_of(spec, b), f"{bpath}[{b}]")
            if layers == "identity" or layers == []:
                outs.append(cur)  # a pass-through path (DenseNet: concat the input with the new features)
                continue
            outs.append(self.seq(layers, sc.child(full + bname + ".", f"{bpath}[{b}]", gidx), cur))
        shapes = [self.graph.shape_of(o) for o in outs]
        if len({s[1:] for s in shapes}) > 1:
            desc = ", ".join(f"b{i + 1} → {fmt_shape(s)}" for i, s in enumerate(shapes))
            raise self.err(f"branches end in different spatial sizes, cannot concatenate: {desc}", sc.line,
                           f"{sc.path} ({sc.prefix + name})", derived=self.tainted(*outs))
        inner = replace(sc, groups=sc.groups + ((gidx,) if gidx is not None else ()))
        out = self.add(full + "concat", REGISTRY["concat"](type="concat"), outs, inner)
        if gidx is not None:
            self.close_group(gidx, out)
        return out

    def residual(self, item, name: str, sc: Scope, cur: int, flat=None) -> int:
        """Body plus shortcut, summed; `flat` (the enclosing counters): add no name level, and number
        unnamed body layers on from the enclosing sequence (relu1 in the body, relu2 after the add)."""
        spec = item["residual"]
        rpath = f"{sc.path}.residual"
        if not isinstance(spec, dict) or "body" not in spec:
            raise self.err("residual: expected {body: [layers], shortcut: identity | projection | auto | [layers]}",
                           line_of(item, "residual"), rpath)
        extra = set(spec) - {"body", "shortcut"}
        if extra:
            key = first_in(spec, extra)
            raise self.err(f"residual: unknown key {quote(key)} (expected body, shortcut)", line_of(spec, key), rpath)
        gidx = None if flat is not None else self.open_group(name, "residual", sc, cur)
        full = sc.prefix if flat is not None else sc.prefix + name + "."
        self.flat_prefixes.add(full)  # its add and downsample are named here: nothing else may flatten into it
        body = self.seq(spec["body"], sc.child(full, f"{rpath}.body", gidx, flat), cur)
        shortcut = spec.get("shortcut", "identity")
        shortcut = substitute(shortcut, sc.env) if isinstance(shortcut, str) else shortcut
        in_shape, out_shape = self.graph.shape_of(cur), self.graph.shape_of(body)
        inner = replace(sc, groups=sc.groups + ((gidx,) if gidx is not None else ()))
        at_shortcut = inner.at(f"{rpath}.shortcut", line_of(spec, "shortcut") or sc.line)
        if shortcut == "auto":
            shortcut = auto_shortcut(in_shape, out_shape)
            self.graph.rules.append(Rule("auto", cur, body, shortcut))
        elif shortcut == "projection":
            self.projections.append((at_shortcut.line, self.repeating[-1] if self.repeating else None,
                                     in_shape == out_shape))
        if shortcut == "identity":
            short = cur
        elif shortcut == "projection":
            short = self.projection(full + "downsample.", cur, body, at_shortcut)
        elif isinstance(shortcut, list):
            short = self.seq(shortcut, sc.child(full + "downsample.", at_shortcut.path, gidx), cur)
        else:
            raise self.err(f"shortcut: expected identity, projection, auto or a list of layers, got {quote(shortcut)}",
                           at_shortcut.line, at_shortcut.path)
        a, b = self.graph.shape_of(body), self.graph.shape_of(short)
        if a != b:
            raise self.err(f"residual cannot add body output {fmt_shape(a)} to shortcut {fmt_shape(b)}"
                           + (" (use shortcut: projection)" if shortcut == "identity" else ""), sc.line,
                           f"{sc.path} ({sc.prefix + name})", derived=self.tainted(body, short))
        out = self.add(full + "add", REGISTRY["add"](type="add"), [body, short], inner)
        if gidx is not None:
            self.close_group(gidx, out)
        return out

    def projection(self, prefix: str, cur: int, body: int, sc: Scope) -> int:
        """1×1 convolution (no bias) + batchnorm, strided to match the body (torchvision's downsample)."""
        out_shape = self.graph.shape_of(body)
        try:
            strides = projection_strides(self.graph.shape_of(cur), out_shape)
        except ValueError as e:
            raise self.err(str(e), sc.line, sc.path, derived=self.tainted(cur, body)) from None
        self.graph.rules.append(Rule("projection", cur, body, strides))
        conv = REGISTRY["conv"].model_validate(dict(type="conv", filters=out_shape[0], kernel=1, stride=list(strides),
                                                    bias=False), context={"rank": len(strides)})
        c = self.add(prefix + "0", conv, [cur], sc)
        bn = REGISTRY["batchnorm"].model_validate({**self.defaults.get("batchnorm", {}), "type": "batchnorm"})
        return self.add(prefix + "1", bn, [c], sc)  # the file's batchnorm defaults (eps, frozen) apply

    def block(self, item, kind: str, name: str, sc: Scope, cur: int) -> int:
        block = self.blocks[kind]
        if kind in self.stack:
            chain = " → ".join(self.stack[self.stack.index(kind):] + [kind])
            raise self.err(f"block {quote(kind)} refers to itself ({chain})", sc.line, sc.path)
        env = self.block_env(item, kind, sc)
        self.bound(self.times, self.estimate.block(kind), sc.line, sc.path)
        gidx = self.open_group(name, kind, sc, cur)
        self.stack.append(kind)
        try:
            inner = replace(sc.child(sc.prefix + name + ".", f"{sc.path}<{kind}>", gidx), env=env)
            out = self.seq(block["layers"], inner, cur)
        finally:
            self.stack.pop()
        self.close_group(gidx, out)
        return out

    def bound(self, times: int, each: int, line, path, what: str = "") -> None:
        """Refuse, before building it, what would expand past MAX_NODES (see bounds.py)."""
        msg = too_many(len(self.graph.nodes), times, each, what)
        if msg:
            raise self.err(msg, line, path, fatal=True)

    def bound_all(self, layers: list) -> None:
        """The whole network's nesting and estimate, before anything is built; the error names the item that
        nests too deep or overflows."""
        nesting = Nesting(self.blocks)
        for i, it in enumerate(layers):
            depth = nesting.item(it)
            if depth > MAX_DEPTH:
                raise self.err(f"blocks, branches and residuals nested {depth:,} levels deep; the limit is {MAX_DEPTH}",
                               line_of(layers, i), f"layers[{i}]")
        found = self.estimate.overflow(layers)
        if found:
            i, msg = found
            it = layers[i]
            line = line_of(it, "repeat") if isinstance(it, dict) and "repeat" in it else line_of(layers, i)
            raise self.err(msg, line, f"layers[{i}]")

    def block_env(self, item, kind: str, sc: Scope) -> dict:
        """The block's parameters: the item's arguments (substituted in the caller's scope) over the defaults."""
        block = self.blocks[kind]
        declared = block.get("params") or {}
        if isinstance(declared, list):
            declared = {p: None for p in declared}
        if not isinstance(declared, dict):
            raise self.err(f"blocks.{kind}.params: expected a list of names or a mapping name: default",
                           line_of(block, "params"), f"blocks.{kind}")
        bad = next((p for p in declared if not (isinstance(p, str) and p.isidentifier())), None)
        if bad is not None:
            raise self.err(f"blocks.{kind}.params: {quote(bad)} is not a parameter name (letters, digits, _)",
                           line_of(block, "params"), f"blocks.{kind}")
        args = {k: v for k, v in item.items() if k not in ("name", "type", "inputs")}
        for k in args:
            if k not in declared:
                raise self.err(f"block {quote(kind)} has no parameter {quote(k)}{suggest(k, declared)}"
                               f" (parameters: {', '.join(declared) or 'none'})", line_of(item, k), sc.path)
        env = {}
        for p, default in declared.items():
            if p in args:
                env[p] = self.deep(args[p], item, p, sc)
            elif default is not None:
                env[p] = default
            else:
                raise self.err(f"block {quote(kind)} needs parameter {quote(p)}", sc.line, sc.path)
        return env



def auto_shortcut(in_shape: Shape, out_shape: Shape) -> str:
    """`shortcut: auto`: identity where the body keeps the shape, else a projection."""
    return "identity" if in_shape == out_shape else "projection"


def projection_strides(in_shape: Shape, out_shape: Shape) -> tuple[int, ...]:
    """Per spatial axis, the stride of the 1×1 conv that maps the input's size onto the body's (ValueError if none)."""
    if len(in_shape) < 2 or len(in_shape) != len(out_shape):
        raise ValueError("projection shortcut needs C×H×W maps")
    strides = []
    for axis, a, b in zip(axis_letters(len(in_shape) - 1), in_shape[1:], out_shape[1:]):
        s = -(-a // b)
        if (a - 1) // s + 1 != b:
            raise ValueError(f"projection cannot map {axis}={a} to {axis}={b} with a strided 1×1 conv")
        strides.append(s)
    return tuple(strides)


def first_in(mapping: dict, keys: set):
    """The first of `keys` in the file's order (keys may mix types, so no sorting)."""
    return next(k for k in mapping if k in keys)

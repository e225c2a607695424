"""Architecture files (format v1) → Graph.

Reads the YAML mapping (with line numbers), expands blocks, repeats, branches and residuals
into leaf layers, validates each layer with its Pydantic class and infers every shape on the
way, so that each error names the file, the line and the layer path.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import CnncalcError, SpecError, SpecErrors, quote, suggest
from ..errors import printable as shown
from .bounds import MAX_DEPTH, MAX_REPEAT, Estimator, printable
from .collect import Collecting
from .expr import substitute
from .files import MAX_SIZE
from ..analysis.graph import INPUT, Graph
from ..layers import REGISTRY, Shape
from .leaves import Leaves, unknown_kind
from .order import in_order, parse_layout
from .outputs import resolve_outputs
from .composites import STRUCT, Composites, first_in
from .scope import Scope
from .sharing import Sharing
from .yamlio import LList, LMap, line_of, own_line, without

TOP_KEYS = {"name", "source", "input", "layout", "defaults", "blocks", "layers", "outputs", "description", "figures", "format"}
DEFAULT_GROUPS = {"pool": ("maxpool", "avgpool")}


def parse_shape(value: Any, what: str = "input") -> Shape:
    """[C, L], [C, H, W], [C, D, H, W], [N], '3x224x224', '3×224×224' → a shape tuple of positive ints (each
    ≤ MAX_SIZE)."""
    if isinstance(value, str) and re.search(r"\d{19}", value):
        raise SpecError(f"{what}: a size larger than {MAX_SIZE:,}")
    if isinstance(value, str):
        parts = re.split(r"\s*[x×,*]\s*", value.strip().strip("[]()"))
        try:
            value = [int(p) for p in parts if p != ""]
        except ValueError:
            raise SpecError(f"{what}: expected C×H×W such as 3x224x224, got {quote(value)}") from None
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if (not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 4
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise SpecError(f"{what}: expected [C, H, W] (or [C, L], [C, D, H, W], [N] for a vector), got {quote(value)}")
    if min(value) < 1:
        raise SpecError(f"{what}: sizes must be ≥ 1, got {list(value)}")
    if max(value) > MAX_SIZE:
        raise SpecError(f"{what}: a size larger than {MAX_SIZE:,}")
    return tuple(value)


def override_input(base: Shape, text: str, layout: str | None = None) -> Shape:
    """`--input 64` keeps the channels and sets every spatial size to 64 (H = W = 64); fewer numbers than
    the input has set the last spatial sizes (`64x48` on C×H×W or C×D×H×W sets H, W); a full shape sets all,
    written channels first unless `layout` (--layout HWC) says otherwise — or refused where its order is
    ambiguous (spec/order.py)."""
    if re.search(r"\d{19}", text):
        raise SpecError(f"--input {text[:40]}: a size larger than {MAX_SIZE:,}")
    parts = parse_shape(text, "--input")
    if len(parts) == 1 and len(base) >= 2:
        return (base[0],) + parts * (len(base) - 1)
    if 2 <= len(parts) < len(base):
        return base[:len(base) - len(parts)] + parts
    return flag_shape(parts, layout)


def flag_shape(text: str | Shape, layout: str | None = None) -> Shape:
    """A full shape given by --input: channels first unless `layout` says otherwise, refused (naming the
    flag) where its order is ambiguous (spec/order.py)."""
    parts = parse_shape(text, "--input")
    try:
        return in_order(parts, layout, "CHW", flag=True)
    except SpecError as e:
        raise SpecError(f"--input {'x'.join(map(str, parts))}: {e.message}") from None


class Builder(Collecting, Leaves, Sharing, Composites):
    def __init__(self, doc: LMap, file: str | None, input_shape: Shape | None = None):
        self.doc, self.file = doc, file
        self.blocks: dict = {}
        self.defaults: dict = {}
        self.stack: list[str] = []
        self.names: dict[str, int] = {}
        self.graph: Graph | None = None
        self.input_override = input_shape
        self.flat_prefixes: set[str] = set()  # prefixes an unnamed branches/residual was flattened into
        self.validated: dict = {}
        self.estimate = Estimator({})
        self.times = 1          # how many times the item being built will be built (enclosing repeats)
        self.training_only = 0  # > 0 while building layers marked train_only
        self.errors: list[CnncalcError] = []  # the layers' errors so far (the build goes on past each)
        self.suspect: set[int] = set()  # nodes standing in for a failed item, and every node built on one
        self.repeating: list[str] = []  # the enclosing repeated items' names, innermost last
        self.projections: list[tuple] = []  # (line, repeated item, keeps the shape) per `shortcut: projection`

    def file_input(self, doc) -> Shape:
        """`input:`, channels first unless `layout: HWC` says it is written channels last."""
        layout = None
        if "layout" in doc:
            try:
                layout = parse_layout(doc["layout"], "layout")
            except SpecError as e:
                raise e.located(self.file, line_of(doc, "layout"))
        try:
            return in_order(parse_shape(doc["input"]), layout, "CHW", flag=False, listed=isinstance(doc["input"], list))
        except SpecError as e:
            raise e.located(self.file, line_of(doc, "input"), "input")

    # -- top level -------------------------------------------------------------------
    def build(self) -> Graph:
        doc = self.doc
        if doc is None:
            raise self.err("empty file: expected a mapping with name, input and layers", None, None)
        if not isinstance(doc, dict):
            raise self.err(f"the top level must be a mapping with name, input and layers, not a "
                           f"{_kind(doc)}", own_line(doc) or 1, None)
        if "layers" not in doc and "input" not in doc:
            # name no key: a file that is no architecture at all may hold anything (a CI log is public)
            raise self.err("not an architecture: expected a mapping with `input:` and `layers:`", own_line(doc) or 1,
                           None)
        for key in doc:
            if key not in TOP_KEYS:
                raise self.err(f"unknown top-level key {quote(key)}{suggest(key, TOP_KEYS)}", line_of(doc, key), key)
        for key in ("input", "layers"):
            if key not in doc:
                raise self.err(f"missing top-level key {quote(key)}", own_line(doc), None)
        shape = self.input_override or self.file_input(doc)
        name = doc.get("name", shown(Path(self.file).stem)[:200] if self.file else "network")
        printable(str(name), self.err("", line_of(doc, "name"), None))   # the message says `name:`
        if "source" in doc and not isinstance(doc["source"], (str, int, float)):   # printed in every report
            raise self.err(f"expected text, got {quote(doc['source'])}", line_of(doc, "source"), "source")
        self.graph = Graph(name=str(name), source=str(doc.get("source", "")), input=shape, file=self.file, doc=doc)
        self._defaults(doc.get("defaults"), line_of(doc, "defaults"))
        self.blocks = self._blocks(doc)
        layers = doc["layers"]
        if not isinstance(layers, list) or not layers:
            raise self.err("layers: expected a non-empty list", line_of(doc, "layers"), "layers")
        self.estimate = Estimator(self.blocks)
        self.bound_all(layers)
        top = Scope()
        try:
            self.seq(layers, top, INPUT)
        except RecursionError:
            raise self.err("nesting too deep", None, "layers") from None
        if self.errors:
            self.stop()
        if not self.graph.nodes:
            raise self.err("layers: no layer is left (every item has repeat: 0)", line_of(doc, "layers"), "layers")
        resolve_outputs(self, doc, top)
        self.graph.notes = projection_notes(self.projections)
        return self.graph


    def _blocks(self, doc) -> dict:
        blocks = doc.get("blocks") or {}
        if not isinstance(blocks, dict):
            raise self.err("blocks: expected a mapping of block name → {params, layers}", line_of(doc, "blocks"), "blocks")
        for bname, block in blocks.items():
            printable(str(bname), self.err("", line_of(blocks, bname), "blocks"))
            where = f"blocks.{bname}"
            if bname in REGISTRY:
                raise self.err(f"block name {quote(bname)} is a layer kind; choose another", line_of(blocks, bname), where)
            if not isinstance(block, dict) or "layers" not in block:
                raise self.err("a block needs `layers:` (and optionally `params:`)", line_of(blocks, bname), where)
            extra = set(block) - {"params", "layers", "description"}
            if extra:
                key = first_in(block, extra)
                raise self.err(f"unknown key {quote(key)} in block (expected params, layers)", line_of(block, key), where)
        return blocks

    def _defaults(self, d, line):
        if d is None:
            return
        if not isinstance(d, dict):
            raise self.err("defaults: expected a mapping such as {pool: {ceil_mode: true}}", line, "defaults")
        for kind, fields in d.items():
            kinds = DEFAULT_GROUPS.get(kind, (kind,))
            if any(k not in REGISTRY for k in kinds):
                raise self.err(f"defaults: unknown layer kind {quote(kind)}{suggest(kind, list(REGISTRY) + ['pool'])}",
                               line_of(d, kind), f"defaults.{kind}")
            if not isinstance(fields, dict):
                raise self.err("expected a mapping of field: value", line_of(d, kind), f"defaults.{kind}")
            for k in kinds:
                for field_name in fields:
                    if field_name not in REGISTRY[k].model_fields:
                        raise self.err(f"{k} has no field {quote(field_name)}", line_of(fields, field_name),
                                       f"defaults.{kind}")
                self.defaults.setdefault(k, {}).update(fields)

    # -- sequences -------------------------------------------------------------------
    def seq(self, items, sc: Scope, cur: int) -> int:
        """Append a list of items after node `cur` in scope `sc` (a sequence of its own: `sc.local` and
        `sc.counters` belong to it); return the last node (or `cur` if empty)."""
        if not isinstance(items, list):
            raise self.err(f"expected a list of layers, got {_kind(items)}", own_line(items), sc.path)
        if sc.level > MAX_DEPTH:
            raise self.err(f"blocks nested more than {MAX_DEPTH} deep", own_line(items), sc.path, fatal=True)
        sc.local["input"] = cur
        for i, item in enumerate(items):
            try:
                cur = self.item(item, sc.at(f"{sc.path}[{i}]", line_of(items, i)), cur)
            except SpecErrors:
                raise
            except CnncalcError as e:
                self.collect(e.located(self.file))
                cur = self.stand_in(item, sc, cur)
        return cur

    def item(self, item, sc: Scope, cur: int) -> int:
        if isinstance(item, str):
            item = {"type": item}
        if not isinstance(item, dict):
            raise self.err(f"expected a layer (a mapping with `type:`, or a name such as relu), got {_kind(item)}",
                           sc.line, sc.path)
        sc = sc.at(sc.path, own_line(item))
        if "train_only" in item:
            return self.train_only_item(item, sc, cur)
        if "repeat" in item:
            return self.repeat(item, sc, cur)
        return self.one(item, sc, cur)

    def repeat(self, item, sc: Scope, cur: int) -> int:
        """`repeat: N`: the item N times, named name.0 … name.N-1 (grouped under `name` when named)."""
        n = self.scalar(item, "repeat", sc)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_REPEAT:
            raise self.err(f"repeat: expected a whole number from 0 to {MAX_REPEAT:,}, got {quote(n)}",
                           line_of(item, "repeat"), sc.path)
        self.bound(self.times * n, self.estimate.once(item), line_of(item, "repeat"), sc.path, "repeat: ")
        base = self.local_name(item, sc)
        if n == 0:
            sc.local[base] = None  # the item vanishes: no layer; its name produces nothing
            return cur
        gidx = self.open_group(base, "repeat", sc, cur) if item.get("name") else None
        inner = sc if gidx is None else replace(sc, groups=sc.groups + (gidx,), level=sc.level + 1)
        once = {k: v for k, v in item.items() if k != "repeat"}
        outer = self.times
        self.repeating.append(sc.prefix + base)
        for r in range(n):
            sub = LMap(once)
            sub.line, sub.key_lines = sc.line, getattr(item, "key_lines", {})
            sub["name"] = f"{base}.{r}" if item.get("name") else f"{base}_{r}"
            self.times = outer * (n - r)    # this copy and the ones still to come
            try:
                cur = self.one(sub, replace(inner, env={**sc.env, "i": r}), cur)
            finally:
                self.times = outer
        self.repeating.pop()
        if gidx is not None:
            self.close_group(gidx, cur)
        sc.local[base] = cur
        return cur

    def train_only_item(self, item, sc: Scope, cur: int) -> int:
        """`train_only: true`: the layers (an auxiliary classifier) count in params but run only in training,
        so their MACs stay out of the inference totals; nothing that runs at inference may read them."""
        flag = item["train_only"]
        if not isinstance(flag, bool):
            raise self.err(f"train_only: expected true or false, got {quote(flag)}", line_of(item, "train_only"), sc.path)
        rest = without(item, "train_only", sc.line)
        self.training_only += flag
        try:
            return self.item(rest, sc, cur)
        finally:
            self.training_only -= flag

    def one(self, item, sc: Scope, cur: int) -> int:
        if "share" in item:
            return self.shared(item, sc, cur)
        path, line = sc.path, sc.line
        if "type" in item and not isinstance(item["type"], str):
            raise self.err(f"type: expected a layer kind or block name such as conv, got {quote(item['type'])}",
                           line_of(item, "type"), path)
        src = self.inputs(item, sc, cur)
        struct = [k for k in STRUCT if k in item]
        if len(src) > 1 and (struct or item.get("type") in self.blocks):
            raise self.err(f"{struct[0] if struct else 'a block'} takes one input, got {len(src)} in `inputs:`",
                           line_of(item, "inputs"), path)
        if len(struct) > 1:
            raise self.err("a layer has either branches or residual, not both", line, path)
        if struct:
            out, local_name = self.composite(item, struct[0], sc, src[0])
        else:
            if "type" not in item:
                raise self.err("missing `type:` (a layer kind such as conv, or a block name)", line, path)
            kind = self.scalar(item, "type", sc)
            if not isinstance(kind, str):
                raise self.err(f"type: expected a layer kind or block name, got {quote(kind)}", line_of(item, "type"), path)
            if kind not in self.blocks and kind not in REGISTRY:
                raise self.err(unknown_kind(kind, list(self.blocks)), line_of(item, "type"), path)
            local_name = self.local_name(item, sc, kind)
            if kind in self.blocks:
                out = self.block(item, kind, local_name, sc, src[0])
            else:
                out = self.leaf(item, kind, sc.prefix + local_name, sc, src)
        sc.local[local_name] = out
        return out

    def composite(self, item, struct: str, sc: Scope, cur: int) -> tuple[int, str]:
        """branches or residual; returns (its last node, its local name)."""
        extra = set(item) - {"name", "inputs", struct}
        if extra:
            key = first_in(item, extra)
            raise self.err(f"unknown key {quote(key)} beside {struct}", line_of(item, key), sc.path)
        # An unnamed branches/residual inside a block, branch or body adds no name level: its layers
        # are named under the enclosing prefix (layer2.0.conv1, layer2.0.downsample.0, layer2.0.add).
        # Only the first one per prefix: a second (a sibling, or one nested in the first's body) would
        # take the same add/concat/downsample names, so it keeps its level (layer2.0.residual2.add).
        flat = item.get("name") is None and sc.prefix != "" and sc.prefix not in self.flat_prefixes
        if flat:
            self.flat_prefixes.add(sc.prefix)
        local_name = self.local_name(item, sc, struct)
        build = self.branches if struct == "branches" else self.residual
        return build(item, local_name, sc, cur, sc.counters if flat else None), local_name

    def inputs(self, item, sc: Scope, cur: int) -> list[int]:
        if "inputs" not in item:
            return [cur]
        names = item["inputs"]
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names:
            raise self.err("inputs: expected a list of layer names", line_of(item, "inputs"), sc.path)
        out = []
        for nm in names:
            nm = substitute(nm, sc.env) if isinstance(nm, str) else nm
            if not isinstance(nm, str):
                raise self.err(f"inputs: expected layer names, got {quote(nm)}", line_of(item, "inputs"), sc.path)
            if nm in sc.local and sc.local[nm] is None:
                raise self.err(f"inputs: {quote(nm)} has repeat: 0, so it produces nothing", line_of(item, "inputs"),
                               sc.path)
            if nm in sc.local:
                out.append(sc.local[nm])
            elif nm in self.names:
                out.append(self.names[nm])
            else:
                raise self.err(f"inputs: no earlier layer named {quote(nm)}{suggest(nm, list(sc.local) + list(self.names))}",
                               line_of(item, "inputs"), sc.path, derived=True)
        return out

    def local_name(self, item, sc: Scope, kind: str = "") -> str:
        if item.get("name") is not None:
            nm = self.scalar(item, "name", sc)
            if not isinstance(nm, (str, int)) or isinstance(nm, bool) or str(nm) == "":
                raise self.err(f"name: expected text, got {quote(nm)}", line_of(item, "name"), sc.path)
            return printable(str(nm), self.err("", line_of(item, "name"), sc.path))
        kind = kind or str(item.get("type", "layer"))
        sc.counters[kind] = sc.counters.get(kind, 0) + 1
        return f"{kind}{sc.counters[kind]}"

    def scalar(self, item, key, sc: Scope):
        try:
            return substitute(item[key], sc.env)
        except SpecError as e:
            raise e.located(self.file, line_of(item, key), sc.path)

def projection_notes(projections: list[tuple]) -> list[str]:
    """One note per `shortcut: projection` in a repeated item whose shape stays the same in some repeat:
    the file asks for a projection on every repeat, which may not be what was meant."""
    uses: dict = {}
    for line, repeated, kept in projections:
        uses.setdefault((line, repeated), []).append(kept)
    return [f"line {line}: shortcut: projection on all {len(kept)} repeats of {repeated}, {sum(kept)} of which keep "
            f"the shape; `auto` projects only where the shape changes"
            for (line, repeated), kept in uses.items() if repeated is not None and len(kept) > 1 and any(kept)]


def _kind(x) -> str:
    return {dict: "a mapping", LMap: "a mapping", list: "a list", LList: "a list", str: "text",
            int: "a number", float: "a number", bool: "true/false", type(None): "nothing"}.get(type(x), type(x).__name__)


def build_graph(doc, file: str | None = None, input_shape: Shape | None = None, input_text: str | None = None,
                layout: str | None = None) -> Graph:
    """The Graph of a parsed file; `input_shape` (C-first) or `input_text` (--input as written, in `layout`)
    overrides its input. An error the override causes names --input, not the file's line."""
    if input_text is not None and isinstance(doc, dict) and "input" in doc:
        input_shape = override_input(Builder(doc, file).file_input(doc), input_text, layout)  # names --input
    try:
        return Builder(doc, file, input_shape).build()
    except CnncalcError as e:
        if input_text is not None and e.file is not None and not _fails(doc, file):
            raise SpecError(f"--input {input_text[:40]}: {e.path}: {e.message}" if e.path else
                            f"--input {input_text[:40]}: {e.message}") from None
        raise e.located(file)


def _fails(doc, file) -> bool:
    """Whether the file fails on its own input too (then its error is the file's, not the flag's)."""
    try:
        Builder(doc, file).build()
    except CnncalcError:
        return True
    return False


def refuse_non_architecture(doc, file: str | None) -> None:
    """A file named by another file must be an architecture: a mapping with `input:` and a non-empty
    `layers:` list of layers (mappings, or kind and block names). Else it is refused naming no key or
    value of it: any YAML file of a repository may be named, a configuration file with a token too."""
    layers = doc.get("layers") if isinstance(doc, dict) else None
    names = set(REGISTRY) | (set(doc["blocks"]) if isinstance(doc.get("blocks") if layers else None, dict) else set())
    if (isinstance(layers, list) and layers and "input" in doc
            and all(isinstance(it, dict) or (isinstance(it, str) and it in names) for it in layers)):
        return
    raise SpecError("not an architecture: expected a mapping with `input:` and a `layers:` list of layers",
                    file=file, line=1)

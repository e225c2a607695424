"""A flat imported document → the one a person would write: the model's modules as blocks.

Layer names are module paths (`layer1.0.conv1`), so the modules are the name prefixes. A module
becomes a unit when its layers run one after another, read one value from outside (its input) and
are read from outside only through its last layer. A unit whose layers match another's exactly (same
kinds, fields and wiring) becomes a named block in `blocks:`, each use an item of that type; units
used once stay inline (their layers keep their full names). Uses of one block named `X.0`, `X.1`, …
one after another become `{name: X, type: BLOCK, repeat: N}`. Inside a block, the block's input is
`input` and its own layers go by their local names (`add` with `inputs: [bn2, input]` is the residual),
so the built graph has exactly the layers, names and figures of the flat document.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field


@dataclass
class Unit:
    prefix: str                     # the module path ('' for the whole model)
    members: list                   # layer indices and Units, in order
    first: int = 0
    last: int = 0
    key: str = ""                   # its body, canonical (equal keys: equal modules)
    block: str | None = None        # the block name when it becomes one


@dataclass
class Flat:
    layers: list[dict]
    reads: list[list[str]]          # per layer, the names it reads ('input' = the network input)
    index: dict[str, int]
    read_by: dict[str, list[int]] = field(default_factory=dict)
    outputs: set[str] = field(default_factory=set)


def flat_of(doc: dict) -> Flat:
    layers = doc["layers"]
    reads, prev = [], "input"
    for ly in layers:
        reads.append(list(ly["inputs"]) if "inputs" in ly else [prev])
        prev = ly["name"]
    index = {ly["name"]: i for i, ly in enumerate(layers)}
    read_by: dict[str, list[int]] = {}
    for i, rs in enumerate(reads):
        for r in rs:
            read_by.setdefault(r, []).append(i)
    outputs = set(doc.get("outputs") or [layers[-1]["name"]])
    return Flat(layers, reads, index, read_by, outputs)


def tree(flat: Flat) -> Unit:
    """Units by name prefix, each a contiguous run (a prefix that comes back later is no unit)."""
    root = Unit("", [], 0, len(flat.layers) - 1)
    stack = [root]
    closed: set[str] = set()
    broken: set[str] = set()
    for i, ly in enumerate(flat.layers):
        parts = ly["name"].split(".")
        prefixes = [".".join(parts[:k]) for k in range(1, len(parts))]
        while len(stack) > 1 and stack[-1].prefix not in prefixes:
            closed.add(stack.pop().prefix)
        for p in prefixes[len(stack) - 1:]:
            if p in closed:
                broken.add(p)
            u = Unit(p, [], i, i)
            stack[-1].members.append(u)
            stack.append(u)
        stack[-1].members.append(i)
        for u in stack[1:]:
            u.last = i
    return dissolve(root, broken)


def dissolve(unit: Unit, broken: set[str]) -> Unit:
    """Splice the units of broken prefixes (and units of one layer) into their parents."""
    members = []
    for m in unit.members:
        if isinstance(m, Unit):
            m = dissolve(m, broken)
            if m.prefix in broken or (len(m.members) == 1 and not isinstance(m.members[0], Unit)):
                members += m.members
                continue
        members.append(m)
    unit.members = members
    return unit


def sealed(flat: Flat, u: Unit) -> str | None:
    """The one value a unit reads from outside when it is a unit (one way in, one way out), else None."""
    inside = {flat.layers[i]["name"] for i in range(u.first, u.last + 1)}
    entry = {r for i in range(u.first, u.last + 1) for r in flat.reads[i] if r not in inside}
    if len(entry) != 1:
        return None
    for i in range(u.first, u.last):
        name = flat.layers[i]["name"]
        if name in flat.outputs or any(j > u.last or j < u.first for j in flat.read_by.get(name, ())):
            return None
    return next(iter(entry))


def local(name: str, prefix: str) -> str:
    return name[len(prefix) + 1:] if prefix else name


class Writer:
    def __init__(self, flat: Flat, classes: dict[str, str]):
        self.flat, self.classes = flat, classes
        self.blocks: dict[str, dict] = {}      # key → block definition
        self.names: dict[str, str] = {}        # key → block name
        self.uses: dict[str, int] = {}

    def count(self, u: Unit) -> None:
        """Keys of every sealed unit (bottom-up) and how often each occurs."""
        for m in u.members:
            if isinstance(m, Unit):
                self.count(m)
        if u.prefix and sealed(self.flat, u) is not None:
            u.key = json.dumps(self.items(u, u.prefix, sealed(self.flat, u), probe=True), sort_keys=True)
            self.uses[u.key] = self.uses.get(u.key, 0) + 1

    def is_block(self, m) -> bool:
        return isinstance(m, Unit) and bool(m.key) and self.uses.get(m.key, 0) >= 2

    def items(self, u: Unit, prefix: str, entry: str, probe: bool = False) -> list[dict]:
        """The unit's layers as items in the scope of `prefix`, reading `entry` as `input`."""
        out: list[dict] = []
        ref = {entry: "input"}
        prev = entry
        for m in self.expand(u, probe):
            if isinstance(m, Unit):
                item = {"name": local(m.prefix, prefix), "type": self.block_name(m, probe)}
                reads, last = [sealed(self.flat, m)], self.flat.layers[m.last]["name"]
            else:
                ly = self.flat.layers[m]
                item = {k: v for k, v in ly.items() if k != "inputs"}
                item["name"] = local(ly["name"], prefix)
                reads, last = self.flat.reads[m], ly["name"]
            if reads != [prev]:
                item["inputs"] = [ref.get(r, r) for r in reads]
            out.append(item)
            ref[last] = item["name"]
            prev = last
        return repeats(out)

    def expand(self, u: Unit, probe: bool) -> list:
        """The unit's members, with units that become no block spliced in."""
        out = []
        for m in u.members:
            if isinstance(m, Unit) and not (self.is_block(m) or (probe and m.key)):
                out += self.expand(m, probe)
            else:
                out.append(m)
        return out

    def block_name(self, m: Unit, probe: bool) -> str:
        if probe:
            return f"<{m.key}>"
        if m.key not in self.names:
            base = block_base(m.prefix, self.classes.get(m.prefix))
            name, k = base, 1
            while name in self.names.values():
                k += 1
                name = f"{base}_{k}"
            self.names[m.key] = name
            entry = sealed(self.flat, m)
            self.blocks[m.key] = {"layers": self.items(m, m.prefix, entry)}
        return self.names[m.key]


def block_base(prefix: str, cls: str | None) -> str:
    """A block's name: its module's class in snake case (BasicBlock → basic_block), else the module path
    without its numbers (layer1.0 → layer); never a layer kind's name."""
    from ..layers import REGISTRY
    if cls and cls.isidentifier():
        base = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", cls).lower()
    else:
        base = re.sub(r"[^0-9A-Za-z_]+", "_", re.sub(r"(\.\d+)+$", "", prefix)).strip("_")
        base = re.sub(r"\d+$", "", base) or "block"
    return base + "_block" if base in REGISTRY or not base.isidentifier() else base


def repeats(items: list[dict]) -> list[dict]:
    """Uses of one block named X.0, X.1, … one after another → one `repeat` item named X (what reads the last
    use reads X), unless something else reads an earlier use or is named under X."""
    out: list[dict] = []
    i = 0
    while i < len(items):
        run, base = run_at(items, i)
        if run >= 2:
            last, rest = f"{base}.{run - 1}", items[i + run:]
            earlier = {f"{base}.{k}" for k in range(run - 1)}
            if not any(str(it.get("name", "")).startswith(base + ".") or earlier & set(it.get("inputs", ()))
                       for it in rest):
                out.append({"name": base, "type": items[i]["type"], "repeat": run})
                for it in rest:
                    if last in it.get("inputs", ()):
                        it["inputs"] = [base if r == last else r for r in it["inputs"]]
                i += run
                continue
        out.append(items[i])
        i += 1
    return out


def run_at(items: list[dict], i: int) -> tuple[int, str]:
    """How many uses of one block, named X.0, X.1, …, start at item i (and X)."""
    m = re.fullmatch(r"(.+)\.0", str(items[i].get("name", "")))
    if not m or "inputs" in items[i] or "repeat" in items[i] or items[i].get("type") is None:
        return 0, ""
    run = 1
    while (i + run < len(items) and items[i + run].get("type") == items[i]["type"]
           and items[i + run].get("name") == f"{m[1]}.{run}" and "inputs" not in items[i + run]):
        run += 1
    return run, m[1]


def structured(doc: dict, classes: dict[str, str] | None = None) -> dict:
    """The document with its repeated modules as blocks (see the module doc); the same layers and figures."""
    flat = flat_of(doc)
    root = tree(flat)
    w = Writer(flat, classes or {})
    w.count(root)
    layers = w.items(root, "", "input")
    if not w.blocks:
        return doc
    out = {k: v for k, v in doc.items() if k not in ("layers", "outputs")}
    out["blocks"] = {w.names[k]: v for k, v in w.blocks.items()}
    out["layers"] = layers
    if "outputs" in doc:
        out["outputs"] = doc["outputs"]
    return out

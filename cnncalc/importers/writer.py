"""Mapped layers → the architecture document a person would write, and its YAML text.

Layers are named by the model's own module paths (or ONNX node names), follow each other where the
data does, and say `inputs: [name, …]` only where it does not (merges, a second path). A flatten
that a linear of the same module reads is left out (a linear flattens a map itself), as a person
writes `nn.Sequential(nn.Flatten(), nn.Linear(…))`. `source:` names the file the model came from.
"""
from __future__ import annotations

import yaml

from .mapping_common import Mapped

MODELINE = "# yaml-language-server: $schema=cnncalc.schema.json"


def parent(module: str) -> str | None:
    """'fc.1' → 'fc'; a top-level module or the model's own forward has no shared parent (None)."""
    return module.rsplit(".", 1)[0] if "." in module else None


def fold_flattens(mapped: list[Mapped]) -> list[Mapped]:
    """Leave out a flatten whose only reader is a linear inside the same parent module."""
    readers: dict[str, list[Mapped]] = {}
    for m in mapped:
        for v in m.reads:
            readers.setdefault(v, []).append(m)
    out = []
    for m in mapped:
        users = readers.get(m.output, [])
        if (m.layer["type"] == "flatten" and len(users) == 1 and users[0].layer["type"] == "linear"
                and parent(m.module) is not None and parent(m.module) == parent(users[0].module)):
            users[0].reads = [m.reads[0] if v == m.output else v for v in users[0].reads]
            continue
        out.append(m)
    return out


def reaching(mapped: list[Mapped], outputs: list[str]) -> list[Mapped]:
    """The layers whose value reaches an output (what a model computes and never uses is no work of it)."""
    needed = set(outputs)
    keep = []
    for m in reversed(mapped):
        if m.output in needed:
            keep.append(m)
            needed.update(m.reads)
    return keep[::-1]


def printable(name: str) -> str:
    return "".join(c if c.isprintable() else "_" for c in name) or "layer"


def unique_names(mapped: list[Mapped]) -> list[str]:
    taken: set[str] = {"input"}
    out = []
    for m in mapped:
        base = printable(m.name)
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        out.append(name)
    return out


def document(name: str, source: str, input_shape: tuple[int, ...], input_value: str, mapped: list[Mapped],
             outputs: list[str]) -> tuple[dict, list[Mapped]]:
    """(the architecture document, the layers it holds in its order): flat, one item per layer."""
    mapped = reaching(fold_flattens(mapped), outputs)
    names = unique_names(mapped)
    name_of = {input_value: "input"}
    layers = []
    prev = input_value
    first_use: dict = {}  # module path → the layer of its first call (a module called again shares its weights)
    for m, nm in zip(mapped, names):
        item = {"name": nm, **m.layer}
        if m.reads != [prev]:
            item["inputs"] = [name_of[v] for v in m.reads]
        if m.params and m.module:
            first = first_use.setdefault((m.module, flow(m.layer)), nm)
            if first != nm:
                item["share"] = first
        layers.append(item)
        name_of[m.output] = nm
        prev = m.output
    doc = {"name": printable(name), "source": printable(source), "input": list(input_shape), "layers": layers}
    if len(outputs) > 1 or (mapped and outputs[0] != mapped[-1].output):
        doc["outputs"] = [name_of[v] for v in outputs]
    return doc, mapped


def to_yaml(doc: dict) -> str:
    """The document as YAML: the schema modeline first, top-level keys in block style, each layer on one
    line in flow style (`- {name: conv1, type: conv, filters: 64, kernel: 7}`), composites nested."""
    lines = [MODELINE]
    for key, value in doc.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{key}:")
            lines += items(value, "  ")
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            lines.append(f"{key}:")
            for k, v in value.items():
                lines.append(f"  {flow(k)}:")
                lines += mapping(v, "    ")
        else:
            lines.append(f"{flow(key)}: {flow(value)}")
    return "\n".join(lines) + "\n"


def flow(x) -> str:
    text = yaml.safe_dump(x, default_flow_style=True, width=10**6, allow_unicode=True, sort_keys=False).strip()
    return text[:-3].strip() if text.endswith("\n...") else text


def leaf(item) -> bool:
    return not any(isinstance(v, list) and any(isinstance(e, (dict, list)) for e in v)
                   or isinstance(v, dict) and not leaf(v) for v in (item.values() if isinstance(item, dict) else []))


def items(seq: list, indent: str) -> list[str]:
    out = []
    for item in seq:
        if not isinstance(item, dict) or leaf(item):
            out.append(f"{indent}- {flow(item)}")
            continue
        inner = mapping(item, indent + "  ")
        out.append(f"{indent}- {inner[0].lstrip()}")
        out += inner[1:]
    return out


def mapping(m: dict, indent: str) -> list[str]:
    out = []
    for k, v in m.items():
        if isinstance(v, list) and any(isinstance(e, (dict, list)) for e in v):
            out.append(f"{indent}{flow(k)}:")
            nested = any(isinstance(e, list) for e in v)   # branches: a list of paths
            out += [ln for e in v for ln in branch(e, indent + "  ")] if nested else items(v, indent + "  ")
        elif isinstance(v, dict) and not leaf(v):
            out.append(f"{indent}{flow(k)}:")
            out += mapping(v, indent + "  ")
        else:
            out.append(f"{indent}{flow(k)}: {flow(v)}")
    return out


def branch(path, indent: str) -> list[str]:
    """One path of `branches:` (a list of layers) as `- - layer` lines."""
    if not isinstance(path, list) or not path:
        return [f"{indent}- {flow(path)}"]
    inner = items(path, indent + "  ")
    return [f"{indent}- {inner[0].lstrip()}"] + inner[1:]

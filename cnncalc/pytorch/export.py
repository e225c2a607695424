"""`cnncalc export --torch`: an architecture as standalone, readable PyTorch code.

The code is written from the very modules pytorch.build makes (each layer's `torch_module`):
every torch.nn module is written as its constructor call, reading the constructor's arguments
back from the module's attributes, so the exported class builds the same layers under the same
attribute names (its state dict loads into `build.build(graph)` and back). Merges are
written inline: `torch.cat((a, b), dim=1)` and `a + b`. The forward follows the graph, reusing
a variable once its value is no longer needed, with each output's shape as a comment.
"""
from __future__ import annotations

import builtins
import inspect
import keyword
import re
import textwrap
from pathlib import PurePath
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from .. import __version__
from . import ops as torch_ops
from ..analysis.analyze import load, report_of
from ..errors import CnncalcError
from ..analysis.graph import INPUT, Graph
from ..layers import fmt_shape
from .build import attr_names, last_uses


def class_name(graph: Graph) -> str:
    """LeNet-5 → LeNet5, 'ResNet-50 (torchvision)' → ResNet50Torchvision; a name Python or the file
    already uses (`None`, `True`, a helper class such as `Scale`) gets `Net` after it."""
    parts = re.findall(r"[0-9A-Za-z]+", graph.name)
    name = "".join(p[0].upper() + p[1:] for p in parts)
    name = name if name and not name[0].isdigit() else "Net" + name
    taken = {"Module", "Tensor"} | set(torch_ops.EXPORTED)
    return name + "Net" if keyword.iskeyword(name) or name in taken or name in dir(builtins) else name


# torch's parametrization classes → the function of torch.nn.utils.parametrizations that registers them
REPARAMETRISATIONS = {"_WeightNorm": "weight_norm", "_SpectralNorm": "spectral_norm"}


def _simple(v: Any) -> Any:
    """(3, 3) → 3: a tuple of equal values is written as one value, as PyTorch accepts it."""
    if isinstance(v, tuple) and v and all(x == v[0] for x in v) and not isinstance(v[0], tuple):
        return v[0]
    return v


def module_code(m: nn.Module, cls: type | None = None) -> str:
    """`nn.Conv2d(3, 64, kernel_size=3, padding=1)` for a torch.nn module: required arguments
    positionally, others by keyword where they differ from the constructor's default (`cls`: the class whose
    constructor to write, for a parametrized module)."""
    if isinstance(m, nn.Sequential):
        return "nn.Sequential(" + ", ".join(module_code(c) for c in m) + ")"
    if cls is None and parametrize.is_parametrized(m):  # weight_norm / spectral_norm: the plain module, wrapped
        code = module_code(m, type(m).__bases__[0])
        for p in m.parametrizations.weight:
            code = f"nn.utils.parametrizations.{REPARAMETRISATIONS[type(p).__name__]}({code})"
        return code
    cls = cls or type(m)
    if cls.__name__ in torch_ops.EXPORTED and cls.__module__ == torch_ops.__name__:
        return f"{cls.__name__}({', '.join(repr(a) for a in m.args)})"
    if getattr(nn, cls.__name__, None) is not cls:
        raise CnncalcError(f"export: no code for {cls.__module__}.{cls.__name__} (not a torch.nn module)")
    args = []
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("device", "dtype"):
            continue
        if p.name == "bias" and not isinstance(getattr(m, "bias", None), bool):
            value = getattr(m, "bias", None) is not None  # the attribute is the tensor (or None)
        elif hasattr(m, p.name):
            value = getattr(m, p.name)
        else:
            raise CnncalcError(f"export: cannot read {cls.__name__}'s argument {p.name!r} back")
        value = _simple(value)
        keyword_before = any("=" in a for a in args)  # a positional argument may not follow a keyword one
        if p.default is p.empty and not keyword_before and (p.name.endswith(("_channels", "_features"))
                                                             or p.name == "num_features"):
            args.append(repr(value))  # nn.Conv2d(3, 64, …), nn.Linear(4096, 1000), nn.BatchNorm2d(64)
        elif p.default is p.empty:
            args.append(f"{p.name}={value!r}")
        elif _simple(p.default) != value or type(_simple(p.default)) is not type(value):
            args.append(f"{p.name}={value!r}")
    return f"nn.{cls.__name__}({', '.join(args)})"


def crop_code(arg: str, shape, keep) -> str:
    """`x[:, :, 4:60, 4:60]`: a center crop written with the sizes the graph knows."""
    if tuple(shape[1:]) == tuple(keep):
        return arg
    return f"{arg}[:, :, " + ", ".join(f"{(n - k) // 2}:{(n - k) // 2 + k}" for n, k in zip(shape[1:], keep)) + "]"


def inline_code(m: nn.Module, args: list[str], in_shapes=None) -> str | None:
    """The expression for cnncalc's own modules (torch_ops), which the exported code writes inline
    instead of defining; None for a torch.nn module (written as `self.<name>(…)`)."""
    if isinstance(m, torch_ops.Concat):
        if m.crop:
            keep = [min(sizes) for sizes in zip(*(s[1:] for s in in_shapes))]
            args = [crop_code(a, s, keep) for a, s in zip(args, in_shapes)]
        return f"torch.cat(({', '.join(args)}{',' if len(args) == 1 else ''}), dim=1)"
    if isinstance(m, torch_ops.Interpolate):
        how = f"size={args[1]}.shape[2:]" if len(args) > 1 else (
            f"size={_simple(tuple(m.size))!r}" if m.size else f"scale_factor={_simple(tuple(m.scale))!r}")
        corners = "" if m.align_corners is None else f", align_corners={m.align_corners}"
        return f"nn.functional.interpolate({args[0]}, {how}, mode={m.mode!r}{corners})"
    if isinstance(m, torch_ops.Pad):
        how = f"value={m.value!r}" if m.mode == "constant" and m.value else (
            "" if m.mode == "constant" else f"mode={m.mode!r}")
        return f"nn.functional.pad({args[0]}, {m.pad!r}{', ' + how if how else ''})"
    if isinstance(m, torch_ops.Reuse):  # `share:` the same module, called again
        return f"self.{m.key}({', '.join(args)})"
    if isinstance(m, torch_ops.Add):
        return " + ".join(args)
    if isinstance(m, getattr(torch_ops, "Mul", ())):
        return " * ".join(args)
    if isinstance(m, getattr(torch_ops, "Slice", ())):
        return f"{args[0]}[:, {m.start}:{m.end}]"
    if isinstance(m, torch_ops.Permute):
        return f"{args[0]}.permute{m.dims!r}.clone(memory_format=torch.contiguous_format)"
    if isinstance(m, torch_ops.Crop):
        return f"{args[0]}[:, :, " + ", ".join(f"{a}:{b}" for a, b in m.window) + "]"
    if type(m).__name__ in torch_ops.EXPORTED:
        return None   # written as a module: its class is copied into the file
    if type(m).__module__ == torch_ops.__name__:
        raise CnncalcError(f"export: no inline code for cnncalc.torch_ops.{type(m).__name__}")
    return None


class _Vars:
    """Variable names for values in the forward: the smallest free of x, x1, x2, …"""

    def __init__(self):
        self.used: set[str] = set()

    def take(self) -> str:
        k = 0
        while (name := "x" if k == 0 else f"x{k}") in self.used:
            k += 1
        self.used.add(name)
        return name

    def free(self, name: str) -> None:
        self.used.discard(name)


def _aligned(lines: list[tuple[str, str]], indent: str, width: int = 60) -> list[str]:
    """Code with its comment aligned in one column (long lines keep their comment after 2 spaces)."""
    col = min(width, max((len(c) for c, note in lines if note), default=0))
    out = []
    for code, note in lines:
        if not note:
            out.append(indent + code if code else "")
        else:
            out.append(f"{indent}{code.ljust(col)}  # {note}")
    return out


def _text(s: str) -> str:
    """Text that is safe inside a triple-quoted docstring."""
    return s.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').replace("\n", " ")


def _strip(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return lines[1:] if lines and lines[0] == ("", "") else lines


def torch_source(graph: Graph) -> str:
    """The standalone module source for `graph` (see the module docstring)."""
    from .build import Network

    with torch.device("meta"):
        net = Network(graph)  # the same modules pytorch.build makes, without allocating weights
    report = report_of(graph, 1)
    cls = class_name(graph)
    keys = attr_names(graph)
    mods = [net.get_submodule(k) for k in keys]

    init: list[tuple[str, str]] = []
    fwd: list[tuple[str, str]] = []
    group_seen: set[int] = set()
    vars_ = _Vars()
    x_in = vars_.take()
    last = last_uses(graph)
    input_last = max((i for i, nd in enumerate(graph.nodes) if INPUT in nd.inputs), default=-1)
    var_of: dict[int, str] = {INPUT: x_in}
    kept = set(graph.output_nodes)  # the values returned: never reused

    for i, (node, key, m) in enumerate(zip(graph.nodes, keys, mods)):
        entered = [graph.groups[g] for g in node.groups if g not in group_seen]
        group_seen.update(node.groups)
        if entered:
            for part in (init, fwd):
                part += [("", "")] + [(f"# {grp.name} ({grp.type})", "") for grp in entered]
        args = [var_of[j] for j in node.inputs]
        # values read for the last time here are free for this node's output
        for j in set(node.inputs):
            if (j == INPUT and input_last == i) or (j != INPUT and last[j] == i and j not in kept):
                vars_.free(var_of[j])
        out = vars_.take()
        var_of[i] = out
        plain = key == node.name.replace(".", "_")  # the dotted name is obvious from the attribute
        note = fmt_shape(node.out_shape) + ("" if plain else f"  {node.name}")
        expression = inline_code(m, args, node.in_shapes)
        guard = "if self.training: " if node.train_only else ""  # an auxiliary head runs only in training
        if expression is not None:
            fwd.append((f"{guard}{out} = {expression}", note))
        else:
            init.append((f"self.{key} = {module_code(m)}", "" if plain else node.name))
            fwd.append((f"{guard}{out} = self.{key}({', '.join(args)})", note))
        if last[i] == i and i not in kept:
            vars_.free(out)  # a value nobody reads (an explicit DAG's dead end)

    result = ", ".join(var_of[o] for o in graph.output_nodes)
    several = len(graph.output_nodes) > 1
    t = report.totals
    where = PurePath(graph.file).name if graph.file else "a parsed spec"   # never the machine's own path
    doc = [f'"""{_text(graph.name)}: generated by cnncalc {__version__} from {_text(where)}.', ""]
    if graph.source:
        doc += textwrap.wrap(f"Source: {_text(graph.source)}", 92) + [""]
    outs = ", ".join(f"{graph.nodes[o].name} {fmt_shape(graph.nodes[o].out_shape)}" for o in graph.output_nodes)
    doc += [(f"Input {fmt_shape(graph.input)} → outputs ({_text(outs)}); " if several else
             f"Input {fmt_shape(graph.input)} → output {fmt_shape(graph.output)}; ") + f"{t.params:,} params, "
            f"{t.buffers:,} buffers, {t.macs:,} MACs per sample.",
            f"`cnncalc verify` proves these figures against a forward pass of this network.",
            '"""']
    input_shape = ", ".join(map(str, graph.input))
    helpers = [inspect.getsource(getattr(torch_ops, name)).rstrip() + "\n\n\n" for name in torch_ops.EXPORTED
               if any(type(m).__name__ == name for m in mods)]
    lines = [
        f'"""{_text(graph.name)} as a PyTorch module, written by `cnncalc export --torch`."""',
        "import torch",
        "from torch import nn",
        "",
        "",
        *[ln for h in helpers for ln in h.splitlines()],
        f"class {cls}(nn.Module):",
        *["    " + d if d else "" for d in doc],
        "",
        "    def __init__(self):",
        "        super().__init__()",
        *_aligned(_strip(init), " " * 8),
        "",
        f"    def forward(self, {x_in}):",
        *_aligned(_strip(fwd), " " * 8),
        f"        return {result}",
        "",
        "",
        'if __name__ == "__main__":',
        f"    model = {cls}().eval()",
        f"    x = torch.randn(1, {input_shape})",
        "    with torch.no_grad():",
        "        y = model(x)",
        "    params = sum(p.numel() for p in model.parameters())",
        f'    print(f"{cls}: input {{tuple(x.shape)}} -> outputs {{[tuple(t.shape) for t in y]}}, {{params:,}} params")'
        if several else
        f'    print(f"{cls}: input {{tuple(x.shape)}} -> output {{tuple(y.shape)}}, {{params:,}} params")',
        "",
    ]
    return "\n".join(lines)


def export_torch(spec: Any, input: Any = None) -> str:
    """Standalone PyTorch source for a path, a built-in name, a parsed dict or a Graph."""
    return torch_source(load(spec, input))

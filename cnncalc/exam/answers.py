"""Reading an answers file: YAML that keeps how numbers were written, and the checks every section shares.

`load_answers` reads the file (or takes an already parsed mapping); `Reader` turns a
malformed entry into one `error: file:line: path: message`. Settings that apply below where
they are given (`layout:`, `tolerance:`) are read here too. Nothing here grades anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

import warnings

import yaml

from ..errors import SpecError, quote
from ..spec.builtins import EXAMPLES_DIR, BuiltinNote, builtin_path
from ..spec.order import in_order
from ..spec.yamlio import LList, LMap, _Loader, line_of, load_file
from .numbers import ParseError, parse_layout, parse_tolerance
from .subject import Conventions, parse_conventions

# --------------------------------------------------------------------------------------
# YAML that keeps the source text of numbers (so `138.0M` and `1_000` keep their precision)


class YInt(int):
    """An int from YAML that remembers how it was written."""
    text: str


class YFloat(float):
    """A float from YAML that remembers how it was written (`0.50` claims two decimals)."""
    text: str


class _AnswersLoader(_Loader):  # type: ignore[misc, valid-type]
    pass


def _keep(cls, construct):
    def constructor(loader, node):
        value = construct(loader, node)
        out = cls(value)
        out.text = node.value
        return out
    return constructor


_AnswersLoader.add_constructor("tag:yaml.org,2002:int", _keep(YInt, yaml.SafeLoader.construct_yaml_int))
_AnswersLoader.add_constructor("tag:yaml.org,2002:float", _keep(YFloat, yaml.SafeLoader.construct_yaml_float))


def load_answers(source: Any, base_dir: str | Path | None = None) -> tuple[Any, str, Path]:
    """(document, file name, directory that relative architecture paths start from)."""
    if isinstance(source, dict):
        return source, "<answers>", Path(base_dir) if base_dir else Path.cwd()
    path = shipped_example(source)
    doc = load_file(path, loader=_AnswersLoader)
    return doc, str(source), Path(base_dir) if base_dir else Path(path).parent


def shipped_example(source) -> Any:
    """`student` or `key` where no such file exists: the example answers file shipped with cnncalc."""
    if not isinstance(source, (str, Path)) or Path(source).suffix not in ("", ".yaml"):
        return source
    try:
        if Path(source).exists() or Path(source).parent != Path("."):
            return source
    except (OSError, ValueError):    # a name the system cannot look up is no example either
        return source
    found = builtin_path(Path(source).stem, EXAMPLES_DIR)
    if found is None:
        return source
    warnings.warn(BuiltinNote(f"no file {source} here: using cnncalc's example answers {found.stem}"), stacklevel=3)
    return found


def plain(obj):
    """Strip the YAML number wrappers (keeping LMap/LList lines) before handing data to the analyzer."""
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, YInt):
        return int(obj)
    if isinstance(obj, YFloat):
        return float(obj)
    if isinstance(obj, LMap):
        out = LMap((k, plain(v)) for k, v in obj.items())
        out.line, out.key_lines = obj.line, obj.key_lines
        return out
    if isinstance(obj, LList):
        out = LList(plain(v) for v in obj)
        out.line, out.item_lines = obj.line, obj.item_lines
        return out
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    return obj


# --------------------------------------------------------------------------------------


@dataclass
class Ctx:
    """Where an answer sits and what rules apply to it."""
    group: str
    path: str                    # answers.C1 / questions.q1.answer
    layout: str
    tolerance: Optional[Decimal]
    conventions: Conventions = Conventions()


@dataclass(frozen=True)
class Settings:
    """What applies below where it is given: the shapes' layout, a tolerance, the course's conventions."""
    layout: Optional[str] = None     # as the file states it; None: not stated, HWC (the course's way) applies
    tolerance: Optional[Decimal] = None
    conventions: Conventions = Conventions()

    def ctx(self, group: str, path: str) -> Ctx:
        return Ctx(group, path, self.layout or "HWC", self.tolerance, self.conventions)


class Reader:
    """Validation helpers bound to one answers file: each failure is a SpecError at a line and path."""

    def __init__(self, file: str):
        self.file = file

    def err(self, msg: str, line: Optional[int], path: Optional[str]) -> SpecError:
        return SpecError(msg, file=self.file, line=line, path=path)

    def input_shape(self, dims: tuple, layout: Optional[str], line, path: Optional[str], key: str = "",
                    listed: bool = False) -> tuple:
        """An input of 2–4 numbers channels first: H×W×C unless the file states `layout:`, refused where
        the order is ambiguous (spec/order.py, one rule for the whole tool)."""
        try:
            return in_order(tuple(dims), layout, "HWC", flag=False, listed=listed)
        except SpecError as e:
            raise self.err(f"{key}: {e.message}" if key else e.message, line, path) from None

    def parsed(self, parse: Callable, value, line, path: Optional[str], *args, prefix: str = ""):
        """parse(value, *args); its ParseError becomes this file's error at line and path."""
        try:
            return parse(value, *args)
        except ParseError as e:
            raise self.err(f"{prefix}{e}", line, path) from None

    def refuse_unknown(self, m, allowed, path: Optional[str], message: Callable[[Any], str]):
        """The first key of m not in allowed is an error at its own line (path None: the key is the path)."""
        for key in m:
            if key not in allowed:
                raise self.err(message(key), line_of(m, key), str(key) if path is None else path)

    def mapping(self, m, key: str, message: str, path: str):
        """m[key], which must be a mapping with at least one entry."""
        value = m[key]
        if not isinstance(value, dict) or not value:
            raise self.err(message, line_of(m, key), path)
        return value

    def whole_numbers(self, m, keys: tuple[str, ...], path: str) -> list[int]:
        """m's values for keys (1 where absent), each a whole number ≥ 1."""
        out = []
        for key in keys:
            v = m.get(key, 1)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise self.err(f"{key}: expected a whole number ≥ 1, got {quote(v)}", line_of(m, key), path)
            out.append(int(v))
        return out

    def setting(self, m, key: str, parse: Callable, default, path: Optional[str]):
        """A setting that applies below where it is given (layout, tolerance); else the inherited one."""
        if not isinstance(m, dict) or key not in m:
            return default
        return self.parsed(parse, m[key], line_of(m, key), join(path, key))

    def layout(self, m, default: Optional[str], path: Optional[str]) -> Optional[str]:
        return self.setting(m, "layout", parse_layout, default, path)

    def tolerance(self, m, default: Optional[Decimal], path: Optional[str]) -> Optional[Decimal]:
        return self.setting(m, "tolerance", parse_tolerance, default, path)

    def settings(self, m, st: Settings, path: Optional[str], layout: bool = True) -> Settings:
        """The settings given in mapping m (layout, tolerance, conventions) over the inherited ones."""
        return Settings(self.layout(m, st.layout, path) if layout else st.layout,
                        self.tolerance(m, st.tolerance, path if path is not None else ""),
                        self.conventions(m, st.conventions, path))

    def conventions(self, m, default: Conventions, path: Optional[str]) -> Conventions:
        """`conventions:` over the inherited ones (flops, params, activations, dtype)."""
        if not isinstance(m, dict) or "conventions" not in m:
            return default
        value = m["conventions"]
        where = join(path, "conventions")
        if not isinstance(value, dict):
            raise self.err("expected a mapping such as {flops: 2mac, params: with_bias, activations: lecture, "
                           "dtype: fp32}", line_of(m, "conventions"), where)
        out = default
        for key, v in value.items():
            out = self.parsed(parse_conventions, {key: v}, line_of(value, key), where, out)
        return out


def join(path: Optional[str], key: str) -> str:
    return f"{path}.{key}" if path else key


def text_of(value) -> str:
    """An answer as the student wrote it (YAML numbers keep their source text)."""
    if isinstance(value, list):
        return "[" + ", ".join(text_of(v) for v in value) + "]"
    return str(getattr(value, "text", value))


def llist(items: list, line) -> LList:
    out = LList(items)
    out.line = line
    out.item_lines = [line] * len(items)
    return out

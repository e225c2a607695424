"""YAML loading that keeps line numbers and refuses anything but plain data.

Mappings load as `LMap` (a dict remembering the line of itself and of each key) and
sequences as `LList` (a list remembering the line of each item). Only the safe
constructors exist, so a tag such as `!!python/object` is an error, never an object.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from .errors import SpecError

MAX_BYTES = 8 * 1024 * 1024  # a hand-written architecture is kilobytes; refuse absurd files

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LMap(dict):
    __slots__ = ("line", "key_lines")

    def line_of(self, key) -> int | None:
        return self.key_lines.get(key, self.line)


class LList(list):
    __slots__ = ("line", "item_lines")

    def line_of(self, index: int) -> int | None:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _Loader(_Base):  # type: ignore[misc, valid-type]
    pass


def _map(loader, node):
    loader.flatten_mapping(node)
    m = LMap()
    m.line = node.start_mark.line + 1
    m.key_lines = {}
    for knode, vnode in node.value:
        key = loader.construct_object(knode, deep=True)
        try:
            hash(key)
        except TypeError:
            raise SpecError("a mapping key must be a plain value", line=knode.start_mark.line + 1)
        if key in m:
            raise SpecError(f"duplicate key {key!r}", line=knode.start_mark.line + 1)
        m[key] = loader.construct_object(vnode, deep=True)
        m.key_lines[key] = knode.start_mark.line + 1
    return m


def _seq(loader, node):
    s = LList(loader.construct_object(v, deep=True) for v in node.value)
    s.line = node.start_mark.line + 1
    s.item_lines = [v.start_mark.line + 1 for v in node.value]
    return s


_Loader.add_constructor("tag:yaml.org,2002:map", _map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _seq)


def loads(text: str, file: str = "<string>", loader=None):
    """Parse YAML text into LMap/LList/scalars; every failure is a SpecError with a line.

    `loader` may be a subclass of this module's loader (check.py's keeps numbers' source text)."""
    if len(text) > MAX_BYTES:
        raise SpecError(f"file is {len(text):,} bytes; the limit is {MAX_BYTES:,}", file=file)
    try:
        return yaml.load(text, Loader=loader or _Loader)  # noqa: S506 - derives from SafeLoader
    except SpecError as e:
        raise e.located(file=file)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        what = (e.problem or str(e)).strip()
        if "could not determine a constructor" in str(e):
            tag = re.search(r"'([^']*)'", e.problem or "")
            tag = tag.group(1).replace("tag:yaml.org,2002:", "!!") if tag else "?"
            what = f"tag {tag} is not allowed: only plain YAML data is read"
        raise SpecError(f"not valid YAML: {what}", file=file, line=line) from None
    except yaml.YAMLError as e:
        raise SpecError(f"not valid YAML: {e}", file=file) from None
    except RecursionError:
        raise SpecError("YAML nested too deeply", file=file) from None


def load_file(path: str | Path, loader=None):
    p = Path(path)
    if not p.exists():
        raise SpecError("no such file", file=str(path))
    if p.is_dir():
        raise SpecError("is a directory, expected a YAML file", file=str(path))
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise SpecError(f"file is {size:,} bytes; the limit is {MAX_BYTES:,}", file=str(path))
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError("not a UTF-8 text file", file=str(path)) from None
    except OSError as e:
        raise SpecError(f"cannot read: {e.strerror}", file=str(path)) from None
    return loads(text, str(path), loader)


def line_of(container, key) -> int | None:
    if isinstance(container, (LMap, LList)):
        return container.line_of(key)
    return None


def own_line(obj) -> int | None:
    return getattr(obj, "line", None)

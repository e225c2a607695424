"""YAML loading that keeps line numbers and refuses anything but plain data.

Mappings load as `LMap` (a dict remembering the line of itself and of each key) and
sequences as `LList` (a list remembering the line of each item). Only the safe
constructors exist, so a tag such as `!!python/object` is an error, never an object.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..errors import SpecError

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
    def resolve(self, kind, value, implicit):
        """The tag of a node, remembered per loader for scalars: a plain scalar's tag depends only on its
        text (no path resolvers are registered), and big files repeat the same few texts (`conv`, `3`)
        thousands of times, each otherwise matched against PyYAML's regular expressions again."""
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        tags = self.__dict__.setdefault("_tags", {})
        key = (value, implicit)
        tag = tags.get(key)
        if tag is None:
            tag = tags[key] = super().resolve(kind, value, implicit)
        return tag


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
    ldr = (loader or _Loader)(text)
    try:
        node = ldr.get_single_node()
        if node is None:
            return None
        if loader is not None:
            return ldr.construct_document(node)
        return _convert(ldr, node)
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
    finally:
        ldr.dispose()


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_INT = "tag:yaml.org,2002:int"


def _convert(loader, node, memo=None):
    """Node tree → LMap/LList/scalars, the same result as the constructors above but without
    PyYAML's generic construction machinery (3× faster on large files). Aliases share objects."""
    memo = {} if memo is None else memo
    key = id(node)
    if key in memo:
        return memo[key]
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _INT:
        v = node.value  # plain decimal digits; anything else (0x…, 0o…, 1_000, YAML 1.1's 0755 octal) below
        if v.isascii() and v.isdigit() and (len(v) == 1 or v[0] != "0"):
            return int(v)
    if tag == _MAP:
        out = _map(loader, node) if node.value and node.value[0][0].tag == "tag:yaml.org,2002:merge" else None
        if out is None:
            out = LMap()
            out.line = node.start_mark.line + 1
            out.key_lines = {}
            for knode, vnode in node.value:
                if knode.tag == "tag:yaml.org,2002:merge":
                    return _map(loader, node)
                k = _convert(loader, knode, memo)
                try:
                    if k in out:
                        raise SpecError(f"duplicate key {k!r}", line=knode.start_mark.line + 1)
                except TypeError:
                    raise SpecError("a mapping key must be a plain value", line=knode.start_mark.line + 1) from None
                out[k] = _convert(loader, vnode, memo)
                out.key_lines[k] = knode.start_mark.line + 1
        memo[key] = out
        return out
    if tag == _SEQ:
        out = LList(_convert(loader, v, memo) for v in node.value)
        out.line = node.start_mark.line + 1
        out.item_lines = [v.start_mark.line + 1 for v in node.value]
        memo[key] = out
        return out
    return loader.construct_object(node, deep=True)


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

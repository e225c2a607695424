"""YAML loading that keeps line numbers, refuses anything but plain data, and is bounded.

Mappings load as `LMap` (a dict remembering the line of itself and of each key) and sequences as
`LList` (a list remembering the line of each item). The document is built straight from libyaml's
event stream by a loop with an explicit stack (no recursion: 50,000 nested brackets are one clean
error, not a crashed interpreter), so that:

- nesting deeper than `MAX_NESTING` is refused as soon as it is seen;
- only the standard scalar tags exist (str, int, float, bool, null, timestamp); `!!python/object`,
  `!!binary` or `!foo` is an error, never an object, and a standard tag with bad content (`!!int abc`,
  `!!map` on a scalar) is a clean error at its line;
- integers have at most `MAX_INT_DIGITS` digits (far below Python's 4,300-digit int/str limit);
- an alias shares its anchor's content but reports its own line (a shallow copy), and counts against
  the `MAX_VALUES` budget as the copy it stands for: an alias bomb (`&a1 [*a0, *a0]`, 60 times) is
  refused at once wherever it sits, instead of being walked or printed as a tree of 2^60 leaves;
- merge keys (`<<: *base`) work with overrides: the mapping's own keys win, whatever their order.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..errors import SpecError, unquoted
from .files import MAX_BYTES, char_name, check_text, read_text

MAX_NESTING = 100      # a real architecture nests about a dozen levels
MAX_INT_DIGITS = 24    # far above any count (10^24) and far below Python's 4,300-digit limit
MAX_VALUES = 600_000   # scalars, lists and mappings in one file (100,000 generated layers are 500,000)

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_T = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _INT, _FLOAT, _MERGE = (_T + k for k in ("str", "map", "seq", "int", "float", "merge"))
_SCALAR_TAGS = {_T + k for k in ("str", "int", "float", "bool", "null", "timestamp")}
_CTRL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class LMap(dict):
    __slots__ = ("line", "key_lines")

    def line_of(self, key) -> int | None:
        return self.key_lines.get(key, self.line)


class LList(list):
    __slots__ = ("line", "item_lines")

    def line_of(self, index: int) -> int | None:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """The scalar constructors (a subclass may wrap them: check.py's keeps numbers' source text)."""

    def resolve(self, kind, value, implicit):
        """The tag of a node, remembered per loader for scalars: a plain scalar's tag depends only on its
        text, and big files repeat the same few texts (`conv`, `3`) thousands of times."""
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        tags = self.__dict__.setdefault("_tags", {})
        key = (value, implicit)
        tag = tags.get(key)
        if tag is None:
            tag = tags[key] = super().resolve(kind, value, implicit)
        return tag


def _short(tag: str) -> str:
    return tag.replace(_T, "!!")


class _Frame:
    __slots__ = ("obj", "anchor", "key", "key_line", "has_key", "merges", "merge_line", "start")

    def __init__(self, obj, anchor, start: int):
        self.obj, self.anchor, self.start = obj, anchor, start
        self.key = self.key_line = None
        self.has_key = False
        self.merges = None
        self.merge_line = None


class _Builder:
    """libyaml events → LMap/LList/scalars, iteratively."""

    def __init__(self, ldr, plain_ints: bool):
        self.ldr = ldr
        self.plain_ints = plain_ints
        self.anchors: dict = {}
        self.weights: dict = {}      # anchor → how many values its content stands for (aliases expanded)
        self.open: set = set()       # anchors of collections still being built (an alias to one is a cycle)

    def scalar(self, ev, line: int):
        tag, value = ev.tag, ev.value
        if tag is None or tag == "!":
            tag = self.ldr.resolve(yaml.ScalarNode, value, ev.implicit)
        if tag == _STR:
            if _CTRL.search(value):
                ch = _CTRL.search(value).group()
                raise SpecError(f"control character {char_name(ch)} in a text value is not allowed", line=line)
            return value
        if tag in (_MAP, _SEQ):
            raise SpecError(f"tag {_short(tag)} on a single value: expected a "
                            f"{'mapping' if tag == _MAP else 'list'}", line=line)
        if tag not in _SCALAR_TAGS:
            raise SpecError(f"tag {_short(tag)} is not allowed: only plain YAML data is read", line=line)
        if tag == _INT:
            digits = sum(c.isdigit() for c in value)
            if digits > MAX_INT_DIGITS:
                raise SpecError(f"a number with {digits:,} digits; numbers have at most {MAX_INT_DIGITS}", line=line)
            if self.plain_ints and value.isascii() and value.isdigit() and (len(value) == 1 or value[0] != "0"):
                return int(value)
        node = yaml.ScalarNode(tag, value, ev.start_mark, ev.end_mark, ev.style)
        try:
            out = self.ldr.yaml_constructors[tag](self.ldr, node)
        except Exception:  # noqa: BLE001 — any failure of a standard constructor is bad content
            raise SpecError(f"{_short(tag)}: not a valid {_short(tag)[2:]} value", line=line) from None
        if isinstance(out, int) and not isinstance(out, bool) and abs(out) >= 10 ** MAX_INT_DIGITS:
            raise SpecError(f"a number larger than 10^{MAX_INT_DIGITS}", line=line)
        if tag in (_INT, _FLOAT):
            _decimal_and_finite(value, out, line)
        return out

    def alias(self, ev, line: int):
        name = ev.anchor
        if name in self.open:
            raise SpecError("an alias inside the collection it refers to (a cycle)", line=line)
        if name not in self.anchors:
            raise SpecError("an alias (*name) with no anchor (&name) before it", line=line)
        obj = self.anchors[name]
        if isinstance(obj, LMap):  # a shallow copy that reports the alias's own line
            out = LMap(obj)
            out.line, out.key_lines = line, dict.fromkeys(obj, line)
            return out
        if isinstance(obj, LList):
            out = LList(obj)
            out.line, out.item_lines = line, [line] * len(obj)
            return out
        return obj

    def collection(self, ev, line: int, is_map: bool):
        tag = ev.tag
        want = _MAP if is_map else _SEQ
        if tag not in (None, "!", want):
            raise SpecError(f"tag {_short(tag)} is not allowed: only plain YAML data is read "
                            f"(on a {'mapping' if is_map else 'list'})", line=line)
        obj = LMap() if is_map else LList()
        obj.line = line
        if is_map:
            obj.key_lines = {}
        else:
            obj.item_lines = []
        return obj

    def add(self, frame: _Frame, value, line: int, is_merge_key: bool = False):
        """Put a finished value into the open collection on top of the stack."""
        obj = frame.obj
        if isinstance(obj, LList):
            obj.append(value)
            obj.item_lines.append(line)
            return
        if not frame.has_key:
            try:
                hash(value)
            except TypeError:
                raise SpecError("a mapping key must be a plain value, not a list or mapping", line=line) from None
            frame.key, frame.key_line, frame.has_key = (_MERGE if is_merge_key else value), line, True
            return
        key, key_line = frame.key, frame.key_line
        frame.has_key = False
        if key is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not sources or not all(isinstance(s, dict) for s in sources):
                raise SpecError("a merge key (<<) takes a mapping or a list of mappings", line=key_line)
            frame.merges = (frame.merges or []) + list(sources)
            frame.merge_line = key_line
            return
        if key in obj:
            raise SpecError(f"duplicate key {_quote(key)}", line=key_line)
        obj[key] = value
        obj.key_lines[key] = key_line

    def close_map(self, frame: _Frame):
        """Merged keys fill in what the mapping does not say itself (earlier merges win over later ones)."""
        if not frame.merges:
            return
        obj = frame.obj
        for src in frame.merges:
            for k, v in src.items():
                if k not in obj:
                    obj[k] = v
                    obj.key_lines[k] = frame.merge_line


_YAML11_INT = re.compile(r"[-+]?(?:0[0-7_]+|0[xob][0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)")


def _decimal_and_finite(text: str, value, line: int) -> None:
    """YAML 1.1 reads `010` as 8, `1:30` as 90 and `0x10` as 16 without a word: a number is written in
    decimal here. NaN and infinity are no figure of any network."""
    text = text.strip()
    plain = text.replace("_", "")
    if _YAML11_INT.fullmatch(text) and not (plain.lstrip("+-").isdigit() and int(plain) == value):
        raise SpecError(f"{text[:30]} is read as {value} by YAML 1.1 (octal, base 60 or hexadecimal); "
                        "write the number in decimal", line=line)
    if value != value or value in (float("inf"), float("-inf")):
        raise SpecError(f"{text[:30]} is not a finite number", line=line)


def _quote(key) -> str:
    text = repr(key)
    return text if len(text) <= 60 else text[:57] + "…'"


def _compose(ldr, plain_ints: bool):
    """The single document of the stream, or None when empty."""
    b = _Builder(ldr, plain_ints)
    stack: list[_Frame] = []
    root, seen_doc, count = None, False, 0
    plain: dict = {}     # text → value of untagged plain scalars that are text or a plain int (the usual case)
    Scalar, Alias, MapStart, SeqStart, MapEnd, SeqEnd = (yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent,
                                                         yaml.SequenceStartEvent, yaml.MappingEndEvent,
                                                         yaml.SequenceEndEvent)
    while True:
        ev = ldr.get_event()
        cls = type(ev)
        line = ev.start_mark.line + 1 if ev.start_mark else None
        is_merge = False
        if cls is Scalar or cls is Alias or cls is MapStart or cls is SeqStart:
            count += b.weights.get(ev.anchor, 1) if cls is Alias else 1
            if count > MAX_VALUES:
                raise SpecError(f"more than {MAX_VALUES:,} values in one file"
                                + (" (an alias counts as the values it repeats)" if cls is Alias else ""), line=line)
        if cls is Scalar:
            key = (ev.value, ev.implicit) if ev.tag is None and ev.anchor is None else None
            value = plain.get(key) if key is not None else None
            if value is None:
                top = stack[-1] if stack else None
                if (ev.value == "<<" and ev.tag is None and ev.implicit[0] and top is not None
                        and isinstance(top.obj, LMap) and not top.has_key):
                    is_merge = True
                else:
                    value = b.scalar(ev, line)
                    if key is not None and value is not None and type(value) in (str, int) and ev.value != "<<":
                        plain[key] = value
                if ev.anchor is not None:
                    b.anchors[ev.anchor] = value
        elif cls is Alias:
            value = b.alias(ev, line)
        elif cls is MapStart or cls is SeqStart:
            if len(stack) >= MAX_NESTING:
                raise SpecError(f"nested more than {MAX_NESTING} levels deep", line=line)
            frame = _Frame(b.collection(ev, line, cls is MapStart), ev.anchor, count)
            if ev.anchor is not None:
                b.open.add(ev.anchor)
            stack.append(frame)
            continue
        elif cls is MapEnd or cls is SeqEnd:
            frame = stack.pop()
            if cls is MapEnd:
                b.close_map(frame)
            value = frame.obj
            line = frame.obj.line
            if frame.anchor is not None:
                b.open.discard(frame.anchor)
                b.anchors[frame.anchor] = value
                b.weights[frame.anchor] = count - frame.start + 1
        elif cls is yaml.DocumentStartEvent:
            if seen_doc:
                raise SpecError("expected a single YAML document, found a second one (---)", line=line)
            seen_doc = True
            continue
        elif cls is yaml.StreamEndEvent or ev is None:
            return root
        else:  # StreamStart, DocumentEnd
            continue
        if stack:
            top = stack[-1]
            obj = top.obj
            if type(obj) is LList:
                obj.append(value)
                obj.item_lines.append(line)
            else:
                b.add(top, value, line, is_merge)
        else:
            root = value


def loads(text: str, file: str = "<string>", loader=None):
    """Parse YAML text into LMap/LList/scalars; every failure is a SpecError with a line.

    `loader` may be a subclass of this module's loader (check.py's keeps numbers' source text)."""
    if len(text) > MAX_BYTES:
        raise SpecError(f"file is {len(text):,} characters; the limit is {MAX_BYTES:,}", file=file)
    check_text(text, file)
    ldr = (loader or _Loader)(text)
    try:
        return _compose(ldr, plain_ints=loader is None)
    except SpecError as e:
        raise e.located(file=file)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise SpecError(f"not valid YAML: {_problem(e.problem or 'syntax error')}", file=file,
                        line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError:
        raise SpecError("not valid YAML", file=file) from None
    except RecursionError:
        raise SpecError("YAML nested too deeply", file=file) from None
    finally:
        ldr.dispose()


def _problem(text: str) -> str:
    """PyYAML's description of a syntax error, without the file's own text (a quoted token of more
    than one character is dropped: the file may not be an architecture at all, and may be a secret)."""
    text = unquoted(text.strip())
    return text.splitlines()[0] if text else "syntax error"


def load_file(path: str | Path, loader=None):
    return loads(read_text(path), str(path), loader)


def line_of(container, key) -> int | None:
    if isinstance(container, (LMap, LList)):
        return container.line_of(key)
    return None


def own_line(obj) -> int | None:
    return getattr(obj, "line", None)


def without(item, key: str, line) -> LMap:
    """The item less one key, keeping its lines for errors."""
    rest = LMap((k, v) for k, v in item.items() if k != key)
    rest.line, rest.key_lines = line, getattr(item, "key_lines", {})
    return rest

"""The one output-sanitising layer: user text (names, labels, sources, file names, quoted values) never
becomes a control sequence, Rich markup, a CI workflow command, a spreadsheet formula or invalid XML.

`check` runs in CI on students' pull requests, so every text a student can write is hostile:

- `visible(text)`: control characters (ESC, BEL, NUL, line breaks, U+2028…) shown escaped (`\\x1b`, `\\n`);
- `markup(text)`: `visible`, then Rich's markup escaped — for user text inside a markup string
  (`f"[bold]{markup(report.name)}[/bold]"`); table cells enter through `render.fit.as_text`, which
  uses `visible` and never reads markup;
- `guard(text)`: GitHub's runner reads a line starting with `::` (after spaces) or holding `##[` anywhere
  as a workflow command (`::add-mask::`, `##[error]`); they are written `:\\u003a` and `##\\u005b`,
  which read as an escape in a log and decode back to the original text in JSON;
- `GuardedStream`: standard output and error wrapped in `guard` for the whole command (cli/common.py);
  the annotations `check --format github` means to emit go through `trusted`;
- `csv_cell(value)`: a text cell starting with `= + - @` (or a tab or CR) gets a leading `'`, as the
  spreadsheet guidance (OWASP CSV injection) recommends;
- `xml_text(text)`: `visible` (XML 1.0 cannot hold most control characters at all).
"""
from __future__ import annotations

import re
import sys

from rich.markup import escape

from ..errors import printable

_LINE_START = re.compile(r"^([ \t]*)::", re.M)
_BRACKET = "##["
_BRACKET_SAFE = "##\\u005b"
_COLONS_SAFE = ":\\u003a"
_FORMULA = tuple("=+-@\t\r")


def visible(text, keep_newlines: bool = False) -> str:
    """Text with every control character shown escaped (`keep_newlines`: a table cell's own lines stay)."""
    text = str(text)
    if text.isprintable():
        return text
    if keep_newlines:
        return "\n".join(printable(part) for part in text.split("\n"))
    return printable(text)


def markup(text, keep_newlines: bool = False) -> str:
    """User text to put inside a Rich markup string: shown as written, never read as a tag."""
    return escape(visible(text, keep_newlines))


def guard(text: str) -> str:
    """Text in which no line starts with `::` (after spaces) and no `##[` occurs. Each edit replaces the
    last character of what it defuses, so a text written in pieces is defused as the whole would be."""
    if _BRACKET in text:
        text = text.replace(_BRACKET, _BRACKET_SAFE)
    if "::" in text:
        text = _LINE_START.sub(lambda m: m.group(1) + _COLONS_SAFE, text)
    return text


def csv_cell(value):
    """A CSV cell a spreadsheet never evaluates: text starting with = + - @ (tab, CR) gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def xml_text(text) -> str:
    return visible(text, keep_newlines=True)


class GuardedStream:
    """A text stream whose every write is `guard`ed as part of the line it continues."""

    def __init__(self, raw):
        self.raw = raw
        self.line = ""          # the line written so far, as much of it as `guard` can still need

    def write(self, text: str) -> int:
        done = guard(self.line)
        whole = self.line + text
        self.raw.write(guard(whole)[len(done):])
        line = whole.rsplit("\n", 1)[-1]
        start = line.lstrip(" \t")
        self.line = start if start in ("", ":") else "x" + line[-2:]
        return len(text)

    def trusted(self, text: str) -> int:
        """Written as it is: a workflow command cnncalc means to emit."""
        self.line = ""
        return self.raw.write(text)

    def __getattr__(self, name):
        return getattr(self.raw, name)


def trusted(line: str, stream=None) -> None:
    """Print a line that is meant to be a workflow command (`::error file=…::…`), past the guard."""
    stream = stream or sys.stdout
    write = getattr(stream, "trusted", stream.write)
    write(line + "\n")

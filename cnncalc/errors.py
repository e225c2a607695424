"""The one error type users see: a message naming file, line and layer path."""
from __future__ import annotations


class CnncalcError(Exception):
    """Bad input or usage. The CLI prints `str(err)` and exits 2."""

    derived = False  # may follow from an earlier error (a shape or name it left wrong): dropped after one
    fatal = False    # nothing after it can be checked (a size bound): reported at once, alone or last

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 path: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.path = path

    def located(self, file: str | None = None, line: int | None = None,
                path: str | None = None) -> "CnncalcError":
        """Fill in location fields not set yet (inner code knows less than outer code)."""
        self.file = self.file or file
        self.line = self.line or line
        self.path = self.path or path
        return self

    def lines(self) -> list[str]:
        """What the CLI prints, one `error:` line each."""
        return [str(self)]

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = printable(self.file) + (f":{self.line}" if self.line else "")
        elif self.line:
            where = f"line {self.line}"
        parts = [printable(str(p)) for p in (where, self.path) if p not in (None, "")]
        return (": ".join(parts) + ": " if parts else "") + self.message


class SpecError(CnncalcError):
    """A malformed architecture or answers file."""


class SpecErrors(SpecError):
    """Several independent errors of one file, in the order found: one line each."""

    def __init__(self, errors: list[CnncalcError]):
        super().__init__(errors[0].message, file=errors[0].file, line=errors[0].line, path=errors[0].path)
        self.errors = errors

    def located(self, file=None, line=None, path=None) -> "SpecErrors":
        for e in self.errors:
            e.located(file)
        return self

    def lines(self) -> list[str]:
        return [str(e) for e in self.errors]

    def __str__(self) -> str:
        return "\n".join(self.lines())


class LayerError(CnncalcError):
    """A layer that cannot be applied to its input (raised by layer classes, located by the analyzer)."""


def printable(text: str) -> str:
    """Text with control characters shown escaped (a file name with a line break forges no second line)."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


QUOTE_CHARS = 60


def quote(value) -> str:
    """A value quoted in an error message: a text or number as Python writes it, cut to about 60
    characters; a mapping or a long list only described (a foreign file's other keys are never printed)."""
    if isinstance(value, dict):
        return f"a mapping ({_count(len(value), 'key')})"
    if isinstance(value, list):
        flat = all(isinstance(v, (str, int, float)) for v in value)
        text = repr(value) if flat and len(value) <= 12 else ""
        return text if text and len(text) <= QUOTE_CHARS else f"a list ({_count(len(value), 'item')})"
    if isinstance(value, (str, int, float)) or value is None:
        text = repr(value)
        return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS - 2] + "…" + text[0]
    return f"{value} (a {type(value).__name__})"[:QUOTE_CHARS]


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def unquoted(text: str) -> str:
    """A message with every quoted text of more than one character replaced by `…` (for errors about a
    file that may not be ours to show: a configuration file's token is no part of a CI log)."""
    import re
    return re.sub(r"'[^']{2,}'|\"[^\"]{2,}\"", "…", text)


def closest(word: str, choices, n: int = 3) -> list[str]:
    import difflib
    return difflib.get_close_matches(str(word), [str(c) for c in choices], n=n, cutoff=0.5)


def suggest(word: str, choices) -> str:
    near = closest(str(word), choices)
    return f" (did you mean {', '.join(quote(c) for c in near)}?)" if near else ""

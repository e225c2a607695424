"""Every file the tool opens or writes goes through here: bounded reads, atomic writes.

`check` runs in CI on files that students submit, so every input is untrusted:

- `read_text` opens regular files only (a FIFO would block forever, `/dev/zero` never ends, a
  directory is not text), checks the size before reading and reads at most `MAX_BYTES`, decodes
  UTF-8 and refuses NUL and other control characters with the line they are on. Its messages name
  the file and never quote what is in it.
- `atomic_write` writes a temporary file in the target's directory and renames it over the target,
  so a reader never sees a half-written file and a full disk leaves the old file as it was; it refuses
  to write over one of the command's own inputs and says when it replaced an existing file.

Imports nothing from cnncalc but errors (render, pytorch and cli use it too).
"""
from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from pathlib import Path

from ..errors import CnncalcError, SpecError, printable

MAX_BYTES = 4 * 1024 * 1024  # 4 MiB: a hand-written file is kilobytes; 100,000 generated layers are 3 MB
MAX_SIZE = 2**31 - 1     # the largest size or count anywhere (a dimension, channels, kernel, batch, …)

# What YAML 1.1 refuses (PyYAML's reader): C0 controls but tab/LF/CR, DEL, C1 controls but NEL, surrogates.
_BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_NAMES = {0: "NUL", 0x1b: "ESC", 0x7f: "DEL", 0x0b: "vertical tab", 0x0c: "form feed", 0x08: "backspace"}


def char_name(ch: str) -> str:
    code = ord(ch)
    return f"U+{code:04X}" + (f" ({_NAMES[code]})" if code in _NAMES else "")


def check_text(text: str, file: str | None = None) -> None:
    """Refuse control characters (NUL, ESC, …) with the line they are on, in one line."""
    m = _BAD_CHAR.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        raise SpecError(f"control character {char_name(m.group())} is not allowed (a binary file?)",
                        file=file, line=line)


def read_text(path: str | Path, what: str = "file", max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `max_bytes`; SpecError (naming only the file) otherwise."""
    name = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SpecError("no such file", file=name) from None
    except (OSError, ValueError) as e:
        raise SpecError(f"cannot read: {getattr(e, 'strerror', None) or 'bad path'}", file=name) from None
    _regular(st, name, what)
    if st.st_size > max_bytes:
        raise SpecError(f"{what} is {st.st_size:,} bytes; the limit is {max_bytes:,}", file=name)
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO after the stat, opening does not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise SpecError(f"cannot read: {e.strerror}", file=name) from None
    with os.fdopen(fd, "rb") as fh:
        _regular(os.fstat(fd), name, what)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SpecError(f"{what} is larger than the limit of {max_bytes:,} bytes", file=name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise SpecError("not a UTF-8 text file", file=name, line=line) from None
    check_text(text, name)
    return text


def _regular(st: os.stat_result, name: str, what: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise SpecError(f"is a directory, expected a YAML {what}", file=name)
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a file")
        raise SpecError(f"is {kind}, not a regular file: refused", file=name)


def _is_link(p: Path) -> bool:
    try:
        return p.is_symlink()
    except (OSError, ValueError):
        return False


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same existing file (hard links and symlinks included)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def atomic_write(path: str | Path, text: str, inputs=(), option: str = "-o") -> bool:
    """Write `text` (UTF-8) to `path` atomically: a temporary file in the same directory, then a rename.

    Refuses (CnncalcError) a path that is one of `inputs` (the files the command read), a directory, or
    anything that is not a regular file (a FIFO would block, a device would be written in place). Returns
    True when an existing file was replaced, so that the command can say so.

    `-` means standard output. A symbolic link is written through: its final target is replaced
    (atomically, in the target's directory), never the link itself; a link to nothing is refused."""
    name = str(path)
    if name == "-":
        sys.stdout.write(text)
        return False
    target = Path(path)
    if _is_link(target):
        real = Path(os.path.realpath(target))
        if not os.path.lexists(real):
            raise CnncalcError(f"{option} {printable(name)}: a symbolic link to nothing; refusing to write there")
        target = real
    for src in inputs:
        if src is not None and (same_file(target, src) or target.resolve() == Path(src).resolve()):
            raise CnncalcError(f"{option} {name}: is also an input of this command; refusing to overwrite it")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise CnncalcError(f"{option} {name}: cannot write: {e.strerror}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise CnncalcError(f"{option} {name}: is {what}; refusing to write there")
    directory = target.parent if str(target.parent) else Path(".")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        raise CnncalcError(f"{option} {name}: cannot write: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return st is not None

"""What every command shares: error handling (exit 2, one line, no traceback) and output.

`OneLineErrors` is the command group's class: every usage error Click finds (a bad option value, a
missing or extra argument, an unknown option) becomes one `error: …` line and exit 2 instead of Typer's
boxed panel, and every output failure (standard output closed or full, an encoding that cannot show the
text) one line and a non-zero exit; a broken pipe ends quietly.
"""
from __future__ import annotations

import errno
import functools
import os
import re
import sys
import warnings
from enum import Enum

import typer
from typer.core import TyperGroup

from ..errors import CnncalcError

try:  # Typer ships its own copy of Click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older Typer with Click installed beside it
    from click import exceptions as click_exc  # type: ignore[no-redef]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


MAX_MESSAGE = 1000   # characters of one error line (a value quoted in it is cut far shorter: errors.quote)


def one_line(message: str) -> str:
    """A message as one printable line: line breaks become spaces, other control characters \\xNN."""
    text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE // 2] + " … " + text[-MAX_MESSAGE // 2:]


def fail(message: str, code: int = 2) -> "typer.Exit":
    _stderr(f"error: {one_line(message)}")
    return typer.Exit(code)


def _stderr(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass




def show_notes() -> None:
    """Inside warnings.catch_warnings(): print cnncalc's notes (BuiltinNote) as `note: …` on stderr."""
    from ..spec.builtins import BuiltinNote
    original = warnings.showwarning

    def show(message, category, *args, **kwargs):
        if issubclass(category, BuiltinNote):
            print(f"note: {message}", file=sys.stderr)
        else:
            original(message, category, *args, **kwargs)
    warnings.simplefilter("always", BuiltinNote)
    warnings.showwarning = show


def guarded(fn):
    """Turn CnncalcError (bad input or usage) into one line on stderr and exit 2."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings():
                show_notes()
                return fn(*args, **kwargs)
        except CnncalcError as e:
            *first, last = e.lines()  # a file with several errors: one line each
            for line in first:
                _stderr(f"error: {one_line(line)}")
            raise fail(last) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    return wrapper


def _quiet_stdout() -> None:
    """Point fd 1 at /dev/null so that the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def _usage_message(e) -> str:
    msg = e.format_message()
    ctx = getattr(e, "ctx", None)
    where = ""
    if ctx is not None and ctx.command_path:
        words = ctx.command_path.split()
        sub = " ".join(words[1:]) if len(words) > 1 else ""
        sub = sub.replace("-m cnncalc", "").strip()
        where = f" (cnncalc {sub + ' ' if sub else ''}-h for help)"
    return msg.rstrip(".") + where


class OneLineErrors(TyperGroup):
    """The `cnncalc` group: one `error:` line for every usage and output error (see the module doc)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, **extra)
        if sys.stdout is None:
            _stderr("error: standard output is closed; nothing could be printed")
            sys.exit(2)
        from ..render.safe import GuardedStream
        streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = GuardedStream(sys.stdout), GuardedStream(sys.stderr)  # no forged CI command
        try:
            self._main_guarded(args, prog_name, complete_var, extra)
        finally:
            sys.stdout, sys.stderr = streams

    def _main_guarded(self, args, prog_name, complete_var, extra):
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
            sys.stdout.flush()
        except click_exc.NoArgsIsHelpError as e:
            e.show()
            sys.exit(2)
        except click_exc.UsageError as e:
            _stderr(f"error: {one_line(_usage_message(e))}")
            sys.exit(2)
        except click_exc.ClickException as e:
            _stderr(f"error: {one_line(e.format_message())}")
            sys.exit(e.exit_code or 1)
        except (typer.Abort, KeyboardInterrupt):
            sys.exit(130)
        except UnicodeEncodeError as e:
            _quiet_stdout()
            enc = getattr(sys.stdout, "encoding", None) or e.encoding
            _stderr(f"error: the output's encoding ({enc}) cannot show {ascii(e.object[e.start:e.end])}; "
                    "set PYTHONIOENCODING=utf-8 (or a UTF-8 locale)")
            sys.exit(2)
        except OSError as e:
            _quiet_stdout()
            if e.errno == errno.EPIPE:
                sys.exit(1)
            where = f"{e.filename}: " if e.filename else "cannot write the output: "
            _stderr(f"error: {one_line(where + (e.strerror or str(e)))}")
            sys.exit(2)
        code = rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
        sys.exit(code)


def console():
    from ..render.tables import make_console
    return make_console()


def emit_json(model) -> None:
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def format_option(what: str = "the table"):
    return typer.Option(None, "--format", case_sensitive=False, metavar="FORMAT",
                        help=f"table (the default), json, csv (every column, plain numbers) or markdown, for {what}.")


JSON = typer.Option(False, "--json", help="Same as --format json.")
LAYOUT = typer.Option(None, "--layout", metavar="HWC|CHW", help="How a full --input is written: CHW (channels "
                      "first, the default: 3x224x224) or HWC (224x224x3).")


def input_shape(arch: str, input: str | None, layout: str | None):
    """--input (with --layout) resolved against the architecture, channels first, for the commands that
    hand it on (verify, bench, export); its errors name the flag."""
    if input is None and layout is None:
        return None
    from ..analysis.analyze import load
    return tuple(load(arch, input, layout).input)


def chosen(format, json: bool) -> str:
    """The output format of --format and its short form --json (which must not contradict each other)."""
    name = format.value if isinstance(format, Enum) else (format or "table")
    if json and name not in ("table", "json"):
        raise CnncalcError(f"--json contradicts --format {name}: give one of them")
    return "json" if json else name


def emit_columns(fmt: str, cols, footer: bool = False) -> None:
    """Print columns as CSV or Markdown (every column, nothing dropped for width)."""
    from ..render.formats import to_csv, to_markdown
    sys.stdout.write(to_csv(cols) if fmt == "csv" else to_markdown(cols, footer))


def plain_metavars() -> None:
    """Help without Typer's type labels (`--json <bool>`): flags show none; an option's own metavar
    (SHAPE, N, FILE) or its choices; an argument its upper-case name (`ARCH`, not `{arch} <str>`)."""
    from typer import core

    opt, arg = getattr(core, "TyperOption", None), getattr(core, "TyperArgument", None)
    if opt is None or arg is None or not hasattr(opt, "display_type_rich"):
        return
    original = opt.display_type_rich

    def option_type(self, ctx):
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return None
        label = original(self, ctx) or ""
        return label.strip("<>").upper().replace(" RANGE", "") or None

    opt.display_type_rich = option_type
    arg.display_type_rich = lambda self, ctx: None
    if hasattr(arg, "_usage_display_name"):
        arg._usage_display_name = lambda self: ((self.metavar or self.name.upper()) if self.required
                                                else f"[{self.metavar or self.name.upper()}]") + (
                                                    "..." if self.nargs != 1 else "")
    if hasattr(arg, "display_name_raw"):
        arg.display_name_raw = property(lambda self: self.metavar or self.name.upper())


def load_arch(arch, input=None, layout=None):
    """The graph of a command's architecture argument: a YAML file or built-in name, or a model to import
    (a .onnx file, path/to/file.py:NAME, package.module:NAME), imported in memory."""
    from ..importers import is_source
    if is_source(arch):
        if layout is not None:
            raise CnncalcError("--layout is for YAML architectures: give an imported model's --input as C×H×W")
        from ..importers import load_source
        return load_source(arch, input)
    from ..analysis.analyze import load
    return load(arch, input, layout)


def input_files(archs) -> list:
    """The files a command read (which its outputs must not overwrite)."""
    from ..importers import is_source, source_file
    from ..analysis.analyze import resolve
    return [source_file(a) if is_source(a) else resolve(a) for a in archs]

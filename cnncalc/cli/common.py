"""What every command shares: error handling (exit 2, one line, no traceback) and output."""
from __future__ import annotations

import functools
from enum import Enum
import sys
import warnings

import typer

from ..errors import CnncalcError


def fail(message: str, code: int = 2) -> "typer.Exit":
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


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
            raise fail(str(e)) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    return wrapper


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

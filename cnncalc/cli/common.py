"""What every command shares: error handling (exit 2, one line, no traceback) and output."""
from __future__ import annotations

import functools
import sys

import typer

from ..errors import CnncalcError


def fail(message: str, code: int = 2) -> "typer.Exit":
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


def guarded(fn):
    """Turn CnncalcError (bad input or usage) into one line on stderr and exit 2."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
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

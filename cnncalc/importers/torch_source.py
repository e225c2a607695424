"""Finding the user's PyTorch model: `file.py:NAME` or `package.module:NAME` → the module and NAME,
and the input shape (--input, or the file's INPUT constant).

Importing the file RUNS ITS CODE (as `python file.py` would): that is what the user asks for, and the
CLI's help says so; `check` never imports a model. Never imports torch (torch_front builds the model).
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from ..spec.builder import flag_shape, parse_shape
from .ops import ModelError


def load_object(source: str):
    """The object NAME of `file.py:NAME` or `package.module:NAME` (importing runs the module's code)."""
    where, _, name = source.rpartition(":")
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ModelError(f"{where}: no such file")
        mod_name = f"cnncalc_import_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        sys.path.insert(0, str(path.resolve().parent))   # the file's own imports of its neighbours
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            raise ModelError(f"{where}: running it failed: {type(e).__name__}: {str(e)[:200]}") from None
        finally:
            sys.path.remove(str(path.resolve().parent))
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as e:
            raise ModelError(f"{where}: cannot import it: {str(e)[:200]}") from None
        except Exception as e:
            raise ModelError(f"{where}: importing it failed: {type(e).__name__}: {str(e)[:200]}") from None
    if not hasattr(module, name):
        raise ModelError(f"{where} has no {name!r}")
    return module, getattr(module, name)


def input_shape(module, text: str | None, where: str, layout: str | None = None) -> tuple[int, ...]:
    if text is not None:
        return flag_shape(text, layout)
    value = getattr(module, "INPUT", None)
    if value is None:
        raise ModelError(f"{where}: give --input C×H×W (or define INPUT = (3, 224, 224) in the file)")
    return parse_shape(list(value) if isinstance(value, tuple) else value, f"{where}: INPUT")

"""Built-in architectures: the YAML files in the repository's top-level `architectures/`; and the example
answers files of `cnncalc check` in `examples/exam/` (`cnncalc check student` runs from any directory).

A wheel ships them inside the package as `cnncalc/architectures/` and `cnncalc/examples/` (pyproject's
package-dir mapping); a source checkout or an editable install reads the top-level folders directly.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def _shipped(installed: str, checkout: str) -> Path:
    """A data folder shipped in the wheel as cnncalc/<installed>, read from <checkout> in a source checkout."""
    inside = _PACKAGE / installed          # inside an installed wheel
    return inside if inside.is_dir() else _PACKAGE.parent / checkout


ARCH_DIR = _shipped("architectures", "architectures")
EXAMPLES_DIR = _shipped("examples", "examples/exam")   # the example answers files of `cnncalc check`


class BuiltinNote(UserWarning):
    """A name like `lenet5.yaml` that is no file here was read as the built-in `lenet5` (the CLI prints it as a note)."""


def builtin_names() -> list[str]:
    return sorted(p.stem for p in ARCH_DIR.glob("*.yaml"))


def builtin_path(name: str, folder: Path = ARCH_DIR) -> Path | None:
    """The shipped file NAME.yaml in `folder` (the built-in architectures by default), or None."""
    p = folder / f"{name}.yaml"
    try:
        return p if p.is_file() else None
    except (OSError, ValueError):    # a name too long to look up is no built-in
        return None

"""Built-in architectures: the YAML files in the repository's top-level `architectures/`.

A wheel ships them inside the package as `cnncalc/architectures/` (pyproject's package-dir mapping);
a source checkout or an editable install reads the top-level folder directly.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def _arch_dir() -> Path:
    installed = _PACKAGE / "architectures"          # inside an installed wheel
    return installed if installed.is_dir() else _PACKAGE.parent / "architectures"


ARCH_DIR = _arch_dir()


class BuiltinNote(UserWarning):
    """A name like `lenet5.yaml` that is no file here was read as the built-in `lenet5` (the CLI prints it as a note)."""


def builtin_names() -> list[str]:
    return sorted(p.stem for p in ARCH_DIR.glob("*.yaml"))


def builtin_path(name: str) -> Path | None:
    p = ARCH_DIR / f"{name}.yaml"
    try:
        return p if p.is_file() else None
    except (OSError, ValueError):    # a name too long to look up is no built-in
        return None

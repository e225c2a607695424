"""Built-in architectures: YAML files shipped inside the package (cnncalc/architectures)."""
from __future__ import annotations

from pathlib import Path

ARCH_DIR = Path(__file__).parent / "architectures"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in ARCH_DIR.glob("*.yaml"))


def builtin_path(name: str) -> Path | None:
    p = ARCH_DIR / f"{name}.yaml"
    return p if p.is_file() else None

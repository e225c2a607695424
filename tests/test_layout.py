"""The package layout shows the architecture, and imports point one way (DESIGN.md, "Layout").

Read from the source with `ast`, so a violation is found without importing anything:
- spec, layers and analysis never import exam, pytorch, render or cli;
- render never imports pytorch; exam never imports pytorch, render or cli;
- serve (the live report's loopback server) imports analysis and render, never exam, pytorch or cli, and
  nothing below it imports serve;
- nothing outside pytorch/ imports torch at module level (layers build their torch module lazily,
  importing only torch and cnncalc.pytorch.ops inside the method; the PyTorch front-end of importers/
  imports torch inside its functions);
- only importers/ imports onnx; spec, layers and analysis never import importers;
- the package root holds only the public API; every subpackage says in its docstring what it may import;
- pyproject's package list names every subpackage, so the wheel ships all of them.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PKG = ROOT / "cnncalc"
SUBPACKAGES = sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").is_file())

FORBIDDEN = {
    "spec": {"exam", "pytorch", "render", "serve", "cli", "importers"},
    "layers": {"exam", "pytorch", "render", "serve", "cli", "importers"},
    "analysis": {"exam", "pytorch", "render", "serve", "cli", "importers"},
    "importers": {"exam", "pytorch", "render", "serve", "cli"},
    "exam": {"pytorch", "render", "serve", "cli"},
    "render": {"pytorch", "serve", "cli"},
    "pytorch": {"render", "serve", "cli"},
    "serve": {"exam", "pytorch", "cli"},
}


def imports(path: Path):
    """(absolute module, at module level?) for every import in a file of the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    top_level = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, id(node) in top_level
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield mod, id(node) in top_level
            for a in node.names:            # `from . import x` imports the module x
                yield f"{mod}.{a.name}", id(node) in top_level


def sources():
    return sorted(PKG.rglob("*.py"))


def test_the_root_holds_only_the_public_api():
    assert sorted(p.name for p in PKG.glob("*.py")) == ["__init__.py", "__main__.py", "errors.py"]
    assert set(SUBPACKAGES) == {"spec", "layers", "analysis", "exam", "pytorch", "importers", "render", "serve", "cli"}


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_every_subpackage_says_what_lives_there_and_what_it_may_import(sub):
    doc = ast.get_docstring(ast.parse((PKG / sub / "__init__.py").read_text(encoding="utf-8")))
    assert doc and re.search(r"\bimport", doc), f"cnncalc/{sub}/__init__.py: say what it may import"


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(PKG)))
def test_imports_point_one_way(path):
    sub = path.relative_to(PKG).parts[0] if path.parent != PKG else None
    banned = FORBIDDEN.get(sub, set())
    for mod, top in imports(path):
        parts = mod.split(".")
        if parts[0] == "cnncalc" and len(parts) > 1 and parts[1] in banned:
            lazy_torch_module = (sub == "layers" and not top
                                 and (mod == "cnncalc.pytorch" or mod.startswith("cnncalc.pytorch.ops")))
            assert lazy_torch_module, f"{path.relative_to(ROOT)} imports {mod}"
        if parts[0] == "torch" and sub != "pytorch":
            assert not top, f"{path.relative_to(ROOT)} imports torch at module level"
            assert sub == "layers" or path.name == "torch_front.py", \
                f"{path.relative_to(ROOT)} imports torch outside cnncalc/pytorch"
        if parts[0] == "onnx":
            assert sub == "importers", f"{path.relative_to(ROOT)} imports onnx outside cnncalc/importers"


def test_pyproject_ships_every_subpackage():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    listed = set(re.findall(r'"(cnncalc(?:\.\w+)?)"', text.split("packages = [", 1)[1].split("]", 1)[0]))
    assert listed == {"cnncalc", "cnncalc.architectures", "cnncalc.examples"} | {f"cnncalc.{s}" for s in SUBPACKAGES}


def test_builtins_live_at_the_top_level():
    from cnncalc.spec.builtins import ARCH_DIR, builtin_names
    assert ARCH_DIR.resolve() == (ROOT / "architectures").resolve()
    assert "lenet5" in builtin_names() and not (PKG / "architectures").exists()

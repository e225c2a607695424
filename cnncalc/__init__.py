"""cnncalc: shapes, parameters, MACs/FLOPs and receptive fields of CNNs written as YAML.

The package root holds only the public API:

    analyze(spec) -> Report     a path, a built-in name or a parsed dict
    load(spec) -> Graph
    check(answers) -> CheckResult     (cnncalc.exam.check)
    verify(spec) -> Verification      (cnncalc.pytorch.verify; imports torch when called)

Subpackages: spec (YAML → graph), layers (one class per kind), analysis (figures), exam (`check`),
pytorch (everything that imports torch), render (output), cli (the command).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .exam.check import CheckResult
    from .pytorch.verify import Verification

__version__ = "0.1.0"

from .analysis.analyze import analyze, load  # noqa: E402
from .analysis.report import DISPLAY, Report  # noqa: E402
from .errors import CnncalcError, SpecError  # noqa: E402

__all__ = ["analyze", "load", "check", "verify", "Report", "CnncalcError", "SpecError", "__version__"]


def check(source: Any, *, base_dir: str | Path | None = None, root: str | Path | None = None) -> CheckResult:
    """Grade an answers file against the exact figures, as `cnncalc check` does.

    source: a path to an answers file (YAML), or an already parsed mapping; `student` or `key` where no such
    file exists are the example answers shipped with cnncalc.
    base_dir: where relative `architecture:` paths of a mapping start (default: the working directory).
    root: the tree `architecture:` files may lie in (default: the working directory).

    Returns a CheckResult: `.ok`, `.passed`, `.failed`, and `.items`, each answer with its given and
    expected value, the slip that explains a wrong one and the worked formula. A malformed file raises
    SpecError (one line naming the file, the line and the path).

        >>> cnncalc.check("key").ok
        True
    """
    from .exam.check import check as _check
    return _check(source, base_dir=base_dir, root=root)


def verify(spec: Any, *, input: str | tuple | list | None = None, batch: int = 1, device: str = "cpu",
           seed: int = 0) -> Verification:
    """Prove the static figures against a real PyTorch forward pass (imports torch; `cnncalc verify`).

    spec: a path, a built-in name or a parsed dict; input: another input shape ("3x64x64");
    batch: the random input's batch; device: "cpu", "cuda", "cuda:N" or "meta" (shapes and counts only,
    no compute); seed: of the random weights and input.

    Returns a Verification: `.ok` when every layer's output shape, params, buffers and MACs (FlopCounterMode's
    FLOPs / 2) equal cnncalc's, and `.layers` with both figures side by side.

        >>> cnncalc.verify("lenet5").ok
        True
    """
    from .pytorch.verify import verify as _verify
    return _verify(spec, input=input, batch=batch, device=device, seed=seed)


def _show(report: Report, width: int):
    from .analysis.compare import stages
    from .render.tables import report_view
    return report_view(report, width, stages=stages(report))


def _html(report: Report) -> str:
    from .render.html import notebook_html
    return notebook_html(report)


def _text(report: Report, width: int = 120) -> str:
    from rich.console import Console
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(_show(report, width))
    return console.export_text().rstrip("\n")


DISPLAY.update(rich=_show, html=_html, text=_text)   # how a Report shows itself in a notebook or a console

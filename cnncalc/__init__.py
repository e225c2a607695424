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

__version__ = "0.1.0"

from .analysis.analyze import analyze, load  # noqa: E402
from .analysis.report import Report  # noqa: E402
from .errors import CnncalcError, SpecError  # noqa: E402

__all__ = ["analyze", "load", "check", "verify", "Report", "CnncalcError", "SpecError", "__version__"]


def check(*args, **kwargs):
    """Grade an answers file: see cnncalc.exam.check.check."""
    from .exam.check import check as _check
    return _check(*args, **kwargs)


def verify(*args, **kwargs):
    """Prove the static figures against a real torch pass (imports torch): see cnncalc.pytorch.verify."""
    from .pytorch.verify import verify as _verify
    return _verify(*args, **kwargs)

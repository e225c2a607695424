"""cnncalc: shapes, parameters, MACs/FLOPs and receptive fields of CNNs written as YAML."""
from __future__ import annotations

__version__ = "0.1.0"

from .analyze import analyze, load  # noqa: E402
from .errors import CnncalcError, SpecError  # noqa: E402
from .report import Report  # noqa: E402

__all__ = ["analyze", "load", "Report", "CnncalcError", "SpecError", "__version__"]

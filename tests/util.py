"""Helpers shared by the test files (pytest puts this folder on sys.path)."""
from __future__ import annotations

from functools import lru_cache

import cnncalc


@lru_cache(maxsize=None)
def report(name: str):
    """A built-in's report, analyzed once per test session."""
    return cnncalc.analyze(name)


def row(r, name: str):
    return next(x for x in r.layers if x.name == name)


def block(r, name: str):
    return next(b for b in r.blocks if b.name == name)

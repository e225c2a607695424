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


def check_mbconv(r, name: str, cin: int, cout: int, k: int, t: int, stride: int) -> None:
    """An EfficientNet MBConv block against torchvision's rules (efficientnet.py MBConv): expand ×t (absent
    where t = 1), depthwise k×k, squeeze-and-excitation from the block input's width, the residual add."""
    exp = cin * t
    se = "block.1" if t == 1 else "block.2"                  # no expand conv where t = 1
    fc1, fc2 = row(r, f"{name}.{se}.fc1"), row(r, f"{name}.{se}.fc2")
    sq = max(1, cin // 4)                                    # squeeze from the block INPUT, not the expanded width
    assert (fc1.output[0], fc2.output[0]) == (sq, exp)
    assert fc1.params == exp * sq + sq and fc2.params == sq * exp + exp
    assert row(r, f"{name}.{se}.scale_activation").type == "sigmoid"
    dw = row(r, f"{name}.{'block.0' if t == 1 else 'block.1'}.0")
    assert dw.params == k * k * exp and dw.output[0] == exp
    adds = [x for x in r.layers if x.type == "add" and x.name.startswith(name + ".")]
    assert len(adds) == (stride == 1 and cin == cout)       # MBConv.use_res_connect

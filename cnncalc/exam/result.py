"""What `cnncalc check` returns: one `Item` per answered figure, gathered in a `CheckResult` (--json)."""
from __future__ import annotations

from typing import Optional, Union

from pydantic import BaseModel

from .slips import Slip


class Item(BaseModel):
    """One answered figure."""
    id: str                         # C1.params, q1.output (unique within its group)
    group: str                      # the network's label, or "questions"
    subject: str                    # layer, block, `total` or question name
    figure: str                     # output, params, weights, biases, macs, flops, rf, padding
    file: str
    line: Optional[int] = None
    given: str
    expected: str
    expected_value: Union[int, list[int], list[list[int]], None] = None
    ok: bool
    rule: str                       # exact / rounded to 1M / within 1%
    slip: Optional[Slip] = None
    formula: list[str] = []
    note: str = ""                  # how the name was matched, what the shape compared


class CheckResult(BaseModel):
    file: str
    networks: dict[str, str] = {}   # label → architecture name
    items: list[Item]
    total: int
    passed: int
    failed: int
    ok: bool

    @property
    def wrong(self) -> list[Item]:
        return [i for i in self.items if not i.ok]

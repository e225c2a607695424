"""What `cnncalc check` returns: one `Item` per answered figure, gathered in a `CheckResult` (--json)."""
from __future__ import annotations

from typing import Optional, Union

from pydantic import BaseModel, Field

from .slips import Slip


class Item(BaseModel):
    """One answered figure: what was given, what is right, and why a wrong one is wrong."""
    id: str = Field(description="the answer's name, unique within its group (C1.params, q1.output)")
    group: str = Field(description="the network's label, or 'questions'")
    subject: str = Field(description="the layer, block, `total` or question answered")
    figure: str = Field(description="which figure: output, params, weights, biases, macs, flops, rf, padding, …")
    file: str = Field(description="the answers file")
    line: Optional[int] = Field(None, description="line of the answer in that file")
    given: str = Field(description="the answer as written")
    expected: str = Field(description="the right figure, written as the answer's units and layout expect")
    expected_value: Union[int, list[int], list[list[int]], None] = Field(
        None, description="the right figure as a number (a count, or bytes), a shape or a list of shapes")
    ok: bool = Field(description="the answer is right under its rule")
    rule: str = Field(description="how it was judged: exact, rounded to 1M, within 1%, …")
    slip: Optional[Slip] = Field(None, description="the classic slip that explains a wrong answer, if one does")
    formula: list[str] = Field([], description="the worked formula of the right figure, one line each")
    note: str = Field("", description="how the name was matched, or what the shape compared")


class CheckResult(BaseModel):
    """What `cnncalc check --json` prints: every answered figure, graded."""
    file: str = Field(description="the answers file")
    networks: dict[str, str] = Field({}, description="each network's label → its architecture's name")
    items: list[Item] = Field(description="every answered figure, in the file's order")
    total: int = Field(description="answered figures (count)")
    passed: int = Field(description="right answers (count)")
    failed: int = Field(description="wrong answers (count)")
    ok: bool = Field(description="every answer is right (exit 0)")

    @property
    def wrong(self) -> list[Item]:
        return [i for i in self.items if not i.ok]

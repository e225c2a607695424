"""A slip: a classic mistake that explains the gap between an answer and the true value."""
from __future__ import annotations

from pydantic import BaseModel, Field


class Slip(BaseModel):
    """A classic mistake, named, with what it computed and what is right (the exercise's own numbers)."""
    name: str = Field(description="the slip's name (bias forgotten, FLOPs vs MACs, …); several fitting "
                                  "equally are joined with ', or '")
    detail: str = Field(description="what the answer computed and what is right, with the exercise's numbers")


def join_slips(slips: list[Slip]) -> Slip:
    """Several explanations that fit equally: say each ("bias forgotten, or truncated instead of rounded")."""
    details: dict[str, list[str]] = {}
    for s in slips:
        shown = details.setdefault(s.name, [])
        if s.detail not in shown and len(shown) < MAX_DETAILS:
            shown.append(s.detail)
    return Slip(name=", or ".join(details), detail=" — or ".join(d for ds in details.values() for d in ds))


MAX_DETAILS = 3   # one slip fitting at many layers alike is said with its first few


def simplest(found: list, value, prior) -> list:
    """The candidates of the best rank (the lowest prior among those found), and every other one whose value
    is exactly one of theirs (they fit equally: both are said), most common first."""
    if not found:
        return []
    best = min(prior(c) for c in found)
    values = {value(c) for c in found if prior(c) == best}
    return sorted((c for c in found if prior(c) == best or value(c) in values), key=prior)

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
    seen: dict[str, Slip] = {}
    for s in slips:
        seen.setdefault(s.name, s)
    unique = list(seen.values())
    if len(unique) == 1:
        return unique[0]
    return Slip(name=", or ".join(s.name for s in unique), detail="; or ".join(s.detail for s in unique))

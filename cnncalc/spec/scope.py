"""The builder's position while it expands an architecture file: one small immutable object."""
from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Scope:
    """Where the builder stands: the name prefix, the error path and line, the enclosing groups, the
    block parameters in force and the nesting level. `local` (names of this sequence → node) and
    `counters` (kind → count, for naming unnamed layers) are shared by the items of one sequence."""
    prefix: str = ""
    path: str = "layers"
    line: int | None = None
    groups: tuple = ()
    env: dict = field(default_factory=dict)
    level: int = 1
    local: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)

    def at(self, path: str, line: int | None = None) -> "Scope":
        """The same sequence, at another item (path and line for errors)."""
        return replace(self, path=path, line=line if line is not None else self.line)

    def child(self, prefix: str, path: str, group: int | None = None, counters: dict | None = None) -> "Scope":
        """A nested sequence: new local names, one level deeper, inside `group` when given.
        `counters` shared with the enclosing sequence when the nested one adds no name level."""
        return replace(self, prefix=prefix, path=path, level=self.level + 1,
                       groups=self.groups + ((group,) if group is not None else ()),
                       local={}, counters={} if counters is None else counters)

"""Every error of a file at once: the Builder goes on past a layer's error.

A mixin of the Builder (spec/builder.py): `err` makes a located error, `collect` keeps it (or stops the
build), and `stand_in` puts a node in the failed item's place so that the items after it are still
checked, while the errors that may only follow from it are dropped.
"""
from __future__ import annotations

from ..analysis.graph import Node
from ..errors import CnncalcError, SpecError, SpecErrors
from ..layers import REGISTRY
from .scope import Scope

MAX_ERRORS = 20  # a file's errors reported at once, at most


class Collecting:
    """Builder methods that make, keep and report its errors (see Builder for the state they use)."""

    def err(self, msg: str, line: int | None, path: str, derived: bool = False, fatal: bool = False) -> SpecError:
        e = SpecError(msg, file=self.file, line=line, path=path)
        e.derived, e.fatal = derived, fatal
        return e

    def collect(self, e: CnncalcError) -> None:
        """Keep a layer's error and go on with the next item, so that one run reports every independent
        error; what may follow from an earlier one (a shape, a name it left out) is dropped, repeats of
        one line (a block used twice) are kept once, and a fatal error or the MAX_ERRORS-th stops the build."""
        if any(x is e for x in self.errors):  # stopped further in: on its way out
            raise e
        if e.fatal:
            self.errors.append(e)
            self.stop()
        if e.derived and self.errors:
            return
        if all((x.line, x.message) != (e.line, e.message) for x in self.errors):
            self.errors.append(e)
        if len(self.errors) >= MAX_ERRORS:
            self.stop()

    def stop(self):
        raise self.errors[0] if len(self.errors) == 1 else SpecErrors(self.errors)

    def tainted(self, *nodes: int) -> bool:
        """Whether any of these nodes is built on a failed item (its shapes may follow from that error)."""
        return any(i in self.suspect for i in nodes)

    def stand_in(self, item, sc: Scope, cur: int) -> int:
        """After an item's error: a node standing for what it would have made, with its input's shape, so the
        items after it are still checked; every node built on it is suspect, and its shape errors unreported."""
        g = self.graph
        g.nodes.append(Node(f"{sc.prefix}(error {len(self.errors)})", REGISTRY["identity"](type="identity"), [cur],
                            [g.shape_of(cur)], g.shape_of(cur), sc.line, sc.path, sc.groups))
        idx = len(g.nodes) - 1
        self.suspect.add(idx)
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, (str, int)) and not isinstance(name, bool):
            sc.local.setdefault(str(name), idx)  # a later `inputs:` naming it reads the stand-in
        return idx

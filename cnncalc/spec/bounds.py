"""Bounds on what an architecture may ask for, checked before the work is done.

An architecture file is untrusted (`check` runs in CI on students' pull requests), and a few lines
can ask for unbounded work: a block that uses the next block twice, 40 levels deep (2^40 layers),
`repeat: 99999` of a block, an alias bomb, nested repeats. The builder asks `Estimator` how many
layers an item will expand into *before* expanding it, and refuses what exceeds `MAX_NODES` at once,
instead of after minutes and gigabytes. The estimate is a lower bound (a `repeat: ${…}` that depends
on block parameters counts once until the builder knows its value and asks again), so it never
refuses a network that fits.

`check_sizes` caps every integer of a layer at `MAX_SIZE`: no figure derived from them comes near
Python's 4,300-digit int/str limit, and no layer's work grows with a size (see layers/pool.py's
arithmetic adaptive windows).
"""
from __future__ import annotations

from ..errors import SpecError
from .files import MAX_SIZE

MAX_NODES = 100_000    # layers after expansion (100,000 analyze in about 4 s; the largest real CNNs have ~1,000)
MAX_REPEAT = 100_000
MAX_DEPTH = 64         # blocks nested in blocks


class Nesting:
    """How deep the builder will nest sequences (a list of layers is one level; a block's layers, a branch,
    a residual's body or shortcut inside it one more), found by a loop with an explicit stack, never by
    recursion: a chain of 20,000 blocks each using the next is one number, not a RecursionError. Each
    list is measured once (memoized by identity: YAML aliases and blocks used many times share lists).
    The builder, the estimator below and every later walk recurse once per level, so refusing more than
    MAX_DEPTH levels first keeps all of them far from Python's recursion limit. A block that uses itself
    counts once (the builder names the cycle)."""

    def __init__(self, blocks: dict):
        self.blocks = blocks if isinstance(blocks, dict) else {}
        self.memo: dict = {}     # id(list) → (list, levels from it down)

    def item(self, it) -> int:
        """Levels from a sequence holding `it` down to the deepest one inside it."""
        return 1 + max((self.items(c) for c in self.children([it])), default=0)

    def children(self, seq: list) -> list:
        """The lists one level below the items of seq: branch paths, residual bodies and shortcuts, the
        layers of the blocks they use."""
        out = []
        for it in seq:
            name = it if isinstance(it, str) else it.get("type") if isinstance(it, dict) else None
            if isinstance(name, str) and isinstance(self.blocks.get(name), dict):
                out.append(self.blocks[name].get("layers"))
            out.extend(nested_lists(it))
        return [c for c in out if isinstance(c, list)]

    def items(self, root) -> int:
        """Levels from the list `root` (1) down to the deepest list inside it, by an explicit depth-first walk."""
        if not isinstance(root, list):
            return 0
        path = [(root, self.children(root), 0)]
        on_path = {id(root)}
        while path:
            seq, kids, k = path[-1]
            while k < len(kids) and (id(kids[k]) in self.memo or id(kids[k]) in on_path):
                k += 1
            if k < len(kids):
                path[-1] = (seq, kids, k + 1)
                path.append((kids[k], self.children(kids[k]), 0))
                on_path.add(id(kids[k]))
                continue
            self.memo[id(seq)] = (seq, 1 + max((self.memo[id(c)][1] for c in kids if id(c) in self.memo), default=0))
            path.pop()
            on_path.discard(id(seq))
        return self.memo[id(root)][1]


def nested_lists(it) -> list:
    """The layer lists nested directly in one item: a branches' paths, a residual's body and shortcut."""
    if not isinstance(it, dict):
        return []
    if isinstance(it.get("branches"), list):
        return [p.get("layers") if isinstance(p, dict) else p for p in it["branches"]]
    spec = it.get("residual")
    if isinstance(spec, dict):
        return [spec.get("body"), spec.get("shortcut")]
    return []


class Estimator:
    """Lower bounds on the number of graph nodes that layer lists expand into (memoized)."""

    def __init__(self, blocks: dict):
        self.blocks = blocks if isinstance(blocks, dict) else {}
        self.by_block: dict = {}
        self.by_list: dict = {}     # id(list) → (list, count): aliases share lists
        self.stack: set = set()

    def items(self, items) -> int:
        if not isinstance(items, list):
            return 0
        hit = self.by_list.get(id(items))
        if hit is not None and hit[0] is items:
            return hit[1]
        total = 0
        for it in items:
            total += self.item(it)
            if total > MAX_NODES:   # far enough: stop counting (keeps the estimate itself cheap)
                break
        self.by_list[id(items)] = (items, total)
        return total

    def item(self, it) -> int:
        if isinstance(it, str):
            return self.block(it) if it in self.blocks else 1
        if not isinstance(it, dict):
            return 0
        n = it.get("repeat", 1)
        n = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0   # 0, or not known yet
        return n * self.once(it) if n else 0

    def once(self, it: dict) -> int:
        if "branches" in it:
            paths = it["branches"] if isinstance(it["branches"], list) else []
            return 1 + sum(self.items(p.get("layers") if isinstance(p, dict) else p) for p in paths)
        if "residual" in it:
            spec = it["residual"] if isinstance(it["residual"], dict) else {}
            short = spec.get("shortcut")
            return 1 + self.items(spec.get("body")) + (self.items(short) if isinstance(short, list) else 0)
        kind = it.get("type")
        if isinstance(kind, str) and kind in self.blocks:
            return self.block(kind)
        return 1

    def overflow(self, items: list) -> tuple[int, str] | None:
        """(index, message) of the first top-level item at which the running total passes MAX_NODES."""
        total = 0
        for i, it in enumerate(items):
            n = self.item(it)
            if total + n > MAX_NODES:
                rep = isinstance(it, dict) and isinstance(it.get("repeat"), int) and not isinstance(it["repeat"], bool)
                times, each = (it["repeat"], self.once(it)) if rep else (1, n)
                return i, too_many(total, times, each, "repeat: " if rep else "")
            total += n
        return None

    def block(self, name: str) -> int:
        if name in self.by_block:
            return self.by_block[name]
        if name in self.stack:      # a block that uses itself: the builder reports the cycle
            return 0
        self.stack.add(name)
        try:
            body = self.blocks[name]
            count = self.items(body.get("layers")) if isinstance(body, dict) else 0
        finally:
            self.stack.discard(name)
        self.by_block[name] = count
        return count


def too_many(existing: int, times: int, each: int, what: str = "") -> str | None:
    """The refusal when `times` × `each` more layers on top of `existing` exceed MAX_NODES, else None."""
    more = times * each
    if existing + more <= MAX_NODES:
        return None
    shown = f"{times:,} × {each:,} = {more:,}" if times > 1 else f"{more:,}"
    after = f" after {existing:,} others" if existing else ""
    return f"{what}expands into at least {shown} layers{after}; the limit is {MAX_NODES:,}"


def printable(name: str, where: SpecError) -> str:
    """A name as it is when it is printable text (no line break, tab, escape or NUL: names reach terminals,
    logs and annotations); else `where`, with the message, is raised."""
    if name.isprintable() and len(name) <= 200:
        return name
    bad = next((c for c in name if not c.isprintable()), None)
    where.message = (f"name: {ascii(name)[:80]} contains {'U+%04X' % ord(bad)}; names are printable text"
                     if bad else "name: longer than 200 characters")
    raise where


def check_sizes(fields: dict) -> str | None:
    """The first field whose integer (in a list or mapping too) is larger than MAX_SIZE, as an error message."""
    for k, v in fields.items():
        x = _largest(v)
        if x is not None:
            return f"{k}: {x:,} is larger than the limit of {MAX_SIZE:,}"
    return None


def _largest(v):
    if isinstance(v, int) and not isinstance(v, bool):
        return v if abs(v) > MAX_SIZE else None
    values = v.values() if isinstance(v, dict) else v if isinstance(v, list) else ()
    return next((x for x in map(_largest, values) if x is not None), None)

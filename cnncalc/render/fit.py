"""Tables that fit the terminal: a figure is never cut, a name never disappears.

Every table of cnncalc is described as columns (`Col`) and laid out here for the console's width:

1. columns whose cells are all empty take no width;
2. when the natural widths do not fit, optional columns are dropped, least useful first (FLOPs,
   which is 2×MACs, before the notes), and one line says which were dropped;
3. when even the essential columns do not fit, each row takes two lines: its name and short texts
   (type, shapes) on the first; its figures, aligned, on the second; free text (notes, a slip and its
   formula) follows, indented, wrapping between words. A title line names what each line holds.

Free text (notes, formulas) wraps between words; figures and names are never folded or cut.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from .safe import visible

GAP = 2         # columns are two cells apart
MIN_WRAP = 16   # the narrowest a free-text column gets before it is dropped instead


@dataclass
class Col:
    """One column: its title, one cell per row, and how it may give way to a narrow terminal.

    kind: 'name' (the row's name: never dropped, never cut), 'text' (short text such as a type or a
    shape: never cut; goes to the name line in the two-line layout), 'num' (a figure: never cut,
    right-aligned, stays in the figure line), 'wrap' (free text that may wrap between words).
    drop: 0 = always shown; a higher number is dropped earlier when the width is short.
    """
    title: str
    cells: list
    kind: str = "text"
    footer: str = ""
    drop: int = 0
    why: str = ""
    justify: str | None = None
    raw: list | None = None    # the cells as plain values for CSV (61706, not "61,706")
    min: int = MIN_WRAP        # a free-text column's narrowest width before it is dropped instead
    narrow: "Col | None" = None  # a narrower column shown in its place when this one must go
    _width: int | None = field(default=None, repr=False, compare=False)

    @property
    def just(self) -> str:
        return self.justify or ("right" if self.kind == "num" else "left")

    def width(self) -> int:
        """The widest cell, title or footer (measured once: fitting asks many times)."""
        if self._width is None:
            self._width = max([cell_width(c) for c in self.cells] + [cell_width(self.title), cell_width(self.footer)])
        return self._width

    def empty(self) -> bool:
        return not self.footer and all(not plain(c) for c in self.cells)


def plain(cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def as_text(cell) -> Text:
    """A cell as Rich Text: a plain string is never read as markup (`[conv3]` stays visible), and a
    control character in it is shown escaped (render/safe.py); a cell's own line breaks stay."""
    if isinstance(cell, Text):
        shown = visible(cell.plain, keep_newlines=True)
        return cell if shown == cell.plain else Text(shown, style=cell.style)
    return Text(visible(cell, keep_newlines=True))


def cell_width(cell) -> int:
    text = plain(cell)
    return cell_len(text) if "\n" not in text else max(map(cell_len, text.split("\n")))


def needed(cols: list[Col]) -> int:
    return sum(min(c.min, c.width()) if c.kind == "wrap" else c.width() for c in cols) + GAP * (len(cols) - 1)


def drop_until(cols: list[Col], width: int, keep=lambda c: False) -> tuple[list[Col], list[Col]]:
    """Drop optional columns, highest `drop` first, until the rest fit (or none is left to drop)."""
    shown, dropped = list(cols), []
    while needed(shown) > width:
        optional = [c for c in shown if c.drop and not keep(c)]
        if not optional:
            break
        worst = max(optional, key=lambda c: (c.drop, shown.index(c)))
        if worst.narrow is not None:
            shown[shown.index(worst)] = worst.narrow
        else:
            shown.remove(worst)
        dropped.append(worst)
    def placed(c):
        return next((s for s in shown if s is c or s is c.narrow), None)
    for col in [c for c in reversed(dropped) if c.narrow is None]:  # room a later drop left: take it back
        trial = [col if c is col else placed(c) for c in cols if c is col or placed(c) is not None]
        if needed(trial) <= width:
            shown = trial
            dropped.remove(col)
    return shown, dropped


def _table(cols: list[Col], width: int, footer: bool, header: bool = True) -> Table:
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
              show_footer=footer, show_header=header)
    fixed = sum(c.width() for c in cols if c.kind != "wrap") + GAP * (len(cols) - 1)
    wraps = [c for c in cols if c.kind == "wrap"]
    room = (width - fixed) // max(1, len(wraps))
    for c in cols:
        w = min(c.width(), max(c.min, room)) if c.kind == "wrap" else c.width()
        t.add_column(as_text(c.title), footer=as_text(c.footer), justify=c.just, width=w,
                     no_wrap=c.kind != "wrap", overflow="fold")
    for i in range(len(cols[0].cells) if cols else 0):
        t.add_row(*[as_text(c.cells[i]) for c in cols])
    return t


def widths(cols: list[Col], width: int) -> list[int]:
    """Each column's width in the one-line layout (free text shares the room the others leave)."""
    fixed = sum(c.width() for c in cols if c.kind != "wrap") + GAP * (len(cols) - 1)
    room = (width - fixed) // max(1, sum(c.kind == "wrap" for c in cols))
    return [min(c.width(), max(c.min, room)) if c.kind == "wrap" else c.width() for c in cols]


def _layout(cols: list[Col], width: int, footer: bool):
    """`_table`'s table, or the same lines written out by `Lines` when no cell needs wrapping (one line
    per row, as most tables are): Rich measures and wraps every cell, 50 s for 100,000 rows."""
    ws = widths(cols, width)
    texts = [c.title for c in cols] + [c.footer for c in cols]
    one_line = all(w == c.width() for c, w in zip(cols, ws)) and all(
        "\n" not in plain(x) for x in texts + [cell for c in cols for cell in c.cells])
    return Lines(cols, ws, footer) if one_line else _table(cols, width, footer)


class Lines:
    """The lines `_table` draws (a bold header, a rule, the rows, a blank line and a bold footer; columns
    two cells apart) for cells that all fit on one line: a few segments per row, linear in the rows."""

    def __init__(self, cols: list[Col], widths: list[int], footer: bool):
        self.cols, self.widths, self.footer = cols, widths, footer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        cols, ws = self.cols, self.widths
        right = [c.just == "right" for c in cols]
        bold = Style(bold=True)
        total = sum(ws) + GAP * (len(cols) - 1)
        yield from self._row(console, [as_text(c.title) for c in cols], ws, right, bold)
        yield Segment("─" * total)
        yield Segment.line()
        for i in range(len(cols[0].cells) if cols else 0):
            yield from self._row(console, [as_text(c.cells[i]) for c in cols], ws, right, None)
        if self.footer:
            yield Segment(" " * total)
            yield Segment.line()
            yield from self._row(console, [as_text(c.footer) for c in cols], ws, right, bold)

    @staticmethod
    def _row(console: Console, cells: list[Text], ws: list[int], right: list[bool], style) -> RenderResult:
        if style is None and not any(t.style or t.spans for t in cells):   # the usual row: one segment
            yield Segment("  ".join(" " * (w - t.cell_len) + t.plain if r else t.plain + " " * (w - t.cell_len)
                                    for t, w, r in zip(cells, ws, right)))
            yield Segment.line()
            return
        for k, (t, w, r) in enumerate(zip(cells, ws, right)):
            own = console.get_style(t.style) if t.style else None
            base = style + own if style and own else style or own
            pad = " " * (w - t.cell_len)
            if not t.spans:
                yield Segment(pad + t.plain if r else t.plain + pad, base)
            else:
                yield from [Segment(pad, base)] if r else []
                yield from (Segment(seg.text, base + seg.style if base and seg.style else seg.style or base)
                            for seg in t.render(console))
                yield from [] if r else [Segment(pad, base)]
            if k < len(cells) - 1:
                yield Segment(" ", style)
                yield Segment(" ")
        yield Segment.line()


def dropped_line(dropped: list[Col], width: int) -> Text:
    what = ", ".join(c.title + (f" ({c.why})" if c.why else "") for c in dropped)
    return Text(f"not shown at {width} columns: {what}; a wider terminal or --format csv shows every column",
                style="dim")


INDENT = 4  # free text under a row in the two-line layout


class TwoLine:
    """Each row as its name line (name, short texts), its aligned figure line (when there are figures)
    and its free text, indented, below."""

    def __init__(self, title: Text, heads: list[Text], table: Table | None, tails: list, footer: Text | None):
        self.title, self.heads, self.table, self.tails, self.footer = title, heads, table, tails, footer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from console.render(self.title, options)
        rows = len(self.heads)
        lines = console.render_lines(self.table, options, pad=False) if self.table is not None else []
        figures = lines[2:2 + rows] if lines else [None] * rows
        if lines:  # the figure table's header and rule
            for line in lines[:2]:
                yield from line
                yield Segment.line()
        for head, figure, tail in zip(self.heads, figures, self.tails):
            yield from console.render(head, options)
            if figure is not None:
                yield from figure
                yield Segment.line()
            if tail is not None:
                yield from wrapped(console, tail, options.max_width, INDENT)
        if self.footer is not None and lines:  # a blank line, then the footer line
            yield from console.render(self.footer, options)
            yield from lines[-1]
            yield Segment.line()


def pack(cells: list[tuple[Text, str]], width: int) -> Text:
    """A row's name line: cells two apart, a new line where the next would overflow. A name or a short
    text never breaks; free text ('wrap') breaks between words."""
    pieces: list[tuple[Text, str]] = []     # (piece, separator before it)
    for cell, kind in cells:
        if kind == "wrap":
            pieces += [(cell[m.start():m.end()], "  " if j == 0 else " ")
                       for j, m in enumerate(re.finditer(r"\S+", cell.plain))]
            continue
        if kind == "name":
            cell = cell.copy()
            cell.stylize("bold")
        pieces.append((cell, "  "))
    out, used = Text(), 0
    for piece, sep in pieces:
        gap = len(sep) if used else 0
        if used and used + gap + piece.cell_len > width:
            out.append("\n")
            used, gap = 0, 0
        out.append(" " * gap)
        out.append(piece)
        used += gap + piece.cell_len
    return out


def fit(cols: list[Col], width: int, footer: bool = False):
    """A renderable that fits `width` cells: one line per row if possible, else two."""
    cols = [c for c in cols if not c.empty()]
    shown, dropped = drop_until(cols, width)
    if needed(shown) <= width:
        parts = [_layout(shown, width, footer)]
        if dropped:
            parts.append(dropped_line(dropped, width))
        return Group(*parts)
    # two lines per row: names and texts above, figures below (indented two cells), free text under them
    nums = [c for c in cols if c.kind == "num"]
    texts = [c for c in cols if c.kind not in ("num", "wrap")]
    wraps = [c for c in cols if c.kind == "wrap"]
    indent = Col("", [""] * len(cols[0].cells), kind="text", footer="")
    nums, dropped = drop_until([indent] + nums, width)
    rows = range(len(cols[0].cells))
    heads = [pack([(as_text(c.cells[i]), c.kind) for c in texts if plain(c.cells[i])], width) for i in rows]
    tails = [under([as_text(c.cells[i]) for c in wraps if plain(c.cells[i])]) for i in rows]
    title = pack([(Text(c.title), "text") for c in texts if c.title], width)
    if wraps:
        title.append("\n" + " " * INDENT + ", ".join(c.title for c in wraps))
    title.stylize("dim")
    foot = next((c.footer for c in texts if c.footer), None)
    table = _table(nums, width, footer) if len(nums) > 1 else None
    return Group(TwoLine(title, heads, table, tails, Text(foot) if footer and foot else None),
                 *([dropped_line(dropped, width)] if dropped else []))


def wrapped(console: Console, text: Text, width: int, indent: int = 0) -> RenderResult:
    """`text` wrapped between words at `width`, each line indented and without trailing blanks."""
    for line in text.wrap(console, max(1, width - indent)):
        line.rstrip()
        if indent:
            yield Segment(" " * indent)
        yield from line.render(console)
        yield Segment.line()


class Prose:
    """A paragraph wrapped between words at the width available or `width`, whichever is narrower."""

    def __init__(self, text: Text, width: int):
        self.text, self.width = text, width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from wrapped(console, self.text, min(options.max_width, self.width))


def under(cells: list[Text]) -> Text | None:
    """A row's free text under it: each cell's own lines kept (TwoLine indents and wraps them)."""
    return Text("\n").join(cells) if cells else None

"""CSV and Markdown out of the same columns the terminal tables show (formatting only).

CSV is for spreadsheets and pandas: a header row, one row per table row, every column (nothing is
dropped for width), each figure as a plain number where the column has one (`Col.raw`), no totals row;
a text cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@` first) starts with `'`.
Markdown is for reports and papers: a GitHub-flavoured pipe table with the terminal's formatting and
the totals as a last, bold row.
"""
from __future__ import annotations

import csv
import io

from .fit import Col, plain
from .safe import csv_cell, visible


def to_csv(cols: list[Col]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([c.title for c in cols])
    for i in range(len(cols[0].cells) if cols else 0):
        w.writerow([csv_cell(c.raw[i] if c.raw is not None else visible(plain(c.cells[i]), keep_newlines=True))
                    for c in cols])
    return out.getvalue()


def _md_cell(text: str) -> str:
    return visible(text, keep_newlines=True).replace("|", "\\|").replace("\n", "<br>")


def to_markdown(cols: list[Col], footer: bool = False) -> str:
    head = "| " + " | ".join(_md_cell(c.title) or " " for c in cols) + " |"
    rule = "|" + "|".join("---:" if c.just == "right" else ":---" for c in cols) + "|"
    lines = [head, rule]
    for i in range(len(cols[0].cells) if cols else 0):
        lines.append("| " + " | ".join(_md_cell(plain(c.cells[i])) for c in cols) + " |")
    if footer and any(c.footer for c in cols):
        lines.append("| " + " | ".join(f"**{_md_cell(c.footer)}**" if c.footer else "" for c in cols) + " |")
    return "\n".join(lines) + "\n"

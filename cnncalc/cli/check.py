"""`cnncalc check`: grade hand-written answers (CI-friendly: exit 1 on any wrong answer)."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .common import console, emit_json, guarded


class Format(str, Enum):
    table = "table"
    github = "github"


@guarded
def check_cmd(
    answers: str = typer.Argument(..., help="The answers file (YAML): architecture, layout, answers, questions."),
    junit: Optional[Path] = typer.Option(None, "--junit", help="Also write JUnit XML (one testcase per answer)."),
    format: Format = typer.Option(Format.table, "--format", "-f",
                                  help="table: ✓/✗ per answer; github: one ::error annotation per wrong answer."),
    json: bool = typer.Option(False, "--json", help="Print the result model as JSON."),
):
    """Check hand-written answers (shapes, params, MACs, FLOPs, RF) against the exact figures.

    Exit 0 when every answer is right, 1 when any is wrong, 2 when the file is malformed.

    Examples:

      cnncalc check examples/exam/key.yaml

      cnncalc check answers.yaml --format github --junit results.xml
    """
    from ..check import check, github_lines, junit_xml
    from ..errors import CnncalcError

    result = check(answers)
    if junit is not None:
        try:
            junit.write_text(junit_xml(result), encoding="utf-8")
        except OSError as e:
            raise CnncalcError(f"--junit: cannot write {junit}: {e.strerror}") from None
    if json:
        emit_json(result)
    elif format == Format.github:
        for line in github_lines(result):
            print(line)
        print(f"cnncalc check {result.file}: {result.passed} of {result.total} answers right"
              + (f", {result.failed} wrong" if result.failed else ""))
    else:
        print_result(result)
    raise typer.Exit(0 if result.ok else 1)


def print_result(result) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..check import display_id

    con = console()
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=f"cnncalc check {result.file}", title_justify="left")
    t.add_column("", no_wrap=True)
    t.add_column("answer", overflow="fold")
    t.add_column("line", justify="right", no_wrap=True)
    t.add_column("given", overflow="fold")
    t.add_column("expected", overflow="fold")
    t.add_column("slip / rule", overflow="fold", max_width=48)
    if not result.ok:
        t.add_column("formula", overflow="fold")
    for item in result.items:
        mark = Text("✓", style="green") if item.ok else Text("✗", style="bold red")
        if item.ok:
            how = item.rule + (f"; {item.note}" if item.note else "")
            t.add_row(mark, display_id(result, item), str(item.line or ""), item.given, item.expected,
                      Text(how, style="dim"), *([] if result.ok else [""]))
        else:
            slip = Text()
            if item.slip:
                slip.append(item.slip.name, style="bold yellow")
                slip.append(f": {item.slip.detail}")
            else:
                slip.append(item.rule, style="dim")
            t.add_row(mark, Text(display_id(result, item), style="red"), str(item.line or ""), item.given,
                      item.expected, slip, "\n".join(item.formula))
    con.print(t)
    style = "green" if result.ok else "bold red"
    con.print(Text(f"{result.passed} of {result.total} answers right"
                   + (f", {result.failed} wrong" if result.failed else ""), style=style))

"""`cnncalc check`: grade hand-written answers (CI-friendly: exit 1 on any wrong answer)."""
from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .common import JSON, chosen, emit_columns, emit_json, guarded


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    github = "github"


@guarded
def check_cmd(
    answers: str = typer.Argument(..., help="The answers file (YAML): architecture, layout, answers, questions."),
    junit: Optional[Path] = typer.Option(None, "--junit", metavar="FILE",
                                         help="Also write JUnit XML (one testcase per answer)."),
    format: Optional[Format] = typer.Option(None, "--format", "-f", case_sensitive=False, metavar="FORMAT",
                                            help="table (✓/✗ per answer, the default), json, csv, markdown, or "
                                            "github: one ::error annotation per wrong answer."),
    json: bool = JSON,
    root: Optional[Path] = typer.Option(None, "--root", metavar="DIR",
                                        help="Where `architecture:` files may lie (default: the working directory; "
                                        "the answers file's own directory is always allowed)."),
):
    """Check hand-written answers (shapes, params, MACs, FLOPs, RF) against the exact figures.

    Exit 0 when every answer is right, 1 when any is wrong, 2 when the file is malformed.

    A name that is no file here, `student` or `key`, is one of the example answers files shipped with cnncalc (student.yaml makes the classic slips; key.yaml answers the course notes' exercises, all right).

    Examples:

      cnncalc check student

      cnncalc check key --json

      cnncalc check answers.yaml --format github --junit results.xml
    """
    from ..exam.check import check
    from ..render.check import github_lines, junit_xml, print_result
    from ..render.safe import trusted, visible
    from ..spec.files import atomic_write

    fmt = chosen(format, json)
    inputs: list = []
    result = check(answers, root=root, inputs=inputs)
    if junit is not None:
        if atomic_write(junit, junit_xml(result), inputs=inputs, option="--junit"):
            print(f"--junit: replaced {visible(junit)}", file=sys.stderr)
    if fmt == "json":
        emit_json(result)
    elif fmt in ("csv", "markdown"):
        from ..render.check import check_columns
        emit_columns(fmt, check_columns(result))
    elif fmt == "github":
        for line in github_lines(result):
            trusted(line)
        print(f"cnncalc check {visible(result.file)}: {result.passed} of {result.total} answers right"
              + (f", {result.failed} wrong" if result.failed else ""))
    else:
        print_result(result)
    raise typer.Exit(0 if result.ok else 1)

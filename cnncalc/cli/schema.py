"""`cnncalc schema`: the JSON Schema of the architecture format (or of the answers format)."""
from __future__ import annotations

import json as js
from pathlib import Path
from typing import Optional

import typer

from .common import guarded


def schema_text(answers: bool = False) -> str:
    if answers:
        from ..exam.schema import answers_schema
        doc = answers_schema()
    else:
        from ..spec.schema import architecture_schema
        doc = architecture_schema()
    return js.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@guarded
def schema_cmd(
    answers: bool = typer.Option(False, "--answers", help="The answers format of `cnncalc check` instead."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FILE",
                                          help="Write to this file instead of stdout."),
):
    """Print the JSON Schema of the architecture format: every layer kind and field, with defaults.

    An editor with a YAML language server then completes and checks a file whose first line is `# yaml-language-server: $schema=cnncalc.schema.json` (a path relative to the file, or a URL).

    Examples:

      cnncalc schema -o cnncalc.schema.json

      cnncalc schema --answers -o answers.schema.json
    """
    text = schema_text(answers)
    if output is None or str(output) == "-":   # `-o -`: standard output
        print(text, end="")
        return
    from ..spec.files import atomic_write
    atomic_write(output, text, option="--output")
    print(f"wrote {output}: the JSON Schema of the {'answers' if answers else 'architecture'} format")

"""The `cnncalc` command: a thin Typer layer over the library; each command lives in its own module.

May import anything; imports the heavy parts (analysis, exam, pytorch, render) inside the commands.
"""
from __future__ import annotations

from typing import Optional

import typer

from .. import __version__
from .common import plain_metavars
from . import analyze, calc, compare, rf, bench
from . import check
from . import export, verify
from . import draw
from . import sweep
from . import schema
from . import importer
from . import serve
from .common import OneLineErrors

plain_metavars()

app = typer.Typer(
    cls=OneLineErrors, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Shapes, params, MACs/FLOPs and receptive fields of CNNs written as YAML — proved against PyTorch.\n\n"
         "A built-in name (cnncalc list) works from any directory; every command's -h has examples.\n\n"
         "Examples:\n\n  cnncalc analyze lenet5\n\n  cnncalc analyze vgg16 --explain conv1_1\n\n"
         "  cnncalc rf -l conv3 -l conv3 -l conv3\n\n  cnncalc compare vgg16 googlenet --flops\n\n"
         "  cnncalc check student",
)


def _version(value: bool):
    if value:
        print(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                                  help="Print the version and exit.")):
    """cnncalc: exact static figures for convolutional networks."""


# one line per command; each command's code lives in its own module of this package
app.command("analyze")(analyze.analyze_cmd)
app.command("list")(analyze.list_cmd)
app.command("rf")(rf.rf_cmd)
app.command("compare")(compare.compare_cmd)
app.add_typer(calc.calc_app, name="calc")
app.command("check")(check.check_cmd)
app.command("bench")(bench.bench_cmd)
app.command("verify")(verify.verify_cmd)
app.command("export")(export.export_cmd)
app.command("draw")(draw.draw_cmd)
app.command("sweep")(sweep.sweep_cmd)
app.command("sizes")(sweep.sizes_cmd)
app.command("schema")(schema.schema_cmd)
app.command("import")(importer.import_cmd)
app.command("serve")(serve.serve_cmd)


def main():
    app()

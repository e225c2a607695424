"""`cnncalc serve`: the HTML report of one YAML file on 127.0.0.1, updated in place when the file is saved."""
from __future__ import annotations

from typing import Optional

import typer

from .common import LAYOUT, guarded


@guarded
def serve_cmd(
    arch: str = typer.Argument(..., help="The YAML file to watch (a built-in name serves it unchanging)."),
    depth: Optional[int] = typer.Option(None, "--depth", "-d", min=1, metavar="N",
                                        help="Collapse the blocks at this nesting level in the diagram and table."),
    input: Optional[str] = typer.Option(None, "--input", "-i", metavar="SHAPE", help="Override the input shape."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="The port (default: a free one, printed)."),
    layout: Optional[str] = LAYOUT,
):
    """Serve the report of ARCH on 127.0.0.1 and follow the file.

    Save it in your editor and the open page redraws within a second, keeping zoom and position; an invalid save shows its one-line error on the page and keeps the last good drawing. Opens nothing by itself; Ctrl-C stops it.

    Examples:

      cnncalc serve net.yaml

      cnncalc serve net.yaml --depth 1 --port 8765
    """
    from ..analysis.analyze import resolve
    from ..serve.live import Live, make_server
    live = Live(str(resolve(arch)), depth, input, layout)
    server = make_server(live, port)
    host, bound = server.server_address[:2]
    print(f"serving the report of {arch} at http://{host}:{bound}/ (Ctrl-C stops)", flush=True)
    if live.error:
        print(f"error: {live.error} (the page shows it until the file is fixed)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()

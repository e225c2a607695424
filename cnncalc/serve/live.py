"""The live report: one YAML file's HTML report, rebuilt when the file changes, on a loopback HTTP server.

Only three addresses answer: `/` (the page), `/page` (the same page, fetched by the page itself to update in
place) and `/state` (JSON: a version number that changes when the file does, and the one-line error of an
invalid save, or null). Nothing else is served: no file, no listing. The page polls `/state`; the server
re-reads the file on each poll when its modification time or size changed, so nothing runs in the
background. An invalid save keeps the last good report and shows its error.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..analysis.analyze import load, report_of
from ..analysis.breakdown import levels
from ..analysis.layout import layout
from ..errors import CnncalcError
from ..render.html import live_page, page, report_page


class Live:
    """The report of `path`, rebuilt when the file's content changes."""

    def __init__(self, path: str, depth: int | None = None, input: str | None = None, order: str | None = None):
        self.path, self.depth, self.input, self.order = path, depth, input, order   # order: --layout
        self.stamp: tuple | None = None
        self.digest = ""
        self.version = 0
        self.page = ""
        self.error: str | None = None
        self.lock = threading.Lock()

    def refresh(self) -> None:
        with self.lock:
            try:
                st = os.stat(self.path)
                stamp = (st.st_mtime_ns, st.st_size)
            except OSError as e:
                stamp = ("missing", str(e))
            if stamp == self.stamp:
                return
            self.stamp = stamp
            try:
                with open(self.path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            except OSError as e:
                self._fail(f"{self.path}: cannot read it ({e.strerror or e})")
                return
            if digest == self.digest and self.error is None:
                return
            self.digest = digest
            try:
                graph = load(self.path, self.input, self.order)
                report = report_of(graph)
                self.page = live_page(report_page(report, layout(graph, report, self.depth), levels(graph, report),
                                                  self.depth), self.path, self.version + 1)
                self.error = None
            except CnncalcError as e:
                self._fail(str(e))
                return
            self.version += 1

    def _fail(self, message: str) -> None:
        self.error = " ".join(message.split())
        self.version += 1
        if not self.page:       # nothing good yet: an empty report; the page shows the error
            self.page = live_page(page(os.path.basename(self.path), '<main id="cnncalc-report"></main>'),
                                  self.path, 0)

    def state(self) -> dict:
        return {"version": self.version, "error": self.error}


def handler(live: Live):
    class Handler(BaseHTTPRequestHandler):
        server_version = "cnncalc"
        sys_version = ""

        def do_GET(self):             # noqa: N802 (http.server's name)
            route = self.path.split("?", 1)[0]
            live.refresh()
            if route in ("/", "/page"):
                self._send(200, "text/html; charset=utf-8", live.page.encode())
            elif route == "/state":
                self._send(200, "application/json", json.dumps(live.state()).encode())
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found: only this report is served\n")

        def do_POST(self):            # noqa: N802
            self._send(405, "text/plain; charset=utf-8", b"read only\n")

        do_PUT = do_DELETE = do_POST    # noqa: N815

        def _send(self, code: int, kind: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet: the terminal shows the address only
            pass
    return Handler


def make_server(live: Live, port: int = 0) -> ThreadingHTTPServer:
    """Bound to 127.0.0.1 only; port 0 picks a free one (server.server_address[1])."""
    live.refresh()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler(live))
    server.daemon_threads = True
    return server

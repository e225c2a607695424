"""`cnncalc serve`: binds 127.0.0.1 on a free port it prints, answers only its three addresses, follows the
file (a new version on each real change, the one-line error of an invalid save, the last good page kept)
and stops cleanly on Ctrl-C. The page's in-place update is driven in a browser in tests/test_browser.py."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from cnncalc.serve.live import Live, make_server
from cnncalc.spec.builtins import builtin_path

ROOT = Path(__file__).parent.parent
GOOD = builtin_path("lenet5").read_text(encoding="utf-8")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def save(path: Path, text: str) -> None:
    """Write and move the modification time on, as a save a moment later would."""
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))


def test_live_follows_the_file(tmp_path):
    net = tmp_path / "net.yaml"
    save(net, GOOD)
    live = Live(str(net))
    live.refresh()
    assert live.state() == {"version": 1, "error": None} and "C1" in live.page and 'data-version="1"' in live.page
    live.refresh()
    assert live.state()["version"] == 1                               # nothing changed: nothing rebuilt
    save(net, GOOD)
    live.refresh()
    assert live.state()["version"] == 1                               # touched, same content
    save(net, GOOD.replace("filters: 6,", "filters: 8,", 1))
    live.refresh()
    assert live.state() == {"version": 2, "error": None} and "8×28×28" in live.page
    save(net, GOOD.replace("filters: 6,", "filters: [6,", 1))
    live.refresh()
    state = live.state()
    assert state["version"] == 3 and state["error"].startswith(f"{net}:") and "\n" not in state["error"]
    assert "8×28×28" in live.page                                     # the last good page is kept
    save(net, GOOD)
    live.refresh()
    assert live.state() == {"version": 4, "error": None} and "6×28×28" in live.page


def test_the_server_answers_only_its_three_addresses_on_loopback(tmp_path):
    net = tmp_path / "net.yaml"
    save(net, GOOD)
    (tmp_path / "secret.txt").write_text("not for the web", encoding="utf-8")
    server = make_server(Live(str(net)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1" and port > 0
        base = f"http://127.0.0.1:{port}"
        status, page = get(base + "/")
        assert status == 200 and page.startswith("<!DOCTYPE html>") and "LeNet-5" in page
        assert get(base + "/page")[1] == page
        assert json.loads(get(base + "/state")[1]) == {"version": 1, "error": None}
        for path in ("/net.yaml", "/secret.txt", "/../secret.txt", "/%2e%2e/secret.txt", f"/{tmp_path}/secret.txt",
                     "/static/", "//etc/passwd"):
            status, body = get(base + path)
            assert status == 404 and "not for the web" not in body, path
    finally:
        server.shutdown()
        server.server_close()


def test_serve_prints_its_address_and_stops_on_ctrl_c(tmp_path):
    net = tmp_path / "net.yaml"
    save(net, GOOD)
    proc = subprocess.Popen([sys.executable, "-m", "cnncalc", "serve", str(net)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"serving the report of {net} at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split()[0]
        assert get(url + "state")[0] == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and out.strip() == "stopped" and err == ""


def test_serve_never_imports_torch(tmp_path):
    net = tmp_path / "net.yaml"
    save(net, GOOD)
    code = ("import sys; from cnncalc.serve.live import Live; live = Live(sys.argv[1]); live.refresh(); "
            "assert live.error is None and 'C1' in live.page; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code, str(net)], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})

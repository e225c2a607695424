"""The HTML reports in a real browser: headless Chromium opens each report offline (every host name
resolves to nothing), and the page's own check (written into #cnncalc-selfcheck on load, read back
with --dump-dom) must find no script or console error, one box per layer (or per block with --depth),
no two boxes overlapping and no label spilling out of its box, measured with getBoundingClientRect in
the browser's real fonts; a screenshot must not be blank.

Needs the distribution's `chromium` (Debian/Ubuntu: `apt-get install chromium`); without it every test
here is skipped with that reason. Run them alone with `python -m pytest tests/test_browser.py`.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from itertools import accumulate
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.analysis.analyze import analyze, load, report_of
from cnncalc.analysis.layout import layout
from cnncalc.cli import app
from cnncalc.spec.builtins import builtin_names

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
                 if p and os.access(p, os.X_OK)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium): "
                                                         "browser tests skipped")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND"]
# (built-in, --depth); U-Net and YOLOv3-tiny join when they are built-ins
REPORTS = [("lenet5", None), ("googlenet", None), ("resnet50", 1), ("densenet121", None)] + [
    (n, None) for n in ("unet", "yolov3_tiny") if n in builtin_names()]
runner = CliRunner()


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / "profile"
    res = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                         text=True, timeout=180)
    shutil.rmtree(profile, ignore_errors=True)
    return res


def boxes_of(name: str, depth) -> int:
    graph = load(name)
    return len(layout(graph, report_of(graph), depth).boxes)


def write_report(tmp: Path, name: str, depth) -> Path:
    out = tmp / f"{name}.html"
    res = runner.invoke(app, ["analyze", name, "--html", str(out)] + (["--depth", str(depth)] if depth else []))
    assert res.exit_code == 0, res.output
    return out


def self_check(tmp: Path, page: Path) -> dict:
    res = chromium(tmp, "--dump-dom", page.as_uri())
    found = re.search(r'<pre id="cnncalc-selfcheck"[^>]*>(.*?)</pre>', res.stdout, re.S)
    assert found and found.group(1).strip(), f"the page's check did not run; chromium said: {res.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("name,depth", REPORTS, ids=lambda x: str(x))
def test_report_opens_offline_without_errors_and_no_box_overlaps(tmp_path, name, depth):
    page = write_report(tmp_path, name, depth)
    verdict = self_check(tmp_path, page)
    assert verdict["errors"] == []
    (diagram,) = verdict["diagrams"]
    assert diagram["boxes"] == boxes_of(name, depth)
    assert diagram == {**diagram, "overlaps": 0, "overflowing_text": 0, "empty": 0}


def test_compare_page_shows_both_networks(tmp_path):
    page = tmp_path / "compare.html"
    res = runner.invoke(app, ["compare", "resnet18", "googlenet", "--html", str(page)])
    assert res.exit_code == 0, res.output
    verdict = self_check(tmp_path, page)
    assert verdict["errors"] == []
    assert [d["boxes"] for d in verdict["diagrams"]] == [boxes_of(n, None) for n in ("resnet18", "googlenet")]
    assert all(d["overlaps"] == 0 and d["overflowing_text"] == 0 for d in verdict["diagrams"])


@pytest.mark.parametrize("args", [["inception_v3", "--direction", "LR", "--color", "memory"],
                                  ["densenet121", "--depth", "2", "--color", "macs"]], ids=lambda a: a[0])
def test_drawn_page_with_colours_and_direction(tmp_path, args):
    page = tmp_path / "draw.html"
    res = runner.invoke(app, ["draw", *args, "-o", str(page)])
    assert res.exit_code == 0, res.output
    verdict = self_check(tmp_path, page)
    assert verdict["errors"] == []
    depth = int(args[2]) if args[1] == "--depth" else None
    (diagram,) = verdict["diagrams"]
    assert diagram["boxes"] == boxes_of(args[0], depth)
    assert diagram == {**diagram, "overlaps": 0, "overflowing_text": 0, "empty": 0}


def test_the_check_sees_errors_and_overlaps(tmp_path):
    """The check itself works: a broken script, an external image and one box moved onto another are seen."""
    page = write_report(tmp_path, "lenet5", None)
    spoil = ("<script>undefinedFunction()</script><img src=\"https://example.invalid/x.png\">"
             "<script>var r = document.querySelectorAll('g.box rect'); r[2].setAttribute('y', r[1].getAttribute('y'));"
             "</script></body>")
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", spoil), encoding="utf-8")
    verdict = self_check(tmp_path, page)
    errors = verdict["errors"]
    assert any("undefinedFunction" in e for e in errors) and any("example.invalid" in e for e in errors)
    assert verdict["diagrams"][0]["overlaps"] == 1 and verdict["diagrams"][0]["overflowing_text"] > 0


@pytest.mark.parametrize("name,depth", REPORTS[:3], ids=lambda x: str(x))
def test_screenshot_is_not_blank(tmp_path, name, depth):
    page = write_report(tmp_path, name, depth)
    shot = tmp_path / f"{name}.png"
    res = chromium(tmp_path, f"--screenshot={shot}", "--window-size=800,600", page.as_uri())
    assert shot.exists(), res.stderr[-2000:]
    width, height, pixels = read_png(shot.read_bytes())
    assert (width, height) == (800, 600)
    background = max(set(pixels[::97]), key=pixels[::97].count)
    ink = sum(p != background for p in pixels) / len(pixels)
    assert len(set(pixels)) > 50 and ink > 0.02, f"{len(set(pixels))} colours, {ink:.1%} not background"


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, pixels) of an 8-bit RGB/RGBA PNG, non-interlaced: each pixel as bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
        elif kind == b"IDAT":
            idat += body
        pos += 12 + size
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, pixels = bytes(stride), []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        line = unfilter(kind, line, prev, bpp)
        pixels += [bytes(line[i:i + bpp]) for i in range(0, stride, bpp)]
        prev = line
    return width, height, pixels


def unfilter(kind: int, line: bytearray, prev: bytes, bpp: int) -> bytes:
    """Undo one row's PNG filter (None, Sub, Up, Average, Paeth)."""
    if kind == 0:
        return bytes(line)
    if kind == 1:
        for c in range(bpp):
            line[c::bpp] = bytes(accumulate(line[c::bpp], lambda a, b: (a + b) & 255))
        return bytes(line)
    if kind == 2:
        return bytes((a + b) & 255 for a, b in zip(line, prev))
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if kind == 3:
            line[i] = (line[i] + (a + b) // 2) & 255
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return bytes(line)


def test_png_reader_on_a_known_image():
    """A 2×2 RGB image written with the Sub filter on row 0 and Up on row 1 decodes to its pixels."""
    rows = [b"\x01" + bytes([10, 20, 30, 5, 5, 5]), b"\x02" + bytes([1, 1, 1, 250, 0, 0])]
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    assert read_png(png) == (2, 2, [bytes([10, 20, 30]), bytes([15, 25, 35]), bytes([11, 21, 31]), bytes([9, 25, 35])])


def test_clicking_a_box_finds_its_row(tmp_path):
    page = write_report(tmp_path, "googlenet", None)
    click = ("<script>var g = document.querySelectorAll('g.box')[12]; g.dispatchEvent(new MouseEvent('click'));"
             "var s = document.getElementById('cnncalc-selfcheck'); s.dataset.box = g.dataset.name;"
             "s.dataset.row = document.querySelector('tr.hit td').textContent;</script></body>")
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", click), encoding="utf-8")
    res = chromium(tmp_path, "--dump-dom", page.as_uri())
    box, row = re.search(r'data-box="([^"]*)" data-row="([^"]*)"', res.stdout).groups()
    assert box == row and row in {r.name for r in analyze("googlenet").layers}   # a folded box: its first layer

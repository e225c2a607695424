"""The HTML pages in a real browser: Playwright drives the distribution's Chromium (no browser download;
`executable_path` points at it), offline: every request that is not the page's own file or the local
`cnncalc serve` is aborted and recorded, and must not happen.

- every report opens with no script or console error, and its own check (#cnncalc-selfcheck, measured
  in the browser's real fonts) finds one box per drawn unit, no two boxes overlapping, no label spilling;
- the diagram opens fitted to the window (every box of LeNet-5 and the whole of ResNet-50 inside the
  frame), zooms and pans (buttons, wheel, drag, keys), the search box centres a layer, hovering a box shows
  its card with the table row's figures, clicking it selects the row;
- `cnncalc serve` redraws within a second of a save, keeping the zoom, and shows a bad save's error while
  the last good drawing stays;
- a screenshot is not blank.

Needs the `playwright` Python package and a Chromium (Debian/Ubuntu: `apt-get install chromium`); without
either every test here is skipped with that reason. One browser for the module; run them alone with
`python -m pytest tests/test_browser.py`.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import threading
import time
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
try:
    from playwright.sync_api import sync_playwright
except ImportError:          # pragma: no cover - the [test] extra installs it
    sync_playwright = None
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium): browser tests skipped"),
    pytest.mark.skipif(sync_playwright is None, reason="the playwright package is missing (pip install -e '.[test]'): "
                                                       "browser tests skipped")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--disable-dev-shm-usage", "--hide-scrollbars"]
# (built-in, --depth); U-Net and YOLOv3-tiny join when they are built-ins
REPORTS = [("lenet5", None), ("googlenet", None), ("resnet50", 1), ("densenet121", None)] + [
    (n, None) for n in ("unet", "yolov3_tiny") if n in builtin_names()]
runner = CliRunner()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


class Tab:
    """A page at 1400×1000 that records script errors, console errors and every request leaving it."""

    def __init__(self, browser, allow: str = ""):
        self.errors: list[str] = []
        self.external: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.route("**/*", self._route)
        self.allow = allow
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _route(self, route):
        url = route.request.url
        if url.startswith("file://") or (self.allow and url.startswith(self.allow)) or url.startswith("data:"):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def open(self, target) -> "Tab":
        self.page.goto(target if isinstance(target, str) else target.as_uri())
        self.page.wait_for_function("document.getElementById('cnncalc-selfcheck').textContent.length > 0")
        return self

    def check(self) -> dict:
        return json.loads(self.page.text_content("#cnncalc-selfcheck"))

    def view(self, k: int = 0) -> dict:
        return self.page.evaluate(f"document.querySelectorAll('.viewer')[{k}].cnncalc.get()")

    def close(self):
        self.context.close()


@pytest.fixture
def tab(browser):
    t = Tab(browser)
    yield t
    t.close()


def write_report(tmp: Path, name: str, depth=None) -> Path:
    out = tmp / f"{name}.html"
    res = runner.invoke(app, ["analyze", name, "--html", str(out)] + (["--depth", str(depth)] if depth else []))
    assert res.exit_code == 0, res.output
    return out


def write_drawing(tmp: Path, *args: str) -> Path:
    out = tmp / f"{args[0]}-draw.html"
    res = runner.invoke(app, ["draw", *args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def boxes_of(name: str, depth) -> int:
    graph = load(name)
    return len(layout(graph, report_of(graph), depth).boxes)


def rects(tab: Tab, selector: str) -> list[dict]:
    return tab.page.evaluate(f"""Array.from(document.querySelectorAll({selector!r})).map(function(e){{
        var r=e.getBoundingClientRect();return {{left:r.left,top:r.top,right:r.right,bottom:r.bottom}}}})""")


def inside(r: dict, frame: dict, slack: float = 0.5) -> bool:
    return (r["left"] >= frame["left"] - slack and r["right"] <= frame["right"] + slack
            and r["top"] >= frame["top"] - slack and r["bottom"] <= frame["bottom"] + slack)


@pytest.mark.parametrize("name,depth", REPORTS, ids=lambda x: str(x))
def test_report_opens_offline_without_errors_and_no_box_overlaps(tab, tmp_path, name, depth):
    verdict = tab.open(write_report(tmp_path, name, depth)).check()
    assert verdict["errors"] == [] and tab.errors == [] and tab.external == []
    (diagram,) = verdict["diagrams"]
    assert diagram == {"boxes": boxes_of(name, depth), "overlaps": 0, "overflowing_text": 0, "empty": 0}


def test_compare_page_shows_both_networks(tab, tmp_path):
    page = tmp_path / "compare.html"
    res = runner.invoke(app, ["compare", "resnet18", "googlenet", "--html", str(page)])
    assert res.exit_code == 0, res.output
    verdict = tab.open(page).check()
    assert verdict["errors"] == [] and tab.errors == [] and tab.external == []
    assert [d["boxes"] for d in verdict["diagrams"]] == [boxes_of(n, None) for n in ("resnet18", "googlenet")]
    assert all(d["overlaps"] == 0 and d["overflowing_text"] == 0 for d in verdict["diagrams"])


def test_the_check_sees_errors_overlaps_and_external_requests(tab, tmp_path):
    """The checks themselves work: a broken script, an external image and one box moved onto another are seen."""
    page = write_report(tmp_path, "lenet5")
    spoil = ("<script>undefinedFunction()</script><img src=\"https://example.invalid/x.png\">"
             "<script>var r = document.querySelectorAll('g.box rect'); r[2].setAttribute('y', r[1].getAttribute('y'));"
             "</script></body>")
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", spoil), encoding="utf-8")
    verdict = tab.open(page).check()
    assert any("undefinedFunction" in e for e in verdict["errors"]) and tab.external == ["https://example.invalid/x.png"]
    assert verdict["diagrams"][0]["overlaps"] == 1 and verdict["diagrams"][0]["overflowing_text"] > 0


@pytest.mark.parametrize("name", ["lenet5", "resnet50"])
def test_the_diagram_opens_fitted_to_the_window(tab, tmp_path, name):
    tab.open(write_drawing(tmp_path, name))
    stage = rects(tab, ".viewer .stage")[0]
    assert stage["right"] <= 1400 and stage["bottom"] <= 1000              # the frame is on the screen…
    boxes = rects(tab, "g.box rect")
    assert len(boxes) == boxes_of(name, None) and all(inside(r, stage) for r in boxes)   # …and every box in it
    assert tab.errors == [] and tab.external == []


def test_zoom_and_pan_move_the_view(tab, tmp_path):
    tab.open(write_drawing(tmp_path, "resnet50"))
    fitted = tab.view()
    box = lambda: rects(tab, 'g.box[data-name="conv1"] rect')[0]           # noqa: E731
    before = box()
    tab.page.click("button[data-act=in]")
    zoomed = tab.view()
    assert zoomed["w"] < fitted["w"] and zoomed["h"] < fitted["h"]
    after = box()
    assert after["right"] - after["left"] > 1.2 * (before["right"] - before["left"])     # the boxes grow
    stage = rects(tab, ".viewer .stage")[0]
    cx, cy = (stage["left"] + stage["right"]) / 2, (stage["top"] + stage["bottom"]) / 2
    tab.page.mouse.move(cx, cy)
    tab.page.mouse.down()
    tab.page.mouse.move(cx + 120, cy + 80, steps=5)
    tab.page.mouse.up()
    panned = tab.view()
    assert panned["x"] < zoomed["x"] and panned["y"] < zoomed["y"] and panned["w"] == zoomed["w"]  # dragged right/down
    tab.page.mouse.wheel(0, -400)
    assert tab.view()["w"] < panned["w"]                                  # the wheel zooms in
    tab.page.focus(".viewer .stage")
    tab.page.keyboard.press("0")
    assert tab.view() == fitted
    tab.page.keyboard.press("-")
    assert tab.view()["w"] > fitted["w"]
    tab.page.click("button[data-act=fit]")
    assert tab.view() == fitted and tab.errors == []


def test_search_centres_the_layer(tab, tmp_path):
    tab.open(write_drawing(tmp_path, "resnet50"))
    tab.page.fill("input.find", "layer3.4.add")
    tab.page.press("input.find", "Enter")
    target = rects(tab, 'g.box[data-name="layer3.4.add"] rect')[0]
    stage = rects(tab, ".viewer .stage")[0]
    assert abs((target["left"] + target["right"]) / 2 - (stage["left"] + stage["right"]) / 2) < 2
    assert abs((target["top"] + target["bottom"]) / 2 - (stage["top"] + stage["bottom"]) / 2) < 2
    assert target["bottom"] - target["top"] > 30                        # at a readable size
    assert tab.page.get_attribute('g.box[data-name="layer3.4.add"]', "class") == "box found"


def test_hover_shows_the_card_and_click_selects_the_row(tab, tmp_path):
    tab.open(write_report(tmp_path, "lenet5"))
    tab.page.click("button[data-act=in]")          # any view: the card follows the box
    tab.page.hover('g.box[data-name="C3"]')
    card = tab.page.locator(".viewer .card")
    assert card.is_visible()
    text = card.inner_text()
    c3 = next(r for r in analyze("lenet5").layers if r.name == "C3")
    for figure in ("C3", "relu2", "conv", "5/1 p0", "6×14×14", "16×10×10", f"{5 * 5 * 6 * 16 + 16:,}", c3.config):
        assert figure in text, figure
    tab.page.mouse.move(5, 5)
    assert not card.is_visible()
    tab.page.click('g.box[data-name="C3"]')
    assert tab.page.text_content("tr.selected td") == "C3"
    assert tab.errors == [] and tab.external == []


def test_maps_page_fits_the_screen(tab, tmp_path):
    for name in ("lenet5", "vgg16"):
        tab.open(write_drawing(tmp_path, name, "--style", "maps"))
        (figure,) = rects(tab, "svg.maps")
        assert figure["right"] <= 1400 and figure["bottom"] <= 1000
        assert len(rects(tab, "g.map")) == {"lenet5": 8, "vgg16": 14}[name]
    assert tab.errors == [] and tab.external == []


def test_serve_redraws_within_a_second_and_shows_a_bad_save(browser, tmp_path):
    from cnncalc.serve.live import Live, make_server
    from cnncalc.spec.builtins import builtin_path
    net = tmp_path / "net.yaml"
    good = builtin_path("lenet5").read_text(encoding="utf-8")
    net.write_text(good, encoding="utf-8")
    server = make_server(Live(str(net)))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    tab = Tab(browser, allow=url)
    try:
        tab.open(url)
        assert "6×28×28" in tab.page.text_content('g.box[data-name="C1"]')
        tab.page.click("button[data-act=in]")
        zoomed = tab.view()
        net.write_text(good.replace("filters: 6,", "filters: 8,", 1), encoding="utf-8")
        start = time.monotonic()
        tab.page.wait_for_function("""document.querySelector('g.box[data-name="C1"]').textContent.indexOf('8×28×28') >= 0""",
                                   timeout=3000)
        assert time.monotonic() - start < 1.0                          # redrawn within a second of the save
        assert tab.view() == zoomed                                     # same zoom and position
        net.write_text(good.replace("filters: 6,", "filters: six,", 1), encoding="utf-8")
        tab.page.wait_for_selector("#cnncalc-live:not([hidden])", timeout=3000)
        error = tab.page.text_content("#cnncalc-live")
        assert "net.yaml:" in error and "filters" in error and "\n" not in error
        assert "8×28×28" in tab.page.text_content('g.box[data-name="C1"]')     # the last good drawing stays
        net.write_text(good, encoding="utf-8")
        tab.page.wait_for_selector("#cnncalc-live", state="hidden", timeout=3000)
        tab.page.wait_for_function("""document.querySelector('g.box[data-name="C1"]').textContent.indexOf('6×28×28') >= 0""",
                                   timeout=3000)
        assert tab.errors == [] and tab.external == []
    finally:
        tab.close()
        server.shutdown()
        server.server_close()


def test_screenshot_is_not_blank(tab, tmp_path):
    tab.open(write_report(tmp_path, "resnet50", 1))
    width, height, pixels = read_png(tab.page.screenshot())
    assert (width, height) == (1400, 1000)
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


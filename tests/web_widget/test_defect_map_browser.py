"""The defect form's map picker in Chromium: the city configures a tile server (here a
local one on another origin, serving a PNG made by the test), the form shows the tiles
around the configured centre, zoom and pan buttons move it, a click chooses a point and a
report with only that point (no typed address) reaches a real Open311 server as
lat/long, within a few metres of what the Web Mercator tile math says the clicked pixel
is. Real app, real model, real database."""

from __future__ import annotations

import math
import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from chatbot.api import create_app
from chatbot.config import Settings
from tests.conftest import (
    FakeClock,
    browser_tests,
    serve_in_thread,
    widget_page,
)
from tests.open311_server import API_KEY, Open311Server
from tests.web_widget.test_widget_browser import Widget

pytestmark = [pytest.mark.browser, pytest.mark.slow, browser_tests]

REPORT = "Die Straßenlaterne vor Nr. 5 ist kaputt"
CENTER = (51.3331, 6.5623)  # the default: Krefeld
TILE = 256


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain one-colour PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def pixels(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """Web Mercator: lat/lon -> pixel of the whole world at this zoom."""
    size = TILE * 2 ** zoom
    sin = math.sin(math.radians(lat))
    return ((lon + 180) / 360 * size,
            (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * size)


def lat_lon(x: float, y: float, zoom: int) -> tuple[float, float]:
    size = TILE * 2 ** zoom
    return (math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / size)))),
            x / size * 360 - 180)


def test_the_tile_math_round_trips() -> None:
    # Tile 0/0/0 is the whole world, square up to +-85.0511 degrees of latitude.
    assert pixels(0, 0, 0) == (128, 128)
    assert pixels(85.0511287798, -180, 1) == pytest.approx((0, 0), abs=1e-6)
    assert pixels(-85.0511287798, 180, 1) == pytest.approx((512, 512), abs=1e-6)
    x, y = pixels(*CENTER, 16)
    assert lat_lon(x, y, 16) == pytest.approx(CENTER, abs=1e-9)


class TileServer:
    """Serves the same PNG for every /{z}/{x}/{y}.png and remembers what was asked."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        tile, requested = png(TILE, TILE, (200, 220, 200)), self.requested

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requested.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def setup(tmp_path: Path, search_service: Any, corpus_index_dir: Path, browser: Any
          ) -> Iterator[tuple[Any, Open311Server, TileServer]]:
    open311, tiles = Open311Server().start(), TileServer()
    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0, outbox_poll_seconds=0,
                        database_url=f"sqlite:///{tmp_path / 'widget.sqlite3'}",
                        open311_url=open311.url, open311_api_key=API_KEY,  # type: ignore[arg-type]
                        map_tile_url=tiles.url + "/{z}/{x}/{y}.png",
                        map_attribution="© Testkarten")
    app = create_app(settings, search_service=search_service, clock=FakeClock())
    try:
        with serve_in_thread(app) as api, widget_page(browser, api) as page:
            yield page, open311, tiles
    finally:
        open311.stop()
        tiles.stop()


def test_a_point_on_the_map_is_the_reports_location(
        setup: tuple[Any, Open311Server, TileServer]) -> None:
    page, open311, tiles = setup
    widget = Widget(page)
    widget.open()
    reply = widget.ask(REPORT)
    reply.get_by_role("button", name="Mangel melden").click()
    form = widget.locator("form.defect-form")
    widget.expect(form).to_be_visible()
    form.get_by_label("Kategorie").select_option(label="Straßenbeleuchtung")
    form.get_by_role("checkbox").check()
    view = form.locator(".map-view")
    widget.expect(view).to_be_visible()
    widget.expect(form).to_contain_text("© Testkarten")

    # The tiles around the centre, loaded from the other origin (the page's CSP allows it).
    x16, y16 = pixels(*CENTER, 16)
    centre_tile = f"/16/{int(x16 // TILE)}/{int(y16 // TILE)}.png"
    widget.expect(view.locator(f"img[data-tile='16/{int(x16 // TILE)}/{int(y16 // TILE)}']")
                  ).to_have_count(1)
    page.wait_for_function("""() => [...document.querySelector('citizen-chat-widget')
        .shadowRoot.querySelectorAll('.map-view img')]
        .every((img) => img.complete && img.naturalWidth === 256)""")
    assert centre_tile in tiles.requested

    # Nothing typed, nothing chosen: refused before anything is sent.
    form.get_by_role("button", name="Meldung absenden").click()
    widget.expect(form).to_contain_text("Bitte geben Sie an, wo der Mangel ist")
    assert open311.requests == []

    # Zoom in once and move east once (keyboard-reachable, labelled buttons), then click.
    form.get_by_role("button", name="Hineinzoomen").click()
    form.get_by_role("button", name="Karte nach Osten verschieben").click()
    width, height = view.evaluate("(node) => [node.clientWidth, node.clientHeight]")
    assert 200 <= width <= 800  # clipped to the form
    assert height > 100
    offset = (width / 2 + 40, height / 2 - 30)
    cx, cy = pixels(*CENTER, 17)
    cx += TILE / 2  # one step east
    expected = lat_lon(cx - width / 2 + offset[0], cy - height / 2 + offset[1], 17)
    x17, y17 = int(cx // TILE), int(cy // TILE)
    widget.expect(view.locator(f"img[data-tile='17/{x17}/{y17}']")).to_have_count(1)

    view.click(position={"x": offset[0], "y": offset[1]})
    chosen = form.locator(".map-chosen")
    widget.expect(chosen).to_contain_text("Punkt gewählt: ")
    shown = chosen.inner_text().removeprefix("Punkt gewählt: ").split(", ")
    # Within a pixel or so (the browser may place the click on a fractional pixel).
    assert [float(v) for v in shown] == pytest.approx(expected, abs=2e-5)
    widget.expect(form.locator(".map-marker")).to_be_visible()
    # Removed, and chosen again with the keyboard-free click.
    form.get_by_role("button", name="Punkt entfernen").click()
    widget.expect(chosen).to_have_text("")
    widget.expect(form.locator(".map-marker")).to_be_hidden()
    view.click(position={"x": offset[0], "y": offset[1]})
    widget.expect(chosen).to_contain_text("Punkt gewählt")

    form.get_by_role("button", name="Meldung absenden").click()
    widget.expect(reply.locator(".confirmation")).to_contain_text(
        "Ihre Meldung ist beim Kommunalbetrieb angekommen")
    [received] = open311.requests
    assert "address_string" not in received.fields
    assert float(received.fields["lat"]) == pytest.approx(expected[0], abs=2e-5)
    assert float(received.fields["long"]) == pytest.approx(expected[1], abs=2e-5)
    assert received.fields["service_code"] == "SL"
    assert widget.errors == []

"""The defect form's map picker, server side: the settings are checked at start-up, the
services list hands the map to the widget (or null), the demo page allows the tile
host as an image source only when a map is configured, and a report with only a point
reaches the Open311 endpoint as lat/long."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chatbot.config import Settings, parse_lat_lon
from tests.open311_server import API_KEY, Open311Server

TILES = "https://tiles.example.de/osm/{z}/{x}/{y}.png"


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://tiles.example.de/{z}/{x}/{y}.png", "http:// or https://"),
    ("tiles.example.de/{z}/{x}/{y}.png", "http:// or https://"),
    ("https://tiles.example.de/{z}/{x}.png", "must contain {y}"),
    ("https://tiles.example.de/tile.png", "must contain {z}, {x}, {y}"),
    ("https://{s}.tiles.example.de/{z}/{x}/{y}.png", "no {s} subdomain"),
])
def test_a_bad_tile_template_stops_the_start(url: str, problem: str) -> None:
    with pytest.raises(ValidationError) as error:
        Settings(map_tile_url=url)
    assert "map_tile_url" in str(error.value)
    assert problem in str(error.value)


@pytest.mark.parametrize(("center", "problem"), [
    ("51.3331", "is not lat,lon"), ("51.3;6.5", "is not lat,lon"), ("north,6.5", "is not lat,lon"),
    ("89.0,6.5", "latitude must be within"), ("51.3,181", "longitude"),
])
def test_a_bad_centre_stops_the_start(center: str, problem: str) -> None:
    with pytest.raises(ValidationError) as error:
        Settings(map_center=center)
    assert "map_center" in str(error.value)
    assert problem in str(error.value)


def test_map_settings_defaults_and_parsing() -> None:
    settings = Settings(map_tile_url=" " + TILES + " ")
    assert settings.map_tile_url == TILES
    assert settings.map_tile_origin == "https://tiles.example.de"
    assert parse_lat_lon(settings.map_center) == (51.3331, 6.5623)
    assert settings.map_zoom == 16
    assert Settings(map_tile_url="").map_tile_url is None
    with pytest.raises(ValidationError):
        Settings(map_zoom=25)


def test_without_tiles_there_is_no_map_and_no_foreign_image_source(make_client: Any) -> None:
    client = make_client()
    assert client.get("/api/v1/defect-reports/services").json()["map"] is None
    csp = client.get("/").headers["content-security-policy"]
    assert "img-src 'self' data:;" in csp


def test_the_configured_map_reaches_the_widget_and_the_pages_csp(make_client: Any) -> None:
    client = make_client(map_tile_url=TILES, map_center="51.34,6.57", map_zoom=15,
                         map_attribution="© OpenStreetMap contributors")
    services = client.get("/api/v1/defect-reports/services?lang=fr").json()
    assert services["map"] == {"tile_url": TILES, "lat": 51.34, "lon": 6.57, "zoom": 15,
                               "attribution": "© OpenStreetMap contributors"}
    for page in ("/", "/datenschutz"):
        csp = client.get(page).headers["content-security-policy"]
        assert "img-src 'self' data: https://tiles.example.de;" in csp
        assert "script-src 'self';" in csp  # only images may come from the tile host
    # The API's own answers still may load nothing.
    assert client.get("/api/v1/defect-reports/services").headers[
        "content-security-policy"].startswith("default-src 'none'")


def test_a_report_with_only_a_point_reaches_the_endpoint(make_client: Any,
                                                         open311: Open311Server) -> None:
    client = make_client(open311_url=open311.url, open311_api_key=API_KEY, map_tile_url=TILES)
    answer = client.post("/api/v1/defect-reports", json={
        "category": "SL", "description": "Laterne aus", "lat": 51.3351, "lon": 6.5601,
        "consent": True, "lang": "de"})
    assert answer.status_code == 201, answer.text
    [received] = open311.requests
    assert (float(received.fields["lat"]), float(received.fields["long"])) == (51.3351, 6.5601)
    assert "address_string" not in received.fields
    # Neither a point nor an address: refused, as before.
    answer = client.post("/api/v1/defect-reports", json={
        "category": "SL", "description": "Laterne aus", "consent": True, "lang": "de"})
    assert answer.status_code == 422

"""/widget.js, the demo page, the privacy notice and CORS for embedding origins."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from chatbot.api import create_app
from chatbot.api.routes.widget import IMMUTABLE, REVALIDATE
from chatbot.api.widget_bundle import WidgetError, build_widget_bundle
from chatbot.config import Settings
from chatbot.language import SUPPORTED_LANGUAGES

WIDGET_DIR = Path(__file__).parents[2] / "web_widget"
CITY = "https://www.stadt.example"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'w.sqlite3'}", load_search=False,
                        index_poll_seconds=0, index_dir=tmp_path / "indexes",
                        cors_origins=[CITY + "/"])
    with TestClient(create_app(settings)) as client:
        yield client


def test_widget_script_is_versioned_and_cached(client: TestClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    version = response.headers["x-widget-version"]
    assert response.headers["etag"] == f'"{version}"'
    assert response.headers["cache-control"] == REVALIDATE
    assert f"Citizen service chat widget {version}" in response.text

    pinned = client.get(f"/widget.js?v={version}")
    assert pinned.headers["cache-control"] == IMMUTABLE
    assert pinned.content == response.content
    # An old version in the URL still gets today's widget, but only for an hour.
    assert client.get("/widget.js?v=0.0.1-old").headers["cache-control"] == REVALIDATE

    unchanged = client.get("/widget.js", headers={"If-None-Match": f'"{version}"'})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert client.get("/widget.js", headers={"If-None-Match": '"other"'}).status_code == 200


def test_bundle_carries_every_language_and_parses(tmp_path: Path) -> None:
    bundle = build_widget_bundle(WIDGET_DIR)
    text = bundle.script.decode()
    build = json.loads(text.split("const BUILD = ", 1)[1].split(";\n", 1)[0])
    assert sorted(build["strings"]) == sorted(SUPPORTED_LANGUAGES)
    assert build["version"] == bundle.version
    assert "</" not in json.dumps(build).replace("<\\/", "")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the browser tests still run the bundle")
    path = tmp_path / "widget.js"
    path.write_bytes(bundle.script)
    checked = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_version_changes_with_the_sources(tmp_path: Path) -> None:
    copy = tmp_path / "web_widget"
    shutil.copytree(WIDGET_DIR, copy, ignore=shutil.ignore_patterns("screenshots"))
    before = build_widget_bundle(copy).version
    (copy / "widget.css").write_text((copy / "widget.css").read_text() + "\n.x { color: red; }\n")
    assert build_widget_bundle(copy).version != before


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: (d / "i18n" / "tr.json").unlink(), "tr.json: missing"),
    (lambda d: (d / "i18n" / "fr.json").write_text("{not json", encoding="utf-8"),
     "fr.json: not valid UTF-8 JSON"),
    (lambda d: _drop_key(d / "i18n" / "pl.json", "send"), "pl.json: keys differ from de.json "
                                                          "(missing: send"),
    (lambda d: _set_key(d / "i18n" / "it.json", "error_too_long", "Troppo lungo."),
     "it.json: 'error_too_long' must use the placeholders ['max']"),
    (lambda d: (d / "widget.js").unlink(), "widget.js: missing"),
])
def test_broken_widget_sources_stop_the_server_with_the_reason(
        tmp_path: Path, edit: object, message: str) -> None:
    copy = tmp_path / "web_widget"
    shutil.copytree(WIDGET_DIR, copy, ignore=shutil.ignore_patterns("screenshots"))
    edit(copy)  # type: ignore[operator]
    with pytest.raises(WidgetError, match=message.replace("(", r"\(").replace("[", r"\[")):
        create_app(Settings(load_search=False, widget_dir=copy,
                            database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}"))


def _drop_key(path: Path, key: str) -> None:
    table = json.loads(path.read_text(encoding="utf-8"))
    del table[key]
    path.write_text(json.dumps(table), encoding="utf-8")


def _set_key(path: Path, key: str, value: str) -> None:
    table = json.loads(path.read_text(encoding="utf-8"))
    table[key] = value
    path.write_text(json.dumps(table), encoding="utf-8")


def test_demo_page_embeds_the_pinned_widget(client: TestClient) -> None:
    version = client.get("/widget.js").headers["x-widget-version"]
    page = client.get("/")
    assert page.status_code == 200
    assert f'src="http://testserver/widget.js?v={version}" data-lang="auto"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'href="/datenschutz"' in page.text
    assert client.get("/site/site.css").status_code == 200
    assert client.get("/site/other.css").status_code == 404


def test_privacy_notice_states_the_retention_period(client: TestClient) -> None:
    page = client.get("/datenschutz")
    assert page.status_code == 200
    assert "nach\n180 Tagen gelöscht" in page.text or "nach 180 Tagen" in page.text


def test_cors_allows_the_configured_city_pages_only(client: TestClient) -> None:
    allowed = client.options("/api/v1/chat", headers={
        "Origin": CITY, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == CITY
    assert "access-control-allow-credentials" not in allowed.headers

    for origin in ("https://evil.example", "https://www.stadt.example.evil.example"):
        refused = client.options("/api/v1/chat", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST"})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        simple = client.get("/api/v1/hotline", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers

    simple = client.get("/api/v1/hotline", headers={"Origin": CITY})
    assert simple.headers["access-control-allow-origin"] == CITY
    # Staff endpoints need a bearer token, which no city page may send cross-origin.
    bearer = client.options("/api/v1/agent/tickets", headers={
        "Origin": CITY, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert bearer.status_code == 400


def test_without_configured_origins_no_cross_origin_access(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'w.sqlite3'}", load_search=False,
                        index_poll_seconds=0, index_dir=tmp_path / "indexes")
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/hotline", headers={"Origin": CITY})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("origin", ["*", "https://www.stadt.example/buergerservice",
                                    "www.stadt.example", "https://*.stadt.example"])
def test_an_origin_must_be_scheme_and_host(origin: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(cors_origins=[origin])


def test_the_configured_privacy_notice_is_linked_from_the_widget(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'w.sqlite3'}", load_search=False,
                        index_poll_seconds=0, index_dir=tmp_path / "indexes",
                        privacy_url="https://www.stadt.example/datenschutz-chat")
    with TestClient(create_app(settings)) as client:
        script = client.get("/widget.js").text
        assert '"privacyUrl": "https://www.stadt.example/datenschutz-chat"' in script
        assert 'href="https://www.stadt.example/datenschutz-chat"' in client.get("/").text

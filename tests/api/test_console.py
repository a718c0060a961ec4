"""The agents' console pages: served without data, locked down, scripts render safely."""

from __future__ import annotations

from fastapi.testclient import TestClient

from chatbot.api.routes.console import SECURITY_HEADERS


def test_the_queue_page_has_search_queue_and_appointments(backoffice_client: TestClient) -> None:
    page = backoffice_client.get("/console")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
    html = page.text
    for marker in ('id="search-form"', 'id="queue-filters"', 'id="appointments"',
                   'id="login"', "/console/static/console.js", '<option>wohngeld</option>',
                   '<option>ku</option>'):
        assert marker in html
    assert "<script>" not in html  # no inline script: the CSP would block it


def test_the_defect_section_is_in_the_page_body_once_not_in_its_title(
        backoffice_client: TestClient) -> None:
    import re

    html = backoffice_client.get("/console").text
    [title] = re.findall(r"<title>(.*?)</title>", html, flags=re.S)
    assert title == "Tickets · Bürgerservice"
    assert html.count('id="defects"') == 1
    body = html[html.index("<body"):]
    assert body.index('id="appointments"') < body.index('id="defects-title"')


def test_the_ticket_page_carries_only_the_reference(backoffice_client: TestClient) -> None:
    page = backoffice_client.get("/console/tickets/KR-2026-000001")
    assert page.status_code == 200
    assert 'data-reference="KR-2026-000001"' in page.text
    assert backoffice_client.get("/console/tickets/<script>").status_code == 422


def test_the_assets(backoffice_client: TestClient) -> None:
    script = backoffice_client.get("/console/static/console.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    # Citizens' text reaches this page: it must never be parsed as HTML.
    assert "innerHTML" not in script.text
    assert "insertAdjacentHTML" not in script.text
    for endpoint in ("/api/v1/search", "/api/v1/agent/tickets", "/api/v1/agent/appointments",
                     "/api/v1/agent/me"):
        assert endpoint in script.text
    assert backoffice_client.get("/console/static/console.css").status_code == 200
    assert backoffice_client.get("/console/static/../app.py").status_code == 404
    assert backoffice_client.get("/console/static/secrets.txt").status_code == 404

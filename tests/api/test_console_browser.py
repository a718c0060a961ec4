"""The agents' console in Debian's Chromium: log in, see the queue, work a ticket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbot.api import create_app
from chatbot.config import Settings
from chatbot.escalation.users import add_user
from chatbot.storage import Database
from tests.conftest import (
    CHROMIUM_ARGS,
    FakeClock,
    browser_tests,
    require_chromium,
    serve_in_thread,
)

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'


@pytest.fixture
def console_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, agent token) of a real server on 127.0.0.1 with two tickets."""
    import httpx

    url = f"sqlite:///{tmp_path / 'console.sqlite3'}"
    app = create_app(Settings(database_url=url, load_search=False, index_poll_seconds=0,
                              index_dir=tmp_path / "indexes"), clock=FakeClock())
    with serve_in_thread(app) as base:
        for message, transcript in (("Reisepass verloren", "Hilfe " + HOSTILE),
                                    ("Wohngeld-Antrag", "Frage")):
            httpx.post(f"{base}/api/v1/tickets", json={
                "message": message, "consent": True, "contact": {"email": "e@example.org"},
                "transcript": [{"role": "citizen", "text": transcript}]}).raise_for_status()
        httpx.post(f"{base}/api/v1/appointments", json={
            "service": "buergerservice", "start": "2026-10-05T10:00:00+02:00",
            "name": "Erika Mustermann", "consent": True}).raise_for_status()
        database = Database(url)
        with database.write_session() as session:
            token = add_user(session, name="a.schmidt", role="agent", now=FakeClock()())[1]
        database.dispose()
        yield base, token


@browser_tests
def test_an_agent_logs_in_and_works_a_ticket(console_server: tuple[str, str],
                                             tmp_path: Path) -> None:
    from playwright import sync_api
    base, token = console_server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(timezone_id="UTC")
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                and "503" not in msg.text else None)

        page.goto(f"{base}/console")
        assert page.locator("#login").is_visible()
        page.fill("#token", token)
        page.click("#login button")
        page.wait_for_selector("#queue tbody tr")
        assert page.text_content("#whoami") == "a.schmidt (agent)"
        assert not page.locator("#login").is_visible()
        assert page.locator("#queue tbody tr").count() == 2
        assert page.text_content("#queue-total") == "2 Ticket(s)"
        page.wait_for_selector("#appointments tbody tr")
        row = page.text_content("#appointments tbody tr") or ""
        assert "Erika Mustermann" in row
        assert "05.10.26, 10:00" in row  # Berlin time, though the browser runs in UTC

        page.fill("#search-query", "Reisepass")
        page.click("#search-form button")
        # The CSP forbids eval, so waiting uses Playwright's locators, not page functions.
        sync_api.expect(page.locator("#message")).to_contain_text("503")  # no model here
        page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)

        page.click("text=KR-2026-000001")
        page.wait_for_selector("#ticket-events li")
        transcript = page.text_content("#ticket-transcript") or ""
        assert HOSTILE in transcript  # shown as text ...
        assert page.locator("#ticket-transcript img").count() == 0  # ... never as markup
        assert page.title() != "pwned"

        page.select_option("#status-form select", "in_progress")
        page.fill("#status-form input[name=comment]", "übernommen")
        page.click("#status-form button")
        page.wait_for_selector("text=open → in_progress")
        page.fill("#reply-form textarea", "Bitte kommen Sie vorbei.")
        page.click("#reply-form button")
        page.wait_for_selector("#ticket-events li.reply")
        sync_api.expect(page.locator("#message")).to_have_text("Antwort gespeichert.")
        page.screenshot(path=str(tmp_path / "ticket.png"), full_page=True)

        page.click("#logout")
        assert page.locator("#login").is_visible()
        page.reload()
        assert page.locator("#login").is_visible()
        browser.close()
    assert errors == []

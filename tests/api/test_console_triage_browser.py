"""The agents' console in Debian's Chromium: the chat transcript as text with links,
the city's numbers readable, the saved status and assignment shown, the queue's views."""

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

ARTICLE = "http://127.0.0.1/articles/reisepass-beantragen?lang=de"
ANSWER = ("**Reisepass beantragen**\n\n## Gebühren\n- 70 Euro ab 24 Jahren\n\n"
          f"Quelle: [Reisepass beantragen]({ARTICLE}) oder https://example.org/info.\n"
          "[Klick](javascript:alert(1))\n"
          "- Rufen Sie die Hotline an: 02151 86-0 (Mo-Do 8-17 Uhr)")


@pytest.fixture
def console_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(base URL, agents' tokens) of a real server with one chat ticket."""
    import httpx

    url = f"sqlite:///{tmp_path / 'console.sqlite3'}"
    app = create_app(Settings(database_url=url, load_search=False, index_poll_seconds=0,
                              index_dir=tmp_path / "indexes"), clock=FakeClock())
    with serve_in_thread(app) as base:
        httpx.post(f"{base}/api/v1/tickets", json={
            "message": "Was kostet der Pass?", "consent": True,
            "contact": {"email": "e@example.org"}, "department": "buergerservice",
            "transcript": [
                {"role": "citizen", "text": "Was kostet der Pass? Ich bin unter "
                                            "0171 2345678 erreichbar."},
                {"role": "assistant", "text": ANSWER}]}).raise_for_status()
        database = Database(url)
        with database.write_session() as session:
            tokens = {
                "a.schmidt": add_user(session, name="a.schmidt", role="agent",
                                      now=FakeClock()(), departments=["buergerservice"],
                                      languages=["de"])[1],
                "b.weber": add_user(session, name="b.weber", role="agent", now=FakeClock()(),
                                    departments=["standesamt"], languages=["de"])[1]}
        database.dispose()
        yield base, tokens


@browser_tests
def test_an_agent_reads_the_transcript_assigns_and_sees_the_saved_state(
        console_server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    from playwright import sync_api
    base, tokens = console_server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(timezone_id="UTC")
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                and "503" not in msg.text else None)

        page.goto(f"{base}/console")
        page.fill("#token", tokens["a.schmidt"])
        page.click("#login button")
        page.wait_for_selector("#queue tbody tr")
        row = page.text_content("#queue tbody tr") or ""
        assert "Was kostet der Pass?" in row  # the subject
        assert "buergerservice" in row
        page.click("text=KR-2026-000001")
        page.wait_for_selector("#ticket-events li")

        # The transcript: text with links, never raw Markdown or markup.
        transcript = page.locator("#ticket-transcript")
        text = transcript.text_content() or ""
        assert "**" not in text
        assert "## " not in text
        assert "[Reisepass beantragen](" not in text
        assert "• 70 Euro ab 24 Jahren" in text
        link = transcript.locator(f'a[href="{ARTICLE}"]')
        assert link.text_content() == "Reisepass beantragen"
        assert link.get_attribute("rel") == "noopener noreferrer"
        assert transcript.locator('a[href="https://example.org/info"]').count() == 1
        assert transcript.locator('a[href^="javascript"]').count() == 0
        # The city's number readable, the citizen's own masked.
        assert "02151 86-0" in text
        assert "0171" not in text
        assert "[phone]" in text

        # The status selector shows what was saved, also after a reload.
        status = page.locator("#status-form select")
        assert status.input_value() == "open"
        status.select_option("in_progress")
        page.click("#status-form button")
        page.wait_for_selector("text=open → in_progress")
        assert status.input_value() == "in_progress"
        page.reload()
        page.wait_for_selector("text=open → in_progress")
        assert page.locator("#status-form select").input_value() == "in_progress"

        # Assignment: to oneself, shown in the details, the history and the selector.
        page.click("#assign-me")
        page.wait_for_selector("text=zugewiesen: a.schmidt")
        assert page.locator("#assign-form select").input_value() == "a.schmidt"
        assert "a.schmidt" in (page.text_content("#ticket-details") or "")
        page.locator("#assign-form select").select_option("b.weber")
        page.click("#assign-form button[type=submit]")
        page.wait_for_selector("text=zugewiesen: b.weber")
        page.locator("#assign-form select").select_option("a.schmidt")
        page.click("#assign-form button[type=submit]")
        page.wait_for_selector("#ticket-events li:nth-child(5)")
        assert page.locator("#assign-form select").input_value() == "a.schmidt"
        page.screenshot(path=str(tmp_path / "ticket.png"), full_page=True)
        page.click("#logout")

        # A colleague of another department: not in the default queue, in "all".
        page.goto(f"{base}/console")
        page.fill("#token", tokens["b.weber"])
        page.click("#login button")
        sync_api.expect(page.locator("#queue-total")).to_have_text("0 Ticket(s)")
        page.check("#queue-filters input[name=all]")
        page.click("#queue-filters button")
        sync_api.expect(page.locator("#queue-total")).to_have_text("1 Ticket(s)")
        row = page.text_content("#queue tbody tr") or ""
        assert "a.schmidt" in row
        assert "in Bearbeitung" in row
        browser.close()
    assert errors == []

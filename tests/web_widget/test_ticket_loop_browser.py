"""The whole loop in Debian's Chromium: a citizen opens a ticket in the widget, an agent
answers in the console, the citizen gets an e-mail in their language (a real SMTP
server in the test process), opens its link, reads the reply and answers back, and the
agent sees the answer. Real app, real model, real database."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatbot.api import create_app
from chatbot.config import Settings
from chatbot.escalation.users import add_user
from chatbot.storage import Database
from tests.conftest import (
    ARTIFACTS,
    FakeClock,
    browser_tests,
    serve_in_thread,
)
from tests.smtp_server import SmtpServer, body_of
from tests.web_widget.test_widget_browser import SATURDAY_EVENING

pytestmark = [pytest.mark.browser, pytest.mark.slow, browser_tests]

QUESTION = "Yarın Kuzey Denizi'nde hava nasıl olacak?"  # nothing the city answers
REPLY = "Merhaba, hava durumu için lütfen Alman Meteoroloji Servisi'ne bakın."
ANSWER = "Teşekkürler, anladım."


@pytest.fixture
def loop(tmp_path: Path, search_service: Any, corpus_index_dir: Path
         ) -> Iterator[dict[str, Any]]:
    smtp = SmtpServer().start()
    db_url = f"sqlite:///{tmp_path / 'loop.sqlite3'}"
    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0, database_url=db_url,
                        smtp_url=smtp.url,  # type: ignore[arg-type]
                        smtp_from="Stadt Musterstadt <buergerservice@example-stadt.de>",
                        outbox_poll_seconds=0.2)
    app = create_app(settings, search_service=search_service,
                     clock=FakeClock(SATURDAY_EVENING))
    try:
        with serve_in_thread(app) as api:
            database = Database(db_url)
            with database.write_session() as session:
                token = add_user(session, name="a.schmidt", role="agent",
                                 now=SATURDAY_EVENING)[1]
            database.dispose()
            yield {"api": api, "agent_token": token, "smtp": smtp}
    finally:
        smtp.stop()


def test_a_reply_reaches_the_citizen_by_mail_and_their_answer_reaches_the_agent(
        loop: dict[str, Any], browser: Any, caplog: pytest.LogCaptureFixture) -> None:
    from playwright.sync_api import expect

    caplog.set_level(logging.INFO)
    api, smtp = loop["api"], loop["smtp"]
    errors: list[str] = []
    requested: list[str] = []
    citizen = browser.new_context(locale="de-DE", timezone_id="Europe/Berlin")
    citizen.on("request", lambda request: requested.append(request.url))
    page = citizen.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))

    # 1. The citizen asks in Turkish and sends a request with an e-mail address.
    page.goto(f"{api}/")
    widget = page.locator("citizen-chat-widget")
    widget.locator(".launcher").click()
    widget.locator("select#cc-lang").select_option("tr")
    widget.locator("textarea#cc-input").fill(QUESTION)
    widget.locator("button.send").click()
    reply = widget.locator(".msg.bot").last
    expect(reply).to_have_attribute("data-type", "escalate", timeout=20_000)
    reply.get_by_role("button", name="Talep gönder").click()
    form = reply.locator("form.ticket-form")
    form.get_by_label("E-posta").fill("erika@example.org")
    form.get_by_role("checkbox").check()
    form.get_by_role("button", name="Talebi gönder").click()
    confirmation = reply.locator(".confirmation")
    expect(confirmation).to_contain_text("Dosya numaranız")
    reference = confirmation.locator(".reference").text_content() or ""
    assert re.fullmatch(r"KR-2026-\d{6}", reference)
    status_link = confirmation.locator("a.status-link")
    expect(status_link).to_have_text("Talebinizi çevrimiçi takip edin")
    widget_href = status_link.get_attribute("href") or ""
    assert re.fullmatch(re.escape(f"{api}/anliegen/{reference}") + r"#code=[\w-]{20,}",
                        widget_href)

    # 2. An agent answers in the console.
    console = browser.new_page()
    console.on("pageerror", lambda error: errors.append(str(error)))
    console.goto(f"{api}/console/tickets/{reference}")
    assert console.locator("#email-notice").count() == 0  # e-mail is configured
    console.fill("#token", loop["agent_token"])
    console.click("#login button")
    console.wait_for_selector("#ticket-events li")
    console.fill("#reply-form textarea", REPLY)
    console.click("#reply-form button")
    expect(console.locator("#message")).to_have_text("Antwort gespeichert.")

    # 3. The mail arrives, in Turkish, with the link.
    [mail] = smtp.wait_for(1)
    assert mail["To"] == "erika@example.org"
    assert mail["Subject"] == f"{reference} numaralı talebinize yanıt"
    body = body_of(mail)
    match = re.search(re.escape(f"{api}/anliegen/{reference}") + r"#code=([\w-]+)", body)
    assert match is not None
    code = match.group(1)

    # 4. The link shows the reply, in Turkish, and leaves no code in the address bar.
    status_page = citizen.new_page()
    status_page.on("pageerror", lambda error: errors.append(str(error)))
    status_page.goto(match.group(0))
    messages = status_page.locator("#ticket-messages")
    expect(messages).to_contain_text(REPLY)
    expect(messages).to_contain_text("Vatandaş hizmetleri")
    expect(status_page.locator("html")).to_have_attribute("lang", "tr")
    expect(status_page.locator("#ticket-status")).to_have_text("Alındı")
    assert "#" not in status_page.url
    assert code not in status_page.url

    # 5. The citizen answers back.
    status_page.get_by_label("Mesajınız").fill(ANSWER)
    status_page.get_by_role("button", name="Mesajı gönder").click()
    expect(status_page.locator("#status-message")).to_have_text("Mesajınız bize ulaştı.")
    expect(messages).to_contain_text(ANSWER)
    ARTIFACTS.mkdir(exist_ok=True)
    status_page.screenshot(path=str(ARTIFACTS / "status-page-tr.png"), full_page=True)

    # 6. The agent sees the answer.
    console.reload()
    answer = console.locator("#ticket-events li.citizen_reply")
    expect(answer).to_contain_text(ANSWER)
    expect(answer).to_contain_text("Nachricht der Bürgerin / des Bürgers")

    assert errors == []
    # The access codes never travelled in a URL a server sees, nor into a log line.
    for secret in (code, widget_href.rsplit("=", 1)[1]):
        assert not any(secret in url.split("#")[0] for url in requested)
        assert secret not in caplog.text
    assert len(smtp.messages) == 1  # one reply, one mail

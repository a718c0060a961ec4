"""A defect report typed in Turkish, in Chromium: the widget offers the report form,
refuses a missing location and a photo that is no image (in Turkish, nothing
forwarded), then the report reaches a real Open311 server with category, location,
description and photo, the citizen sees the service request id and can ask for its
status in the chat. Real app, real model, real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatbot.api import create_app
from chatbot.config import Settings
from chatbot.escalation.users import add_user
from chatbot.storage import Database
from tests.conftest import (
    FakeClock,
    browser_tests,
    serve_in_thread,
    widget_page,
)
from tests.open311_server import API_KEY, PNG, Open311Server
from tests.web_widget.test_widget_browser import Widget

pytestmark = [pytest.mark.browser, pytest.mark.slow, browser_tests]

REPORT = "Merhaba, Atatürk Caddesi 12 önündeki sokak lambası bozuk, akşamları hiç yanmıyor."


@pytest.fixture
def setup(tmp_path: Path, search_service: Any, corpus_index_dir: Path, browser: Any
          ) -> Iterator[tuple[Any, Open311Server, str]]:
    open311 = Open311Server().start()
    db_url = f"sqlite:///{tmp_path / 'widget.sqlite3'}"
    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0, outbox_poll_seconds=0,
                        database_url=db_url,
                        open311_url=open311.url, open311_api_key=API_KEY,  # type: ignore[arg-type]
                        defect_photo_max_bytes=4096)
    app = create_app(settings, search_service=search_service, clock=FakeClock())
    try:
        with serve_in_thread(app) as api, widget_page(browser, api, "tr-TR") as page:
            database = Database(db_url)
            with database.write_session() as session:
                token = add_user(session, name="a.schmidt", role="agent", now=FakeClock()())[1]
            database.dispose()
            yield page, open311, token
    finally:
        open311.stop()


def test_a_turkish_defect_report_reaches_the_open311_server(
        setup: tuple[Any, Open311Server, str]) -> None:
    page, open311, agent_token = setup
    widget = Widget(page)
    widget.open()
    reply = widget.ask(REPORT)
    widget.expect(reply).to_contain_text("belediye işletmesine bildirebilirsiniz")
    reply.get_by_role("button", name="Arıza bildir").click()
    form = widget.locator("form.defect-form")
    widget.expect(form).to_be_visible()
    widget.expect(form.get_by_label("Ne bozuk?")).to_have_value(REPORT)
    form.get_by_label("Kategori").select_option(label="Straßenbeleuchtung")
    form.get_by_role("checkbox").check()

    # No location: refused in Turkish before anything is sent.
    form.get_by_role("button", name="Bildirimi gönder").click()
    widget.expect(form).to_contain_text("Lütfen arızanın nerede olduğunu yazın")
    widget.expect(form.locator("[aria-invalid='true']")).to_have_count(1)

    # A "photo" that is no image (the name and type say PNG): the server refuses it.
    form.get_by_label("Yer").fill("Atatürk Caddesi 12")
    photo = form.locator("input[type=file]")
    photo.set_input_files({"name": "lamba.png", "mimeType": "image/png",
                           "buffer": b"%PDF-1.7 this is no picture"})
    form.get_by_role("button", name="Bildirimi gönder").click()
    widget.expect(form).to_contain_text("JPEG, PNG veya WebP resmi olmalıdır")
    # Too large for the configured 4 KB: refused in the widget already.
    photo.set_input_files({"name": "big.png", "mimeType": "image/png",
                           "buffer": PNG + bytes(5000)})
    form.get_by_role("button", name="Bildirimi gönder").click()
    widget.expect(form.locator("[aria-invalid='true']")).to_have_count(1)
    widget.expect(form).to_contain_text("en fazla 4 KB boyutunda")
    assert open311.requests == []

    photo.set_input_files({"name": "lamba.png", "mimeType": "image/png", "buffer": PNG})
    form.get_by_role("button", name="Bildirimi gönder").click()
    confirmation = reply.locator(".confirmation")
    widget.expect(confirmation).to_contain_text("Bildiriminiz belediye işletmesine ulaştı")
    [received] = open311.requests
    widget.expect(confirmation.locator(".reference")).to_have_text(received.id)
    assert received.fields["service_code"] == "SL"
    assert received.fields["address_string"] == "Atatürk Caddesi 12"
    assert received.fields["description"] == REPORT
    assert received.media == PNG

    # The status, asked in the chat.
    open311.close(received.id, "Lamba değiştirildi")
    status = widget.ask(f"{received.id} numaralı bildirimimin durumu ne?")
    status.get_by_role("button", name="Bildirimin durumunu göster").click()
    widget.expect(status.locator(".defect-status-answer")).to_have_text(
        f"{received.id} numaralı bildiriminiz tamamlandı. Belediye işletmesinin notu: "
        "Lamba değiştirildi")

    # The agents' console lists the forwarded report with the endpoint's status.
    console = page.context.new_page()
    console.goto(page.url.split("#")[0].rstrip("/") + "/console")
    console.fill("#token", agent_token)
    console.click("#login button")
    row = console.locator("#defects tbody tr").first
    widget.expect(row).to_contain_text(received.id)
    widget.expect(row.locator(".remote-status")).to_have_text("closed")
    widget.expect(row).to_contain_text("Straßenbeleuchtung")

    # The browser logs the one refused request (the non-image photo); nothing else.
    [logged] = widget.errors
    assert "status of 422" in logged

"""The case-status form in the widget, in Chromium, against the real app and model."""

from __future__ import annotations

from collections.abc import Iterator
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
from tests.web_widget.test_widget_browser import Widget

pytestmark = [pytest.mark.browser, pytest.mark.slow, browser_tests]

EXPORT = ("application_number,date_of_birth,kind,state,date\n"
          "A123456,1990-02-01,personalausweis,ready_for_pickup,2026-10-01\n")


@pytest.fixture
def page(tmp_path: Path, search_service: Any, corpus_index_dir: Path, browser: Any
         ) -> Iterator[Any]:
    export = tmp_path / "cases.csv"
    export.write_text(EXPORT, encoding="utf-8")
    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0, outbox_poll_seconds=0,
                        database_url=f"sqlite:///{tmp_path / 'widget.sqlite3'}",
                        case_status_csv=export)
    app = create_app(settings, search_service=search_service, clock=FakeClock())
    with serve_in_thread(app) as api, widget_page(browser, api) as page:
        yield page


def test_the_widget_asks_for_number_and_birth_date_and_shows_the_answer(page: Any) -> None:
    widget = Widget(page)
    widget.open()
    reply = widget.ask("Ist mein Ausweis fertig?")
    widget.expect(reply).to_contain_text("Antragsnummer")
    reply.get_by_role("button", name="Bearbeitungsstand abfragen").click()
    form = widget.locator("form.case-status-form")
    widget.expect(form).to_be_visible()

    form.get_by_label("Geburtsdatum").fill("1990")
    form.get_by_label("Antragsnummer").fill("a 123456")
    form.get_by_role("button", name="Abfragen").click()
    widget.expect(form.locator("[aria-invalid='true']")).to_have_count(1)
    widget.expect(form).to_contain_text("TT.MM.JJJJ")

    form.get_by_label("Geburtsdatum").fill("02.02.1990")
    form.get_by_role("button", name="Abfragen").click()
    answer = form.locator(".case-status-answer")
    widget.expect(answer).to_contain_text("keine Auskunft")

    form.get_by_label("Geburtsdatum").fill("1.2.1990")
    form.get_by_role("button", name="Abfragen").click()
    widget.expect(answer).to_contain_text("liegt seit 01.10.2026 zur Abholung bereit")
    assert widget.errors == []

"""The editors' page in Debian's Chromium: log in, see versions, translations and content
gaps, download the gaps as CSV, re-index."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chatbot.config import Settings
from tests.conftest import (
    CHROMIUM_ARGS,
    FakeClock,
    FakeEmbedder,
    browser_tests,
    require_chromium,
    serve_in_thread,
)
from tests.editorial.gap_data import record_turn, seed_gaps

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'


@pytest.fixture
def editor_server(write_article: Callable[..., Path], tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, editor token) of a real server over a small corpus, fake embedder."""
    from chatbot.api import create_app
    from chatbot.escalation.users import add_user
    from chatbot.index import IndexStore, build_index
    from chatbot.language import LanguageDetector
    from chatbot.retrieval.service import SearchService
    from chatbot.storage import Database, upgrade_database

    write_article("reisepass", "de", body="## Antrag\n\nDen Reisepass beantragen Sie im Amt.")
    write_article("reisepass", "en", title="Passport", body="## Apply\n\nApply in person.")
    write_article("reisepass", "fr", title="Passeport", body="## Demande\n\nEn personne.",
                  extra="machine_translated: true\n")
    write_article("hund", "de", body="## Hundesteuer\n\nMelden Sie Ihren Hund an.")
    # A file name an editor might produce, shown in the error list as text only.
    (tmp_path / "corpus" / "amt" / f"{HOSTILE}.de.md").write_text("kaputt", encoding="utf-8")
    embedder = FakeEmbedder()
    build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                embedder=embedder)
    url = f"sqlite:///{tmp_path / 'editor.sqlite3'}"
    upgrade_database(url)
    database = Database(url)
    with database.write_session() as session:
        token = add_user(session, name="e.redakteur", role="editor", now=FakeClock()())[1]
        seed_gaps(session, FakeClock()())
        record_turn(session, "c8", HOSTILE, "escalate", now=FakeClock()())
    database.dispose()
    service = SearchService(embedder=embedder, detector=LanguageDetector(),
                            index_root=tmp_path / "idx")
    app = create_app(Settings(database_url=url, index_poll_seconds=0, auto_migrate=False,
                              index_dir=tmp_path / "idx", corpus_dir=tmp_path / "corpus"),
                     search_service=service, clock=FakeClock())
    with serve_in_thread(app) as base:
        yield base, token


@browser_tests
def test_an_editor_reindexes_and_sees_translation_status(editor_server: tuple[str, str],
                                                         tmp_path: Path) -> None:
    from playwright import sync_api
    base, token = editor_server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(timezone_id="UTC")
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

        page.goto(f"{base}/editor")
        assert page.locator("#login").is_visible()
        page.fill("#token", token)
        page.click("#login button")
        page.wait_for_selector("#translation-table tbody tr")
        assert page.text_content("#whoami") == "e.redakteur (editor)"
        rows = page.locator("#translation-table tbody tr")
        assert rows.count() == 2
        assert (rows.nth(0).text_content() or "").startswith("hundamt2026-10-01✓fehlt")
        # A machine-translated version shows as a draft until an editor reviews it.
        assert "✓✓Entwurf (maschinell)fehlt" in (rows.nth(1).text_content() or "")
        assert page.locator("#versions tbody tr").count() == 1
        errors_text = page.text_content("#file-errors") or ""
        assert HOSTILE in errors_text
        assert page.locator("#file-errors img").count() == 0
        assert page.title() != "pwned"

        gaps = page.locator("#gaps-table tbody tr")
        sync_api.expect(gaps).to_have_count(5)
        first = gaps.nth(0).locator("td")
        assert first.nth(0).text_content() == "2"
        assert first.nth(2).text_content() == "unbekannt"
        assert first.nth(3).text_content() == "Wie hoch ist die Hundesteuer für zwei Hunde?"
        gaps_text = page.text_content("#gaps-table") or ""
        assert "[email]" in gaps_text
        assert "example.org" not in gaps_text
        assert HOSTILE in gaps_text
        assert page.locator("#gaps-table img").count() == 0
        assert "6 Fragen in 5 Gruppen" in (page.text_content("#gaps-summary") or "")
        with page.expect_download() as download_info:
            page.click("#gaps-csv")
        download = download_info.value
        assert download.suggested_filename == "content-gaps-2026-10-05.csv"
        csv_text = Path(download.path()).read_text(encoding="utf-8-sig")
        assert csv_text.startswith("language,department,count,")
        assert "Hundesteuer" in csv_text
        assert "example.org" not in csv_text
        page.select_option("#gaps-days", "7")
        page.click("#gaps-button")
        sync_api.expect(gaps).to_have_count(5)

        page.click("#reindex-button")
        sync_api.expect(page.locator("#message")).to_contain_text("gestartet")
        sync_api.expect(page.locator("#job")).to_contain_text("succeeded", timeout=30_000)
        sync_api.expect(page.locator("#versions tbody tr")).to_have_count(2)
        page.click("#reload-button")
        sync_api.expect(page.locator("#message")).to_contain_text("Unverändert")
        page.screenshot(path=str(tmp_path / "editor.png"), full_page=True)

        page.click("#logout")
        assert page.locator("#login").is_visible()
        browser.close()
    assert errors == []

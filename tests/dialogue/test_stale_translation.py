"""An answer quoted from a translation of an older German revision still answers, with
one line in the citizen's language saying when the German version changed and where
it is; a current translation carries no such line."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.index.builder import build_index
from chatbot.index.store import IndexStore
from chatbot.language import LanguageDetector
from chatbot.retrieval.service import SearchService
from tests.dialogue.confident_chat import answer_text

GERMAN = "## Antrag\n\nDen Reisepass beantragen Sie persönlich. Er kostet 70 Euro."
ENGLISH = "## Application\n\nYou apply for the passport in person. It costs 70 euros."
STALE = {
    "en": "_Note: the German version was updated on 15.11.2026: [German version]({url})._",
    "fr": "_Remarque : la version allemande a été mise à jour le 15.11.2026 : "
          "[version allemande]({url})._",
    "ku": "_Têbînî: guhertoya almanî di 15.11.2026 de hatiye nûkirin: "
          "[guhertoya almanî]({url})._",
}


@pytest.mark.parametrize(("lang", "title", "body"), [
    ("en", "Passport application", ENGLISH),
    ("fr", "Demande de passeport", "## Demande\n\nVous demandez le passeport en personne."),
    ("ku", "Serlêdana pasaportê", "## Serlêdan\n\nHûn pasaportê bi xwe serlêdan dikin."),
])
def test_editing_the_german_article_puts_a_stale_note_on_the_translated_answer(
        tmp_path: Path, write_article, fake_embedder, lang: str, title: str,  # type: ignore[no-untyped-def]
        body: str) -> None:
    german = write_article("reisepass", title="Reisepass beantragen", body=GERMAN,
                           extra="url: https://stadt.example/reisepass\n")
    write_article("reisepass", lang, title=title, body=body)
    store = IndexStore(tmp_path / "idx")
    build_index(corpus_dir=tmp_path / "corpus", store=store, embedder=fake_embedder)
    service = SearchService(embedder=fake_embedder, detector=LanguageDetector(),
                            index_root=tmp_path / "idx")

    before = answer_text(service, title, lang=lang)
    assert body.split("\n\n")[1] in before
    assert "15.11.2026" not in before

    # An editor changes the German article; the translation still follows 2026-10-01.
    german.write_text(german.read_text(encoding="utf-8")
                      .replace("updated: 2026-10-01", "updated: 2026-11-15")
                      .replace("70 Euro", "80 Euro"), encoding="utf-8")
    build_index(corpus_dir=tmp_path / "corpus", store=store, embedder=fake_embedder)
    assert service.reload()

    after = answer_text(service, title, lang=lang)
    note = STALE[lang].format(url="https://stadt.example/reisepass")
    assert after.splitlines()[0] == note
    assert body.split("\n\n")[1] in after  # still served: the translation is quoted


def test_without_a_german_url_the_note_links_the_german_article_page(
        tmp_path: Path, write_article, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    write_article("reisepass", title="Reisepass beantragen", body=GERMAN,
                  front="id: reisepass\nlang: de\ntitle: Reisepass beantragen\n"
                        "department: amt\nupdated: 2026-11-15\n")
    write_article("reisepass", "en", title="Passport application", body=ENGLISH)
    build_index(corpus_dir=tmp_path / "corpus", store=IndexStore(tmp_path / "idx"),
                embedder=fake_embedder)
    service = SearchService(embedder=fake_embedder, detector=LanguageDetector(),
                            index_root=tmp_path / "idx")
    text = answer_text(service, "Passport application", lang="en")
    assert text.splitlines()[0] == ("_Note: the German version was updated on 15.11.2026: "
                                    "[German version](https://chat.example/articles/reisepass"
                                    "?lang=de)._")

"""The chat's answer over a real index, with the decision forced to "answer": the
tests look at what the answer says about its source, not at the (fake) scores."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from chatbot.dialogue.compose import Composer
from chatbot.dialogue.core import Dialogue
from chatbot.dialogue.hotline import Hotline
from chatbot.index.loaded import StoredArticle
from chatbot.language import LanguageGuess
from chatbot.languages import load_languages
from chatbot.retrieval import ArticleHit
from chatbot.retrieval.service import SearchService
from tests.conftest import REPO
from tests.dialogue.test_units import SCORE_ONLY


class ConfidentSearcher:
    """The real service's hits, the best one made certain."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    def search_hits(self, query: str, *, lang: str, top_k: int,
                    show_lang: str | None = None) -> list[ArticleHit]:
        hits = self.service.search_hits(query, lang=lang, top_k=top_k, show_lang=show_lang)
        return [replace(hits[0], score=0.95)] + [replace(h, score=0.01) for h in hits[1:]]

    def article_versions(self, article_id: str) -> dict[str, StoredArticle]:
        return self.service.article_versions(article_id)

    def related_articles(self, article_id: str, max_gap: float) -> list[str]:
        return []

    def term_coverage(self, text: str, article_id: str, lang: str) -> float | None:
        return self.service.term_coverage(text, article_id, lang)

    def names_keyword(self, text: str, article_id: str, lang: str, *,
                      min_words: int = 1) -> bool:
        return self.service.names_keyword(text, article_id, lang, min_words=min_words)


def answer_text(service: SearchService, message: str, *, lang: str) -> str:
    dialogue = Dialogue(searcher=ConfidentSearcher(service), composer=Composer(REPO / "prompts"),
                        policy=SCORE_ONLY, languages=load_languages(
                            ("de", "en", "fr", "it", "pl", "tr", "ku")))
    reply = dialogue.respond(message, LanguageGuess(code=lang, confidence=1.0, supported=True),
                             [], Hotline().status(datetime(2026, 11, 20, 9, tzinfo=UTC)),
                             lambda a, lang_: f"https://chat.example/articles/{a}?lang={lang_}")
    assert reply.type.value == "answer", reply
    return reply.text

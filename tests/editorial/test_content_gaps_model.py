"""Content-gap clustering with the bundled model: paraphrases together, others apart."""

from __future__ import annotations

from typing import Any

import pytest

from chatbot.editorial.content_gaps import cluster_gaps
from chatbot.editorial.gap_questions import REASON_ESCALATED, UNKNOWN, GapQuestion
from tests.conftest import FIXED_NOW

pytestmark = pytest.mark.slow

PARAPHRASES = {
    "de": ["Muss ich für meinen Hund Steuern zahlen?", "Wie hoch ist die Hundesteuer?",
           "Hundesteuer anmelden, wie geht das?"],
    "en": ["How do I get a resident parking permit?",
           "Where can I apply for a residents parking pass?",
           "resident parking permit cost"],
    "tr": ["Köpeğim için vergi ödemem gerekiyor mu?", "Köpek vergisi ne kadar?"],
}
UNRELATED = {
    "de": "Wann hat das Schwimmbad am Sonntag geöffnet?",
    "en": "Can I get married at the town hall on a Saturday?",
    "tr": "Çocuğum için kreş yeri nasıl bulurum?",
}


def asked(text: str, lang: str) -> GapQuestion:
    return GapQuestion(text=text, language=lang, department=UNKNOWN,
                       reasons=frozenset({REASON_ESCALATED}), asked_at=FIXED_NOW,
                       article_id=None)


@pytest.mark.parametrize("lang", sorted(PARAPHRASES))
def test_paraphrases_cluster_and_an_unrelated_question_does_not(real_embedder: Any,
                                                                 lang: str) -> None:
    questions = [asked(text, lang) for text in [*PARAPHRASES[lang], UNRELATED[lang]]]
    gaps = cluster_gaps(questions, embedder=real_embedder)
    assert [(g.count, sorted(g.examples)) for g in gaps] == [
        (len(PARAPHRASES[lang]), sorted(PARAPHRASES[lang])), (1, [UNRELATED[lang]])]

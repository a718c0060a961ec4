"""Defect reports and their status questions recognised in all seven languages, typed
as on a phone (no accents, typos, lower case); questions about information are not
reports."""

from __future__ import annotations

import pytest

from chatbot.dialogue.intents import (
    asks_case_status,
    asks_defect_status,
    asks_for_human,
    report_id,
    reports_defect,
)
from chatbot.language import SUPPORTED_LANGUAGES

REPORTS = {
    "de": ["Die Straßenlaterne vor Hausnummer 5 ist kaputt",
           "strassenlaterne bahnstr 12 brennt nicht",
           "Schlagloch auf der Ostwall Höhe Nr 3",
           "im park liegt wilder müll",
           "die schaukel am spielplatz ist abgebrochen",
           "Graffiti an der Schule"],
    "en": ["The street light outside number 4 is not working",
           "streetlight broken on high st", "huge pothole on main road",
           "someone did fly tipping behind the church", "the swing in the playground is broken"],
    "fr": ["Le lampadaire rue Victor Hugo est en panne", "nid de poule devant le 12",
           "depot sauvage au coin de la rue", "la balancoire de l aire de jeux est cassee"],
    "it": ["Il lampione in via Roma è spento", "c e una buca enorme in strada",
           "rifiuti abbandonati vicino al parco", "l altalena del parco giochi e rotta"],
    "pl": ["Latarnia na ulicy Polnej nie świeci", "dziura w jezdni przy szkole",
           "dzikie wysypisko za garażami", "hustawka na placu zabaw jest zepsuta"],
    "tr": ["Sokak lambası bozuk, Atatürk Caddesi 12 önünde", "sokak lambasi yanmiyor",
           "yolda cukur var", "parkta kacak dokum yapilmis", "oyun parkindaki salincak kirik",
           "parkin yanina cop birakmislar"],
    "ku": ["Lampa kolanê xera ye", "lampa kolane venabe", "lampa kolana me venaye",
           "qulek mezin di re de heye", "li kolana me çaleke mezin heye",
           "li parka zarokan salincax sikestiye"],
}
NOT_REPORTS = [
    "wann ist die strassenbeleuchtung an?", "Wann geht die Ampel an der Schule auf grün?",
    "Wo ist der nächste Spielplatz?", "Guten Tag, ich brauche einen Reisepass",
    "Was kostet ein Personalausweis?", "When do the street lights come on?",
    "Où se trouve l'aire de jeux la plus proche ?", "Quanto costa la carta d'identità?",
    "Ile kosztuje paszport?", "Kimlik kartı ne kadar?", "Pasaporta min çiqas e?",
    "Ist mein Ausweis fertig?", "Ich möchte mich ummelden",
    "copu ne zaman kapinin onune birakmaliyim",
]


@pytest.mark.parametrize(("lang", "text"), [(lang, text) for lang, texts in REPORTS.items()
                                            for text in texts])
def test_a_report_of_a_broken_thing_is_recognised(lang: str, text: str) -> None:
    assert reports_defect(text, lang), (lang, text)
    assert reports_defect(text), (lang, text)


def test_another_languages_cue_is_an_ordinary_word_in_this_one() -> None:
    news = "Die meisten Menschen buchen ihren Platz lange im Voraus."
    assert reports_defect(news)  # Italian "buche" (potholes)
    assert not reports_defect(news, "de")
    # German official terms count in any language.
    assert reports_defect("sokakta Schlagloch var", "tr")


def test_every_language_has_reports_under_test() -> None:
    assert set(REPORTS) == set(SUPPORTED_LANGUAGES)


@pytest.mark.parametrize("text", NOT_REPORTS)
def test_questions_about_information_are_not_reports(text: str) -> None:
    assert not reports_defect(text)


@pytest.mark.parametrize(("text", "number"), [
    ("Status meiner Meldung 1001", "1001"),
    ("wie ist der stand meiner mängelmeldung MD-2026-000004", "MD-2026-000004"),
    ("what is the status of my report 1002", "1002"),
    ("ou en est mon signalement 1003 ?", "1003"),
    ("a che punto e la mia segnalazione 1004", "1004"),
    ("jaki jest status zgloszenia 1005", "1005"),
    ("1006 numarali bildirimimin durumu ne", "1006"),
    ("rewsa rapora min 1007 ci ye", "1007"),
    ("status meiner meldung", None),
])
def test_status_questions_about_a_report_are_recognised_with_the_number(
        text: str, number: str | None) -> None:
    assert asks_defect_status(text)
    assert report_id(text) == number


@pytest.mark.parametrize("text", ["Wie ist der Stand meiner Anmeldung?",
                                  "Ist mein Ausweis fertig?", "status of my passport"])
def test_other_status_questions_are_not_about_reports(text: str) -> None:
    assert not asks_defect_status(text)


def test_case_status_and_persons_are_unaffected() -> None:
    assert asks_case_status("Ist mein Ausweis fertig?")
    assert asks_for_human("Ich möchte mit einem Mitarbeiter sprechen")

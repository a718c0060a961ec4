"""Which part of an article an answer quotes."""

from __future__ import annotations

from chatbot.dialogue.passage import (
    CONTACT_ONLY_CHARS,
    SectionMatcher,
    select_passage,
    split_sections,
)
from chatbot.languages import Aspect, load_language
from chatbot.retrieval import SectionScore

BODY = """Vous prolongez votre titre de séjour auprès du service des étrangers.

## Documents
Les documents nécessaires dépendent du motif. En règle générale :
- passeport en cours de validité
- une photo d'identité biométrique

- attestation d'assurance maladie

Vous recevrez la liste exacte lors de la prise de rendez-vous.

## Frais
Les frais dépendent du type de titre.

## Contact
Hotline centrale : 02151 86-0 (du lundi au jeudi de 8 h à 17 h).
"""


def scores(**by_heading: float) -> list[SectionScore]:
    return [SectionScore(heading=h.replace("_", " "), position=i, dense=d, lexical=0.0)
            for i, (h, d) in enumerate(by_heading.items())]


def test_a_list_stays_with_the_sentence_that_introduces_it() -> None:
    sections = split_sections(BODY)
    assert [s.heading for s in sections] == ["", "Documents", "Frais", "Contact"]
    documents = sections[1].blocks
    assert len(documents) == 2
    assert documents[0].startswith("Les documents nécessaires")
    assert documents[0].endswith("attestation d'assurance maladie")


def test_lead_plus_the_whole_matching_section() -> None:
    passage = select_passage(BODY, scores(Documents=0.86, Frais=0.84, Contact=0.80))
    assert passage.lead.startswith("Vous prolongez")
    assert passage.headings == ["Documents"]
    assert "- une photo d'identité biométrique" in passage.text
    assert "attestation d'assurance maladie" in passage.text
    assert not passage.truncated


def test_a_contact_line_is_never_quoted_alone() -> None:
    passage = select_passage(BODY, scores(Documents=0.80, Frais=0.81, Contact=0.90),
                             contact_marker="02151 86-0")
    # the short fees section rides along with the best longer one
    assert passage.headings == ["Documents", "Frais"]
    assert len("Hotline centrale : 02151 86-0 (du lundi au jeudi de 8 h à 17 h).") \
        <= CONTACT_ONLY_CHARS


def test_the_section_about_what_was_asked_wins() -> None:
    french = load_language("fr")
    question = "renouvellement titre de sejour combien ca coute"
    asked = [french.section_answers(a) for a in french.asks(question)]
    passage = select_passage(BODY, scores(Documents=0.90, Frais=0.80), asked=asked)
    assert passage.headings == ["Frais"]


def test_two_things_asked_two_sections_quoted_in_article_order() -> None:
    french = load_language("fr")
    question = "quels papiers faut il et quels sont les frais"
    assert french.asks(question) == [Aspect.FEE, Aspect.DOCUMENTS]
    asked = [french.section_answers(a) for a in french.asks(question)]
    passage = select_passage(BODY, scores(Documents=0.80, Frais=0.80), asked=asked)
    assert passage.headings == ["Documents", "Frais"]


def test_a_long_section_is_cut_between_blocks_and_says_so() -> None:
    long_body = "Lead.\n\n## Ablauf\n" + "\n\n".join(
        f"Absatz {i}: " + "Text " * 40 for i in range(6))
    passage = select_passage(long_body, scores(Ablauf=0.9), max_chars=500)
    assert passage.truncated
    assert passage.sections[0].text.count("Absatz") == 2
    assert passage.sections[0].text.endswith("Text")


def test_summary_replaces_the_lead_and_follow_ups_can_drop_it() -> None:
    passage = select_passage(BODY, scores(Frais=0.9), summary="Kurz: zur Ausländerbehörde.")
    assert passage.lead == "Kurz: zur Ausländerbehörde."
    assert select_passage(BODY, scores(Frais=0.9), include_lead=False).lead == ""


def test_an_article_with_only_a_lead() -> None:
    passage = select_passage("Nur ein Absatz.", [])
    assert (passage.lead, passage.sections) == ("Nur ein Absatz.", ())


def test_a_short_fee_section_that_names_the_hotline_is_quoted_when_fees_are_asked() -> None:
    body = ("Die Belehrung macht das Gesundheitsamt.\n\n## Ablauf\nSie hören zu und "
            "unterschreiben.\n\n## Gebühren\nEs wird eine Gebühr nach der örtlichen "
            "Gebührenordnung erhoben; die Höhe erfahren Sie über die Hotline 02151 86-0.\n")
    german = load_language("de")
    fee = german.section_answers(Aspect.FEE)
    passage = select_passage(body, scores(Ablauf=0.9, Gebühren=0.8), asked=[fee],
                             contact_marker="02151 86-0")
    assert passage.headings == ["Gebühren"]
    # Not asked about, it is a contact line like any other.
    passage = select_passage(body, scores(Ablauf=0.8, Gebühren=0.9),
                             contact_marker="02151 86-0")
    assert passage.headings == ["Ablauf"]


def test_a_section_that_repeats_the_lead_loses_a_near_tie() -> None:
    body = ("Mit einem Wohnberechtigungsschein mieten Sie eine geförderte Wohnung, wenn "
            "Ihr Einkommen die Grenze nicht übersteigt.\n\n## Was ist ein WBS?\n"
            "Der Wohnberechtigungsschein erlaubt, eine geförderte Wohnung zu mieten, wenn "
            "Ihr Einkommen die Grenze nicht übersteigt. Eine geförderte Wohnung mieten Sie "
            "nur mit Wohnberechtigungsschein.\n\n## Unterlagen\n"
            "- Antrag\n- Einkommensnachweise aller Personen im Haushalt\n- Personalausweis "
            "oder Reisepass\n- Mietvertrag oder Wohnungsangebot\n- Nachweise über "
            "Unterhalt und Renten\n")
    near_tie = scores(**{"Was ist ein WBS?": 0.86, "Unterlagen": 0.84})
    assert select_passage(body, near_tie).headings == ["Unterlagen"]
    # Without the lead quoted, nothing is repeated: the better cosine wins.
    assert select_passage(body, near_tie, include_lead=False).headings == [
        "Was ist ein WBS?"]


def test_a_long_question_gets_the_best_sections_but_never_the_contact_line() -> None:
    passage = select_passage(BODY, scores(Documents=0.84, Frais=0.86, Contact=0.95),
                             contact_marker="02151 86-0", several_sections=True)
    assert passage.headings == ["Documents", "Frais"]


def test_a_question_naming_four_things_gets_at_most_three_asked_sections() -> None:
    body = "Lead.\n\n" + "".join(f"## S{i}\nText {i}. {'More words. ' * 15}\n\n"
                                  for i in range(5))

    def names(heading: str) -> SectionMatcher:
        return lambda section_heading, _text: section_heading == heading

    asked = [names("S4"), names("S3"), names("S1"), names("S0")]
    passage = select_passage(body, scores(S0=0.80, S1=0.90, S2=0.70, S3=0.88, S4=0.86),
                             asked=asked)
    assert passage.headings == ["S1", "S3", "S4"]


def test_a_long_question_gets_at_most_four_sections_in_article_order() -> None:
    body = "Lead.\n\n" + "".join(f"## S{i}\nText {i}. {'More words. ' * 15}\n\n"
                                  for i in range(6))
    passage = select_passage(
        body, scores(S0=0.80, S1=0.90, S2=0.70, S3=0.88, S4=0.86, S5=0.75),
        several_sections=True)
    assert passage.headings == ["S0", "S1", "S3", "S4"]
    assert select_passage(body, scores(S0=0.80, S1=0.90)).headings == ["S1"]


def test_a_heading_the_question_names_breaks_a_near_tie() -> None:
    termin = "Für die Zulassung brauchen Sie einen Termin. " * 4
    reservieren = "Online reservieren; Sie erhalten eine Reservierungsnummer. " * 3
    body = (f"Ein Wunschkennzeichen wählen Sie selbst.\n\n## Termin\n{termin}\n\n"
            f"## So reservieren Sie\n{reservieren}\n")
    near_tie = scores(Termin=0.86, So_reservieren_Sie=0.85)
    assert select_passage(body, near_tie).headings == ["Termin"]

    def named(heading: str) -> float:
        return 1.0 if "reservieren" in heading else 0.0

    assert select_passage(body, near_tie, named=named).headings == ["So reservieren Sie"]
    # A clear difference in what the section says is not overturned by its heading.
    clear = scores(Termin=0.90, So_reservieren_Sie=0.85)
    assert select_passage(body, clear, named=named).headings == ["Termin"]


def test_a_short_section_rides_along_without_taking_a_place() -> None:
    body = ("Lead.\n\n## How to apply\n" + "Apply in person with the form. " * 8
            + "\n\n## Processing time\nAbout two weeks.\n\n## Background\n"
            + "Some history of the service. " * 8 + "\n")
    best = scores(Processing_time=0.90, How_to_apply=0.88, Background=0.80)
    # a short question gets one section: the short one above it comes along
    assert select_passage(body, best).headings == ["How to apply", "Processing time"]
    # below the long section it does not
    lower = scores(How_to_apply=0.90, Processing_time=0.88, Background=0.80)
    assert select_passage(body, lower).headings == ["How to apply"]


def test_at_most_two_short_sections_ride_along() -> None:
    body = "Lead.\n\n" + "".join(f"## S{i}\nOne line {i}.\n\n" for i in range(6))
    best = scores(S0=0.95, S1=0.94, S2=0.93, S3=0.92, S4=0.91, S5=0.90)
    assert select_passage(body, best).headings == ["S0", "S1"]


def test_whom_to_contact_adds_the_contact_section_to_the_one_about_the_matter() -> None:
    french = load_language("fr")
    question = "ce mois rien reçu sur le compte, je m'adresse a qui?"
    assert french.asks(question) == [Aspect.CONTACT]
    passage = select_passage(BODY, scores(Documents=0.90, Frais=0.85, Contact=0.80),
                             contact=french.section_answers(Aspect.CONTACT),
                             contact_marker="02151 86-0")
    assert passage.headings == ["Documents", "Contact"]
    assert "02151 86-0" in passage.text
    # Not asked, the contact line stays out.
    assert select_passage(BODY, scores(Documents=0.90, Frais=0.85, Contact=0.80),
                          contact_marker="02151 86-0").headings == ["Documents"]


def test_a_proxy_question_quotes_the_section_that_names_the_authorisation() -> None:
    body = ("Die Karte ist nach vier Wochen fertig.\n\n## Wann ist die Karte fertig?\n"
            "Sie erhalten einen Brief, sobald die Karte da ist. " + "Text " * 40 + "\n\n"
            "## Abholung\nDie Karte wird Ihnen persönlich ausgehändigt. Eine andere Person "
            "kann sie nur mit Ihrer schriftlichen Vollmacht abholen.\n\n## Gebühren\n"
            "Die Gebühr haben Sie bei der Antragstellung bezahlt. " + "Text " * 40 + "\n")
    german = load_language("de")
    question = "die karte ist fertig, kann mein mann sie fuer mich abholen"
    assert Aspect.PROXY in german.asks(question)
    asked = [german.section_answers(a) for a in german.asks(question)]
    # The heading says nothing of another person; the text names the authorisation.
    by_score = scores(**{"Wann ist die Karte fertig?": 0.90, "Gebühren": 0.88,
                         "Abholung": 0.80})
    assert select_passage(body, by_score).headings == ["Wann ist die Karte fertig?"]
    assert select_passage(body, by_score, asked=asked).headings == ["Abholung"]

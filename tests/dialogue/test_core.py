"""The dialogue core's decisions with a scripted searcher (no model): which evidence
leads to which reply, and what the reply carries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatbot.dialogue.compose import Composer
from chatbot.dialogue.core import FOCUS_MAX_CLAUSES, Dialogue, PastTurn
from chatbot.dialogue.hotline import Hotline
from chatbot.dialogue.policy import Evidence, ReplyType
from chatbot.dialogue.reply import AppointmentAction, TicketAction
from chatbot.index.loaded import StoredArticle
from chatbot.language import LanguageGuess
from chatbot.languages import load_languages
from chatbot.retrieval import ArticleHit
from tests.dialogue.test_units import SCORE_ONLY

REPO = Path(__file__).resolve().parents[2]
SATURDAY = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)
BODY = "Den Pass beantragen Sie persönlich.\n\n## Gebühren\nDer Pass kostet 70 Euro.\n"


def hit(article_id: str, score: float, *, department: str = "buergerservice",
        service: str | None = "buergerservice") -> ArticleHit:
    return ArticleHit(article_id=article_id, lang="de", title=article_id.title(),
                      department=department, score=score, snippet="", heading="",
                      section="", url=None, appointment_service=service, dense=0.9,
                      lexical=1.0, matched_lang="de")


class ScriptedSearcher:
    """Returns the hits scripted for the first key the query contains; records queries."""

    def __init__(self, script: dict[str, list[ArticleHit]],
                 related: dict[str, list[str]] | None = None,
                 keywords: dict[str, tuple[str, ...]] | None = None) -> None:
        self.script = script
        self.related = related or {}
        self.keywords = keywords or {}
        self.queries: list[str] = []

    def search_hits(self, query: str, *, lang: str, top_k: int,
                    show_lang: str | None = None) -> list[ArticleHit]:
        self.queries.append(query)
        key = next((k for k in self.script if k in query.lower()), None)
        return list(self.script.get(key, []) if key else [])[:top_k]

    def article_versions(self, article_id: str) -> dict[str, StoredArticle]:
        return {"de": StoredArticle(
            id=article_id, lang="de", title=article_id.title(), department="buergerservice",
            updated="2026-10-01", url=None, keywords=self.keywords.get(article_id, ()),
            appointment_service="buergerservice",
            source_revision=None, path=f"x/{article_id}.de.md", body=BODY)}

    def related_articles(self, article_id: str, max_gap: float) -> list[str]:
        return self.related.get(article_id, [])

    def term_coverage(self, text: str, article_id: str, lang: str) -> float | None:
        words = [w for w in text.lower().strip("?").split() if len(w) > 4]
        body = BODY.lower() + " kind"
        return sum(w in body for w in words) / len(words) if words else None

    def names_keyword(self, text: str, article_id: str, lang: str, *,
                      min_words: int = 1) -> bool:
        return any(k.lower() in text.lower() for k in self.keywords.get(article_id, ())
                   if len(k.split()) >= min_words)


def dialogue(searcher: ScriptedSearcher, *, case_status: bool = False) -> Dialogue:
    return Dialogue(searcher=searcher, composer=Composer(REPO / "prompts"), policy=SCORE_ONLY,
                    languages=load_languages(("de", "en", "fr", "it", "pl", "tr", "ku")),
                    contact_marker="02151 86-0", case_status=case_status)


def respond(searcher: ScriptedSearcher, message: str, history: list[PastTurn] | None = None,
            lang: str = "de", *, case_status: bool = False):  # type: ignore[no-untyped-def]
    return dialogue(searcher, case_status=case_status).respond(
        message, LanguageGuess(code=lang, confidence=1.0, supported=True), history or [],
        Hotline().status(SATURDAY), lambda a, lang_: f"https://x/{a}?lang={lang_}")


def test_confident_evidence_answers_with_the_asked_section() -> None:
    searcher = ScriptedSearcher({"reisepass": [hit("reisepass", 0.95), hit("ausweis", 0.02)]})
    reply = respond(searcher, "Reisepass was kostet der")
    assert (reply.type, reply.evidence) == (ReplyType.ANSWER, Evidence.CONFIDENT)
    assert "70 Euro" in reply.text
    assert reply.confident_topic


def test_weak_evidence_suggests_the_article_and_prefills_only_this_question() -> None:
    searcher = ScriptedSearcher({"hundemarke": [hit("hund", 0.42), hit("fund", 0.1)]})
    reply = respond(searcher, "hundemarke verloren, was nun?")
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.WEAK)
    assert "Hund" in reply.text
    assert "https://x/hund?lang=de" in reply.text
    ticket = next(a for a in reply.actions if isinstance(a, TicketAction))
    assert ticket == TicketAction(department=None, topic=None,
                                  message="hundemarke verloren, was nun?")


def test_no_evidence_is_a_plain_refusal() -> None:
    searcher = ScriptedSearcher({"wetter": [hit("abfall", 0.15), hit("hund", 0.1)]})
    reply = respond(searcher, "Wetter morgen?")
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.NONE)
    assert reply.sources == []
    assert reply.choices == []
    assert "nicht zu den Themen" in reply.text
    ticket = next(a for a in reply.actions if isinstance(a, TicketAction))
    assert ticket.department is None


def test_follow_up_moves_only_to_a_related_article() -> None:
    history = [PastTurn("reisepass beantragen", ReplyType.ANSWER, "reisepass", True)]
    script = {"und": [hit("kinderpass", 0.5), hit("reisepass", 0.4)]}
    related = ScriptedSearcher(script, related={"reisepass": ["kinderpass"]})
    reply = respond(related, "und für mein kind?", history)
    assert reply.topic is not None
    assert reply.topic.article_id == "kinderpass"
    unrelated = ScriptedSearcher(script, related={"reisepass": []})
    reply = respond(unrelated, "und für mein kind?", history)
    assert reply.topic is not None
    assert reply.topic.article_id == "reisepass"
    assert reply.type is ReplyType.ANSWER
    # the follow-up was searched together with the topic's title and question
    assert unrelated.queries[-1] == "und für mein kind? Reisepass reisepass beantragen"


def test_a_confident_new_question_does_not_inherit_the_topic() -> None:
    history = [PastTurn("wohngeld", ReplyType.ANSWER, "wohngeld", True)]
    searcher = ScriptedSearcher({"auto": [hit("zulassung", 0.97), hit("wohngeld", 0.01)]})
    reply = respond(searcher, "auto anmelden", history)
    assert reply.topic is not None
    assert reply.topic.article_id == "zulassung"
    assert len(searcher.queries) == 1


def test_appointment_request_books_for_the_topic_or_asks_what_for() -> None:
    history = [PastTurn("reisepass", ReplyType.ANSWER, "reisepass", True)]
    searcher = ScriptedSearcher({})
    reply = respond(searcher, "I need an appointment", history, lang="en")
    booking = next(a for a in reply.actions if isinstance(a, AppointmentAction))
    assert booking.service == "buergerservice"
    assert reply.topic is not None
    assert reply.topic.article_id == "reisepass"
    reply = respond(searcher, "I need an appointment", [], lang="en")
    assert "What do you need the appointment for?" in reply.text


def test_human_request_keeps_only_a_confident_topic() -> None:
    searcher = ScriptedSearcher({})
    confident = [PastTurn("ausweis weg", ReplyType.ANSWER, "ausweis", True)]
    reply = respond(searcher, "je veux parler a quelqu un", confident, lang="fr")
    ticket = next(a for a in reply.actions if isinstance(a, TicketAction))
    assert ticket.department == "buergerservice"
    unsure = [PastTurn("irgendwas", ReplyType.ESCALATE, "sterbefall", False)]
    reply = respond(searcher, "je veux parler a quelqu un", unsure, lang="fr")
    ticket = next(a for a in reply.actions if isinstance(a, TicketAction))
    assert ticket.department is None


def test_a_complaint_the_articles_answer_is_answered_with_a_person_beside_it() -> None:
    searcher = ScriptedSearcher({"music": [hit("laerm", 0.95), hit("abfall", 0.02)],
                                 "passport": [hit("pass", 0.95), hit("abfall", 0.02)],
                                 "staff": [hit("abfall", 0.2), hit("hund", 0.1)]},
                                keywords={"laerm": ("Lärm", "noise complaint")})
    reply = respond(searcher, "neighbours play loud music, who do i complain to", lang="en")
    assert (reply.type, reply.topic.article_id if reply.topic else None) == (
        ReplyType.ANSWER, "laerm")
    assert any(isinstance(a, TicketAction) and a.department for a in reply.actions)
    # Asking for a person too, it goes to a person.
    reply = respond(searcher, "loud music again, i want to complain, call me back", lang="en")
    assert reply.type is ReplyType.ESCALATE
    # A complaint about the passport office is not answered from the passport article:
    # that article is no place for complaints.
    reply = respond(searcher, "i want to complain about the passport office", lang="en")
    assert reply.type is ReplyType.ESCALATE
    # A complaint nothing answers goes to a person, as a request for one does.
    reply = respond(searcher, "i want to complain about the staff", lang="en")
    assert reply.type is ReplyType.ESCALATE
    assert "in touch with a person" in reply.text


def test_cancelling_an_appointment_or_asking_about_a_reservation_is_answered() -> None:
    searcher = ScriptedSearcher({"absagen": [hit("termine", 0.95), hit("pass", 0.02)],
                                 "targa": [hit("kennzeichen", 0.95), hit("pass", 0.02)],
                                 "pass": [hit("pass", 0.95), hit("termine", 0.02)]})
    reply = respond(searcher, "ich muss meinen termin absagen")
    assert (reply.type, reply.topic.article_id if reply.topic else None) == (
        ReplyType.ANSWER, "termine")
    # "prenotazione" (reserving a licence plate) is a booking word, but the message asks
    # how long the reservation is valid.
    reply = respond(searcher, "prenotazione targa quanto tempo vale", lang="it")
    assert (reply.type, reply.topic.article_id if reply.topic else None) == (
        ReplyType.ANSWER, "kennzeichen")
    reply = respond(searcher, "ich brauche einen termin für den pass")
    assert any(isinstance(a, AppointmentAction) for a in reply.actions)
    # For whom and how still belong to the booking.
    reply = respond(searcher, "termin online für meinen sohn, pass")
    assert any(isinstance(a, AppointmentAction) for a in reply.actions)
    reply = respond(searcher, "termin pass, an wen wende ich mich")
    assert any(isinstance(a, AppointmentAction) for a in reply.actions)
    reply = respond(searcher, "termin pass in meinem namen")
    assert any(isinstance(a, AppointmentAction) for a in reply.actions)
    # "Wohnsitz verlegen" is not moving an appointment.
    assert load_languages(("de",))["de"].requests_appointment("termin wohnsitz verlegen")


def test_a_short_unrelated_question_does_not_inherit_the_topic() -> None:
    history = [PastTurn("reisepass beantragen", ReplyType.ANSWER, "reisepass", True)]
    searcher = ScriptedSearcher({"reisepass": [hit("reisepass", 0.9)],
                                 "wetter": [hit("abfall", 0.1), hit("hund", 0.05)]})
    reply = respond(searcher, "und das wetter morgen?", history)
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.NONE)
    # asking how or where, or whom to contact, is no sign of the topic: any question
    # may ask it
    reply = respond(searcher, "und wo kann ich das wetter sehen?", history)
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.NONE)
    reply = respond(searcher, "und an wen wende ich mich wegen dem wetter?", history)
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.NONE)
    reply = respond(searcher, "und was kostet der?", history)
    assert reply.type is ReplyType.ANSWER


def test_a_follow_up_that_only_asks_about_the_child_stays_with_the_topic() -> None:
    history = [PastTurn("jak sie zameldowac", ReplyType.ANSWER, "anmeldung", True)]
    # the message alone names the child's passport confidently ...
    searcher = ScriptedSearcher({"zameldowac": [hit("anmeldung", 0.6), hit("kinderpass", 0.3)],
                                 "dziecka": [hit("kinderpass", 0.95)]})
    reply = respond(searcher, "a dla dziecka?", history, lang="pl")
    # ... but it only asks about a child, so registration stays the topic
    assert reply.topic is not None
    assert reply.topic.article_id == "anmeldung"
    # a short question naming a new topic with an aspect word starts a new topic
    searcher = ScriptedSearcher({"reisepass": [hit("reisepass", 0.95)]})
    reply = respond(searcher, "was kostet ein Reisepass?", history)
    assert reply.topic is not None
    assert reply.topic.article_id == "reisepass"


def test_and_for_my_child_prefers_the_related_childs_article() -> None:
    history = [PastTurn("reisepass beantragen", ReplyType.ANSWER, "reisepass", True)]
    searcher = ScriptedSearcher(
        {"reisepass": [hit("reisepass", 0.6), hit("kinderreisepass", 0.3)],
         "kind": [hit("kinderreisepass", 0.9)]},
        related={"reisepass": ["kinderreisepass"]})
    reply = respond(searcher, "und für mein kind?", history)
    assert reply.topic is not None
    assert reply.topic.article_id == "kinderreisepass"


def test_an_appointment_request_books_for_the_topic_it_names() -> None:
    searcher = ScriptedSearcher({"reisepass": [hit("reisepass", 0.95)],
                                 "termin": [hit("termin-vereinbaren", 0.95)]})
    reply = respond(searcher, "Termin für den Reisepass")
    assert reply.topic is not None
    assert reply.topic.article_id == "reisepass"
    reply = respond(searcher, "Termin bitte")
    assert reply.topic is None
    assert "Wofür brauchen Sie den Termin" in reply.text


CASE_STATUS_QUESTIONS = [
    ("de", "Ist mein Ausweis fertig?", "Antragsnummer"),
    ("en", "is my passport ready", "application number"),
    ("fr", "mon passeport est-il prêt", "numéro de demande"),
    ("it", "la mia carta d'identità è pronta", "numero della richiesta"),
    ("pl", "czy mój dowód jest gotowy", "numer wniosku"),
    ("tr", "kimliğim hazır mı", "başvuru numaranızı"),
    ("ku", "nasnameya min amade ye?", "hejmara serlêdanê"),
]


@pytest.mark.parametrize(("lang", "question", "asks_for"), CASE_STATUS_QUESTIONS)
def test_is_my_id_ready_offers_the_case_status_form(lang: str, question: str,
                                                    asks_for: str) -> None:
    reply = respond(ScriptedSearcher({}), question, lang=lang, case_status=True)
    assert [a.kind for a in reply.actions] == ["case_status", "ticket", "hotline"]
    assert asks_for in reply.text
    assert "02151 86-0" in reply.text


@pytest.mark.parametrize(("lang", "question", "asks_for"), CASE_STATUS_QUESTIONS)
def test_without_a_connector_the_status_question_goes_the_usual_way(
        lang: str, question: str, asks_for: str) -> None:
    reply = respond(ScriptedSearcher({}), question, lang=lang)
    assert all(a.kind != "case_status" for a in reply.actions)
    assert asks_for not in reply.text


def test_a_status_question_about_my_passport_wins_over_the_request_for_a_person() -> None:
    # "basvurumun durumu" alone asks for a person; with "my passport" it is a look-up.
    mine = respond(ScriptedSearcher({}), "pasaport basvurumun durumu ne", lang="tr",
                   case_status=True)
    assert mine.actions[0].kind == "case_status"
    any_application = respond(ScriptedSearcher({}), "basvurumun durumu", lang="tr",
                              case_status=True)
    assert any_application.type is ReplyType.ESCALATE
    assert all(a.kind != "case_status" for a in any_application.actions)


DEFECT_REPORTS = [
    ("de", "Die Straßenlaterne vor Nr. 5 ist kaputt", "Straße und Hausnummer"),
    ("en", "street light broken outside no 4", "street and house number"),
    ("fr", "le lampadaire est en panne", "rue et numéro"),
    ("it", "il lampione è spento", "via e numero civico"),
    ("pl", "latarnia nie świeci", "ulicę i numer domu"),
    ("tr", "Sokak lambası bozuk", "sokak ve bina numarası"),
    ("ku", "lampa kolanê xera ye", "kolan û hejmara xaniyê"),
]


@pytest.mark.parametrize(("lang", "message", "asks_for"), DEFECT_REPORTS)
def test_a_defect_report_offers_the_report_form_prefilled(lang: str, message: str,
                                                          asks_for: str) -> None:
    searcher = ScriptedSearcher({})
    reply = respond(searcher, message, lang=lang)
    assert [a.kind for a in reply.actions] == ["defect_report", "ticket", "hotline"]
    assert reply.actions[0].description == message  # type: ignore[union-attr]
    assert asks_for in reply.text
    assert "02151 86-0" in reply.text


def test_a_status_question_about_a_report_carries_its_number() -> None:
    reply = respond(ScriptedSearcher({}), "Status meiner Meldung 1001")
    assert [a.kind for a in reply.actions] == ["defect_status", "ticket", "hotline"]
    assert reply.actions[0].report_id == "1001"  # type: ignore[union-attr]
    assert "in diesem Browser" in reply.text


def test_a_defect_report_also_quotes_the_lead_of_the_article_that_answers_it() -> None:
    searcher = ScriptedSearcher({"laterne": [hit("maengelmelder", 0.97), hit("ausweis", 0.01)]})
    reply = respond(searcher, "Die Laterne vor Nr. 5 ist kaputt")
    assert [a.kind for a in reply.actions] == ["defect_report", "ticket", "hotline"]
    assert reply.topic is not None
    assert reply.topic.article_id == "maengelmelder"
    # The form's request first, the article's lead (not its sections), the hotline last.
    assert reply.text.index("Straße und Hausnummer") < reply.text.index(
        "Den Pass beantragen Sie persönlich.") < reply.text.index("02151 86-0")
    assert "70 Euro" not in reply.text
    assert [s.article_id for s in reply.sources] == ["maengelmelder"]
    # Weak evidence for an article that is not about reporting defects: the form alone.
    weak = respond(ScriptedSearcher({"laterne": [hit("maengelmelder", 0.5)]}),
                   "Die Laterne vor Nr. 5 ist kaputt")
    assert weak.topic is None
    assert "Den Pass" not in weak.text
    assert "02151 86-0" in weak.text


def test_a_defect_report_quotes_the_defect_reporters_article_on_weak_evidence() -> None:
    """The report says what the topic is: the article whose keywords report defects is
    quoted beside the form even when the search is unsure, never another weak one."""
    hits = [hit("abfuhrkalender", 0.45), hit("maengelmelder", 0.30), hit("ausweis", 0.2)]
    searcher = ScriptedSearcher({"laterne": hits},
                                keywords={"maengelmelder": ("Schlagloch melden",)})
    reply = respond(searcher, "Die Laterne vor Nr. 5 ist kaputt")
    assert [a.kind for a in reply.actions] == ["defect_report", "ticket", "hotline"]
    assert reply.topic is not None
    assert reply.topic.article_id == "maengelmelder"
    assert [s.article_id for s in reply.sources] == ["maengelmelder"]
    assert reply.text.index("Straße und Hausnummer") < reply.text.index(
        "Den Pass beantragen Sie persönlich.") < reply.text.index("02151 86-0")
    # Without an article that takes defect reports among the hits: the form alone.
    none = respond(ScriptedSearcher({"laterne": hits}), "Die Laterne vor Nr. 5 ist kaputt")
    assert none.topic is None
    assert none.sources == []


def test_a_rescued_article_answers_but_does_not_say_what_a_person_request_is_about() -> None:
    """A lower article convincing only on its title ("rescued") may answer a question; a
    person request beside it keeps no topic, so the ticket goes to triage instead of
    the department of an article the ranker put last."""
    term_policy = replace(SCORE_ONLY, weights={**SCORE_ONLY.weights, "score": 0.0,
                                               "title_coverage": 10.0})
    hits = [hit("abfall", 0.2, department="abfall"), hit("hund", 0.19, department="hund"),
            replace(hit("zulassung", 0.05, department="zulassungsstelle"),
                    title_coverage=1.0)]
    searcher = ScriptedSearcher({"zulassung": hits})
    talk = Dialogue(searcher=searcher, composer=Composer(REPO / "prompts"), policy=term_policy,
                    languages=load_languages(("de",)), contact_marker="02151 86-0")

    def say(message: str):  # type: ignore[no-untyped-def]
        return talk.respond(message, LanguageGuess(code="de", confidence=1.0, supported=True),
                            [], Hotline().status(SATURDAY), lambda a, lang_: f"https://x/{a}")

    question = say("welche unterlagen für die zulassung")
    assert question.type is ReplyType.ANSWER
    assert question.topic is not None
    assert question.topic.article_id == "zulassung"
    person = say("ich möchte mit einem menschen sprechen wegen zulassung")
    assert person.type is ReplyType.ESCALATE
    ticket = next(a for a in person.actions if isinstance(a, TicketAction))
    assert ticket.department is None


def test_an_article_for_children_does_not_answer_a_question_that_names_no_child() -> None:
    # e5 reads "passport" into the children's-passport article, which speaks of
    # passports throughout; a question that names no child is about the adult's one
    searcher = ScriptedSearcher({"reisepass": [hit("kinderreisepass", 0.95),
                                               hit("reisepass", 0.9), hit("ausweis", 0.1)]})
    reply = respond(searcher, "was kostet ein reisepass")
    assert reply.topic is not None
    assert (reply.type, reply.topic.article_id) == (ReplyType.ANSWER, "reisepass")
    # naming the child keeps it
    searcher = ScriptedSearcher({"reisepass": [hit("kinderreisepass", 0.95),
                                               hit("reisepass", 0.3)]})
    reply = respond(searcher, "was kostet ein reisepass für meine tochter")
    assert reply.topic is not None
    assert (reply.type, reply.topic.article_id) == (ReplyType.ANSWER, "kinderreisepass")
    # and so does the absence of any other article the ranker finds plausible
    searcher = ScriptedSearcher({"reisepass": [hit("kinderreisepass", 0.95),
                                               hit("reisepass", 0.1)]})
    reply = respond(searcher, "was kostet ein reisepass")
    assert reply.topic is not None
    assert reply.topic.article_id == "kinderreisepass"


def test_an_article_for_children_stays_when_the_child_is_named_or_already_the_topic() -> None:
    searcher = ScriptedSearcher({"pass": [hit("kinderreisepass", 0.9), hit("reisepass", 0.8),
                                          hit("ausweis", 0.1)]})
    # the German name of the children's article in another language names the child
    reply = respond(searcher, "is the kinderreisepass still valid?", lang="en")
    assert reply.topic is not None
    assert reply.topic.article_id == "kinderreisepass"
    # a question after an answer about the children's article is still about it
    history = [PastTurn("kinderreisepass", ReplyType.ANSWER, "kinderreisepass", True)]
    reply = respond(searcher, "wie lange dauert es bis der pass fertig ist?", history)
    assert reply.topic is None or reply.topic.article_id != "reisepass"
    assert "reisepass" not in [c.article_id for c in reply.choices][:1]


def test_a_question_that_only_a_childrens_article_matched_is_not_out_of_scope() -> None:
    # the adult article is far too unsure to answer, but the question is the city's:
    # it is offered as the article that may help, not refused as out of scope
    searcher = ScriptedSearcher({"reisepass": [hit("kinderreisepass", 0.9), hit("reisepass", 0.2),
                                               hit("ausweis", 0.05)]})
    reply = respond(searcher, "was kostet ein reisepass")
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.WEAK)
    assert [s.article_id for s in reply.sources] == ["reisepass"]


def test_a_weak_match_answers_when_one_clause_names_the_same_article_confidently() -> None:
    script = {"seit mai": [hit("reisepass", 0.5), hit("ausweis", 0.1)],
              "reisepass ist abgelaufen": [hit("reisepass", 0.95), hit("ausweis", 0.02)],
              "ausweis ist weg": [hit("ausweis", 0.95), hit("reisepass", 0.02)]}
    searcher = ScriptedSearcher(script)
    reply = respond(searcher, "wir wohnen seit mai hier, der reisepass ist abgelaufen, was nun?")
    assert reply.topic is not None
    assert (reply.type, reply.topic.article_id) == (ReplyType.ANSWER, "reisepass")
    assert "70 Euro" in reply.text
    # the whole message was not convincing: the answer stays unsure, a ticket beside it
    assert reply.confidence < SCORE_ONLY.sure_min
    assert any(isinstance(a, TicketAction) for a in reply.actions)
    # only the clauses of four words or more were searched besides the message
    assert searcher.queries[1:] == ["wir wohnen seit mai hier", "der reisepass ist abgelaufen"]
    # of a long message only the last FOCUS_MAX_CLAUSES clauses are searched
    searcher = ScriptedSearcher(script)
    respond(searcher, "wir wohnen seit mai hier, eins zwei drei vier, fünf sechs sieben acht, "
                      "neun zehn elf zwölf, dreizehn vierzehn fünfzehn sechzehn")
    assert searcher.queries[1:] == ["eins zwei drei vier", "fünf sechs sieben acht",
                                    "neun zehn elf zwölf",
                                    "dreizehn vierzehn fünfzehn sechzehn"][-FOCUS_MAX_CLAUSES:]
    # a clause naming another article is no evidence for the weak one
    reply = respond(ScriptedSearcher(script),
                    "wir wohnen seit mai hier, mein ausweis ist weg heute")
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.WEAK)
    # a message of one clause is not searched again
    searcher = ScriptedSearcher(script)
    reply = respond(searcher, "wir wohnen seit mai hier und brauchen etwas")
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.WEAK)
    assert len(searcher.queries) == 1


def test_a_weak_match_answers_when_the_message_names_one_of_its_keywords() -> None:
    script = {"reisepass": [hit("reisepass", 0.5), hit("ausweis", 0.1)]}
    keywords = {"reisepass": ("neuer reisepass",), "ausweis": ("reisepass verloren",)}
    reply = respond(ScriptedSearcher(script, keywords=keywords),
                    "brauche einen neuen reisepass, neuer reisepass wie")
    assert reply.topic is not None
    assert (reply.type, reply.topic.article_id) == (ReplyType.ANSWER, "reisepass")
    # unsure, as any answer the whole message did not convince: the ticket beside it
    assert reply.confidence < SCORE_ONLY.sure_min
    assert any(isinstance(a, TicketAction) for a in reply.actions)
    # another article's keyword is no evidence for the weak one
    reply = respond(ScriptedSearcher(script, keywords=keywords), "reisepass verloren wie")
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.WEAK)
    # nor does a keyword lift a match that is unlikely on its own evidence (p 0.05)
    script = {"reisepass": [hit("reisepass", 0.2), hit("ausweis", 0.1)]}
    reply = respond(ScriptedSearcher(script, keywords=keywords), "neuer reisepass fürs kanu?")
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.NONE)


def test_below_the_suggestion_band_one_article_named_by_two_keyword_words_answers() -> None:
    # p 0.12 each (score 0.3): no article is even worth suggesting
    script = {"garanzia": [hit("wohngeld", 0.3), hit("verpflichtung", 0.3),
                           hit("ausweis", 0.1)]}
    keywords = {"verpflichtung": ("dichiarazione di garanzia", "garanzia"),
                "wohngeld": ("affitto",)}
    reply = respond(ScriptedSearcher(script, keywords=keywords),
                    "mia madre viene a trovarci, devo fare la dichiarazione di garanzia?",
                    lang="it")
    assert reply.topic is not None
    assert (reply.type, reply.topic.article_id) == (ReplyType.ANSWER, "verpflichtung")
    assert reply.confidence < SCORE_ONLY.sure_min
    assert any(isinstance(a, TicketAction) for a in reply.actions)
    # a keyword of one word is too common to tell ("garanzia" of a loan)
    reply = respond(ScriptedSearcher(script, keywords=keywords),
                    "garanzia per il mutuo della casa?", lang="it")
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.NONE)
    # two articles named: neither
    both = {"verpflichtung": ("dichiarazione di garanzia",),
            "wohngeld": ("dichiarazione di garanzia",)}
    reply = respond(ScriptedSearcher(script, keywords=both),
                    "devo fare la dichiarazione di garanzia?", lang="it")
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.NONE)
    # an article unlikely on its own evidence (p 0.08) is not named into an answer
    unlikely = {"garanzia": [hit("wohngeld", 0.25), hit("verpflichtung", 0.25)]}
    reply = respond(ScriptedSearcher(unlikely, keywords=keywords),
                    "devo fare la dichiarazione di garanzia?", lang="it")
    assert (reply.type, reply.evidence) == (ReplyType.ESCALATE, Evidence.NONE)

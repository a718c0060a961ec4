"""Load and validate the per-language YAML files."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import cache
from pathlib import Path

import Stemmer
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chatbot.errors import ChatbotError
from chatbot.text import normalise

DATA_DIR = Path(__file__).resolve().parent


class LanguageDataError(ChatbotError):
    """A language file is missing or malformed."""


class Aspect(StrEnum):
    """What a question asks about an administrative service."""

    FEE = "fee"
    DOCUMENTS = "documents"
    DEADLINE = "deadline"
    DURATION = "duration"
    APPOINTMENT = "appointment"
    ONLINE = "online"
    VALIDITY = "validity"
    ELIGIBILITY = "eligibility"
    """Who may have it ("am I eligible", "j'ai droit au Wohngeld?"): the "Who can get
    it?" or "Requirements" section."""
    CHILD = "child"
    """For a child: "and for my child?" keeps the topic and looks for what it says about
    children."""
    PROCEDURE = "procedure"
    """How and where to apply ("wie beantrage ich", "comment faire la demande"): the
    section with the steps, the form or the office. Nearly every question asks it, so
    it says nothing about whether a message continues the current topic."""
    PROXY = "proxy"
    """Someone else on the citizen's behalf ("kann mein Mann ihn für mich abholen?"): the
    section that names the authorisation, whatever its heading."""
    CONTACT = "contact"
    """Whom to turn to ("an wen wende ich mich", "kime sormam lazim"): the contact
    section, which otherwise is never quoted, for it holds nothing but the hotline. Like
    how to apply, it says nothing about the topic."""


class AspectCues(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    question: tuple[str, ...] = Field(
        description="Normalised words or word beginnings in a question that ask this")
    heading: tuple[str, ...] = Field(
        description="Normalised words or word beginnings of article headings that answer it")
    heading_not: tuple[str, ...] = Field(
        default=(), description="Normalised words or word beginnings of headings that do not "
                                "answer it though a heading cue matches (\"Wer kann es "
                                "beantragen?\" is not how to apply)")
    text: tuple[str, ...] = Field(
        default=(), description="Normalised words or word beginnings of a section's text "
                                "that answer it whatever the heading (\"Vollmacht\": who "
                                "else may collect it is said under collection, documents "
                                "or procedure)")


class SmallTalkCues(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    greeting: tuple[str, ...]
    thanks: tuple[str, ...]
    goodbye: tuple[str, ...]
    filler: tuple[str, ...] = ()


class CaseStatusCues(BaseModel):
    """A question about one's own ID card or passport application: both a document word
    and a readiness word ("Ist mein Ausweis fertig?")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    document: tuple[str, ...] = Field(description="Normalised words or word beginnings "
                                                  "naming an ID card or passport")
    ready: tuple[str, ...] = Field(description="Normalised words or word beginnings asking "
                                               "whether it is ready or its state")


DEFECT_CATEGORIES: tuple[str, ...] = ("street_light", "pothole", "illegal_dumping",
                                      "playground", "graffiti", "other")
"""The built-in defect categories (chatbot/defects/catalogue.py), named per language."""


class DefectReportCues(BaseModel):
    """A report of something broken in public space ("Die Laterne in der Bahnstraße ist
    kaputt"): a defect word on its own ("Schlagloch", "Graffiti"), or a thing and a word
    saying it is broken. A question about the thing alone ("Wann geht die
    Straßenbeleuchtung an?") is no report. Typed as on a phone: no accents, typos."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defect: tuple[str, ...] = Field(description="Normalised words or phrases that name a "
                                                "defect by themselves")
    thing: tuple[str, ...] = Field(description="Normalised beginnings of words naming public "
                                               "things that can break")
    broken: tuple[str, ...] = Field(description="Normalised words or phrases saying a thing "
                                                "is broken, out or damaged")
    report: tuple[str, ...] = Field(description="Words for a (defect) report, for status "
                                                "questions ('Status meiner Meldung 123')")
    status: tuple[str, ...] = Field(description="Words asking for the state of a report")
    categories: dict[str, str] = Field(description="Names of the built-in categories "
                                                   "(used when no Open311 endpoint is set)")

    @model_validator(mode="after")
    def _every_category_named(self) -> DefectReportCues:
        if set(self.categories) != set(DEFECT_CATEGORIES):
            raise ValueError(f"categories must name exactly {', '.join(DEFECT_CATEGORIES)}")
        return self


class ForeignDocumentCues(BaseModel):
    """A passport or identity card of another country ("my indian passport", "polski
    dowod osobisty", "passaporto italiano"): its consulate issues and renews it, not the
    city. A nationality word near a document word, and no word for German: the city's
    own documents are German."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nationalities: tuple[str, ...] = Field(description="Normalised beginnings of words "
                                                       "naming a nationality other than German")
    nationality_words: tuple[str, ...] = Field(
        default=(), description="Normalised whole words naming one, where a beginning "
                                "would also match other words ('usa', 'turk' but not "
                                "'turkiyeye', to Turkey)")
    documents: tuple[str, ...] = Field(description="Normalised beginnings of words naming a "
                                                   "passport or an identity card")
    not_after: tuple[str, ...] = Field(
        default=(), description="Normalised words after which a nationality word names a "
                                "language or a country travelled to ('auf Englisch', 'in "
                                "english', 'en suisse', 'bi tirki'), not a passport's")
    german: tuple[str, ...] = Field(description="Normalised whole words for German "
                                                "nationality ('alman', not 'almanya'): a "
                                                "message naming it too asks about the German "
                                                "document ('a turkish and a german passport')")

    def named(self, norm: str) -> bool:
        words = norm.split()
        if any(w in self.german for w in words):
            return False
        nationality = [i for i, w in enumerate(words)
                       if (w.startswith(self.nationalities) or w in self.nationality_words)
                       and not (i > 0 and words[i - 1] in self.not_after)]
        document = [i for i, w in enumerate(words) if w.startswith(self.documents)]
        return any(abs(i - j) <= FOREIGN_DOCUMENT_WINDOW for i in nationality for j in document)


FOREIGN_DOCUMENT_WINDOW = 3
"""How far apart a nationality and its document word may be (two words between at
most): "pasaporta min a tirki"."""


class DetectionCues(BaseModel):
    """What the language detector adds to its n-gram model for this language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    letters: str = Field(description="The non-ASCII letters the orthography uses; a word "
                                     "with any other non-ASCII letter is evidence against it")
    function_words: str = Field(description="Frequent function words and chat formulas, "
                                            "lowercased, space-separated")

    @property
    def words(self) -> frozenset[str]:
        return frozenset(self.function_words.split())


class TextAnalysis(BaseModel):
    """How BM25 analyses words of this language (after accent folding)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stemmer: str | None = Field(default=None, description="Snowball algorithm (PyStemmer)")
    prefix: int | None = Field(default=None, ge=2, le=12,
                               description="Without a stemmer: words cut to this many letters")
    umlaut_digraphs: bool = Field(description="fold ae/oe/ue like the umlauts (German terms)")
    stopwords: str = Field(description="Folded function words dropped from BM25 terms, "
                                       "space-separated (dropped in every language)")
    separable_prefixes: str = Field(
        default="", description="Folded verb particles that stand apart at the end of a "
                                "clause (German \"wie melde ich mich um\"), space-separated: "
                                "each is also joined to the clause's verb-like words (\"ummelde\")")

    @model_validator(mode="after")
    def _one_way_to_normalise(self) -> TextAnalysis:
        if (self.stemmer is None) == (self.prefix is None):
            raise ValueError("give either a Snowball `stemmer` or a `prefix` length")
        if self.stemmer is not None and self.stemmer not in Stemmer.algorithms():
            raise ValueError(f"unknown Snowball stemmer {self.stemmer!r}; "
                             f"known: {', '.join(sorted(Stemmer.algorithms()))}")
        return self


class LanguageData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    aspects: dict[Aspect, AspectCues]
    appointment_request: tuple[str, ...] = Field(
        description="Phrases with which a citizen asks to book an appointment")
    appointment_change: tuple[str, ...] = Field(
        description="Words of cancelling or moving an appointment (not a booking request)")
    small_talk: SmallTalkCues
    human_request: tuple[str, ...] = Field(
        description="Phrases asking for a person, a callback or a case status")
    complaint: tuple[str, ...] = Field(
        description="Words of a complaint: a person takes it unless the articles answer it")
    case_status: CaseStatusCues
    defect_report: DefectReportCues
    refers_back: tuple[str, ...] = Field(
        description="Words that point back to the previous topic even in a long message")
    weekdays: tuple[str, str, str, str, str, str, str] = Field(
        description="Monday to Sunday as the hotline template uses them")
    other_authorities: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Per concept (child_benefit, tax, foreign_missions, library, ...), "
                    "normalised words or phrases naming what other authorities handle: a "
                    "question naming one is out of scope unless the article it matched, "
                    "or the conversation's topic, speaks of that concept in any language, "
                    "or the article was matched with certainty (the policy's sure_min)")
    neighbouring_matters: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Per concept (schools, traffic_fines, ...), normalised words or "
                    "phrases naming what other bodies handle but citizens also name as the "
                    "reason for a city service: a message naming one is out of scope "
                    "unless, without those words, it is still matched to the same article")
    foreign_documents: ForeignDocumentCues | None = Field(
        default=None, description="A passport or ID card of another country: its "
                                  "consulate's, not the city's")
    detection: DetectionCues
    analysis: TextAnalysis

    def asks(self, text: str) -> list[Aspect]:
        """The aspects a question asks about, in the order of the registry."""
        return [aspect for aspect, cues in self.aspects.items()
                if matches_cues(normalise(text), cues.question)]

    def answers(self, heading: str, aspect: Aspect) -> bool:
        """Whether an article heading is the section about `aspect`."""
        cues = self.aspects.get(aspect)
        norm = normalise(heading)
        return (cues is not None and matches_cues(norm, cues.heading)
                and not matches_cues(norm, cues.heading_not))

    def section_answers(self, aspect: Aspect) -> Callable[[str, str], bool]:
        """Whether a section (heading, text) answers `aspect`: its heading does, or its
        text names one of the aspect's text cues."""
        cues = self.aspects.get(aspect)

        def answers(heading: str, text: str) -> bool:
            return self.answers(heading, aspect) or (
                cues is not None and bool(cues.text)
                and matches_cues(normalise(text), cues.text))

        return answers

    def without_aspect_words(self, text: str) -> str:
        """The text without the single words that ask for an aspect ("kostet", "dziecka"):
        what is left names the topic, if anything does."""
        cues = [cue for aspect in self.aspects.values() for cue in aspect.question
                if " " not in cue]
        return " ".join(word for word in normalise(text).split()
                        if not any(word.startswith(cue) for cue in cues))

    def requests_appointment(self, text: str) -> bool:
        norm = normalise(text)
        return (matches_cues(norm, self.appointment_request)
                and not matches_cues(norm, self.appointment_change))

    def requests_person(self, text: str) -> bool:
        return matches_cues(normalise(text), self.human_request)

    def complains(self, text: str) -> bool:
        return matches_cues(normalise(text), self.complaint)

    def asks_case_status(self, text: str) -> bool:
        norm = normalise(text)
        return (matches_cues(norm, self.case_status.document)
                and matches_cues(norm, self.case_status.ready))

    def reports_defect(self, text: str) -> bool:
        norm = normalise(text)
        cues = self.defect_report
        return matches_cues(norm, cues.defect) or (matches_cues(norm, cues.thing)
                                                and matches_cues(norm, cues.broken))

    def asks_defect_status(self, text: str) -> bool:
        norm = normalise(text)
        return (matches_cues(norm, self.defect_report.report)
                and matches_cues(norm, self.defect_report.status))

    def other_authorities_named(self, text: str) -> list[str]:
        """The `other_authorities` concepts the text names."""
        return concepts_named(normalise(text), self.other_authorities)

    def names_foreign_document(self, text: str) -> bool:
        """Whether the text names a passport or ID card of another country."""
        return (self.foreign_documents is not None
                and self.foreign_documents.named(normalise(text)))

    def neighbouring_matters_named(self, text: str) -> list[str]:
        """The `neighbouring_matters` concepts the text names."""
        return concepts_named(normalise(text), self.neighbouring_matters)

    def without_foreign_document(self, text: str) -> str:
        """The text as written without its nationality and document words: what else it
        asks."""
        cues = self.foreign_documents
        if cues is None:
            return text
        return without_words(text, (*cues.nationalities, *cues.documents),
                             whole=cues.nationality_words)

    def names_document(self, text: str) -> bool:
        """Whether the text names a passport or an ID card."""
        return (self.foreign_documents is not None
                and any(word.startswith(self.foreign_documents.documents)
                        for word in normalise(text).split()))

    def points_back(self, words: list[str]) -> bool:
        """Whether any of these normalised words refers back to the previous topic."""
        cues = {normalise(cue) for cue in self.refers_back}
        return any(word in cues for word in words)


def matches_cues(norm: str, cues: Iterable[str]) -> bool:
    """Whether normalised text names any of the cues: a cue matches a word beginning
    ("kost" in "kostet") or, with a space, a phrase."""
    padded = f" {norm}"
    return any(f" {cue}" in padded for cue in cues)


def concepts_named(norm: str, concepts: dict[str, tuple[str, ...]]) -> list[str]:
    """The concepts whose cues the normalised text names."""
    return [concept for concept, cues in concepts.items() if matches_cues(norm, cues)]


def without_words(text: str, cues: Iterable[str], *, whole: Iterable[str] = ()) -> str:
    """The text as written, without the words that name a cue (as `matches_cues` finds
    them: a phrase's last word, like a single word, by its beginning) or are one of the
    `whole` words; accents and the rest stay for the search."""
    tokens = text.split()
    flat = [(i, word) for i, token in enumerate(tokens) for word in normalise(token).split()]
    words = [word for _, word in flat]
    dropped = {i for i, word in flat if word in set(whole)}
    for cue in cues:
        parts = cue.split()
        for start in range(len(words) - len(parts) + 1):
            span = words[start:start + len(parts)]
            if span[:-1] == parts[:-1] and span[-1].startswith(parts[-1]):
                dropped.update(flat[k][0] for k in range(start, start + len(parts)))
    return " ".join(token for i, token in enumerate(tokens) if i not in dropped)


def load_language(code: str, directory: Path = DATA_DIR) -> LanguageData:
    path = directory / f"{code}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LanguageDataError(f"{path}: no language file for {code!r}") from exc
    except yaml.YAMLError as exc:
        raise LanguageDataError(f"{path}: not valid YAML: {exc}") from exc
    try:
        data = LanguageData.model_validate(raw)
    except ValidationError as exc:
        raise LanguageDataError(f"{path}: {exc}") from exc
    if data.code != code:
        raise LanguageDataError(f"{path}: code is {data.code!r}, expected {code!r}")
    return data


@cache
def load_languages(codes: tuple[str, ...], directory: Path = DATA_DIR
                   ) -> dict[str, LanguageData]:
    return {code: load_language(code, directory) for code in codes}

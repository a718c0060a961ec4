"""One dialogue turn without storage or HTTP: message + language + history -> Reply.

`ChatService` (storage) and `chatbot eval chat` (evaluation) both call `Dialogue.respond`,
so what is measured is what citizens get.

The order of decisions in a turn:
1. unsupported language -> polite reply in German and English;
2. small talk -> a short template reply;
   "is my ID card ready?" with a case-status connector -> the look-up form (the
   answer itself comes from the case-status API, outside the dialogue);
3. the message is searched on its own; its evidence decides whether it sets a topic;
4. a request for a person -> escalation about the message's own topic when confident,
   else the conversation's confident topic, else no topic;
5. a short request for an appointment -> booking for the topic's service;
6. a follow-up without topic evidence of its own -> the current topic, or an article
   close to it ("and for my child?" after the passport -> the child's travel document);
7. otherwise the policy: answer / clarify / "this article may help" / out of scope;
   a weak match answers when one clause of the message on its own is confident about
   the same article, or the message names one of its keywords whole (`_focused`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from chatbot.corpus.models import SOURCE_LANGUAGE
from chatbot.dialogue import followup, intents
from chatbot.dialogue.clauses import split_clauses
from chatbot.dialogue.compose import Composer
from chatbot.dialogue.hotline import HotlineStatus
from chatbot.dialogue.passage import lead_of, select_passage, split_sections
from chatbot.dialogue.policy import (
    DECISION_HITS,
    Decision,
    Evidence,
    PolicyProfile,
    ReplyType,
)
from chatbot.dialogue.reply import (
    Action,
    AppointmentAction,
    CaseStatusAction,
    DefectReportAction,
    DefectStatusAction,
    HotlineAction,
    Reply,
    Source,
    TicketAction,
)
from chatbot.index.lexical import analyze
from chatbot.index.loaded import StoredArticle
from chatbot.language import LanguageGuess
from chatbot.languages import (
    Aspect,
    LanguageData,
    concepts_named,
    matches_cues,
    without_words,
)
from chatbot.retrieval import ArticleHit
from chatbot.text import normalise

UrlFor = Callable[[str, str], str]
"""(article_id, lang) -> a public link to the article."""

DEFAULT_APPOINTMENT_SERVICE = "buergerservice"
APPOINTMENT_REQUEST_MAX_WORDS = 7
""""Ich brauche einen Termin für meinen Pass" books; a longer question about
appointments ("how do I book ... nothing free for weeks?") is answered from the articles."""
FOLLOW_UP_MIN_COVERAGE = 0.5
FUNCTION_WORD_MAX_CHARS = 4
"""Words this short left in a follow-up beside aspect words are taken as function words
("mein", "dla", "ji"): the shared stop-word list does not know every language's."""
_BOOKING_ASPECTS = frozenset({Aspect.APPOINTMENT, Aspect.CHILD, Aspect.PROXY,
                              Aspect.ONLINE, Aspect.PROCEDURE, Aspect.CONTACT})
"""What an appointment request may name and still be a booking ("Termin online für meinen
Sohn", "Termin für meine Mutter in ihrem Namen", "wo kann ich einen Termin machen");
asking anything else (fee, validity, ...) with a confident topic is answered."""
_ANY_TOPIC_ASPECTS = frozenset({Aspect.PROCEDURE, Aspect.CONTACT})
CHILD_ALTERNATIVE_MIN_SHARE = 0.15
"""An article for children gives way to one not for children that the ranker rates at
least this share of it (set by hand, not fitted: on the train splits, where the other
article was the right one its share was 0.20 to 0.87; where the children's article was
right, 0.04)."""
FOCUS_MAX_CLAUSES = 3
"""Clauses searched on their own at most (the last ones: the question mostly ends a
phone-typed message), so a long message costs at most this many more searches."""
NAMED_KEYWORD_HITS = 3
NAMED_KEYWORD_MIN_WORDS = 2
NAMED_KEYWORD_MIN_PROBABILITY = 0.1
"""Below the suggestion band, the one article of the first NAMED_KEYWORD_HITS that the
message names by a keyword of 2+ words whole, at least this likely on its own evidence,
answers (`_Turn._named_by_keyword`). On the train rows (blind batches 1-8, the project's
and the near-city questions): right +12, wrong +1, out of scope answered 15 -> 16 of 314
at 0.1; +8 at 0.2; 0.05 answered two more out-of-scope questions and nothing more right.
Any keyword (one word too) at 0.2: right +17 but out of scope answered +4 ("tickets for
the zoo" names the follow-up article's "ticket", "kitaplatz ... anmelden" names
"Anmeldung"): a single word is often a common one, two words name a service. A long word
named whole counts as two (`LONG_KEYWORD_WORD_CHARS` in chatbot/index/loaded.py):
"asylbewerberleistung bu ay yatmadi kime sormam lazim" names the asylum seekers' benefits
(train rows: +4 right, nothing more answered out of scope or wrongly)."""
SEVERAL_SECTIONS_MIN_WORDS = 6
"""A question this long gets several sections (passage.MAX_SECTIONS): on the blind train
questions, phone-typed questions of 6+ words asked two things or more in most cases
(facts found 0.81 -> 0.90 with two sections)."""


@dataclass(frozen=True)
class PastTurn:
    """What a later turn needs to know about an earlier one."""

    question: str
    reply_type: ReplyType | None
    article_id: str | None
    confident: bool


class Searcher(Protocol):
    """The retrieval as the dialogue uses it (`SearchService` in production)."""

    def search_hits(self, query: str, *, lang: str, top_k: int,
                    show_lang: str | None = None) -> list[ArticleHit]: ...

    def article_versions(self, article_id: str) -> dict[str, StoredArticle]: ...

    def related_articles(self, article_id: str, max_gap: float) -> list[str]: ...

    def term_coverage(self, text: str, article_id: str, lang: str) -> float | None: ...

    def names_keyword(self, text: str, article_id: str, lang: str, *,
                      min_words: int = 1) -> bool: ...


@dataclass(frozen=True)
class StaleSource:
    """The newer German version a stale translation's answer points to."""

    updated_text: str
    url: str


class Dialogue:
    def __init__(self, *, searcher: Searcher, composer: Composer, policy: PolicyProfile,
                 languages: dict[str, LanguageData], contact_marker: str | None = None,
                 case_status: bool = False) -> None:
        self.searcher = searcher
        self.composer = composer
        self.policy = policy
        self.languages = languages
        self.contact_marker = contact_marker
        self.case_status = case_status
        """A case-status connector is configured: offer the look-up form."""

    def respond(self, message: str, language: LanguageGuess, history: Sequence[PastTurn],
                status: HotlineStatus, url_for: UrlFor, *, text_lang: str | None = None
                ) -> Reply:
        """Reply in `language`; `text_lang` is what the message itself is written in when
        the caller chose another reply language (evidence is measured in the text's)."""
        turn = _Turn(self, message, language, history, status, url_for, text_lang)
        return turn.reply()


class _Turn:
    """The state of one turn while it is decided (not kept afterwards)."""

    def __init__(self, dialogue: Dialogue, message: str, language: LanguageGuess,
                 history: Sequence[PastTurn], status: HotlineStatus, url_for: UrlFor,
                 text_lang: str | None) -> None:
        self.d = dialogue
        self.message = message
        self.language = language
        self.history = history
        self.status = status
        self.url_for = url_for
        self.code = language.code
        self.text_code = (text_lang if text_lang in dialogue.languages else None) or self.code

    def _search(self, query: str) -> list[ArticleHit]:
        return self.d.searcher.search_hits(query, lang=self.text_code, top_k=DECISION_HITS,
                                           show_lang=self.code)

    # --- the decision ----------------------------------------------------------------

    def reply(self) -> Reply:
        if not self.language.supported:
            return self._unsupported()
        kind = intents.small_talk(self.message)
        if kind is not None:
            return Reply(type=ReplyType.ANSWER, evidence=Evidence.CONFIDENT, confidence=1.0,
                         text=self.d.composer.render(self.code, "smalltalk", kind=kind.value))
        if self.d.case_status and intents.asks_case_status(self.message):
            return self._case_status()
        if intents.asks_defect_status(self.message):
            return self._defect(status=True)
        if intents.reports_defect(self.message, self.text_code):
            return self._defect_report()
        data = self.d.languages[self.text_code]
        current = self._current_topic()
        foreign_rest = self._without_foreign_document(data)
        if foreign_rest is None:
            found = self._search(self.message)
        else:
            found = self._search(foreign_rest) if normalise(foreign_rest) else []
        hits = self._for_whom_asked(found, data, current)
        own = self.d.policy.decide(hits, self.text_code)
        if (len(hits) < len(found) and own.evidence is Evidence.NONE
                and self.d.policy.decide(found, self.text_code).evidence is not Evidence.NONE):
            # A children's article matched, so the question is the city's: not "out of
            # scope", but the best other article as the one that may help.
            own = Decision(ReplyType.ESCALATE, Evidence.WEAK, hits[:1], own.confidence)
        wants_person = intents.asks_for_human(self.message)
        complains = intents.complains(self.message)
        # A person request or a complaint ("Beschwerde über das Hallenbad") still reaches a
        # person, as below.
        if not (wants_person or complains) and (
                self._asks_another_authority(data, own, current)
                or (foreign_rest is not None
                    and (not hits or self._about_documents(hits[0])))):
            return self._out_of_scope(own.confidence)
        # A rescued article answers the message as it stands (last, in _decided); it is
        # not evidence enough to override a follow-up's topic or to say what a person
        # request, a complaint or a booking is about.
        own_topic = own.hits[0] if own.type is ReplyType.ANSWER and not own.rescued else None
        if current is not None and own_topic is not None and self._only_asks_about(data):
            # "a dla dziecka?" after a registration question: its only evidence is the
            # word for child, which names the child's passport; it asks about the topic.
            own_topic = None
        if (complains and not wants_person and own_topic is not None
                and self._takes_complaints(own_topic)):
            # "Who do I complain to about the noise?": the noise article answers it; the
            # answer keeps the ticket and the hotline beside it. A complaint about the
            # passport office is not answered from the passport article.
            return self._answer(own_topic, data, confidence=own.confidence,
                                with_contact=True)
        if wants_person or complains:
            topic = own_topic or current
            return self._escalate(topic, confident=topic is not None, human=True,
                                  confidence=1.0)
        if (data.requests_appointment(self.message)
                and len(normalise(self.message).split()) <= APPOINTMENT_REQUEST_MAX_WORDS
                and not (own_topic is not None and self._asks_beyond_appointments(data))):
            return self._appointment(self._named_topic(data) or current)
        if (current is not None and own_topic is None
                and followup.refers_back(self.message, self.text_code)):
            answer = self._follow_up(current, hits, data)
            if answer is not None:
                return answer
        decision = self._focused(own, hits)
        if self._names_neighbouring_matter(data, decision):
            return self._out_of_scope(decision.confidence)
        return self._decided(decision, data)

    def _for_whom_asked(self, hits: list[ArticleHit], data: LanguageData,
                        current: ArticleHit | None) -> list[ArticleHit]:
        """An article for children (its title says so) is not what a question that names
        no child asks, however close it reads: "pasaport ne kadar surede cikar" ranks
        the children's-passport article first, which speaks of passports throughout.
        Articles for children leave the decision when the ranker rates an article not for
        children at least CHILD_ALTERNATIVE_MIN_SHARE of the first, unless the message
        names a child in its language or in German ("kinderreisepass" typed in English)
        or the conversation is already about an article for children."""
        source = self.d.languages.get(SOURCE_LANGUAGE, data)
        if not hits or any(Aspect.CHILD in d.asks(self.message) for d in (data, source)):
            return hits

        def for_children(hit: ArticleHit) -> bool:
            return self.d.languages.get(hit.lang, data).answers(hit.title, Aspect.CHILD)

        if not for_children(hits[0]) or (current is not None and for_children(current)):
            return hits
        if not any(not for_children(h) and h.score >= CHILD_ALTERNATIVE_MIN_SHARE * hits[0].score
                   for h in hits):
            return hits
        return [h for h in hits if not for_children(h)]

    def _focused(self, own: Decision, hits: list[ArticleHit]) -> Decision:
        """A weak match answers when more evidence names the same article:
        - one clause of a message of several is on its own confidently about it: "ich
          bin alleinerziehend mit 2 kindern, verdiene 1600 netto. bekomme ich einen
          wbs?" ranks the WBS first but only weakly (p 0.48); its last clause names it
          with confidence. A clause whose own first article is another one is no
          evidence for it: it may be the circumstance, not the question;
        - the message names one of the article's keywords in its own language whole
          ("wracam do polski na stale, jak sie wymeldowac? moge wyslac poczta?":
          "wymeldować się", p 0.47), a keyword no other article has. The policy weighs
          how many of the message's words the title and keywords hold, which a long
          message dilutes.
        Below the suggestion band, an article the message names by a keyword of two
        words or more answers (`_named_by_keyword`).
        The answer counts as `rescued` (enough to answer, not to say what the
        conversation is about) and as unsure: the whole message was not convincing, so
        the ticket and the hotline stay beside it."""
        if own.type is ReplyType.ESCALATE and own.evidence is Evidence.NONE:
            return self._named_by_keyword(hits) or own
        if own.evidence is not Evidence.WEAK or own.type is not ReplyType.ESCALATE:
            return own
        focused = Decision(ReplyType.ANSWER, Evidence.CONFIDENT, own.hits[:1],
                           max(own.confidence, self.d.policy.answer_min), rescued=True)
        # The keyword first: it costs no search.
        if self.d.searcher.names_keyword(self.message, own.hits[0].article_id,
                                         self.text_code):
            return focused
        for clause in split_clauses(self.message)[-FOCUS_MAX_CLAUSES:]:
            decision = self.d.policy.decide(self._search(clause), self.text_code)
            if (decision.type is ReplyType.ANSWER and not decision.rescued
                    and decision.hits[0].article_id == own.hits[0].article_id):
                return focused
        return own

    def _named_by_keyword(self, hits: list[ArticleHit]) -> Decision | None:
        """A message too far from every article even to suggest one, which names one of
        the first few articles by a keyword of 2+ words (a long word named whole counting
        as two), no other of them so, and that article is not unlikely on its own
        evidence: "mia madre dal brasile vuole venire a trovarci, devo fare la
        dichiarazione di garanzia. costa?" (p 0.28, below suggest_min) names
        "dichiarazione di garanzia". A message naming another
        authority's service was refused before (`_asks_another_authority`)."""
        named = [i for i, hit in enumerate(hits[:NAMED_KEYWORD_HITS])
                 if self.d.searcher.names_keyword(self.message, hit.article_id,
                                                  self.text_code,
                                                  min_words=NAMED_KEYWORD_MIN_WORDS)]
        if len(named) != 1:
            return None
        probability = self.d.policy.probability(hits, named[0], self.text_code)
        if probability < NAMED_KEYWORD_MIN_PROBABILITY:
            return None
        return Decision(ReplyType.ANSWER, Evidence.CONFIDENT, [hits[named[0]]],
                        self.d.policy.answer_min, rescued=True)

    def _asks_another_authority(self, data: LanguageData, own: Decision,
                                current: ArticleHit | None) -> bool:
        """Whether the message asks about what another authority handles ("wniosek o
        kindergeld gdzie skladac": the Familienkasse's) and neither the article it matched
        nor the conversation's topic is about it (its title, keywords or lead name it, in
        any version). "Kindergeld" shares its first letters with "Kinderreisepass", and
        the library's opening hours read like the hotline's. A passing mention further
        down is not enough: the housing-benefit article says who gets Bürgergeld from the
        Jobcenter instead, which does not make it the answer to "unemployment benefit at
        the jobcenter". Another authority named beside a city service matched with certainty (the
        policy's `sure_min`) is only the reason for it: "a residence certificate for the
        consulate, how much is it?" asks for the city's certificate."""
        if own.type is ReplyType.ANSWER and own.confidence >= self.d.policy.sure_min:
            return False
        cues = self._named_concepts_cues(data, lambda language: language.other_authorities)
        if not cues:
            return False
        articles = [*own.hits[:1], *([current] if current is not None else [])]
        for article in articles:
            versions = self.d.searcher.article_versions(article.article_id).values()
            text = normalise(" ".join(part for v in versions
                                      for part in (v.title, *v.keywords,
                                                   lead_of(split_sections(v.body), v.summary))))
            if matches_cues(text, cues):
                return False
        return True

    def _named_concepts_cues(self, data: LanguageData,
                             concepts_of: Callable[[LanguageData], dict[str, tuple[str, ...]]]
                             ) -> set[str]:
        """The cues, in every language, of the concepts the message names in its own
        language or in German: the Turkish question's "konsolosluk" is the German
        article's "Botschaft"."""
        source = self.d.languages.get(SOURCE_LANGUAGE, data)
        norm = normalise(self.message)
        named = {*concepts_named(norm, concepts_of(data)),
                 *concepts_named(norm, concepts_of(source))}
        return {cue for language in self.d.languages.values() for concept in named
                for cue in concepts_of(language).get(concept, ())}

    def _without_foreign_document(self, data: LanguageData) -> str | None:
        """The message without its nationality and document words when it names a
        passport or ID card of another country ("my indian passport", "polski dowod
        osobisty"), else None. Such a document is its consulate's: the message is decided
        on what else it asks ("how much is naturalisation, can I keep my Turkish
        passport"), and is out of scope when that is nothing or the city's own documents
        (`_about_documents`)."""
        source = self.d.languages.get(SOURCE_LANGUAGE, data)
        if not (data.names_foreign_document(self.message)
                or source.names_foreign_document(self.message)):
            return None
        return source.without_foreign_document(data.without_foreign_document(self.message))

    def _about_documents(self, article: ArticleHit) -> bool:
        """Whether a version's title names a passport or an ID card."""
        return any(self.d.languages[v.lang].names_document(v.title)
                   for v in self.d.searcher.article_versions(article.article_id).values()
                   if v.lang in self.d.languages)

    def _names_neighbouring_matter(self, data: LanguageData, decision: Decision) -> bool:
        """Whether the message names what another body handles (`neighbouring_matters`: a
        secondary school, a traffic or parking fine) and, without those words, no longer
        asks for the article the decision is about: "dostalem mandat za zle parkowanie,
        gdzie zaplacic" is not the residents' parking permit, "iscrizione alla scuola
        superiore" not the school-entry examination; "sold my car but the parking
        tickets still come to me" is the change of keeper. What is left asks for the
        article when it is matched to it (answer or suggestion) or names one of its
        keywords of two words (a long word or an acronym counting as two)."""
        if decision.evidence is Evidence.NONE or not decision.hits:
            return False
        cues = self._named_concepts_cues(data,
                                         lambda language: language.neighbouring_matters)
        if not cues:
            return False
        rest = without_words(self.message, cues)
        if not normalise(rest):
            return True
        article_id = decision.hits[0].article_id
        left = self.d.policy.decide(self._search(rest), self.text_code)
        if left.evidence is not Evidence.NONE and left.hits[0].article_id == article_id:
            return False
        return not self.d.searcher.names_keyword(rest, article_id, self.text_code,
                                                 min_words=NAMED_KEYWORD_MIN_WORDS)

    def _named_topic(self, data: LanguageData) -> ArticleHit | None:
        """The topic a message names besides what it asks ("Termin für den Reisepass"
        names the passport; "Termin bitte" names nothing)."""
        rest = data.without_aspect_words(self.message)
        if all(len(t) <= FUNCTION_WORD_MAX_CHARS for t in analyze(rest, self.text_code)):
            return None
        decision = self.d.policy.decide(self._search(rest), self.text_code)
        return (decision.hits[0] if decision.type is ReplyType.ANSWER and not decision.rescued
                else None)

    def _asks_beyond_appointments(self, data: LanguageData) -> bool:
        """"Wunschkennzeichen reservieren, wie lange gilt das?" names a reservation but
        asks how long it is valid: with a confident topic, the article answers it. For
        whom ("für meinen Sohn") and how ("online") still belong to the booking."""
        return any(aspect not in _BOOKING_ASPECTS for aspect in data.asks(self.message))

    def _takes_complaints(self, topic: ArticleHit) -> bool:
        """Whether the article is where such complaints go: a version's title or keywords
        name a complaint ("noise complaint", "plainte pour bruit", "skarga na hałas")."""
        return self._title_says(topic, lambda text, _lang: intents.complains(text))

    def _takes_defect_reports(self, topic: ArticleHit) -> bool:
        """Whether the article is the one about reporting defects: a version's title or
        keywords report one ("Schlagloch", "report a problem", "arıza bildirimi")."""
        return self._title_says(topic, intents.reports_defect)

    def _title_says(self, topic: ArticleHit, says: Callable[[str, str], bool]) -> bool:
        """Whether any version's title and keywords, in that version's language, say it."""
        versions = self.d.searcher.article_versions(topic.article_id).values()
        return any(says(" ".join((v.title, *v.keywords)), v.lang) for v in versions)

    def _only_asks_about(self, data: LanguageData) -> bool:
        """A short message whose words, but for short function words ("und für mein",
        "a dla"), all ask for an aspect."""
        if not followup.refers_back(self.message, self.text_code) or not data.asks(self.message):
            return False
        rest = analyze(data.without_aspect_words(self.message), self.text_code)
        return all(len(term) <= FUNCTION_WORD_MAX_CHARS for term in rest)

    def _current_topic(self) -> ArticleHit | None:
        """The article of the last confident turn, as a hit in this conversation's language."""
        for past in reversed(self.history):
            if past.confident and past.article_id:
                return self._article_hit(past.article_id)
            if past.reply_type is ReplyType.ESCALATE and not past.confident:
                return None  # the conversation moved on to something unanswered
        return None

    def _follow_up(self, current: ArticleHit, own_hits: list[ArticleHit], data: LanguageData
                   ) -> Reply | None:
        """Search the message with the current topic; stay on it or move to an article
        close to it, never to an unrelated one."""
        previous = next((p.question for p in reversed(self.history) if p.confident), None)
        query = followup.retrieval_query(self.message, previous, current.title, self.text_code)
        hits = self._search(query)
        related = self.d.searcher.related_articles(current.article_id,
                                                   self.d.policy.related_max_gap)
        allowed = {current.article_id, *related}
        position = next((i for i, h in enumerate(hits) if h.article_id in allowed), None)
        if position is None:
            return None
        # "und für mein Kind?" after the passport: a related article whose title is about
        # what the message asks (the child's travel document) wins over the topic itself.
        # Not how or where to apply: "Wohngeld beantragen" would pull "how do I apply?"
        # after the WBS away from the WBS.
        asked = self._topic_aspects(data)
        shown = self.d.languages[self.code]
        specific = next((i for i, h in enumerate(hits) if h.article_id in related
                         and any(shown.answers(h.title, a) for a in asked)), None)
        if specific is not None:
            position = specific
        chosen = hits[position]
        if not self._fits(chosen, data):
            return None
        confidence = self.d.policy.probability(hits, position, self.text_code)
        # Section scores from the message alone when the article is among its hits: the
        # combined query leans towards the section the previous answer quoted.
        chosen = next((h for h in own_hits if h.article_id == chosen.article_id), chosen)
        return self._answer(chosen, data, confidence=max(confidence, self.d.policy.answer_min),
                            include_lead=chosen.article_id != current.article_id)

    def _topic_aspects(self, data: LanguageData) -> list[Aspect]:
        """What the message asks that ties it to a topic: all aspects but how or where to
        apply and whom to contact, which any question may ask."""
        return [a for a in data.asks(self.message) if a not in _ANY_TOPIC_ASPECTS]

    def _fits(self, article: ArticleHit, data: LanguageData) -> bool:
        """A follow-up belongs to the topic when it asks one of the usual things (fee,
        documents, ...), has no content words of its own ("und für mich?"), or most of
        its words are in the article: "und das Wetter morgen?" after a passport answer
        is a new, unanswerable question, not a passport question. Asking how or where
        ("how do I get a fishing licence?") or whom to contact is no sign of the topic:
        any question may ask it."""
        if self._topic_aspects(data):
            return True
        coverage = self.d.searcher.term_coverage(self.message, article.article_id, article.lang)
        return coverage is None or coverage >= FOLLOW_UP_MIN_COVERAGE

    def _decided(self, decision: Decision, data: LanguageData) -> Reply:
        if decision.type is ReplyType.ANSWER:
            return self._answer(decision.hits[0], data, confidence=decision.confidence)
        if decision.type is ReplyType.CLARIFY:
            choices = [self._source(h) for h in decision.hits]
            return Reply(type=ReplyType.CLARIFY, evidence=decision.evidence,
                         confidence=decision.confidence,
                         text=self.d.composer.render(self.code, "clarify", choices=choices),
                         sources=choices, choices=choices, topic=decision.hits[0])
        if decision.evidence is Evidence.WEAK:
            return self._escalate(decision.hits[0], confident=False, human=False,
                                  confidence=decision.confidence)
        return self._out_of_scope(decision.confidence)

    # --- replies ---------------------------------------------------------------------

    def _answer(self, hit: ArticleHit, data: LanguageData, *, confidence: float,
                include_lead: bool = True, lead_only: bool = False,
                with_contact: bool = False) -> Reply:
        version = self.d.searcher.article_versions(hit.article_id).get(hit.lang)
        fallback = hit.lang != self.code
        if fallback and hit.lang != "de":
            german = self.d.searcher.article_versions(hit.article_id).get("de")
            version = german or version
        source = self._source(hit)
        # What the message asks, in its own language; which heading answers it, in the
        # quoted version's.
        headings = self.d.languages.get(version.lang if version else hit.lang, data)
        aspects = data.asks(self.message)
        asked = [headings.section_answers(a) for a in aspects if a is not Aspect.CONTACT]
        contact = (headings.section_answers(Aspect.CONTACT) if Aspect.CONTACT in aspects
                   else None)
        if version is None:
            passage_text, truncated = hit.section, False
        else:
            passage = select_passage(
                version.body, hit.sections if version.lang == hit.lang else (),
                summary=version.summary, asked=asked, contact_marker=self.d.contact_marker,
                include_lead=include_lead,
                several_sections=len(normalise(self.message).split()) >= SEVERAL_SECTIONS_MIN_WORDS,
                named=self._heading_names(version.lang), contact=contact)
            passage_text, truncated = passage.text, passage.truncated
            if lead_only and passage.lead:
                passage_text, truncated = passage.lead, bool(passage.sections)
        unsure = confidence < self.d.policy.sure_min
        stale = self._stale_source(version)
        text = self.d.composer.render(
            self.code, "answer", title=hit.title, section=passage_text, url=source.url,
            fallback=fallback, more=truncated, unsure=unsure,
            machine_translated=bool(version and version.machine_translated),
            stale_since=stale.updated_text if stale else "",
            stale_url=stale.url if stale else "")
        # A less certain answer keeps the way to a person open.
        actions: list[Action] = ([self._ticket_action(hit, confident=True),
                                  self._hotline_action()] if unsure or with_contact else [])
        return Reply(type=ReplyType.ANSWER, evidence=Evidence.CONFIDENT,
                     confidence=confidence, text=text, sources=[source], actions=actions,
                     topic=hit, confident_topic=True)

    def _escalate(self, topic: ArticleHit | None, *, confident: bool, human: bool,
                  confidence: float) -> Reply:
        actions = self._actions(topic, confident=confident)
        source = self._source(topic) if topic else None
        text = self.d.composer.render(
            self.code, "escalate", human_requested=human, may_help=None if confident else source,
            appointment=any(isinstance(a, AppointmentAction) for a in actions),
            hotline=self.d.composer.hotline(self.code, self.status))
        return Reply(type=ReplyType.ESCALATE,
                     evidence=Evidence.CONFIDENT if confident else
                     (Evidence.WEAK if topic else Evidence.NONE),
                     confidence=confidence, text=text, sources=[source] if source else [],
                     actions=actions, hotline=self.status, topic=topic,
                     confident_topic=confident)

    def _out_of_scope(self, confidence: float) -> Reply:
        text = self.d.composer.render(self.code, "out_of_scope",
                                      hotline=self.d.composer.hotline(self.code, self.status))
        # A ticket without department or topic: the agents triage it, should the
        # question be the city's business after all.
        return Reply(type=ReplyType.ESCALATE, evidence=Evidence.NONE, confidence=confidence,
                     text=text, hotline=self.status,
                     actions=[self._ticket_action(None, confident=False),
                              self._hotline_action()])

    def _appointment(self, topic: ArticleHit | None) -> Reply:
        service = topic.appointment_service if topic else None
        text = self.d.composer.render(
            self.code, "appointment", topic=self._source(topic) if topic else None,
            has_service=service is not None,
            hotline=self.d.composer.hotline(self.code, self.status))
        actions: list[Action] = [AppointmentAction(service or DEFAULT_APPOINTMENT_SERVICE),
                                 self._ticket_action(topic, confident=topic is not None),
                                 self._hotline_action()]
        return Reply(type=ReplyType.ESCALATE, evidence=Evidence.CONFIDENT if topic else
                     Evidence.NONE, confidence=1.0, text=text,
                     sources=[self._source(topic)] if topic else [], actions=actions,
                     hotline=self.status, topic=topic, confident_topic=topic is not None)

    def _case_status(self) -> Reply:
        """Ask for application number and date of birth; ticket and hotline stay open."""
        text = self.d.composer.render(self.code, "case_status", situation="ask",
                                      hotline=self.d.composer.hotline(self.code, self.status))
        return Reply(type=ReplyType.ANSWER, evidence=Evidence.CONFIDENT, confidence=1.0,
                     text=text, hotline=self.status,
                     actions=[CaseStatusAction(), self._ticket_action(None, confident=False),
                              self._hotline_action()])

    def _defect_report(self) -> Reply:
        """The defect report form; when the articles answer the message too (the defect
        reporter's own article: its app, what it takes), that answer comes with it."""
        form = self._defect(status=False, with_hotline=False)
        hotline = self.d.composer.hotline(self.code, self.status)
        hits = self._search(self.message)
        decision = self.d.policy.decide(hits, self.text_code)
        if decision.type is ReplyType.ANSWER and not decision.rescued:
            article, confidence = decision.hits[0], decision.confidence
        else:
            # "sokagimizdaki lamba yanmiyor, nereye bildirecegiz, bi uygulama varmis": the
            # report itself says what the topic is; the article about reporting defects
            # (its app, what a report needs) belongs beside the form whenever the search
            # finds it, however unsure it is of the rest of the message.
            position = next((i for i, h in enumerate(hits) if self._takes_defect_reports(h)),
                            None)
            if position is None:
                return replace(form, text=f"{form.text}\n\n{hotline}")
            article = hits[position]
            confidence = self.d.policy.probability(hits, position, self.text_code)
        answer = self._answer(article, self.d.languages[self.text_code],
                              confidence=confidence, lead_only=True)
        return replace(form, text=f"{form.text}\n\n{answer.text}\n\n{hotline}",
                       sources=answer.sources, topic=answer.topic, confident_topic=True)

    def _defect(self, *, status: bool, with_hotline: bool = True) -> Reply:
        """Offer the defect report form, or the status of a report; ticket and hotline
        stay beside it."""
        text = self.d.composer.render(
            self.code, "defect_report", situation="status" if status else "ask",
            hotline=self.d.composer.hotline(self.code, self.status) if with_hotline else "")
        action: Action = (DefectStatusAction(intents.report_id(self.message)) if status
                          else DefectReportAction(self.message))
        return Reply(type=ReplyType.ANSWER, evidence=Evidence.CONFIDENT, confidence=1.0,
                     text=text, hotline=self.status,
                     actions=[action, self._ticket_action(None, confident=False),
                              self._hotline_action()])

    def _unsupported(self) -> Reply:
        text = self.d.composer.render(
            "de", "unsupported", hotline_de=self.d.composer.hotline("de", self.status),
            hotline_en=self.d.composer.hotline("en", self.status))
        return Reply(type=ReplyType.UNSUPPORTED, confidence=self.language.confidence,
                     text=text, hotline=self.status,
                     actions=[self._ticket_action(None, confident=False),
                              AppointmentAction(DEFAULT_APPOINTMENT_SERVICE),
                              self._hotline_action()])

    # --- pieces ----------------------------------------------------------------------

    def _actions(self, topic: ArticleHit | None, *, confident: bool) -> list[Action]:
        actions: list[Action] = [self._ticket_action(topic, confident=confident)]
        if topic is None or topic.appointment_service:
            service = topic.appointment_service if topic else None
            actions.append(AppointmentAction(service or DEFAULT_APPOINTMENT_SERVICE))
        actions.append(self._hotline_action())
        return actions

    def _ticket_action(self, topic: ArticleHit | None, *, confident: bool) -> TicketAction:
        return TicketAction(department=topic.department if topic and confident else None,
                            topic=topic.title if topic and confident else None,
                            message=self.message)

    def _hotline_action(self) -> HotlineAction:
        return HotlineAction(phone=self.status.phone, open=self.status.open,
                             next_open=self.status.next_open)

    def _heading_names(self, lang: str) -> Callable[[str], float]:
        """Share of a heading's words that the message names ("So reservieren Sie" for
        "... reservieren ..."), analysed in the quoted version's language."""
        asked = set(analyze(self.message, lang))

        def share(heading: str) -> float:
            words = set(analyze(heading, lang))
            return len(words & asked) / len(words) if words else 0.0

        return share

    def _stale_source(self, version: StoredArticle | None) -> StaleSource | None:
        """The German version when the quoted translation follows an older revision of it."""
        if version is None or version.lang == SOURCE_LANGUAGE or not version.source_revision:
            return None
        german = self.d.searcher.article_versions(version.id).get(SOURCE_LANGUAGE)
        if german is None or date.fromisoformat(german.updated) <= date.fromisoformat(
                version.source_revision):
            return None
        return StaleSource(
            updated_text=date.fromisoformat(german.updated).strftime("%d.%m.%Y"),
            url=german.url or self.url_for(german.id, SOURCE_LANGUAGE))

    def _source(self, hit: ArticleHit) -> Source:
        return Source(article_id=hit.article_id, title=hit.title,
                      url=hit.url or self.url_for(hit.article_id, hit.lang))

    def _article_hit(self, article_id: str) -> ArticleHit | None:
        """An article as a hit without retrieval evidence (the conversation's topic)."""
        versions = self.d.searcher.article_versions(article_id)
        version = versions.get(self.code) or versions.get("de") or next(
            iter(versions.values()), None)
        if version is None:
            return None
        return ArticleHit(article_id=article_id, lang=version.lang, title=version.title,
                          department=version.department, score=0.0, snippet="", heading="",
                          section="", url=version.url,
                          appointment_service=version.appointment_service, dense=0.0,
                          lexical=0.0, matched_lang=version.lang)

"""Decide per question: answer, clarify, suggest an article, or refuse as out of scope.

The decision is a logistic model of "the top hit answers this question", fitted on
labelled data (`chatbot eval fit-policy`), over evidence the retrieval already has:
the ranker's probability and its margin to the next article, the raw and the
language-centred cosine, BM25 in the question's language, and how many of the
question's words the article contains (anywhere, and in its title and keywords), and
whether it names the German version's title or keywords (citizens writing in other
languages type the official German name of a service: 5-fold cross-validation on the
train rows, three shuffles: answered right 0.813 -> 0.845, wrong 0.007 -> 0.008).
One cosine floor cannot do this: e5's cosines are compressed and lower in Polish,
Turkish and Kurmanji, so a floor that refuses football in German refuses half of
the Kurmanji questions whose article ranked first.

The outcomes, by the top hit's probability `p` (each of the `DECISION_HITS` articles
the dialogue looks at gets its own probability from its own evidence):
- `p >= answer_min`: answer from the top article, unless another is nearly as likely
  (within `tie_margin`) and the ranker rates it close (`rival_min_score`): then a choice;
- two or more such rivals each with `p >= clarify_min`: clarify;
- a lower article with its own probability `>= answer_min`, clearly ahead of any other
  such article, answers (`rescued`) when the ranker rates it a rival or the top hit
  is below `suggest_min`: the ranker misplaced it, the evidence vouches for it;
- `p >= suggest_min`: escalate, offering the top article as "may help";
- below: out of scope, a polite refusal with the hotline (no article, no department).
The fitted numbers are part of the embedding model's profile (chatbot/model_profile.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from chatbot.retrieval import ArticleHit

EVIDENCE_FEATURES: tuple[str, ...] = (
    "score", "margin", "dense", "centred", "lexical_raw", "coverage", "title_coverage",
    "source_term",
)


def evidence(hits: list[ArticleHit], position: int = 0) -> dict[str, float]:
    """The EVIDENCE_FEATURES of hits[position]; the margin is to the next hit."""
    hit = hits[position]
    following = hits[position + 1].score if len(hits) > position + 1 else 0.0
    return {"score": hit.score, "margin": hit.score - following, "dense": hit.dense,
            "centred": hit.centred, "lexical_raw": hit.lexical_raw,
            "coverage": hit.coverage, "title_coverage": hit.title_coverage,
            "source_term": hit.source_term}


class ReplyType(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    ESCALATE = "escalate"
    UNSUPPORTED = "unsupported_language"


class Evidence(StrEnum):
    """How strong the retrieval's evidence was, for replies and metrics."""

    CONFIDENT = "confident"
    AMBIGUOUS = "ambiguous"
    WEAK = "weak"
    NONE = "none"


@dataclass(frozen=True)
class Decision:
    type: ReplyType
    evidence: Evidence
    hits: list[ArticleHit]
    """ANSWER: the article; CLARIFY: the choices; ESCALATE: the article that may help
    (WEAK) or nothing (NONE: out of scope)."""
    confidence: float
    rescued: bool = False
    """ANSWER on evidence other than the whole message's top probability (a lower
    article than the ranker's first, or one clause of the message: `_Turn._focused`):
    enough to answer the question, not enough to override what the conversation already
    knows (a follow-up's topic, the topic a person request or a booking is about)."""


@dataclass(frozen=True)
class PolicyProfile:
    model_id: str
    weights: dict[str, float]
    """Per feature of EVIDENCE_FEATURES, on the raw (unscaled) feature."""
    language_bias: dict[str, float]
    bias: float
    answer_min: float
    clarify_min: float
    suggest_min: float
    related_max_gap: float
    """A follow-up may move from the current topic only to one of its nearest articles
    that is at most this much less close than the nearest (`LoadedIndex.related_articles`)."""
    tie_margin: float = 0.15
    """Two articles both likely and within this of each other: the citizen chooses
    (on the train splits: answered wrongly 0.018 -> 0.013, answered right 0.883 -> 0.865,
    the rest offered as a choice with the right article among it)."""
    rival_min_score: float = 0.6
    """Another article is a choice only when the ranker gives it at least this share of
    the top article's score: the policy's probability of a lower hit rests on its own
    evidence (an official term such as "Führerschein" names every driving-licence
    article), and the ranker is what compares the articles. On the train splits: blind
    answered right 0.774 -> 0.815, project questions 0.869 -> 0.881, answered wrongly
    unchanged (0.021, 0.006 -> 0.009); 0.5 gained less, 0.65 and above answered more
    wrongly."""
    sure_min: float = 0.9
    """Answers below this say that a ticket is open to the citizen if it does not help
    (a choice of wording, not fitted)."""
    fitted_on: str = ""
    measured: dict[str, Any] = field(default_factory=dict)

    def probability(self, hits: list[ArticleHit], position: int, lang: str | None) -> float:
        """P(hits[position] answers the question)."""
        values = evidence(hits, position)
        z = self.bias + self.language_bias.get(lang or "", 0.0)
        z += sum(self.weights[name] * values[name] for name in EVIDENCE_FEATURES)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def decide(self, hits: list[ArticleHit], lang: str | None) -> Decision:
        if not hits:
            return Decision(ReplyType.ESCALATE, Evidence.NONE, [], 0.0)
        probabilities = [self.probability(hits, i, lang) for i in range(len(hits))]
        p_top = probabilities[0]

        def rival(i: int) -> bool:
            return i == 0 or hits[i].score >= self.rival_min_score * hits[0].score

        if p_top >= self.answer_min:
            tied = [h for i, h in enumerate(hits[:CLARIFY_MAX_CHOICES])
                    if rival(i) and probabilities[i] >= p_top - self.tie_margin]
            if len(tied) >= 2:
                return Decision(ReplyType.CLARIFY, Evidence.AMBIGUOUS, tied, p_top)
            return Decision(ReplyType.ANSWER, Evidence.CONFIDENT, [hits[0]], p_top)
        plausible = [h for i, h in enumerate(hits[:CLARIFY_MAX_CHOICES])
                     if rival(i) and probabilities[i] >= self.clarify_min]
        if len(plausible) >= 2 and plausible[0] is hits[0]:
            return Decision(ReplyType.CLARIFY, Evidence.AMBIGUOUS, plausible, p_top)
        # The ranker compares articles mostly by meaning, and e5 reads Kurmanji and
        # typo-ridden Turkish poorly: "ji bo zulassung kijan belge lazim in?" ranks the
        # vehicle-registration article sixth, yet its title and keywords name what was
        # asked. When the ranker's first article is no evidence at all (below
        # suggest_min), or the ranker rates a lower one its rival, that lower one
        # answers if it is convincing on its own evidence and alone in being so.
        candidates = [i for i in range(1, len(hits))
                      if (p_top < self.suggest_min or rival(i))
                      and probabilities[i] >= self.answer_min]
        if candidates:
            best = max(candidates, key=lambda i: probabilities[i])
            if all(probabilities[i] < probabilities[best] - self.tie_margin
                   for i in candidates if i != best):
                return Decision(ReplyType.ANSWER, Evidence.CONFIDENT, [hits[best]],
                                probabilities[best], rescued=True)
        if p_top >= self.suggest_min:
            return Decision(ReplyType.ESCALATE, Evidence.WEAK, [hits[0]], p_top)
        return Decision(ReplyType.ESCALATE, Evidence.NONE, [], p_top)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyProfile:
        profile = cls(**data)
        missing = set(EVIDENCE_FEATURES) - set(profile.weights)
        if missing:
            raise ValueError(f"policy has no weight for {', '.join(sorted(missing))}")
        return profile

    @classmethod
    def uncalibrated(cls, model_id: str) -> PolicyProfile:
        """A policy for a model nobody measured: it never answers on its own (every
        question escalates, offering the best article), because a threshold on an
        unmeasured score would quietly be wrong."""
        return cls(model_id=model_id, weights=dict.fromkeys(EVIDENCE_FEATURES, 0.0),
                   language_bias={}, bias=0.0, answer_min=1.01, clarify_min=1.01,
                   suggest_min=0.0, related_max_gap=0.0,
                   fitted_on="uncalibrated: not fitted for this model")


CLARIFY_MAX_CHOICES = 3
DECISION_HITS = 6
"""Articles a decision looks at. A lower article can answer when its own evidence vouches
for it (`PolicyProfile.decide`): 5 -> 6 answered one more blind train question (Kurmanji,
its article sixth), nothing more wrongly; 8 and 10 answered nothing more."""

SWITCH_MIN_CONFIDENCE = 0.9
"""A conversation changes language only when the detector is at least this sure ..."""
SWITCH_MIN_WORDS = 2
"""... and the message has at least this many words (a lone word keeps the language)."""

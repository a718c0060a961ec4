"""Fit the chat policy (`chatbot eval fit-policy`): a logistic model of "the top hit
answers the question" over retrieval evidence, and its thresholds.

Training rows: the train splits of the project's questions and of the blind questions
(positive when the top hit is an expected article, else negative), the train split of
the out-of-scope questions, and SIB-200 train sentences (news and science, all
negative, weighed less: they are far easier to refuse than "library card" or "Kita").

Thresholds, chosen on the same train rows:
- `answer_min`: the lowest probability whose answers are wrong for at most
  `MAX_WRONG` of the in-domain questions and that answers at most `MAX_OOS_ANSWERED`
  of the out-of-scope ones in any language;
- `suggest_min`: below it the reply is the plain out-of-scope refusal; chosen so that at
  most `MAX_OOS_SUGGESTED` of the out-of-scope questions get an article suggested;
- `clarify_min`: a hit at least this likely is a plausible choice (never below
  `suggest_min`, and high enough that out of scope is not offered choices).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from chatbot.dialogue.policy import DECISION_HITS, EVIDENCE_FEATURES, PolicyProfile, evidence
from chatbot.evaluation.chat import ChatCase
from chatbot.retrieval import ArticleHit
from chatbot.retrieval.service import SearchService

MAX_WRONG = 0.02
MAX_OOS_ANSWERED = 0.035
"""Per language, over its out-of-scope train rows (SIB-200 sentences and the hard,
city-like ones such as "library card"): the issue's bar is 98% refused on held-out data;
every SIB-200 sentence is refused well below any threshold here, so what this bounds is
the near-domain questions (measured: 0/150 SIB-200 train sentences per language reach
p = 0.3). Chosen on the dev split once the third blind batch's near-domain questions
("Kindergeld", "Bürgergeld", a visa at the embassy) joined the train rows: 0.025 raised
answer_min to 0.65 and dev answered right fell 0.82 -> 0.79; 0.035 (and 0.05: the
wrong-answer bound then decides) keeps 0.82 with out of scope refused 1.00 on dev)."""
MAX_OOS_SUGGESTED = 0.05
SIB_WEIGHT = 0.3
L2 = 0.01
RELATED_MAX_GAP = 0.01
"""Measured on the city's corpus: "Reisepass" -> Kinderreisepass (0.981), Personalausweis
(0.977), Ausweis verloren (0.975); "Anmeldung" -> Ummeldung, Abmeldung,
Meldebescheinigung (0.988-0.979), not Kinderreisepass (below 0.96)."""


@dataclass(frozen=True)
class LabelledHits:
    lang: str
    hits: list[ArticleHit]
    in_domain: bool
    right: bool
    """The top hit is an expected article."""
    weight: float


def collect(search: SearchService, cases: Sequence[ChatCase], *, weight: float = 1.0
            ) -> list[LabelledHits]:
    """The hits the dialogue sees for each case as a first message (language detected)."""
    rows = []
    for case in cases:
        if case.in_scope and not case.expected:
            continue  # a city topic whose article lacks the detail asked: no label
        language = search.detect(case.question)
        if not language.supported:
            continue
        hits = search.search_hits(case.question, lang=language.code,
                                   top_k=DECISION_HITS)
        if not hits:
            continue
        rows.append(LabelledHits(lang=language.code, hits=hits,
                                 in_domain=bool(case.expected),
                                 right=hits[0].article_id in case.expected, weight=weight))
    return rows


def fit_policy(rows: Sequence[LabelledHits], *, model_id: str, languages: Sequence[str],
               fitted_on: str) -> PolicyProfile:
    features = np.array([_features(r.hits) for r in rows])
    langs = np.array([[float(r.lang == code) for code in languages] for r in rows])
    x = np.hstack([features, langs])
    y = np.array([float(r.right) for r in rows])
    w = np.array([r.weight for r in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / scale

    def loss(params: npt.NDArray[np.float64]) -> float:
        coef, bias = params[:-1], params[-1]
        logits = z @ coef + bias
        per_row = np.logaddexp(0.0, logits) - y * logits
        return float((w * per_row).sum() / w.sum() + L2 * (coef @ coef))

    result = minimize(loss, np.zeros(z.shape[1] + 1), method="L-BFGS-B")
    coef = result.x[:-1] / scale
    bias = float(result.x[-1] - (mean / scale * result.x[:-1]).sum())
    n = len(EVIDENCE_FEATURES)
    profile = PolicyProfile(
        model_id=model_id,
        weights={name: round(float(v), 4) for name, v in zip(EVIDENCE_FEATURES, coef[:n],
                                                              strict=True)},
        language_bias={code: round(float(v), 4) for code, v in zip(languages, coef[n:],
                                                                   strict=True)},
        bias=round(bias, 4), answer_min=0.5, clarify_min=0.5, suggest_min=0.5,
        related_max_gap=RELATED_MAX_GAP, fitted_on=fitted_on)
    return _with_thresholds(profile, rows)


def _features(hits: list[ArticleHit]) -> list[float]:
    values = evidence(hits)
    return [values[name] for name in EVIDENCE_FEATURES]


def _with_thresholds(profile: PolicyProfile, rows: Sequence[LabelledHits]) -> PolicyProfile:
    p = np.array([profile.probability(r.hits, 0, r.lang) for r in rows])
    in_domain = np.array([r.in_domain for r in rows])
    right = np.array([r.right for r in rows])
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if not r.in_domain:
            by_lang[r.lang].append(i)
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)

    def oos_share_at_least(t: float) -> float:
        return max((float((p[idx] >= t).mean()) for idx in map(np.array, by_lang.values())),
                   default=0.0)

    n_in = max(int(in_domain.sum()), 1)
    answer_min = next(float(t) for t in [*grid, 0.99]
                      if ((p >= t) & in_domain & ~right).sum() / n_in <= MAX_WRONG
                      and oos_share_at_least(t) <= MAX_OOS_ANSWERED)
    suggest_min = next(float(t) for t in [*grid, answer_min]
                       if oos_share_at_least(t) <= MAX_OOS_SUGGESTED)
    suggest_min = min(suggest_min, answer_min)
    clarify_min = max(suggest_min, round((suggest_min + answer_min) / 2, 2))
    answered = (p >= answer_min) & in_domain
    measured = {
        "train_in_domain": n_in,
        "train_answered_right": round(float((answered & right).sum() / n_in), 3),
        "train_answered_wrong": round(float((answered & ~right).sum() / n_in), 3),
        "train_out_of_scope": int((~in_domain).sum()),
        "train_oos_answered_max_language": round(oos_share_at_least(answer_min), 3),
        "train_oos_suggested_max_language": round(oos_share_at_least(suggest_min), 3),
    }
    return PolicyProfile(**{**profile.__dict__, "answer_min": answer_min,
                            "clarify_min": clarify_min, "suggest_min": suggest_min,
                            "measured": measured})

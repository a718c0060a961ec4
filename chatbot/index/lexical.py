"""Lexical analysis for BM25: accent folding plus a light per-language normalisation.

Folding makes "Fuehrerschein", "Führerschein" and "fuhrerschein" meet, and Turkish
dotless i or Kurmanji circumflexes typed without accents still match. German, English,
French and Italian use Snowball stemmers; Polish and Kurmanji have none, and Turkish's
needs the letters folding removes, so their words are cut to a prefix, which conflates
most inflected forms of a stem. Which one a
language uses, and its stop words, is language data (`analysis` in its registry file).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import Stemmer

from chatbot.languages import SUPPORTED_LANGUAGES, load_languages
from chatbot.languages.registry import TextAnalysis
from chatbot.text import fold

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_CLAUSE_END = re.compile(r"[,.;:!?()\n]")
_VERB_ENDINGS = ("e", "t", "st", "en")
"""Endings of the finite verb forms a particle separates from ("melde", "meldet",
"meldest", "melden"): other words of the clause are not joined."""
# Each language's analysis is in its registry file (chatbot/languages/<code>.yaml). Prefix
# lengths there were measured on the train splits of the project's and the blind
# questions (hit@1): Kurmanji 6 -> 4 letters 0.81 -> 0.85 (3 letters: no better); Polish
# 5 and 6 tie on train, 5 is better on dev (0.92 -> 0.94). German umlauts typed as
# digraphs ("fuehrerschein") fold like the umlaut itself in German and in the languages
# whose speakers type German official terms.
_ANALYSIS = {code: data.analysis
             for code, data in load_languages(SUPPORTED_LANGUAGES).items()}
# One shared list: citizens mix languages in one message (German terms in Polish,
# Turkish and Kurmanji), and in short phone-typed questions function words would
# otherwise outweigh the one content word.
_STOPWORDS = frozenset(word for analysis in _ANALYSIS.values()
                       for word in analysis.stopwords.split())
_PARTICLES = {code: frozenset(analysis.separable_prefixes.split())
              for code, analysis in _ANALYSIS.items()}


def analysis_fingerprint() -> str:
    """Every language's text analysis as one string: an index whose BM25 terms were made
    with another analysis is stale (`chatbot.index.builder.corpus_hash`)."""
    return json.dumps({code: analysis.model_dump(mode="json")
                       for code, analysis in sorted(_ANALYSIS.items())}, sort_keys=True)


@lru_cache(maxsize=8)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


def analyze(text: str, lang: str | None) -> list[str]:
    """Index or query terms for `text` in language `lang` (None: folding only)."""
    folded = fold(text)
    tokens = [t for t in _TOKEN.findall(folded) if t not in _STOPWORDS]
    analysis = _ANALYSIS.get(lang) if lang is not None else None
    return tokens if analysis is None else _normalised(tokens, analysis)


def analyze_words(text: str, lang: str) -> list[frozenset[str]]:
    """Per word of `text` that is not a function word, its terms as `analyze` gives them
    (a prefix and, for a long word in a prefix language, the whole word too)."""
    analysis = _ANALYSIS.get(lang)
    return [frozenset(token if analysis is None else _normalised([token], analysis))
            for token in _TOKEN.findall(fold(text)) if token not in _STOPWORDS]


def analyze_query(text: str, lang: str | None) -> list[str]:
    """Terms of a citizen's question: `analyze`, plus each verb joined again to the
    particle a German clause separates from it ("wie melde ich mich um" also searches
    "ummelde", as the article's "ummelden"). For BM25 and the German-term match only:
    articles are analysed without joining (they name services by infinitive or noun),
    and the share of a question's words an article contains counts the words as
    written, since a joined form no article holds would only lower it."""
    terms = analyze(text, lang)
    analysis = _ANALYSIS.get(lang) if lang is not None else None
    particles = _PARTICLES.get(lang) if lang is not None else None
    if analysis is None or not particles:
        return terms
    joined = _rejoined_verbs(text, particles)
    return terms + [t for t in dict.fromkeys(_normalised(joined, analysis)) if t not in terms]


def _normalised(tokens: list[str], analysis: TextAnalysis) -> list[str]:
    if analysis.umlaut_digraphs:
        tokens = [t.replace("ae", "a").replace("oe", "o").replace("ue", "u") for t in tokens]
    if analysis.stemmer is not None:
        return [str(t) for t in _stemmer(analysis.stemmer).stemWords(tokens)]
    if analysis.prefix is not None:
        length = analysis.prefix
        # A long word is also kept whole: German compounds typed into Polish, Turkish or
        # Kurmanji ("kinderreisepass") must not shrink to their first letters.
        return [form for t in tokens
                for form in ((t[:length], t) if len(t) >= length + 4 else (t[:length],))]
    return tokens


def _rejoined_verbs(text: str, particles: frozenset[str]) -> list[str]:
    """Each lower-case word ending like a verb form in a clause that ends in a separated
    particle ("wie melde ich mich um", "ich melde das Auto ab"), joined to it:
    "ummelde", "abmelde". Capitalised words are German nouns (or begin the sentence),
    and words that already carry a particle or "ge" are complete verbs or participles:
    neither is joined ("Welche Leistungen bietet das Jobcenter an?" joins "bietet")."""
    joined = []
    for clause in _CLAUSE_END.split(text):
        words = _TOKEN.findall(clause)
        particle = fold(words[-1]) if words else ""
        if len(words) < 2 or particle not in particles:
            continue
        for word in words[:-1]:
            folded = fold(word)
            if (word[0].islower() and len(folded) >= 4 and folded not in _STOPWORDS
                    and not folded.startswith((*particles, "ge"))
                    and folded.endswith(_VERB_ENDINGS)):
                joined.append(particle + folded)
    return joined

"""Language detection for incoming chat messages.

The statistical core is py3langid (BSD-3-Clause; a Naive Bayes model over byte
n-grams that ships inside the wheel, 139 languages including Kurmanji `ku` and
Southern Kurdish `sdh`). Chat messages are much shorter than the documents that
model was trained on, so its scores are combined with hand-written linguistic
knowledge: small lists of function words and chat formulas, the letters each
language's orthography uses, and the conversation's previous language.

Nothing here reads the network or any file outside the installed packages.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from chatbot.languages import SUPPORTED_LANGUAGES, load_languages

__all__ = [
    "SUPPORTED_LANGUAGES",
    "LanguageDetector",
    "LanguageGuess",
]

# ku = Kurmanji, Latin script.

_UNDETERMINED = "und"


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True)
class LanguageGuess:
    """What a message's language is taken to be.

    `code` is one of SUPPORTED_LANGUAGES, another ISO 639 code ("ckb" for Arabic-script
    Kurdish, "ar", "uk", "ru", "es", ...), or "und" when nothing can be said: no word
    at all, or only words like "ok" and no prior (then `confidence` is 0).
    `confidence` is the probability of `code` among the candidates after the rules
    and the prior were applied, in [0, 1].
    """

    code: str
    confidence: float
    supported: bool


# Latin-script languages that a citizen of a German city plausibly writes in and that
# py3langid knows. Only these may be reported as "unsupported Latin": the model also
# knows regional varieties (Luxembourgish, Venetian, Occitan, Crimean Tatar, ...) that
# it confuses with our languages on short text, and routing a German, Italian, French
# or Turkish user to "unsupported" costs far more than missing one of those varieties.
_UNSUPPORTED_LATIN: frozenset[str] = _word_set(
    "es pt nl ro hr bs sr sq cs sk hu sl lt lv et fi sv da no nn is ca gl eu ga cy "
    "vi id ms tl sw so ha yo ig om rw az uz tk mt af"
)

# py3langid labels mapped to the code we report. `sdh` is the model's only
# Arabic-script Kurdish class; Sorani (ckb) is by far the most common Arabic-script
# Kurdish among people who write to a German city, and both are unsupported anyway.
_CODE_MAP: Mapping[str, str] = {"sdh": "ckb", "arz": "ar", "ary": "ar"}

# Letters that only Arabic-script Kurdish uses (Persian, Arabic, Urdu and Uyghur lack
# them), so their presence settles the question without the model.
_KURDISH_ARABIC_LETTERS = frozenset("\u0695\u06b5\u06ce")  # ڕ ڵ ێ

# Non-ASCII letters each supported orthography uses. A word containing any other
# non-ASCII letter is evidence against the language: Kurmanji writes ê î û ç ş and
# never ı ğ ö ü, Turkish is the reverse apart from the rare circumflex, English has
# none, and so on. Names can break this, hence a penalty rather than a veto. Both the
# letters and the function words below are language data (`detection` in
# chatbot/languages/<code>.yaml).
_REGISTRY = load_languages(SUPPORTED_LANGUAGES)
_ALPHABET: Mapping[str, frozenset[str]] = {
    code: frozenset(data.detection.letters) for code, data in _REGISTRY.items()
}

# Frequent function words and chat formulas, lowercased, including the spellings
# people type when their keyboard lacks the accents. Words shared between languages
# simply count for each of them. Besides the supported languages' lists, Spanish,
# Portuguese and Dutch are listed here because they are the unsupported languages the
# model most easily mistakes for Italian, French or German.
_UNSUPPORTED_LEXICON_TEXT: Mapping[str, str] = {
    "es": """
        el los las y del por para con es está estoy necesito quiero puedo dónde donde
        cómo cuánto cuanto qué hola gracias buenos días dias favor mis pero muy también
        tengo hay usted
        """,
    "pt": """
        o os as e do da dos das em no na por para com é está estou preciso quero posso
        onde como quanto olá ola obrigado obrigada bom dia favor meu minha não nao você
        voce tenho
        """,
    "nl": """
        de het een en van in is ik je jij u wij mijn niet wat waar wanneer hoe kan
        kunnen moet wil graag bedankt dank hallo goedemorgen ja nee ook voor met op aan
        heb heeft zijn
        """,
}
_LEXICON: Mapping[str, frozenset[str]] = {
    **{code: _word_set(data.detection.function_words) for code, data in _REGISTRY.items()},
    **{lang: _word_set(words) for lang, words in _UNSUPPORTED_LEXICON_TEXT.items()},
}

# What follows an apostrophe is telling: Turkish writes case and possessive suffixes
# after an apostrophe on names (Berlin'de, Almanya'ya, CEO'su), English contracts
# (it's, don't, we're), whereas French and Italian elide before it (l'adresse, dell'anno).
_SUFFIXES_AFTER_APOSTROPHE: Mapping[str, frozenset[str]] = {
    "tr": _word_set(
        """
        da de ta te dan den tan ten daki deki taki teki a e ya ye na ne ı i u ü yı yi yu
        yü ın in un ün nın nin nun nün ndan nden nda nde la le yla yle lar ler ları leri
        sı si su sü dır dir dur dür tır tir
        """
    ),
    "en": _word_set("s t m re ll ve d"),
}
# Elisions whose remainder looks like a Turkish suffix (French quelqu'un, l'a, d'un).
_MIN_STEM_BEFORE_SUFFIX = 3

# Tokens that belong to no language in particular; a message made only of these says
# nothing about its language.
_NEUTRAL_WORDS = _word_set(
    "ok okay oke okey okk k kk hm hmm hmmm ah oh aha haha hahaha hehe lol xd"
)

# Scoring weights, chosen on the SIB-200 train split and on hand-written chat messages.
# Scores are calibrated log-probabilities: the raw model score divided by the square
# root of the input length, which is how py3langid calibrates its own probabilities.
# A word-list hit is worth as much as a strong n-gram in raw units, so, like the
# model's evidence, it weighs more in a short message than in a long one.
_LEXICON_BONUS = 6.0
# Calibrated units, per word: enough to settle a short message, not a long one.
_FOREIGN_LETTER_PENALTY = 3.0
# Turkish words do not contain q, w or x; Kurmanji ones often do (xwe, dixwazim).
_TURKISH_QWX_PENALTY = 0.5
# How much better an unsupported language must score before we give up on the
# supported ones; short text is noisier, so it needs more.
_UNSUPPORTED_MARGIN = 3.0
_UNSUPPORTED_MARGIN_SHORT = 4.5
# A message of at most this many words is "short": the conversation's language
# wins unless the text clearly belongs to another one.
_SHORT_WORDS = 3
# Indexed by the number of words: each added word is more evidence of its own.
_PRIOR_BOOST: tuple[float, ...] = (0.0, 7.5, 4.0, 3.0)
_NEUTRAL_PRIOR_CONFIDENCE = 0.5
# Languages whose speakers live side by side and whose short messages must not be
# pulled into each other by the conversation's language (see _detect_latin).
_RIVALS: Mapping[str, str] = {"tr": "ku", "ku": "tr"}
# The language of a pasted letter is settled long before its end; this bounds latency.
_MAX_CHARS = 2000

# Letters some languages of other scripts never use: enough to tell Ukrainian from
# Russian or Arabic from Persian when a message is too short for the model.
_NEVER_LETTERS: Mapping[str, frozenset[str]] = {
    "uk": frozenset("ыэъёў"),
    "ru": frozenset("іїєґўј"),
    "be": frozenset("ищъїєґ"),
    "bg": frozenset("ыэёіїєґўј"),
    "ar": frozenset("پچژگکیۆێڵڕە"),
    "fa": frozenset("ۆێڵڕە"),
}

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_TOKEN = re.compile(r"\S+")
_APOSTROPHE = re.compile(r"['’]")


def _without_links(text: str) -> str:
    """URLs and e-mail addresses say nothing about the language. Token by token, so
    the time is linear: the single pattern `\\S+@\\S+\\.\\S+` took 5 s on 2,000
    characters of "x@x@...", stalling a worker."""
    return _TOKEN.sub(_link_removed, text)


def _link_removed(token: re.Match[str]) -> str:
    word = token.group()
    url = _URL.search(word)
    if url is not None:
        return word[:url.start()] + " "
    # `name@host.tld`: an '@' after the first character, later a '.' with text on
    # both sides.
    at = word.find("@", 1)
    if at != -1 and word.find(".", at + 2, len(word) - 1) != -1:
        return " "
    return word


def _script(char: str) -> str:
    """First word of the Unicode name: LATIN, ARABIC, CYRILLIC, CJK, ..."""
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def _dominant_script(letters: Iterable[str]) -> str:
    counts: dict[str, int] = {}
    for char in letters:
        script = _script(char)
        counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda s: counts[s]) if counts else "UNKNOWN"


def _lower(text: str) -> str:
    # str.lower() turns the Turkish dotted capital İ into "i" plus a combining dot,
    # which matches no word list and no model feature.
    return text.replace("İ", "i").lower()


def _softmax(scores: Mapping[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exps = {code: math.exp(value - top) for code, value in scores.items()}
    total = sum(exps.values())
    return {code: value / total for code, value in exps.items()}


def _guess(code: str, confidence: float) -> LanguageGuess:
    return LanguageGuess(
        code=code,
        confidence=min(1.0, max(0.0, confidence)),
        supported=code in SUPPORTED_LANGUAGES,
    )


class LanguageDetector:
    """Detects the language of one chat message; thread-safe once constructed."""

    def __init__(self) -> None:
        # The model is read from inside the installed py3langid wheel; no download.
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
        self._labels: tuple[str, ...] = tuple(self._identifier.labels)

    def detect(self, text: str, *, prior: str | None = None) -> LanguageGuess:
        cleaned = unicodedata.normalize("NFC", _without_links(text[:_MAX_CHARS]))
        lowered = _lower(cleaned)
        words: list[str] = _WORD.findall(lowered)
        prior_code = prior.lower() if prior else None
        if prior_code not in SUPPORTED_LANGUAGES:
            prior_code = None

        if not words:
            return _guess(_UNDETERMINED, 0.0)
        if all(w in _NEUTRAL_WORDS for w in words):
            if prior_code is not None:
                return _guess(prior_code, _NEUTRAL_PRIOR_CONFIDENCE)
            return _guess(_UNDETERMINED, 0.0)

        script = _dominant_script(ch for w in words for ch in w if ch.isalpha())
        raw = self._raw_scores(cleaned, lowered)
        # The model's own temperature: it keeps probabilities comparable across lengths.
        temperature = math.sqrt(len(cleaned.encode("utf-8")) + 2)
        if script != "LATIN":
            return self._detect_non_latin(cleaned, script, raw, temperature)
        guess = self._detect_latin(words, raw, temperature, prior_code)
        if guess is None:
            return (
                _guess(prior_code, _NEUTRAL_PRIOR_CONFIDENCE)
                if prior_code
                else _guess(_UNDETERMINED, 0.0)
            )
        return guess

    def _raw_scores(self, cleaned: str, lowered: str) -> dict[str, float]:
        """Model log-scores per label, averaged over the text as typed and lowercased.

        The surrounding spaces let the model's word-boundary n-grams fire on the first
        and last word. Lowercase helps chat text (typed in lowercase, like the model's
        most frequent n-grams) while the original casing keeps German noun capitals.
        """
        as_typed = dict(self._identifier.rank(f" {cleaned} "))
        in_lower = dict(self._identifier.rank(f" {lowered} "))
        scores: dict[str, float] = {}
        for label in self._labels:
            a, b = float(as_typed[label]), float(in_lower[label])
            # Text without any known n-gram gets a huge negative floor for every label;
            # treat that as "no evidence" rather than as a real score.
            scores[label] = 0.0 if min(a, b) < -1e30 else (a + b) / 2.0
        return scores

    def _detect_non_latin(
        self, cleaned: str, script: str, raw: Mapping[str, float], temperature: float
    ) -> LanguageGuess:
        # None of the supported languages is written in this script, so only the
        # model's other labels compete.
        letters = set(_lower(cleaned))
        candidates = {
            label: score / temperature
            for label, score in raw.items()
            if label not in SUPPORTED_LANGUAGES and label != "zxx"
        }
        for label, never in _NEVER_LETTERS.items():
            if label in candidates and not never.isdisjoint(letters):
                candidates[label] -= _FOREIGN_LETTER_PENALTY
        probabilities = _softmax(candidates)
        best = max(probabilities, key=lambda label: probabilities[label])
        if script == "ARABIC" and (
            best in ("sdh", "ku") or not _KURDISH_ARABIC_LETTERS.isdisjoint(letters)
        ):
            kurdish = probabilities.get("sdh", 0.0) + probabilities.get("ku", 0.0)
            return _guess("ckb", max(kurdish, probabilities[best]))
        if not any(raw.values()):
            # A word of a script the model has no n-gram for: a flat distribution
            # would make its first label look like an answer.
            return _guess(_UNDETERMINED, 0.0)
        return _guess(_CODE_MAP.get(best, best), probabilities[best])

    def _detect_latin(
        self,
        words: list[str],
        raw: Mapping[str, float],
        temperature: float,
        prior: str | None,
    ) -> LanguageGuess | None:
        """The best Latin-script guess, or None when nothing points to any language."""
        tokens: list[str] = []
        suffix_hits: dict[str, int] = {}
        for word in words:
            tokens.append(word)
            parts = _APOSTROPHE.split(word)
            if len(parts) < 2:
                continue
            # Both the whole form and its parts are words: l'adresse, dell'anagrafe.
            tokens.extend(parts)
            stem, suffix = parts[0], parts[-1]
            for lang, suffixes in _SUFFIXES_AFTER_APOSTROPHE.items():
                if suffix in suffixes and (lang == "en" or self._turkish_stem(stem)):
                    suffix_hits[lang] = suffix_hits.get(lang, 0) + 1
        content_words = [w for w in words if w not in _NEUTRAL_WORDS]
        short = len(content_words) <= _SHORT_WORDS

        scores: dict[str, float] = {}
        hits: dict[str, int] = {}
        foreign: dict[str, int] = {}
        for lang in SUPPORTED_LANGUAGES:
            hits[lang] = self._lexicon_hits(lang, tokens) + suffix_hits.get(lang, 0)
            foreign[lang] = self._foreign_words(lang, words)
            scores[lang] = (
                raw[lang] / temperature
                + _LEXICON_BONUS * hits[lang] / temperature
                - _FOREIGN_LETTER_PENALTY * foreign[lang]
            )
        if not (any(raw.values()) or any(hits.values()) or any(foreign.values())):
            return None
        qwx_words = sum(1 for w in words if any(ch in "qwx" for ch in w))
        scores["tr"] -= _TURKISH_QWX_PENALTY * qwx_words
        margin = _UNSUPPORTED_MARGIN_SHORT if short else _UNSUPPORTED_MARGIN
        for label in _UNSUPPORTED_LATIN:
            scores[label] = (
                raw[label] / temperature
                + _LEXICON_BONUS * self._lexicon_hits(label, tokens) / temperature
                - margin
            )
        # Letters the conversation's language never uses are what makes a short message
        # "clearly another language"; short of that, the conversation's language wins.
        # Kurmanji and Turkish get a stricter rule: calling a Kurdish "spas" Turkish
        # (or a Turkish "evet" Kurdish) because the previous message was is exactly
        # the mistake users of this service resent most, so any word of the other
        # language, or a q/w/x that Turkish never writes, keeps the prior out.
        if prior is not None and short and foreign[prior] == 0:
            rival = _RIVALS.get(prior)
            rival_evidence = rival is not None and (
                (hits[rival] > 0 and hits[prior] == 0) or (prior == "tr" and qwx_words > 0)
            )
            if not rival_evidence:
                scores[prior] += _PRIOR_BOOST[len(content_words)]

        probabilities = _softmax(scores)
        best = max(probabilities, key=lambda label: probabilities[label])
        return _guess(_CODE_MAP.get(best, best), probabilities[best])

    @staticmethod
    def _turkish_stem(stem: str) -> bool:
        return len(stem) >= _MIN_STEM_BEFORE_SUFFIX and not stem.endswith("qu")

    @staticmethod
    def _lexicon_hits(lang: str, tokens: Iterable[str]) -> int:
        lexicon = _LEXICON.get(lang)
        if lexicon is None:
            return 0
        return sum(1 for token in tokens if token in lexicon)

    @staticmethod
    def _foreign_words(lang: str, words: Iterable[str]) -> int:
        alphabet = _ALPHABET[lang]
        return sum(
            1
            for word in words
            if any(ord(ch) > 0x7F and ch.isalpha() and ch not in alphabet for ch in word)
        )

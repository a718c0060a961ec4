"""SIB-200 / FLORES-200 sentences (`../shared/data/sib200_lid/<stem>.<split>.tsv`): the
same news and science sentences in every language. They measure language detection
(`chatbot eval language`) and serve the chat evaluation as out-of-scope messages."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from chatbot.errors import DatasetError
from chatbot.language import LanguageDetector, LanguageGuess

SIB_LANGUAGES: Mapping[str, str | None] = {
    "deu_Latn": "de",
    "eng_Latn": "en",
    "fra_Latn": "fr",
    "ita_Latn": "it",
    "pol_Latn": "pl",
    "tur_Latn": "tr",
    "kmr_Latn": "ku",
    "ckb_Arab": None,
}
"""File stem -> the code a correct detection gives; None: must be detected as unsupported
(Sorani, Kurdish in Arabic script)."""


def read_sib_texts(sib_dir: Path, stem: str, split: str) -> list[str]:
    path = Path(sib_dir) / f"{stem}.{split}.tsv"
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            # Sentences contain quotes; the files are plain tab-separated, not quoted CSV.
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            if header is None:
                return []
            column = header.index("text") if "text" in header else 2
            return [row[column].strip() for row in reader if len(row) > column]
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read the SIB-200 file {path}: {exc}") from exc


def evaluate_detector(
    detector: LanguageDetector, sib_dir: Path, split: str = "dev", prefix_words: int = 4
) -> dict[str, dict[str, float]]:
    """Accuracy per SIB-200 language on whole sentences and on their first words.

    For ckb_Arab (Sorani) a guess counts as correct when it is any unsupported code.
    """
    results: dict[str, dict[str, float]] = {}
    for stem, expected in SIB_LANGUAGES.items():
        texts = read_sib_texts(sib_dir, stem, split)
        sentence_hits = sum(_is_correct(detector.detect(t), expected) for t in texts)
        prefix_hits = sum(
            _is_correct(detector.detect(" ".join(t.split()[:prefix_words])), expected)
            for t in texts
        )
        n = len(texts)
        results[stem] = {
            "n": float(n),
            "sentence_acc": sentence_hits / n if n else 0.0,
            "prefix_acc": prefix_hits / n if n else 0.0,
        }
    return results


def _is_correct(guess: LanguageGuess, expected: str | None) -> bool:
    return not guess.supported if expected is None else guess.code == expected

"""Readers for evaluation data: OMoS-QA pages and questions, and the project's own
question set (`tests/data/questions.jsonl`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from chatbot.corpus.models import Article
from chatbot.errors import DatasetError


@dataclass(frozen=True)
class Question:
    text: str
    lang: str
    article_id: str
    group: str
    """Reporting group: the language for originals, 'de<-en' for a question machine-
    translated into German whose page is English."""


def read_jsonl(path: Path) -> list[dict[str, object]]:
    rows = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise DatasetError(f"{path}:{number}: not JSON ({exc.msg})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    return rows


def load_omos_pages(path: Path) -> list[Article]:
    articles = []
    for row in read_jsonl(path):
        text = str(row["text"])
        title = str(row.get("title") or text.split("\n", 1)[0])
        body = text.split("\n", 1)[1] if text.startswith(title) and "\n" in text else text
        articles.append(
            Article(
                id=str(row["article_id"]),
                lang=str(row["lang"]),
                title=title,
                department=str(row.get("city", "omos")),
                updated=date(2024, 1, 1),
                body=body.strip() or title,
                path=f"omos/{row['article_id']}",
            )
        )
    return articles


def load_questions(path: Path, page_langs: dict[str, str] | None = None,
                   split: str | None = None) -> list[Question]:
    """OMoS questions (grouped by original or translation direction) or project questions;
    `split` keeps only rows whose `split` field matches (rows without one always match)."""
    questions = []
    for number, row in enumerate(read_jsonl(path), 1):
        if split is not None and row.get("split", split) != split:
            continue
        if not row.get("article_id"):
            if "in_scope" in row:
                continue  # a blind question no article answers: nothing to retrieve
            raise DatasetError(f"{path}: question {number} has no article_id")
        if "lang" not in row:
            raise DatasetError(f"{path}: question {number} has no lang")
        lang = str(row["lang"])
        article_id = str(row["article_id"])
        source = row.get("machine_translated_from")
        group = lang
        if source and page_langs is not None:
            group = f"{lang}<-{page_langs.get(article_id, source)}"
        text = str(row.get("question") or row.get("text") or "")
        questions.append(Question(text=text, lang=lang, article_id=article_id, group=group))
    return questions

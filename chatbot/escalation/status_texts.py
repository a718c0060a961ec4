"""What citizens read about their ticket outside the chat, per language: the status
page's wording and the names of the ticket states (`prompts/<lang>/status_page.yaml`;
the e-mails use the same state names)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from chatbot.config import checkout_path
from chatbot.errors import ChatbotError
from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.storage.models import TICKET_STATUSES

FILE = "status_page.yaml"
# Every language file must have every one of these (checked at start-up).
KEYS = ("title", "lookup_title", "lookup_intro", "reference", "code", "show", "loading",
        "not_found", "status", "created", "updated", "history", "conversation", "from_city",
        "from_you", "no_messages", "answer_title", "answer_hint", "answer_label", "send",
        "sent", "closed_hint", "error_generic", "error_rate_limited", "error_empty",
        "error_too_long", "privacy_hint", "no_script", "code_hint")


def _load(path: Path) -> dict[str, object]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ChatbotError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ChatbotError(f"{path}: expected a mapping of texts")
    return data


@cache
def load_status_texts(prompts_dir: Path) -> dict[str, dict[str, object]]:
    """Per language: the texts (`KEYS`) and `statuses` (state -> name)."""
    prompts_dir = checkout_path(prompts_dir)
    texts: dict[str, dict[str, object]] = {}
    for lang in SUPPORTED_LANGUAGES:
        path = prompts_dir / lang / FILE
        if not path.is_file():
            raise ChatbotError(f"missing {path} (the ticket status page's texts)")
        data = _load(path)
        statuses = data.get("statuses")
        missing = [key for key in KEYS if not isinstance(data.get(key), str)]
        if not isinstance(statuses, dict):
            missing.append("statuses")
        else:
            missing += [f"statuses.{s}" for s in TICKET_STATUSES
                        if not isinstance(statuses.get(s), str)]
        if missing:
            raise ChatbotError(f"{path}: missing texts: {', '.join(missing)}")
        texts[lang] = data
    return texts


def status_name(prompts_dir: Path, lang: str, status: str) -> str:
    texts = load_status_texts(prompts_dir)
    statuses = texts.get(lang, texts["de"])["statuses"]
    assert isinstance(statuses, dict)
    return str(statuses.get(status, status))

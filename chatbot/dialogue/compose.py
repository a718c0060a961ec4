"""Replies from the jinja2 templates in `prompts/<lang>/`.

Templates render in a sandbox with StrictUndefined; `Composer` checks at start-up that
every supported language has every template and that each parses, and fails loudly.
Article text is inserted verbatim: the templates add only fixed phrases.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from chatbot.config import checkout_path
from chatbot.dialogue.hotline import HotlineStatus
from chatbot.errors import ChatbotError
from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.languages import load_languages
from chatbot.prompt_templates import checked_environment

TEMPLATES = ("answer", "appointment", "case_status", "clarify", "defect_report", "escalate",
             "hotline", "out_of_scope", "smalltalk", "unsupported")
SUFFIX = ".md.j2"


class PromptsError(ChatbotError):
    """The prompts directory is incomplete or a template does not parse."""


class Composer:
    def __init__(self, prompts_dir: Path) -> None:
        prompts_dir = checkout_path(prompts_dir)
        self.prompts_dir = prompts_dir
        if not prompts_dir.is_dir():
            raise PromptsError(f"prompts directory {prompts_dir} does not exist "
                               "(set CHATBOT_PROMPTS_DIR)")
        self.env = checked_environment(prompts_dir, TEMPLATES, SUFFIX, what="templates",
                                       error=PromptsError)
        # Every language's data file is checked here too, so a missing one stops
        # `chatbot serve` at start-up, not the first chat in that language.
        self.languages = load_languages(SUPPORTED_LANGUAGES)

    def render(self, lang: str, name: str, **context: Any) -> str:
        return self.env.get_template(f"{lang}/{name}{SUFFIX}").render(**context).strip()

    def hotline(self, lang: str, status: HotlineStatus) -> str:
        # `next_open` (date and time in one) stays for operators' own templates written
        # before the weekday parts existed; the shipped ones use the parts.
        return self.render(lang, "hotline", open=status.open, phone=status.phone,
                           next_open=_when(status.next_open),
                           next_open_day=self.languages[lang].weekdays[status.next_open.weekday()],
                           next_open_date=status.next_open.strftime("%d.%m.%Y"),
                           next_open_time=status.next_open.strftime("%H:%M"),
                           closes_at=status.closes_at.strftime("%H:%M") if status.closes_at
                           else "")


def _when(moment: datetime) -> str:
    return moment.strftime("%d.%m.%Y, %H:%M")

"""Jinja2 templates per language under `prompts/<lang>/`, every one checked when loaded.

The chat's replies (`dialogue/compose.py`) and the notification e-mails
(`escalation/mail.py`) both fail at start-up, naming the file, when a language lacks a
template or one does not parse, rather than at the first citizen who needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from chatbot.errors import ChatbotError
from chatbot.language import SUPPORTED_LANGUAGES


def checked_environment(prompts_dir: Path, names: Sequence[str], suffix: str, *,
                        what: str, error: type[ChatbotError]) -> SandboxedEnvironment:
    """A sandboxed environment over `prompts_dir` in which `<lang>/<name><suffix>`
    exists and parses for every supported language; else `error` naming what is wrong."""
    missing = [f"{lang}/{name}{suffix}" for lang in SUPPORTED_LANGUAGES for name in names
               if not (prompts_dir / lang / f"{name}{suffix}").is_file()]
    if missing:
        raise error(f"missing {what} in {prompts_dir}: {', '.join(missing)}")
    env = SandboxedEnvironment(loader=FileSystemLoader(str(prompts_dir)),
                               undefined=StrictUndefined, autoescape=False,
                               keep_trailing_newline=False)
    for lang in SUPPORTED_LANGUAGES:
        for name in names:
            try:
                env.get_template(f"{lang}/{name}{suffix}")
            except TemplateError as exc:
                raise error(f"{prompts_dir / lang / (name + suffix)}: {exc}") from exc
    return env

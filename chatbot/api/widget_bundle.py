"""The citizens' widget as one script: web_widget/ sources bundled once at start-up.

`web_widget/widget.js` is plain browser JavaScript that expects a `BUILD` constant
(version, stylesheet, UI strings of every language). Bundling is string assembly in
Python, so serving the widget needs no Node tool chain; the version is a hash of the
bundle, so a changed source gets a new cache key.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from chatbot import __version__
from chatbot.config import checkout_path
from chatbot.errors import ConfigurationError
from chatbot.language import SUPPORTED_LANGUAGES

SOURCES = ("widget.js", "widget.css")


class WidgetError(ConfigurationError):
    """The widget's sources are missing or its UI strings are incomplete."""


@dataclass(frozen=True)
class WidgetBundle:
    script: bytes
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def load_ui_strings(widget_dir: Path) -> dict[str, dict[str, str]]:
    """`i18n/<lang>.json` for every supported language, each with the same keys as German."""
    strings: dict[str, dict[str, str]] = {}
    for lang in SUPPORTED_LANGUAGES:
        path = widget_dir / "i18n" / f"{lang}.json"
        try:
            table = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise WidgetError(f"{path}: missing (the widget needs UI strings for {lang})") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WidgetError(f"{path}: not valid UTF-8 JSON: {exc}") from exc
        if not isinstance(table, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
            raise WidgetError(f"{path}: must be one JSON object of strings")
        strings[lang] = table
    reference = strings["de"]
    for lang, table in strings.items():
        path = widget_dir / "i18n" / f"{lang}.json"
        missing, extra = set(reference) - set(table), set(table) - set(reference)
        if missing or extra:
            raise WidgetError(
                f"{path}: keys differ from de.json "
                f"(missing: {', '.join(sorted(missing)) or '-'}; "
                f"unknown: {', '.join(sorted(extra)) or '-'})")
        for key, text in table.items():
            # The widget fills {placeholders}; a translation that drops or renames one
            # would show a raw brace to citizens.
            if _placeholders(text) != _placeholders(reference[key]):
                raise WidgetError(f"{path}: {key!r} must use the placeholders "
                                  f"{sorted(_placeholders(reference[key]))} like de.json")
    return strings


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{([a-z_]+)\}", text))


def build_widget_bundle(widget_dir: Path, *, privacy_url: str = "/datenschutz") -> WidgetBundle:
    """`privacy_url` is the consent checkboxes' link; relative to the API origin unless
    absolute."""
    widget_dir = checkout_path(widget_dir)
    sources: dict[str, str] = {}
    for name in SOURCES:
        path = widget_dir / name
        try:
            sources[name] = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise WidgetError(f"{path}: missing (set CHATBOT_WIDGET_DIR)") from exc
    strings = load_ui_strings(widget_dir)
    digest = hashlib.sha256()
    for part in (__version__, sources["widget.js"], sources["widget.css"],
                 json.dumps(strings, sort_keys=True), privacy_url):
        digest.update(part.encode("utf-8"))
    version = f"{__version__}-{digest.hexdigest()[:12]}"
    build = {"version": version, "css": sources["widget.css"], "strings": strings,
             "privacyUrl": privacy_url}
    # `</` is escaped so the bundle could even be inlined into a <script> element.
    build_json = json.dumps(build, ensure_ascii=False).replace("</", "<\\/")
    script = ("/* Citizen service chat widget " + version + " - EUPL-1.2 */\n"
              "(function () {\n\"use strict\";\nconst BUILD = " + build_json + ";\n"
              + sources["widget.js"] + "\n})();\n")
    return WidgetBundle(script=script.encode("utf-8"), version=version)

"""Chat transcripts for the agents' console: Markdown as plain text with links.

The chat's replies are Markdown. Agents read them as text: emphasis and heading marks
dropped, list marks as bullets, and links (Markdown's `[label](url)` or a bare
address) as parts with an `href`, only to http(s) addresses or this service's own
paths, so a `javascript:` link stays text. The console builds text nodes and links
from the parts and never parses HTML, so nothing a citizen typed can become markup.

Every repetition in the patterns is bounded and nothing is nested, so a line costs at
most a constant factor per character (the transcript limit is 100,000 characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+")
_QUOTE = re.compile(r"^ {0,3}> ?")
_BULLET = re.compile(r"^([ \t]{0,8})[-*+][ \t]+")
_STRONG = re.compile(r"\*\*|__")
_EMPHASIS = re.compile(r"(^|[\s(])_([^_\n]{1,500})_(?=$|[\s.,;:!?)])")
_LINK = re.compile(
    r"\[(?P<label>[^\]\n]{1,200})\]\((?P<href>(?:https?://|/(?!/))[^\s()]{1,2000})\)"
    r"|(?P<bare>https?://[^\s<>()\[\]]{1,2000})")
_TRAILING_PUNCTUATION = ".,;:!?'\""


@dataclass(frozen=True)
class TextPart:
    text: str
    href: str | None = None


def _plain(line: str) -> str:
    line = _HEADING.sub("", line)
    line = _QUOTE.sub("", line)
    line = _BULLET.sub(r"\1• ", line)
    line = _STRONG.sub("", line)
    return _EMPHASIS.sub(r"\1\2", line)


def _append(parts: list[TextPart], text: str) -> None:
    """Adjacent text joins into one part."""
    if not text:
        return
    if parts and parts[-1].href is None:
        parts[-1] = TextPart(parts[-1].text + text)
    else:
        parts.append(TextPart(text))


def text_parts(markdown: str) -> list[TextPart]:
    """The text as parts: plain text (line breaks kept as "\\n") and links."""
    parts: list[TextPart] = []
    for index, raw in enumerate(markdown.split("\n")):
        if index:
            _append(parts, "\n")
        line = _plain(raw)
        last = 0
        for match in _LINK.finditer(line):
            _append(parts, line[last:match.start()])
            if match.group("bare") is not None:
                url = match.group("bare").rstrip(_TRAILING_PUNCTUATION)
                parts.append(TextPart(url, url))
                last = match.start() + len(url)
            else:
                parts.append(TextPart(match.group("label"), match.group("href")))
                last = match.end()
        _append(parts, line[last:])
    return parts

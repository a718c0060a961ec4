"""The chat's Markdown as text and links for the agents' console."""

from __future__ import annotations

import time

import pytest

from chatbot.api.transcript_text import TextPart, text_parts


def test_markdown_marks_go_and_links_become_parts() -> None:
    answer = ("_Hinweis: deutsche Fassung._\n\n**Reisepass beantragen**\n\n## Gebühren\n"
              "- 70 Euro\n* 37,50 Euro unter 24\n> zitiert\n\n"
              "Quelle: [Reisepass beantragen](https://stadt.example/articles/reisepass?lang=de)")
    assert text_parts(answer) == [
        TextPart("Hinweis: deutsche Fassung.\n\nReisepass beantragen\n\nGebühren\n• 70 Euro\n"
                 "• 37,50 Euro unter 24\nzitiert\n\nQuelle: "),
        TextPart("Reisepass beantragen", "https://stadt.example/articles/reisepass?lang=de")]


@pytest.mark.parametrize(("text", "parts"), [
    ("siehe https://stadt.example/a.", [TextPart("siehe "),
                                       TextPart("https://stadt.example/a",
                                                "https://stadt.example/a"),
                                       TextPart(".")]),
    ("[Artikel](/articles/x?lang=tr)", [TextPart("Artikel", "/articles/x?lang=tr")]),
    # Only http(s) and this service's own paths become links.
    ("[klick](javascript:alert(1))", [TextPart("[klick](javascript:alert(1))")]),
    ("[klick](//evil.example/x)", [TextPart("[klick](//evil.example/x)")]),
    ("[klick](data:text/html,<b>x</b>)", [TextPart("[klick](data:text/html,<b>x</b>)")]),
    ('<img src=x onerror="alert(1)">', [TextPart('<img src=x onerror="alert(1)">')]),
    ("snake_case_name und 2*3*4", [TextPart("snake_case_name und 2*3*4")]),
    ("", []),
])
def test_links_and_plain_text(text: str, parts: list[TextPart]) -> None:
    assert text_parts(text) == parts


@pytest.mark.parametrize("hostile", ["[" * 100_000, "[a](" * 25_000, "_" * 100_000,
                                     " _a" * 33_000, "https://" + "a" * 99_990,
                                     "# \n" * 25_000, "[" + "a" * 99_000 + "](https://x"])
def test_hostile_text_takes_linear_time(hostile: str) -> None:
    start = time.perf_counter()
    parts = text_parts(hostile)
    assert time.perf_counter() - start < 3
    assert sum(len(p.text) for p in parts) <= len(hostile) + 1

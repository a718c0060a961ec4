"""The content-gap report as CSV for spreadsheets.

UTF-8 with a byte-order mark (without it, spreadsheet programs set to German read
umlauts wrongly), comma-separated, one row per cluster. Cells that a spreadsheet
would take for a formula (starting with =, +, -, @, tab or carriage return) get a
leading apostrophe: the questions are what citizens typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from chatbot.editorial.content_gaps import ContentGap

COLUMNS = ("language", "department", "count", "escalated", "negative_feedback",
           "unsupported_language", "representative", "examples", "offered_articles",
           "nearest_article_id", "nearest_article_title", "nearest_article_score",
           "first_seen", "last_seen")
EXAMPLE_SEPARATOR = " | "
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def gaps_csv(gaps: Iterable[ContentGap]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for gap in gaps:
        nearest = gap.nearest_article
        writer.writerow([_cell(value) for value in (
            gap.language, gap.department, gap.count, gap.escalated, gap.negative_feedback,
            gap.unsupported_language, gap.representative,
            EXAMPLE_SEPARATOR.join(gap.examples), " ".join(gap.offered_articles),
            nearest.article_id if nearest else "", nearest.title if nearest else "",
            nearest.score if nearest else "", gap.first_seen.isoformat(),
            gap.last_seen.isoformat())])
    return out.getvalue()


def _cell(value: object) -> str:
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text

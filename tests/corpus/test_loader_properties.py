"""Property tests of the corpus loader: whatever bytes a file holds, loading never fails;
the file becomes an article or one issue naming its path and a reason, and the other
files still load."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.corpus.loader import load_corpus

RELATIVE = "amt/reisepass.de.md"
NEIGHBOUR = "amt/ummeldung.de.md"
_NEIGHBOUR_TEXT = ("---\nid: ummeldung\nlang: de\ntitle: Ummeldung\ndepartment: amt\n"
                   "updated: 2026-10-01\n---\nDie Ummeldung ist binnen zwei Wochen nötig.\n")

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                     st.text(max_size=30), st.dates().map(date.isoformat),
                     st.sampled_from(["reisepass", "de", "amt", "2026-10-01", "2026-13-45",
                                      "https://stadt.example/pass", "-", "~", ""]))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
_fields = st.sampled_from(["id", "lang", "title", "department", "updated", "summary",
                           "keywords", "url", "appointment_service", "source_revision"])


@st.composite
def _front_matter_files(draw: st.DrawFn) -> bytes:
    """Files that look like articles, with fields of any type and shape, so that the
    checks after the YAML parser are reached too."""
    meta = draw(st.dictionaries(_fields, _values, max_size=10))
    body = draw(st.text(max_size=80))
    text = f"---\n{yaml.safe_dump(meta, allow_unicode=True)}---\n{body}"
    data = text.encode("utf-8")
    if draw(st.booleans()):
        # Damage it: a byte replaced or cut off anywhere.
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:position] + draw(st.binary(max_size=3)) + data[position + 1:]
    return data


_hostile_yaml = st.sampled_from([
    b"---\ntitle: " + b"[" * 5000 + b"\n---\nText\n",
    b"---\ntitle: " + b"{a: " * 3000 + b"\n---\nText\n",
    # Aliases that would expand to 10^9 items if anything walked them.
    b"---\n" + b"".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n".encode() for i in range(1, 10)
    ).replace(b"l1: &l1 [*l0", b"l1: &l1 [x") + b"id: reisepass\nlang: de\ntitle: *l9\n"
    b"department: amt\nupdated: 2026-10-01\nkeywords: *l9\n---\nText\n",
    b"\xef\xbb\xbf---\r\nid: reisepass\r\n---\r\n",
    b"---\n!!python/object:os.system ls\n---\nText\n",
    b"---\n---\n",
    b"",
])


def _load_one(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "amt").mkdir()
        (root / RELATIVE).write_bytes(data)
        (root / NEIGHBOUR).write_text(_NEIGHBOUR_TEXT, encoding="utf-8")
        loaded = load_corpus(root)
    about_file = ([a.path for a in loaded.articles if a.path == RELATIVE]
                  + [i.path for i in loaded.issues if i.path == RELATIVE])
    assert about_file == [RELATIVE], (loaded.articles, loaded.issues)
    assert all(issue.reason.strip() for issue in loaded.issues)
    assert [a.path for a in loaded.articles if a.path == NEIGHBOUR] == [NEIGHBOUR]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
def test_any_bytes_are_an_article_or_an_issue(data: bytes) -> None:
    _load_one(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_front_matter_files())
def test_any_front_matter_is_an_article_or_an_issue(data: bytes) -> None:
    _load_one(data)


@settings(max_examples=20, deadline=None)
@given(data=_hostile_yaml)
def test_hostile_yaml_is_an_issue_not_a_crash(data: bytes) -> None:
    _load_one(data)

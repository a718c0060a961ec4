"""Property tests of masking: it hides what it should, stays within a bounded size, and
runs in linear time on hostile input (an 800 KB transcript once stalled the server)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.escalation.masking import mask_text
from tests.conftest import REPO

# Words and separators that never form an identifier themselves: no digits, no '@'.
_words = st.text(alphabet=st.characters(categories=("L",), exclude_characters="@"),
                 min_size=1, max_size=12)
_separators = st.sampled_from([" ", ", ", ". ", ": ", "\n", " (", ") "])


@st.composite
def _prose(draw: st.DrawFn) -> str:
    words = draw(st.lists(_words, max_size=8))
    return "".join(word + draw(_separators) for word in words)


_local = st.from_regex(r"\A[a-z0-9][a-z0-9._+-]{0,20}\Z")
_label = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,15}\Z")
_emails = st.builds(lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
                    _local, st.lists(_label, min_size=1, max_size=3),
                    st.sampled_from(["de", "org", "com", "koeln"]))
_phones = st.one_of(
    st.from_regex(r"\A0[1-9][0-9]{2,4}[ /-]?[0-9]{4,8}\Z"),
    st.from_regex(r"\A\+49 ?\(0\)?[0-9]{3,4} ?[0-9]{4,8}\Z"),
    st.from_regex(r"\A01[5-7][0-9] ?[0-9]{3} ?[0-9]{4}\Z"),
)
_ibans = st.builds(lambda country, check, digits, grouped: _group(
    f"{country}{check}{digits}", grouped),
    st.sampled_from(["DE", "AT", "FR", "PL", "TR", "IT"]),
    st.from_regex(r"\A[0-9]{2}\Z"), st.from_regex(r"\A[0-9]{18}\Z"), st.booleans())
_tax_ids = st.from_regex(r"\A[1-9][0-9]{10}\Z")
_id_cards = st.from_regex(r"\A[CFGHJKLMNPRTVWXYZ][0-9]{3}[CFGHJKLMNPRTVWXYZ0-9]{5}\Z")


def _group(iban: str, grouped: bool) -> str:
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if grouped else iban


@settings(max_examples=300, deadline=None)
@given(before=_prose(), after=_prose(), secret=st.one_of(
    _emails, _phones, _ibans, _tax_ids, _id_cards))
def test_an_identifier_anywhere_in_text_does_not_survive(before: str, after: str,
                                                         secret: str) -> None:
    masked = mask_text(f"{before}{secret} {after}")
    assert secret not in masked
    # Not even its digits in a row: a half-masked IBAN still identifies an account.
    digits = "".join(ch for ch in secret if ch.isdigit())
    assert digits not in "".join(ch for ch in masked if ch.isdigit()) or len(digits) < 5


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=400))
def test_masking_grows_text_by_a_bounded_factor_and_is_stable(text: str) -> None:
    masked = mask_text(text)
    # The shortest e-mail address (a@b.cd, 6 characters) becomes "[email]" (7): no
    # placeholder is longer than 7/6 of what it replaces.
    assert len(masked) <= len(text) * 7 / 6 + 1
    assert mask_text(masked) == masked


@settings(max_examples=200, deadline=None)
@given(text=_prose())
def test_text_without_identifiers_is_unchanged(text: str) -> None:
    assert mask_text(text) == text


# --- running time -----------------------------------------------------------------------

# Shapes that made the old patterns re-scan a long run from each of its positions.
ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "word characters": lambda n: "a" * n,
    "word characters, '@' at the end": lambda n: "a" * (n - 1) + "@",
    "'@' after every 1,000 word characters": lambda n: ("a" * 1000 + "@") * (n // 1001),
    "'@' then a domain without a dot": lambda n: "a@" + "b" * (n - 2),
    "dotted local part": lambda n: "a." * (n // 2),
    "digits then a letter": lambda n: "1" * (n - 1) + "x",
    "digits and hyphens": lambda n: "0-" * (n // 2),
    "opening parentheses and spaces": lambda n: "( " * (n // 2),
    "grouped digits": lambda n: "0 12 " * (n // 5),
}


def _best_time(text: str, repeat: int = 5) -> float:
    """The fastest of a few runs (other processes share the CPU); one run when slow."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        mask_text(text)
        best = min(best, time.perf_counter() - started)
        if best > 0.5:
            break
    return best


@pytest.mark.parametrize("shape", ADVERSARIAL)
def test_masking_time_grows_linearly_with_the_input(shape: str) -> None:
    make = ADVERSARIAL[shape]
    # Four times the input: a linear pass takes about four times as long, the old
    # quadratic patterns sixteen times. Small sizes keep the old code's failure short.
    # The floor keeps scheduler noise on a few milliseconds from failing the test.
    small, large = _best_time(make(20_000)), _best_time(make(80_000))
    assert large <= max(small, 0.005) * 9, (
        f"{shape}: {small * 1000:.1f} ms for 20k characters, {large * 1000:.1f} ms for 80k")


def test_an_800_kb_hostile_transcript_is_masked_in_well_under_a_second_per_100_kb() -> None:
    # In a child process with a timeout, so the old code fails instead of hanging.
    script = textwrap.dedent("""
        import time
        from chatbot.escalation.masking import mask_text
        text = ("a" * 3999 + "@") * 200
        started = time.perf_counter()
        masked = mask_text(text)
        print(time.perf_counter() - started, len(masked))
    """)
    try:
        result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                text=True, timeout=30, check=True, cwd=REPO)
    except subprocess.TimeoutExpired:
        pytest.fail("masking 800 KB took more than 30 s")
    seconds, length = result.stdout.split()
    assert int(length) == 800_000
    assert float(seconds) < 5.0

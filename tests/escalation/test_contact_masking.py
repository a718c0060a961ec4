"""Contact validation and the masking of transcripts."""

from __future__ import annotations

import pytest

from chatbot.escalation.contact import normalise_email, normalise_phone
from chatbot.escalation.masking import mask_text, mask_transcript


@pytest.mark.parametrize(("given", "stored"), [
    ("erika.mustermann@example.org", "erika.mustermann@example.org"),
    ("  Erika+chat@Example.ORG ", "Erika+chat@example.org"),
    ("ali@müller-bau.de", "ali@müller-bau.de"),
])
def test_valid_email_addresses(given: str, stored: str) -> None:
    assert normalise_email(given) == stored


@pytest.mark.parametrize("given", [
    "", "erika", "erika@", "@example.org", "erika@example", "erika@@example.org",
    "erika..m@example.org", "erika@-example.org", "er ika@example.org",
    "erika@example.c0m", "a" * 65 + "@example.org", "x@" + "a" * 250 + ".de",
])
def test_invalid_email_addresses(given: str) -> None:
    with pytest.raises(ValueError, match=r"e-mail|domain|@"):
        normalise_email(given)


@pytest.mark.parametrize(("given", "stored"), [
    ("+49 221 1234567", "+49 221 1234567"),
    ("0221/123 45-67", "0221/123 45-67"),
    ("(0221)  22 10", "(0221) 22 10"),
])
def test_valid_phone_numbers(given: str, stored: str) -> None:
    assert normalise_phone(given) == stored


@pytest.mark.parametrize("given", ["", "12345", "call me", "+49 221 12345678901234",
                                   "0221 12345 ext. 7"])
def test_invalid_phone_numbers(given: str) -> None:
    with pytest.raises(ValueError, match="phone"):
        normalise_phone(given)


@pytest.mark.parametrize(("text", "masked"), [
    ("Mail: erika.m@example.org!", "Mail: [email]!"),
    ("Tel. 0221 123456-78, danke", "Tel. [phone], danke"),
    ("ruf +49 (0)221 221-0 an", "ruf [phone] an"),
    ("IBAN DE89 3704 0044 0532 0130 00 bitte", "IBAN [iban] bitte"),
    ("iban de89370400440532013000", "iban [iban]"),
    ("Ausweisnummer L01X00T47", "Ausweisnummer [id-number]"),
    ("Pass C01X00T478 verloren", "Pass [id-number] verloren"),
    ("Steuer-ID 12345678901", "Steuer-ID [number]"),
])
def test_personal_identifiers_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", [
    "Termin am 01.10.2026 um 08:00 für 2 Personen",
    "PLZ 50667, Hausnummer 12, seit 2019 2020 dort",
    "Meine Vorgangsnummer ist KR-2026-004711",
    "Es kostet 1.234,56 Euro",
    "Strumpf und Schwrtz",  # consonant clusters are not document numbers
])
def test_ordinary_text_stays_readable(text: str) -> None:
    assert mask_text(text) == text


def test_transcripts_are_masked_line_by_line_and_keep_other_fields() -> None:
    lines = [{"role": "citizen", "text": "Ich bin erika@example.org", "at": "t1"},
             {"role": "assistant", "text": "Danke!"}]
    assert mask_transcript(lines) == [
        {"role": "citizen", "text": "Ich bin [email]", "at": "t1"},
        {"role": "assistant", "text": "Danke!"}]
    assert lines[0]["text"] == "Ich bin erika@example.org"  # the input is not changed

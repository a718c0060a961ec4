"""Validation of the contact details a citizen gives (e-mail address, phone number).

Syntax only: nothing here may reach the network, so deliverability is not checked.
"""

from __future__ import annotations

import re

MAX_EMAIL_CHARS = 254
MAX_LOCAL_PART_CHARS = 64
MAX_PHONE_CHARS = 32
MIN_PHONE_DIGITS = 6
MAX_PHONE_DIGITS = 15  # ITU-T E.164

_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_TOP_LEVEL = re.compile(r"^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()/.-]+$")


def normalise_email(value: str) -> str:
    """The address with its domain lower-cased, or ValueError saying what is wrong."""
    value = value.strip()
    if not value:
        raise ValueError("e-mail address is empty")
    if len(value) > MAX_EMAIL_CHARS:
        raise ValueError(f"e-mail address is longer than {MAX_EMAIL_CHARS} characters")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("not an e-mail address (expected name@example.org)")
    if len(local) > MAX_LOCAL_PART_CHARS or not _LOCAL_PART.match(local):
        raise ValueError("the part before @ is not valid in an e-mail address")
    try:
        # Umlaut domains (müller.de) are valid; check them in their ASCII form.
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError("the domain of the e-mail address is not valid") from exc
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels) \
            or not _TOP_LEVEL.match(labels[-1]):
        raise ValueError("the domain of the e-mail address is not valid")
    return f"{local}@{domain.lower()}"


def normalise_phone(value: str) -> str:
    """The number with runs of whitespace collapsed, or ValueError saying what is wrong."""
    value = " ".join(value.split())
    if not value:
        raise ValueError("phone number is empty")
    if len(value) > MAX_PHONE_CHARS:
        raise ValueError(f"phone number is longer than {MAX_PHONE_CHARS} characters")
    if not _PHONE_CHARS.match(value):
        raise ValueError("a phone number may contain only digits, spaces, + ( ) / . -")
    digits = sum(ch.isdigit() for ch in value)
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        raise ValueError(
            f"a phone number has {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits, "
            f"this has {digits}")
    return value

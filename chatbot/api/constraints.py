"""What every value a client sends must satisfy, whatever the endpoint: text that every
database can store, finite numbers, dates the calendar arithmetic can handle.

Valid JSON can still carry values no backend stores: a lone UTF-16 surrogate
(`"\\ud800"`) cannot be encoded as UTF-8, PostgreSQL refuses NUL characters in text,
`NaN`/`Infinity`/`1e999999` are no numbers, and year 1 or 9999 overflows as soon as a
time zone or a few days are added. They are refused here, as 422 naming the field,
before any service or transaction sees them.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
# Offsets and counters are stored or compared as 32-bit integers (PostgreSQL INTEGER).
MAX_INT32 = 2**31 - 1


def storable_text(value: str) -> str:
    """`value` unless a database would refuse it (the message never quotes it: a lone
    surrogate cannot even be written into the error response)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must not contain unpaired surrogates (not valid Unicode)") from None
    return value


def calendar_date(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


def _check(value: Any) -> None:
    """Every string, number and date inside a field, however nested."""
    if isinstance(value, str):
        storable_text(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    elif isinstance(value, date):
        calendar_date(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are errors, and no field can carry a
    value that the services or the databases cannot handle."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _handleable(cls, value: Any) -> Any:
        # Nested bodies are RequestBody too and were checked by their own validator.
        _check(value)
        return value


# Query parameters: text that reaches the database, dates, offsets.
StorableText = Annotated[str, AfterValidator(storable_text)]
CalendarDate = Annotated[date, AfterValidator(calendar_date)]
Offset = Annotated[int, Field(ge=0, le=MAX_INT32)]

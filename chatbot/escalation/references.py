"""Human-friendly references such as `KR-2026-004711`, unique across replicas.

The number comes from a counter row per scope and year, incremented by an UPDATE in
the caller's transaction: PostgreSQL's row lock (or SQLite's write lock, taken by
BEGIN IMMEDIATE) makes concurrent creators wait for each other, and a rolled-back
creation gives its number back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.escalation.clock import CITY_TIMEZONE
from chatbot.storage.models import ReferenceCounter

DIGITS = 6


def next_reference(session: Session, *, scope: str, prefix: str, now: datetime) -> str:
    year = now.astimezone(CITY_TIMEZONE).year
    for _ in range(3):
        value = session.execute(
            update(ReferenceCounter)
            .where(ReferenceCounter.scope == scope, ReferenceCounter.year == year)
            .values(value=ReferenceCounter.value + 1)
            .returning(ReferenceCounter.value)
        ).scalar_one_or_none()
        if value is not None:
            return f"{prefix}-{year}-{value:0{DIGITS}d}"
        # First reference of the year. Two replicas may both get here; the loser's
        # insert fails on the primary key and it increments the winner's row instead.
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(scope=scope, year=year, value=1))
            return f"{prefix}-{year}-{1:0{DIGITS}d}"
        except IntegrityError:
            continue
    raise RuntimeError(f"could not allocate a {scope} reference for {year}")

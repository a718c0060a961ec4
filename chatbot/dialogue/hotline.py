"""Hotline opening hours: is it open now, and when does it open next.

Hours are Europe/Berlin wall-clock times; NRW public holidays close it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

HOTLINE_PHONE = "02151 86-0"
# weekday (Mon=0) -> (opens, closes)
DEFAULT_HOURS: dict[int, tuple[time, time]] = {
    0: (time(8), time(17)), 1: (time(8), time(17)), 2: (time(8), time(17)),
    3: (time(8), time(17)), 4: (time(8), time(13)),
}


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_hours(hours: dict[str, str]) -> dict[int, tuple[time, time]]:
    """{"mon": "08:00-17:00", ...} -> {0: (08:00, 17:00), ...}; ValueError names the problem."""
    parsed: dict[int, tuple[time, time]] = {}
    for day, span in hours.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
        try:
            opens, closes = (time.fromisoformat(part.strip()) for part in span.split("-"))
        except ValueError as exc:
            raise ValueError(f"{day}: {span!r} is not a range like 08:00-17:00") from exc
        if opens >= closes:
            raise ValueError(f"{day}: {span!r} closes before it opens")
        parsed[WEEKDAYS.index(day)] = (opens, closes)
    return parsed


@dataclass(frozen=True)
class HotlineStatus:
    open: bool
    next_open: datetime
    """The next opening time (local, Europe/Berlin); the current opening when open now."""
    closes_at: datetime | None
    phone: str


@dataclass(frozen=True)
class Hotline:
    hours: dict[int, tuple[time, time]] = field(default_factory=lambda: dict(DEFAULT_HOURS))
    timezone: str = "Europe/Berlin"
    subdivision: str = "NW"
    phone: str = HOTLINE_PHONE

    def _is_holiday(self, day: date) -> bool:
        return day in holidays.country_holidays("DE", subdiv=self.subdivision, years=day.year)

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        hours = self.hours.get(day.weekday())
        if hours is None or self._is_holiday(day):
            return None
        tz = ZoneInfo(self.timezone)
        return (datetime.combine(day, hours[0], tzinfo=tz),
                datetime.combine(day, hours[1], tzinfo=tz))

    def status(self, now: datetime) -> HotlineStatus:
        local = now.astimezone(ZoneInfo(self.timezone))
        today = self._window(local.date())
        if today is not None and today[0] <= local < today[1]:
            return HotlineStatus(open=True, next_open=today[0], closes_at=today[1],
                                 phone=self.phone)
        day = local.date()
        for _ in range(30):
            window = self._window(day)
            if window is not None and window[0] > local:
                return HotlineStatus(open=False, next_open=window[0], closes_at=None,
                                     phone=self.phone)
            day += timedelta(days=1)
        raise RuntimeError("hotline has no opening hours in the next 30 days")

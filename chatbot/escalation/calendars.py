"""Appointment calendars per service, read from YAML (see calendars.yaml).

Slots are computed, not stored: a slot exists when the service is open at that
local time and the day is neither a public holiday nor a configured closing day.
Only bookings are stored, and the database limits them to `counters` per slot.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import holidays
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chatbot.errors import ConfigurationError
from chatbot.escalation.clock import CITY_TIMEZONE

BUNDLED_CALENDARS = Path(__file__).with_name("calendars.yaml")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NAME_PATTERN = r"^[a-z][a-z0-9-]{0,63}$"
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class OpeningRange(BaseModel):
    start: time
    end: time


def _parse_range(text: str) -> OpeningRange:
    match = _RANGE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time range like 08:00-12:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from exc
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts")
    return OpeningRange(start=start, end=end)


class ServiceCalendar(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    title: dict[str, str]
    slot_minutes: Annotated[int, Field(ge=5, le=480)]
    counters: Annotated[int, Field(ge=1, le=100)]
    booking_horizon_days: Annotated[int, Field(ge=1, le=730)] = 60
    hours: dict[Weekday, list[OpeningRange]]
    closed_dates: frozenset[date] = frozenset()
    location: str | None = None

    @field_validator("title")
    @classmethod
    def _german_title(cls, value: dict[str, str]) -> dict[str, str]:
        if not value.get("de"):
            raise ValueError("needs at least a German title (de)")
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _ranges(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {day: [_parse_range(r) if isinstance(r, str) else r for r in ranges or []]
                for day, ranges in value.items()}

    @model_validator(mode="after")
    def _ranges_fit(self) -> ServiceCalendar:
        for day, ranges in self.hours.items():
            ordered = sorted(ranges, key=lambda r: r.start)
            for earlier, later in itertools.pairwise(ordered):
                if later.start < earlier.end:
                    raise ValueError(f"{day}: opening hours overlap")
            for r in ordered:
                minutes = (_minutes(r.end) - _minutes(r.start))
                if minutes < self.slot_minutes:
                    raise ValueError(f"{day}: {r.start:%H:%M}-{r.end:%H:%M} is shorter than "
                                     f"one {self.slot_minutes}-minute slot")
        return self

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title["de"]


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


class HolidayRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: str = "DE"
    subdiv: str | None = "NW"


class CalendarsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holidays: HolidayRules = HolidayRules()
    closed_dates: frozenset[date] = frozenset()
    departments: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(min_length=1)
    services: dict[str, dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Slot:
    service: str
    start: datetime  # aware, UTC
    end: datetime
    capacity: int

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(CITY_TIMEZONE)


class Calendars:
    """The services' calendars and the departments known to the ticket queue."""

    def __init__(self, services: dict[str, ServiceCalendar], *, departments: list[str],
                 holiday_rules: HolidayRules, closed_dates: frozenset[date]) -> None:
        self.services = services
        self.departments = tuple(departments)
        self.closed_dates = closed_dates
        self._holidays = holidays.country_holidays(holiday_rules.country,
                                                   subdiv=holiday_rules.subdiv)
        # The holidays object fills in a year on first lookup; requests run in threads.
        self._holiday_lock = threading.Lock()

    def service(self, name: str) -> ServiceCalendar | None:
        return self.services.get(name)

    def is_holiday(self, day: date) -> bool:
        with self._holiday_lock:
            return day in self._holidays

    def is_open(self, service: ServiceCalendar, day: date) -> bool:
        if day in self.closed_dates or day in service.closed_dates or self.is_holiday(day):
            return False
        return bool(service.hours.get(WEEKDAYS[day.weekday()]))

    def slots_on(self, service: ServiceCalendar, day: date) -> Iterator[Slot]:
        if not self.is_open(service, day):
            return
        step = timedelta(minutes=service.slot_minutes)
        ranges = service.hours.get(WEEKDAYS[day.weekday()], [])
        for opening in sorted(ranges, key=lambda r: r.start):
            start = datetime.combine(day, opening.start, CITY_TIMEZONE)
            close = datetime.combine(day, opening.end, CITY_TIMEZONE)
            while start + step <= close:
                # Arithmetic on local wall-clock time, then UTC: a slot stays at 09:00
                # on both sides of a daylight-saving switch.
                yield Slot(service=service.name, start=start.astimezone(UTC),
                           end=(start + step).astimezone(UTC), capacity=service.counters)
                start = start + step

    def slot_at(self, service: ServiceCalendar, start: datetime) -> Slot | None:
        """The slot beginning exactly at `start`, if the calendar has one."""
        local = start.astimezone(CITY_TIMEZONE)
        for slot in self.slots_on(service, local.date()):
            if slot.start == start.astimezone(UTC):
                return slot
        return None

    def horizon_end(self, service: ServiceCalendar, now: datetime) -> date:
        return now.astimezone(CITY_TIMEZONE).date() + timedelta(days=service.booking_horizon_days)


def load_calendars(path: Path | None = None) -> Calendars:
    """Read and validate the calendars file; errors name the file and the field."""
    source = path or BUNDLED_CALENDARS
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read calendars file {source}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"calendars file {source} is not valid YAML: {exc}") from exc
    try:
        parsed = CalendarsFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"calendars file {source}: {_first_error(exc)}") from exc
    services: dict[str, ServiceCalendar] = {}
    for name, spec in parsed.services.items():
        try:
            services[name] = ServiceCalendar.model_validate({**(spec or {}), "name": name})
        except ValidationError as exc:
            raise ConfigurationError(
                f"calendars file {source}: {_first_error(exc, f'services.{name}')}") from exc
    try:
        return Calendars(services, departments=parsed.departments,
                         holiday_rules=parsed.holidays, closed_dates=parsed.closed_dates)
    except NotImplementedError as exc:  # unknown country or subdivision
        raise ConfigurationError(f"calendars file {source}: holidays: {exc}") from exc


def _first_error(exc: ValidationError, prefix: str = "") -> str:
    error = exc.errors()[0]
    where = ".".join([prefix] * bool(prefix) + [str(part) for part in error["loc"]])
    more = f" ({exc.error_count()} problems)" if exc.error_count() > 1 else ""
    return f"{where or 'file'}: {error['msg']}{more}"

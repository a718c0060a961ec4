from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from chatbot.dialogue.hotline import Hotline

BERLIN = ZoneInfo("Europe/Berlin")
hotline = Hotline()


def test_thursday_1659_open() -> None:
    status = hotline.status(datetime(2026, 10, 8, 16, 59, tzinfo=BERLIN))
    assert status.open
    assert status.closes_at == datetime(2026, 10, 8, 17, 0, tzinfo=BERLIN)


def test_friday_1300_closed_until_monday() -> None:
    status = hotline.status(datetime(2026, 10, 9, 13, 0, tzinfo=BERLIN))
    assert not status.open
    assert status.next_open == datetime(2026, 10, 12, 8, 0, tzinfo=BERLIN)


def test_public_holiday_closed() -> None:
    # 3 October 2025 (Tag der Deutschen Einheit) is a Friday; 1 Nov 2027 (Allerheiligen, NRW)
    status = hotline.status(datetime(2027, 11, 1, 10, 0, tzinfo=BERLIN))
    assert not status.open
    assert status.next_open == datetime(2027, 11, 2, 8, 0, tzinfo=BERLIN)


def test_saturday_shows_monday_0800() -> None:
    status = hotline.status(datetime(2026, 10, 10, 11, 0, tzinfo=BERLIN))
    assert not status.open
    assert status.next_open == datetime(2026, 10, 12, 8, 0, tzinfo=BERLIN)


def test_before_opening_same_day() -> None:
    status = hotline.status(datetime(2026, 10, 5, 5, 0, tzinfo=ZoneInfo("UTC")))
    assert not status.open
    assert status.next_open == datetime(2026, 10, 5, 8, 0, tzinfo=BERLIN)


def test_hours_come_from_configuration() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from chatbot.config import Settings
    from chatbot.dialogue.hotline import Hotline, parse_hours

    settings = Settings(hotline_hours={"sat": "09:00-12:00"})
    hotline = Hotline(hours=parse_hours(settings.hotline_hours))
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert hotline.status(saturday).open
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    status = hotline.status(monday)
    assert not status.open
    assert status.next_open == datetime(2026, 12, 5, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_invalid_hours_fail_at_start_up_naming_the_day() -> None:
    import pytest
    from pydantic import ValidationError

    from chatbot.config import Settings

    with pytest.raises(ValidationError, match="fri: '13:00-08:00' closes before it opens"):
        Settings(hotline_hours={"fri": "13:00-08:00"})
    with pytest.raises(ValidationError, match="unknown weekday 'friday'"):
        Settings(hotline_hours={"friday": "08:00-13:00"})
    with pytest.raises(ValidationError, match="is not a range"):
        Settings(hotline_hours={"mon": "8 to 5"})

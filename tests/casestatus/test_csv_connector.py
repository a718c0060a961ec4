"""The CSV adapter of the case-status connector, and what citizens type."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from chatbot.casestatus import (
    CaseState,
    CaseStatusConfigurationError,
    ConnectorUnavailableError,
    CsvCaseStatusConnector,
    parse_date_of_birth,
    parse_number_and_date,
)

EXPORT = """application_number,date_of_birth,kind,state,date
A123456,1990-02-01,personalausweis,ready_for_pickup,2026-10-01
R 777-888,1985-12-24,reisepass,in_progress,2026-09-20
"""


def _write(path: Path, text: str, *, mtime: int | None = None) -> Path:
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))
    return path


def test_right_pair_gives_the_state_ignoring_case_and_spaces(tmp_path: Path) -> None:
    connector = CsvCaseStatusConnector(_write(tmp_path / "cases.csv", EXPORT))
    expected = CaseState(state="ready_for_pickup", date=date(2026, 10, 1),
                         kind="personalausweis")
    assert connector.lookup("A123456", date(1990, 2, 1)) == expected
    assert connector.lookup(" a 123456 ", date(1990, 2, 1)) == expected
    assert connector.lookup("r777888", date(1985, 12, 24)) == CaseState(
        state="in_progress", date=date(2026, 9, 20), kind="reisepass")


def test_wrong_date_of_birth_is_the_same_as_an_unknown_number(tmp_path: Path) -> None:
    connector = CsvCaseStatusConnector(_write(tmp_path / "cases.csv", EXPORT))
    wrong_birth = connector.lookup("A123456", date(1990, 2, 2))
    unknown = connector.lookup("Z999999", date(1990, 2, 1))
    assert wrong_birth is None
    assert unknown is None


def test_a_new_export_is_read_when_the_file_changes(tmp_path: Path) -> None:
    path = _write(tmp_path / "cases.csv", EXPORT, mtime=1_000_000_000_000_000_000)
    connector = CsvCaseStatusConnector(path)
    assert connector.lookup("A123456", date(1990, 2, 1)).state == "ready_for_pickup"  # type: ignore[union-attr]
    _write(path, EXPORT.replace("ready_for_pickup,2026-10-01", "handed_out,2026-10-07"),
           mtime=1_000_000_100_000_000_000)
    assert connector.lookup("A123456", date(1990, 2, 1)) == CaseState(
        state="handed_out", date=date(2026, 10, 7), kind="personalausweis")


@pytest.mark.parametrize(("text", "line", "words"), [
    ("number,date_of_birth\nA1,1990-01-01\n", 1, "application_number"),
    (EXPORT + "B1,01.02.1990,reisepass,in_progress,2026-10-01\n", 4, "date_of_birth"),
    (EXPORT + "B1,1990-02-01,fuehrerschein,in_progress,2026-10-01\n", 4, "fuehrerschein"),
    (EXPORT + "B1,1990-02-01,reisepass,lost,2026-10-01\n", 4, "state 'lost'"),
    (EXPORT + "B1,1990-02-01,reisepass,in_progress\n", 4, "fields"),
    (EXPORT + "a123456,1990-02-01,reisepass,in_progress,2026-10-01\n", 4, "twice"),
])
def test_a_malformed_export_names_the_line(tmp_path: Path, text: str, line: int,
                                           words: str) -> None:
    path = _write(tmp_path / "cases.csv", text)
    with pytest.raises(CaseStatusConfigurationError) as caught:
        CsvCaseStatusConnector(path)
    assert f"line {line}" in str(caught.value)
    assert words in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_malformed_new_export_fails_the_lookup_with_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "cases.csv", EXPORT, mtime=1_000_000_000_000_000_000)
    connector = CsvCaseStatusConnector(path)
    _write(path, EXPORT + "B1,1990-02-01,reisepass,lost,2026-10-01\n",
           mtime=1_000_000_100_000_000_000)
    with pytest.raises(CaseStatusConfigurationError, match="line 4"):
        connector.lookup("A123456", date(1990, 2, 1))


def test_a_missing_export_makes_the_connector_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    connector = CsvCaseStatusConnector(path)  # not there yet: starts anyway
    with pytest.raises(ConnectorUnavailableError):
        connector.lookup("A123456", date(1990, 2, 1))
    _write(path, EXPORT)
    assert connector.lookup("A123456", date(1990, 2, 1)) is not None
    path.unlink()
    with pytest.raises(ConnectorUnavailableError, match="cannot be read"):
        connector.lookup("A123456", date(1990, 2, 1))


@pytest.mark.parametrize(("text", "expected"), [
    ("01.02.1990", date(1990, 2, 1)), ("1.2.1990", date(1990, 2, 1)),
    ("1990-02-01", date(1990, 2, 1)), (" 24.12.1985 ", date(1985, 12, 24)),
    ("31.02.1990", None), ("02/01/1990", None), ("1990", None), ("", None),
])
def test_dates_of_birth(text: str, expected: date | None) -> None:
    assert parse_date_of_birth(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("A123456 01.02.1990", ("A123456", date(1990, 2, 1))),
    ("Nummer A123456, geboren am 1.2.1990", ("A123456", date(1990, 2, 1))),
    ("1990-02-01 R777-888", ("R777-888", date(1990, 2, 1))),
    ("A123456", None), ("01.02.1990", None), ("hallo 01.02.1990", None),
])
def test_number_and_date_in_one_message(text: str, expected: tuple[str, date] | None
                                        ) -> None:
    assert parse_number_and_date(text) == expected

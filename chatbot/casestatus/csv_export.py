"""`CsvCaseStatusConnector`: the departments' CSV export as a case-status source.

Columns (header line required, any order, more columns ignored):
`application_number, date_of_birth (YYYY-MM-DD), kind, state, date (YYYY-MM-DD)`.
UTF-8 (a BOM is fine), comma-separated. The file is read again whenever its
modification time or size changes, so a department drops a new export in place
(write it beside and rename it over the old one, so no half-written file is read).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from chatbot.casestatus.base import (
    CASE_KINDS,
    CASE_STATES,
    MAX_APPLICATION_NUMBER_CHARS,
    CaseState,
    CaseStatusConfigurationError,
    ConnectorUnavailableError,
    normalise_application_number,
)

log = logging.getLogger(__name__)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
COLUMNS = ("application_number", "date_of_birth", "kind", "state", "date")

_Key = tuple[str, date]


@dataclass(frozen=True)
class _Snapshot:
    stamp: tuple[int, int]  # (mtime_ns, size)
    cases: dict[_Key, CaseState]


class CsvCaseStatusConnector:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        try:
            self._current()
        except ConnectorUnavailableError as exc:
            # The export may simply not have been dropped yet: look-ups say "unavailable".
            log.warning("case status: %s", exc)

    def lookup(self, application_number: str, date_of_birth: date) -> CaseState | None:
        cases = self._current()
        return cases.get((normalise_application_number(application_number), date_of_birth))

    def _current(self) -> dict[_Key, CaseState]:
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise ConnectorUnavailableError(
                f"case status export {self.path} cannot be read: {exc.strerror or exc}"
            ) from exc
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._snapshot is None or self._snapshot.stamp != stamp:
                try:
                    raw = self.path.read_bytes()
                except OSError as exc:
                    raise ConnectorUnavailableError(
                        f"case status export {self.path} cannot be read: {exc.strerror or exc}"
                    ) from exc
                self._snapshot = _Snapshot(stamp=stamp, cases=parse_export(raw, self.path))
                log.info("case status: %d cases read from %s", len(self._snapshot.cases),
                         self.path)
            return self._snapshot.cases


def parse_export(raw: bytes, path: Path) -> dict[_Key, CaseState]:
    """The cases of one export; CaseStatusConfigurationError names file and line."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseStatusConfigurationError(f"{path}: not UTF-8 ({exc.reason} at byte "
                                           f"{exc.start})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise CaseStatusConfigurationError(
            f"{path}, line 1: header lacks column(s) {', '.join(missing)}; expected "
            f"{', '.join(COLUMNS)}")
    reader.fieldnames = header
    cases: dict[_Key, CaseState] = {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row or any(row.get(column) is None for column in COLUMNS):
                raise CaseStatusConfigurationError(
                    f"{path}, line {line}: expected {len(header)} fields")
            key, state = _case(row, path, line)
            if key in cases:
                raise CaseStatusConfigurationError(
                    f"{path}, line {line}: the same application number and date of birth "
                    "twice (the log names no personal data)")
            cases[key] = state
    except csv.Error as exc:
        raise CaseStatusConfigurationError(f"{path}, line {reader.line_num}: {exc}") from exc
    return cases


def _case(row: dict[str, str], path: Path, line: int) -> tuple[_Key, CaseState]:
    def fail(message: str) -> CaseStatusConfigurationError:
        return CaseStatusConfigurationError(f"{path}, line {line}: {message}")

    number = normalise_application_number(row["application_number"])
    if not number or len(number) > MAX_APPLICATION_NUMBER_CHARS:
        raise fail(f"application_number must be 1 to {MAX_APPLICATION_NUMBER_CHARS} characters")
    kind, state = row["kind"].strip(), row["state"].strip()
    if kind not in CASE_KINDS:
        raise fail(f"kind {kind!r} is not one of {', '.join(CASE_KINDS)}")
    if state not in CASE_STATES:
        raise fail(f"state {state!r} is not one of {', '.join(CASE_STATES)}")
    return ((number, _iso_date(row["date_of_birth"], "date_of_birth", fail)),
            CaseState(state=state, date=_iso_date(row["date"], "date", fail), kind=kind))


def _iso_date(value: str, column: str,
              fail: Callable[[str], CaseStatusConfigurationError]) -> date:
    try:
        if not _ISO_DATE.fullmatch(value.strip()):
            raise ValueError(value)
        return date.fromisoformat(value.strip())
    except ValueError:
        raise fail(f"{column} {value.strip()!r} is not a date YYYY-MM-DD") from None

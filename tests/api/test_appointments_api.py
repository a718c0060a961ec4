"""Appointment endpoints: slots, booking, 409 on a full slot, .ics, cancelling."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chatbot.storage import Database
from chatbot.storage.models import Appointment

SLOT = "2026-10-08T09:00:00+02:00"  # Thursday, the building office's one-counter slot
BODY: dict[str, Any] = {"service": "bauen", "start": SLOT, "name": "Erika Mustermann",
                        "contact": {"email": "erika@example.org"}, "consent": True}


def _appointments(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Appointment)) or 0


def _slots(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/appointments/slots", params=params)
    assert response.status_code == 200, response.text
    slots: list[dict[str, Any]] = response.json()["slots"]
    return slots


def test_services_are_listed_with_titles(backoffice_client: TestClient) -> None:
    services = backoffice_client.get("/api/v1/appointments/services",
                                     params={"lang": "en"}).json()
    by_name = {s["name"]: s for s in services}
    assert len(by_name) == 10
    assert by_name["bauen"] == {"name": "bauen", "title": "Building Control Office",
                                "slot_minutes": 60, "counters": 1, "booking_horizon_days": 90,
                                "weekdays": ["tue", "thu"]}


def test_free_slots_in_local_time(backoffice_client: TestClient) -> None:
    response = backoffice_client.get("/api/v1/appointments/slots",
                                     params={"service": "bauen", "from": "2026-10-08",
                                             "days": 1})
    assert response.json() == {
        "service": "bauen", "timezone": "Europe/Berlin", "from": "2026-10-08", "days": 1,
        "slots": [{"start": f"2026-10-08T{h}:00:00+02:00", "end": f"2026-10-08T{e}:00:00+02:00",
                   "available": 1}
                  for h, e in (("09", "10"), ("10", "11"), ("11", "12"), ("14", "15"),
                               ("15", "16"))]}
    # Without `from` the list starts today; past slots of today are left out.
    today = _slots(backoffice_client, service="buergerservice", days=1)
    assert today[0]["start"] == "2026-10-05T08:15:00+02:00"
    # A `from` in the past is clamped to today rather than listing the past.
    assert _slots(backoffice_client, service="buergerservice", days=1,
                  **{"from": "2026-09-01"}) == today


@pytest.mark.parametrize(("params", "loc"), [
    ({"service": "finanzamt"}, ["query", "service"]),
    ({}, ["query", "service"]),
    ({"service": "bauen", "from": "08.10.2026"}, ["query", "from"]),
    ({"service": "bauen", "from": "2026-13-01"}, ["query", "from"]),
    ({"service": "bauen", "days": 0}, ["query", "days"]),
    ({"service": "bauen", "days": 32}, ["query", "days"]),
    ({"service": "x" * 65}, ["query", "service"]),
])
def test_bad_slot_queries_are_422_naming_the_parameter(backoffice_client: TestClient,
                                                       params: dict[str, Any],
                                                       loc: list[str]) -> None:
    response = backoffice_client.get("/api/v1/appointments/slots", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_book_download_and_cancel(backoffice_client: TestClient, database: Database) -> None:
    response = backoffice_client.post("/api/v1/appointments", json=BODY)
    assert response.status_code == 201, response.text
    booked = response.json()
    assert booked["reference"] == "TA-2026-000001"
    assert (booked["start"], booked["end"]) == (SLOT, "2026-10-08T10:00:00+02:00")
    assert booked["status"] == "booked"
    assert SLOT not in [s["start"] for s in _slots(backoffice_client, service="bauen",
                                                   **{"from": "2026-10-08"}, days=1)]

    ics = backoffice_client.get(booked["ics_url"])
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert 'filename="TA-2026-000001.ics"' in ics.headers["content-disposition"]
    assert "DTSTART:20261008T070000Z\r\n" in ics.text
    assert backoffice_client.get(f"/api/v1/appointments/{booked['reference']}/ics"
                                 ).status_code == 401

    token = {"X-Access-Token": booked["cancel_token"]}
    shown = backoffice_client.get(booked["status_url"], headers=token).json()
    assert shown["status"] == "booked"
    assert shown["service_title"] == "Bauaufsicht"
    assert backoffice_client.delete(booked["status_url"], headers={"X-Access-Token": "nope"}
                                    ).status_code == 404
    cancelled = backoffice_client.delete(booked["status_url"], headers=token)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert SLOT in [s["start"] for s in _slots(backoffice_client, service="bauen",
                                               **{"from": "2026-10-08"}, days=1)]
    again = backoffice_client.post("/api/v1/appointments", json={**BODY, "name": "Max"})
    assert again.status_code == 201
    assert _appointments(database) == 2


def test_the_ics_link_carries_a_read_only_token(backoffice_client: TestClient,
                                                database: Database) -> None:
    booked = backoffice_client.post("/api/v1/appointments", json=BODY).json()
    cancel = booked["cancel_token"]
    assert cancel not in booked["ics_url"]
    ics_token = parse_qs(urlsplit(booked["ics_url"]).query)["token"][0]
    reference, status_url = booked["reference"], booked["status_url"]

    # The link's token downloads the calendar file and does nothing else.
    assert backoffice_client.get(booked["ics_url"]).status_code == 200
    for response in (
        backoffice_client.get(status_url, headers={"X-Access-Token": ics_token}),
        backoffice_client.delete(status_url, headers={"X-Access-Token": ics_token}),
    ):
        assert response.status_code == 404
    # The cancel token works in the header only, never in the URL (URLs reach logs).
    for response in (
        backoffice_client.get(status_url, params={"token": cancel}),
        backoffice_client.delete(status_url, params={"token": cancel}),
    ):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert "X-Access-Token header" in response.json()["detail"]
        assert "not accepted" in response.json()["detail"]
    # ...nor is it a calendar token (another booking's calendar token is not either).
    assert backoffice_client.get(f"/api/v1/appointments/{reference}/ics",
                                 params={"token": cancel}).status_code == 404
    ics_by_header = backoffice_client.get(f"/api/v1/appointments/{reference}/ics",
                                          headers={"X-Access-Token": cancel})
    assert ics_by_header.status_code == 200
    with database.session() as session:
        stored = session.scalars(select(Appointment)).one()
        assert stored.cancelled_at is None
        assert stored.ics_token_hash not in (None, stored.cancel_token_hash)
        assert ics_token not in (stored.ics_token_hash, stored.cancel_token_hash)
    assert backoffice_client.get(status_url, headers={"X-Access-Token": cancel}
                                 ).json()["status"] == "booked"


def test_a_replayed_booking_shows_the_same_ics_link(backoffice_client: TestClient) -> None:
    headers = {"Idempotency-Key": "booking-ics-0001"}
    first = backoffice_client.post("/api/v1/appointments", json=BODY, headers=headers).json()
    retry = backoffice_client.post("/api/v1/appointments", json=BODY, headers=headers).json()
    assert retry["ics_url"] == first["ics_url"]
    assert backoffice_client.get(retry["ics_url"]).status_code == 200


def test_a_full_slot_is_409_and_stores_nothing_more(backoffice_client: TestClient,
                                                    database: Database) -> None:
    assert backoffice_client.post("/api/v1/appointments", json=BODY).status_code == 201
    full = backoffice_client.post("/api/v1/appointments", json={**BODY, "name": "Max"})
    assert full.status_code == 409
    assert "fully booked" in full.json()["detail"]
    assert _appointments(database) == 1


def test_a_retried_booking_is_answered_with_the_first(backoffice_client: TestClient,
                                                      database: Database) -> None:
    headers = {"Idempotency-Key": "booking-7f3a9c21"}
    first = backoffice_client.post("/api/v1/appointments", json=BODY, headers=headers)
    retry = backoffice_client.post("/api/v1/appointments", json=BODY, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert _appointments(database) == 1


def test_a_local_time_without_offset_is_read_as_berlin_time(
        backoffice_client: TestClient) -> None:
    response = backoffice_client.post("/api/v1/appointments",
                                      json={**BODY, "start": "2026-10-08T09:00:00"})
    assert response.status_code == 201
    assert response.json()["start"] == SLOT


@pytest.mark.parametrize(("change", "loc"), [
    ({"service": "finanzamt"}, ["body", "service"]),
    ({"start": "2026-10-02T09:00:00+02:00"}, ["body", "start"]),  # past
    ({"start": "2026-10-08T09:30:00+02:00"}, ["body", "start"]),  # not on the grid
    ({"start": "2026-06-04T09:00:00+02:00"}, ["body", "start"]),  # Fronleichnam (past too)
    ({"start": "2026-12-24T09:00:00+01:00"}, ["body", "start"]),  # closed day
    ({"start": "tomorrow at nine"}, ["body", "start"]),
    ({"start": "2026-10-32T09:00:00"}, ["body", "start"]),
    ({"consent": False}, ["body", "consent"]),
    ({"consent": None}, ["body", "consent"]),
    ({"name": ""}, ["body", "name"]),
    ({"name": "x" * 201}, ["body", "name"]),
    ({"note": "x" * 1001}, ["body", "note"]),
    ({"contact": {"email": "erika(at)example.org"}}, ["body", "contact", "email"]),
    ({"preferred_language": "klingon"}, ["body", "preferred_language"]),
])
def test_bad_bookings_are_422_naming_the_field_and_write_nothing(
        backoffice_client: TestClient, database: Database, change: dict[str, Any],
        loc: list[str]) -> None:
    response = backoffice_client.post("/api/v1/appointments", json={**BODY, **change})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert _appointments(database) == 0

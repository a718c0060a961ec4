"""Defect reports against a real Open311 GeoReport v2 server started by the tests:
services, new requests with photo, status, refusals, and an outage during forwarding
after which the report arrives exactly once."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from chatbot.defects.forwarding import Forwarder
from chatbot.storage import Database
from chatbot.storage.models import DefectReport, Ticket
from tests.conftest import FakeClock
from tests.open311_server import API_KEY, PNG, Open311Server

REPORT = {"category": "SL", "description": "Die Laterne flackert seit Tagen.",
          "address": "Bahnstraße 12", "consent": True, "lang": "de"}


def _forwarder(client: Any) -> Forwarder:
    forwarder: Forwarder = client.app.state.defect_forwarder
    return forwarder


def _rows(db_url: str) -> list[DefectReport]:
    database = Database(db_url)
    try:
        with database.session() as session:
            return list(session.scalars(select(DefectReport).options(undefer(DefectReport.photo))
                                        .order_by(DefectReport.id)).all())
    finally:
        database.dispose()


def test_categories_come_from_the_endpoints_service_list(client: Any,
                                                         open311: Open311Server) -> None:
    answer = client.get("/api/v1/defect-reports/services?lang=tr")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["forwarding"] == "open311"
    assert [c["code"] for c in body["categories"]] == ["SL", "PH", "DUMP"]
    assert body["categories"][0]["name"] == "Straßenbeleuchtung"
    assert body["photo_types"] == ["image/jpeg", "image/png", "image/webp"]


def test_a_report_with_photo_reaches_the_endpoint_and_its_status_is_readable(
        client: Any, open311: Open311Server, db_url: str) -> None:
    photo = base64.b64encode(PNG).decode()
    answer = client.post("/api/v1/defect-reports", json={
        **REPORT, "email": "Erika@Example.org", "photo": "data:image/png;base64," + photo})
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["state"] == "forwarded"
    [received] = open311.requests
    assert created["service_request_id"] == received.id
    assert created["text"].startswith("Danke! Ihre Meldung ist beim Kommunalbetrieb")
    assert received.fields["api_key"] == API_KEY
    assert received.fields["service_code"] == "SL"
    assert received.fields["address_string"] == "Bahnstraße 12"
    assert received.fields["description"] == REPORT["description"]
    assert received.fields["email"] == "Erika@example.org"
    assert received.media == PNG
    assert received.media_type == "image/png"
    [row] = _rows(db_url)
    assert row.photo is None  # kept only until forwarded
    assert row.photo_type == "image/png"

    path = f"/api/v1/defect-reports/{created['reference']}"
    token = {"X-Access-Token": created["access_token"]}
    status = client.get(path + "?lang=en", headers=token).json()
    assert status["remote_status"] == "open"
    assert status["text"] == f"Your report {received.id} is being worked on."
    open311.close(received.id, "Leuchtmittel getauscht")
    status = client.get(path, headers=token).json()
    assert status["remote_status"] == "closed"
    assert "erledigt" in status["text"]
    assert "Leuchtmittel getauscht" in status["text"]

    assert client.get(path, headers={"X-Access-Token": "wrong"}).status_code == 404
    assert client.get(path).status_code == 401


def test_a_point_alone_is_a_location(client: Any, open311: Open311Server) -> None:
    answer = client.post("/api/v1/defect-reports", json={
        **{k: v for k, v in REPORT.items() if k != "address"}, "lat": 51.33, "lon": 6.56})
    assert answer.status_code == 201, answer.text
    [received] = open311.requests
    assert (received.fields["lat"], received.fields["long"]) == ("51.33", "6.56")
    assert "address_string" not in received.fields


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"address": "  "}, "location", "street and house number"),
    ({"address": None, "lat": 51.3}, "location", "latitude and longitude"),
    ({"category": "NOPE"}, "category", "unknown category"),
    ({"photo": base64.b64encode(b"GIF89a" + bytes(100)).decode()}, "photo",
     "JPEG, PNG or WebP"),
    ({"photo": base64.b64encode(b"%PDF-1.7 not an image").decode()}, "photo",
     "JPEG, PNG or WebP"),
    ({"photo": "not base64!"}, "photo", "not valid base64"),
    ({"photo": base64.b64encode(PNG + bytes(5000)).decode()}, "photo", "larger than 4096"),
    ({"consent": False}, "consent", "consent"),
])
def test_bad_input_is_refused_by_name_and_nothing_is_stored_or_forwarded(
        make_client: Any, open311: Open311Server, db_url: str, change: dict[str, Any],
        field: str, message: str) -> None:
    client = make_client(open311_url=open311.url, open311_api_key=API_KEY,
                         defect_photo_max_bytes=4096)
    answer = client.post("/api/v1/defect-reports", json={**REPORT, **change})
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"][-1] == field
    assert message in error["msg"]
    assert open311.requests == []
    assert not any(call.startswith("POST") for call in open311.state.calls)
    assert _rows(db_url) == []


def test_a_body_beyond_the_photo_limit_is_refused_before_parsing(
        make_client: Any, open311: Open311Server, db_url: str) -> None:
    client = make_client(open311_url=open311.url, open311_api_key=API_KEY,
                         defect_photo_max_bytes=4096)
    huge = base64.b64encode(PNG + bytes(300_000)).decode()
    answer = client.post("/api/v1/defect-reports", json={**REPORT, "photo": huge})
    assert answer.status_code == 413
    assert open311.requests == []
    assert _rows(db_url) == []


@pytest.mark.parametrize("outage", ["refused", "503"])
def test_an_outage_delays_the_report_which_then_arrives_exactly_once(
        client: Any, open311: Open311Server, db_url: str, clock: FakeClock,
        outage: str) -> None:
    client.get("/api/v1/defect-reports/services")  # the list is known before the outage
    if outage == "refused":
        open311.stop()
    else:
        open311.failing = 503
    answer = client.post("/api/v1/defect-reports", json={**REPORT, "lang": "tr"})
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["state"] == "pending"
    assert created["service_request_id"] is None
    assert "kaydedildi" in created["text"]
    forwarder = _forwarder(client)
    assert forwarder.send_due().forwarded == 0  # not due yet: backoff after the 1st try
    clock.advance(minutes=1)
    assert forwarder.send_due().retrying == 1  # still down
    [row] = _rows(db_url)
    assert row.state == "pending"
    assert row.attempts == 2
    assert row.last_error
    assert open311.requests == []

    if outage == "refused":
        open311.start()
    else:
        open311.failing = None
    clock.advance(minutes=5)
    assert forwarder.send_due().forwarded == 1
    assert forwarder.send_due().forwarded == 0
    clock.advance(hours=7)
    assert forwarder.send_due().forwarded == 0
    [received] = open311.requests
    assert received.fields["address_string"] == "Bahnstraße 12"
    [row] = _rows(db_url)
    assert (row.state, row.service_request_id, row.attempts) == ("forwarded", received.id, 3)
    status = client.get(f"/api/v1/defect-reports/{created['reference']}?lang=tr",
                        headers={"X-Access-Token": created["access_token"]}).json()
    assert status["service_request_id"] == received.id
    assert status["text"] == f"{received.id} numaralı bildiriminiz işlemde."


def test_a_refused_api_key_keeps_the_report_for_a_retry(
        make_client: Any, open311: Open311Server, db_url: str, clock: FakeClock) -> None:
    client = make_client(open311_url=open311.url, open311_api_key="wrong-key")
    answer = client.post("/api/v1/defect-reports", json=REPORT)
    assert answer.status_code == 201
    assert answer.json()["state"] == "pending"
    [row] = _rows(db_url)
    assert row.last_error is not None
    assert "403" in row.last_error
    assert "Invalid api_key" in row.last_error
    assert "wrong-key" not in row.last_error
    assert open311.requests == []


def test_a_permanent_refusal_marks_the_report_failed(
        client: Any, open311: Open311Server, db_url: str) -> None:
    # The endpoint's list changed after the service read it: the endpoint refuses (400).
    client.get("/api/v1/defect-reports/services")
    from tests import open311_server

    removed = open311_server.SERVICES.pop(0)
    try:
        answer = client.post("/api/v1/defect-reports", json=REPORT)
    finally:
        open311_server.SERVICES.insert(0, removed)
    assert answer.status_code == 201
    assert answer.json()["state"] == "failed"
    [row] = _rows(db_url)
    assert row.state == "failed"
    assert "unknown service_code" in (row.last_error or "")


def test_without_an_endpoint_the_report_becomes_a_ticket(
        make_client: Any, db_url: str, make_user: Any) -> None:
    client = make_client()
    services = client.get("/api/v1/defect-reports/services?lang=tr").json()
    assert services["forwarding"] == "ticket"
    assert {"code": "street_light", "name": "Sokak aydınlatması", "description": "",
            "group": ""} in services["categories"]
    answer = client.post("/api/v1/defect-reports", json={
        **REPORT, "category": "street_light", "lang": "tr"})
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["state"] == "ticket"
    assert created["ticket_reference"]
    database = Database(db_url)
    try:
        with database.session() as session:
            ticket = session.scalars(select(Ticket)).one()
            assert ticket.department == "stadtwerke-kommunalbetrieb"
            assert ticket.reference == created["ticket_reference"]
            assert "Bahnstraße 12" in ticket.message
            assert "flackert" in ticket.message
            assert ticket.contact_email is None
            assert session.scalar(select(func.count()).select_from(DefectReport)) == 1
    finally:
        database.dispose()
    unknown = client.post("/api/v1/defect-reports", json={**REPORT, "category": "SL"})
    assert unknown.status_code == 422

    token = make_user()
    listed = client.get("/api/v1/agent/defect-reports",
                        headers={"Authorization": f"Bearer {token}"}).json()
    assert [(r["state"], r["ticket_reference"]) for r in listed] == [
        ("ticket", created["ticket_reference"])]


def test_agents_list_forwarded_reports_with_their_remote_status(
        client: Any, open311: Open311Server, make_user: Any, clock: FakeClock) -> None:
    first = client.post("/api/v1/defect-reports", json=REPORT).json()
    client.post("/api/v1/defect-reports", json={**REPORT, "category": "PH"})
    open311.close(first["service_request_id"], "erledigt")
    clock.advance(minutes=20)
    assert _forwarder(client).refresh_stale() == 2
    headers = {"Authorization": f"Bearer {make_user()}"}
    listed = client.get("/api/v1/agent/defect-reports", headers=headers).json()
    assert [(r["category"], r["remote_status"]) for r in listed] == [
        ("Schlagloch", "open"), ("Straßenbeleuchtung", "closed")]
    assert client.get("/api/v1/agent/defect-reports").status_code == 401
    assert client.get("/api/v1/agent/defect-reports?state=nope",
                      headers=headers).status_code == 422


def test_a_retry_with_the_same_idempotency_key_gets_the_first_report_back(
        client: Any, open311: Open311Server, db_url: str) -> None:
    key = {"Idempotency-Key": "0b6c1f3e-9d1e-4c5a-8f77-1d2a3b4c5d6e"}
    photo = base64.b64encode(PNG).decode()
    first = client.post("/api/v1/defect-reports", json={**REPORT, "photo": photo},
                        headers=key)
    again = client.post("/api/v1/defect-reports", json={**REPORT, "photo": photo},
                        headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    for field in ("reference", "access_token", "service_request_id"):
        assert again.json()[field] == first.json()[field]
    assert len(open311.requests) == 1
    other = client.post("/api/v1/defect-reports", json={**REPORT, "description": "anders"},
                        headers=key)
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert len(_rows(db_url)) == 1
    assert len(open311.requests) == 1


def test_without_an_endpoint_a_retried_report_makes_one_ticket(
        make_client: Any, db_url: str) -> None:
    client = make_client()
    key = {"Idempotency-Key": "retry-ticket-0001"}
    body = {**REPORT, "category": "pothole"}
    first = client.post("/api/v1/defect-reports", json=body, headers=key).json()
    again = client.post("/api/v1/defect-reports", json=body, headers=key).json()
    assert again["ticket_reference"] == first["ticket_reference"]
    assert again["reference"] == first["reference"]
    database = Database(db_url)
    try:
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    finally:
        database.dispose()


def test_an_unreachable_endpoint_is_a_503_that_names_no_address(
        client: Any, open311: Open311Server) -> None:
    open311.failing = 503
    answer = client.get("/api/v1/defect-reports/services")
    assert answer.status_code == 503
    detail = answer.json()["detail"]
    assert "unavailable" in detail
    assert str(open311.port) not in detail
    assert "127.0.0.1" not in detail


def test_a_failure_after_the_report_is_stored_still_gives_the_citizen_its_reference(
        client: Any, open311: Open311Server, db_url: str, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client.get("/api/v1/defect-reports/services")

    def broken(self: Forwarder, report_id: int) -> str | None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Forwarder, "forward_now", broken)
    answer = client.post("/api/v1/defect-reports", json=REPORT)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["state"] == "pending"
    assert created["reference"]
    assert created["access_token"]
    [row] = _rows(db_url)
    assert (row.reference, row.state) == (created["reference"], "pending")
    monkeypatch.undo()
    assert _forwarder(client).send_due().forwarded == 1  # the background task sends it
    status = client.get(f"/api/v1/defect-reports/{created['reference']}",
                        headers={"X-Access-Token": created["access_token"]}).json()
    assert status["service_request_id"] == open311.requests[0].id


def test_without_an_endpoint_a_photo_is_not_kept_and_the_ticket_says_so(
        make_client: Any, db_url: str, make_user: Any) -> None:
    client = make_client()
    photo = "data:image/png;base64," + base64.b64encode(PNG).decode()
    answer = client.post("/api/v1/defect-reports", json={
        **REPORT, "category": "street_light", "photo": photo})
    assert answer.status_code == 201, answer.text
    [row] = _rows(db_url)
    assert (row.photo, row.photo_type) == (None, None)
    database = Database(db_url)
    try:
        with database.session() as session:
            message = session.scalars(select(Ticket)).one().message
    finally:
        database.dispose()
    assert "Foto: wurde mitgesendet, aber nicht gespeichert" in message
    assert "liegt der Meldung bei" not in message
    token = make_user()
    [listed] = client.get("/api/v1/agent/defect-reports",
                          headers={"Authorization": f"Bearer {token}"}).json()
    assert listed["has_photo"] is False

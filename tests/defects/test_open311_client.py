"""The Open311 client against the GeoReport v2 server the tests start: what each
refusal and each kind of outage becomes."""

from __future__ import annotations

import pytest

from chatbot.defects.client import (
    NewRequest,
    Open311Client,
    Open311RefusedError,
    Open311UnavailableError,
)
from tests.conftest import free_port
from tests.open311_server import API_KEY, Open311Server


def _client(url: str, key: str | None = API_KEY) -> Open311Client:
    return Open311Client(url, api_key=key, jurisdiction_id=None, timeout=5)


def test_services_create_and_status(open311: Open311Server) -> None:
    client = _client(open311.url)
    assert [s.code for s in client.services()] == ["SL", "PH", "DUMP"]
    identifier = client.create(NewRequest(service_code="PH", description="Loch",
                                          address_string="Ostwall 1"))
    assert client.status(identifier).status == "open"
    open311.close(identifier, "verfüllt")
    status = client.status(identifier)
    assert (status.status, status.status_notes) == ("closed", "verfüllt")


@pytest.mark.parametrize(("key", "request_", "status", "text"), [
    ("bad", NewRequest(service_code="PH", description="x", address_string="Ostwall 1"),
     403, "Invalid api_key"),
    (API_KEY, NewRequest(service_code="PH", description="x"), 400,
     "address_string, or address_id is required"),
    (API_KEY, NewRequest(service_code="XX", description="x", address_string="Ostwall 1"),
     400, "unknown service_code"),
])
def test_refusals_carry_the_endpoints_georeport_error(
        open311: Open311Server, key: str, request_: NewRequest, status: int,
        text: str) -> None:
    with pytest.raises(Open311RefusedError) as refused:
        _client(open311.url, key).create(request_)
    assert refused.value.status == status
    assert text in str(refused.value)
    assert "bad" not in str(refused.value).replace("api_key", "")
    assert open311.requests == []


def test_an_unknown_request_id_is_refused(open311: Open311Server) -> None:
    with pytest.raises(Open311RefusedError) as refused:
        _client(open311.url).status("999999")
    assert refused.value.status == 404


def test_outages_are_worth_retrying(open311: Open311Server) -> None:
    open311.failing = 503
    with pytest.raises(Open311UnavailableError, match="HTTP 503"):
        _client(open311.url).services()
    with pytest.raises(Open311UnavailableError, match="ConnectError"):
        _client(f"http://127.0.0.1:{free_port()}/open311").services()

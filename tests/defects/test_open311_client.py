"""The Open311 client against the GeoReport v2 server the tests start: what each
refusal and each kind of outage becomes."""

from __future__ import annotations

import httpx
import pytest

from chatbot.defects.client import (
    NewRequest,
    Open311Client,
    Open311OutcomeUnknownError,
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


@pytest.mark.parametrize(("answer", "text"), [
    ((200, b'[{"token": "abc-123"}]'), "only a token (abc-123"),
    ((201, b'[{"service_notice": "thanks"}]'), "no service_request_id"),
    ((200, b"<html>ok</html>"), "is not JSON"),
    ((200, b'"accepted"'), "not a GeoReport array"),
    ((201, b'[{"service_request_id": "' + b"9" * 101 + b'"}]'), "longer than 100"),
])
def test_an_accepted_request_without_a_usable_id_has_an_unknown_outcome(
        open311: Open311Server, answer: tuple[int, bytes], text: str) -> None:
    open311.state.post_answer = answer
    with pytest.raises(Open311OutcomeUnknownError, match="not sent again") as unknown:
        _client(open311.url).create(NewRequest(service_code="PH", description="Loch",
                                               address_string="Ostwall 1"))
    assert text in str(unknown.value)
    assert API_KEY not in str(unknown.value)
    assert len(open311.requests) == 1


def test_a_read_timeout_after_sending_has_an_unknown_outcome(open311: Open311Server) -> None:
    open311.state.post_delay = 1.0
    client = Open311Client(open311.url, api_key=API_KEY, jurisdiction_id=None, timeout=0.3)
    with pytest.raises(Open311OutcomeUnknownError, match="ReadTimeout after sending"):
        client.create(NewRequest(service_code="PH", description="Loch",
                                 address_string="Ostwall 1"))
    assert len(open311.requests) == 1


@pytest.mark.parametrize(("error", "unknown"), [
    (httpx.ConnectError("refused"), False),
    (httpx.ConnectTimeout("slow"), False),
    (httpx.ReadTimeout("slow"), True),
    (httpx.RemoteProtocolError("closed"), True),
])
def test_only_errors_after_sending_make_a_new_request_unknown(
        error: httpx.HTTPError, unknown: bool) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    client = Open311Client("http://open311.invalid/v2", api_key=API_KEY, jurisdiction_id=None,
                           timeout=1, transport=httpx.MockTransport(fail))
    expected = Open311OutcomeUnknownError if unknown else Open311UnavailableError
    with pytest.raises(expected) as raised:
        client.create(NewRequest(service_code="PH", description="x", address_string="y"))
    assert type(raised.value) is expected
    with pytest.raises(Open311UnavailableError):  # a read is always worth retrying
        client.services()


def test_describe_and_messages_never_show_credentials_in_the_url() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    client = Open311Client("https://user:s3cret@open311.example:8443/v2", api_key=None,
                           jurisdiction_id=None, timeout=1, transport=httpx.MockTransport(fail))
    assert client.describe() == "https://open311.example:8443/v2"
    with pytest.raises(Open311UnavailableError) as raised:
        client.services()
    assert "s3cret" not in str(raised.value)
    assert "open311.example:8443" in str(raised.value)


def test_the_url_setting_refuses_credentials_without_repeating_them() -> None:
    from pydantic import ValidationError

    from chatbot.config import Settings

    with pytest.raises(ValidationError) as refused:
        Settings(open311_url="https://user:s3cret@open311.example/v2")
    assert "CHATBOT_OPEN311_API_KEY" in str(refused.value)
    assert "s3cret" not in str(refused.value)

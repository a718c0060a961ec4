"""The Open311 GeoReport v2 client: GET services.json, POST requests.json,
GET requests/{id}.json (https://wiki.open311.org/GeoReport_v2).

Failures come in three kinds: `Open311UnavailableError` (no connection, a connect
timeout, a 5xx, an answer that is not GeoReport JSON to a read) is worth retrying;
`Open311RefusedError` (a 4xx with the endpoint's error array, e.g. 400 missing location,
403 bad api_key) names what the endpoint objected to; `Open311OutcomeUnknownError` is
raised by `create()` only, when the new request may have been created although no usable
id came back (a read timeout or broken answer after the request was sent, a 2xx without
a service_request_id such as a GeoReport "token" answer, or an id too long to store).
Sending it again could make a duplicate, so it is not retried. The API key and the
URL's credentials never appear in a message or log line.

A photo is sent as a multipart file named `media` with the new request (endpoints
such as Mark-a-Spot accept it); GeoReport v2 itself only knows `media_url`, so an
endpoint that ignores `media` receives the report without the photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from chatbot.errors import ChatbotError


class Open311UnavailableError(ChatbotError):
    """The endpoint cannot be reached or answered with a server error (retry later)."""


class Open311OutcomeUnknownError(ChatbotError):
    """A new request was sent, but whether (and as what) the endpoint created it is
    unknown: never retried automatically (it could make a duplicate)."""


class Open311RefusedError(ChatbotError):
    """The endpoint refused the call (4xx); `status` and the endpoint's descriptions."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"the Open311 endpoint refused ({status}): {message}")
        self.status = status


MAX_REQUEST_ID_LENGTH = 100
"""defect_reports.service_request_id is String(100) (migration 0008)."""

# Errors raised after the request went out: the endpoint may have acted on it.
_AFTER_SENDING = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
                  httpx.RemoteProtocolError)


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    description: str = ""
    group: str = ""


@dataclass(frozen=True)
class NewRequest:
    service_code: str
    description: str
    address_string: str | None = None
    lat: float | None = None
    lon: float | None = None
    email: str | None = None
    photo: bytes | None = None
    photo_type: str | None = None


@dataclass(frozen=True)
class RequestStatus:
    service_request_id: str
    status: str
    """"open" or "closed" (GeoReport v2)."""
    status_notes: str | None = None


class Open311(Protocol):
    def services(self) -> list[Service]: ...

    def create(self, request: NewRequest) -> str: ...

    def status(self, service_request_id: str) -> RequestStatus: ...


class Open311Client:
    """One endpoint; safe to share between threads (one httpx client per call)."""

    def __init__(self, base_url: str, *, api_key: str | None, jurisdiction_id: str | None,
                 timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.jurisdiction_id = jurisdiction_id
        self.timeout = timeout
        self.transport = transport

    def describe(self) -> str:
        """The base URL without user:password@ (safe for logs and messages)."""
        parts = urlsplit(self.base_url)
        if parts.username is None and parts.password is None:
            return self.base_url
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port is not None else host
        return urlunsplit(parts._replace(netloc=netloc))

    def services(self) -> list[Service]:
        data = self._call("GET", "/services.json", params=self._jurisdiction())
        services = []
        for item in _array(data):
            code = str(item.get("service_code") or "").strip()
            if code:
                services.append(Service(
                    code=code, name=str(item.get("service_name") or code),
                    description=str(item.get("description") or ""),
                    group=str(item.get("group") or "")))
        return services

    def create(self, request: NewRequest) -> str:
        """The new service request's id."""
        form: dict[str, str] = {"service_code": request.service_code,
                                "description": request.description,
                                **self._jurisdiction()}
        if self.api_key:
            form["api_key"] = self.api_key
        if request.address_string:
            form["address_string"] = request.address_string
        if request.lat is not None and request.lon is not None:
            form["lat"], form["long"] = repr(request.lat), repr(request.lon)
        if request.email:
            form["email"] = request.email
        files = None
        if request.photo is not None:
            extension = (request.photo_type or "image/jpeg").rsplit("/", 1)[-1]
            files = {"media": (f"photo.{extension}", request.photo,
                               request.photo_type or "application/octet-stream")}
        unknown = ("outcome unknown, not sent again (it could make a duplicate); check the "
                   "endpoint for this report before `chatbot defects retry`")
        try:
            data = self._call("POST", "/requests.json", data=form, files=files,
                              sent_is_unknown=True)
            items = _array(data)
        except Open311UnavailableError as exc:
            if isinstance(exc, _SentError):
                raise Open311OutcomeUnknownError(f"{exc}; {unknown}") from None
            raise
        tokens = []
        for item in items:
            identifier = item.get("service_request_id")
            if identifier not in (None, ""):
                identifier = str(identifier)
                if len(identifier) > MAX_REQUEST_ID_LENGTH:
                    raise Open311OutcomeUnknownError(
                        f"{self.describe()}: the endpoint accepted the report, but its "
                        f"service_request_id is longer than {MAX_REQUEST_ID_LENGTH} characters "
                        f"({identifier[:40]}...); not sent again")
                return identifier
            if item.get("token"):
                tokens.append(str(item["token"])[:100])
        what = (f"only a token ({tokens[0]}; token answers are not supported)" if tokens
                else "no service_request_id")
        raise Open311OutcomeUnknownError(
            f"{self.describe()}: the endpoint accepted the report (HTTP 2xx) but its answer "
            f"carries {what}; {unknown}")

    def status(self, service_request_id: str) -> RequestStatus:
        from urllib.parse import quote

        data = self._call("GET", f"/requests/{quote(service_request_id, safe='')}.json",
                          params=self._jurisdiction())
        for item in _array(data):
            return RequestStatus(service_request_id=service_request_id,
                                 status=str(item.get("status") or "open")[:32],
                                 status_notes=(str(item["status_notes"])
                                               if item.get("status_notes") else None))
        raise Open311RefusedError(404, f"no service request {service_request_id!r}")

    def _jurisdiction(self) -> dict[str, str]:
        return {"jurisdiction_id": self.jurisdiction_id} if self.jurisdiction_id else {}

    def _call(self, method: str, path: str, *, sent_is_unknown: bool = False,
              **kwargs: Any) -> Any:
        """`sent_is_unknown`: failures after the request went out (and a 2xx answer that is
        not JSON) raise `_SentError`, a kind of Open311UnavailableError the caller must not
        retry blindly."""
        after = _SentError if sent_is_unknown else Open311UnavailableError
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
                response = http.request(method, self.base_url + path, **kwargs)
        except _AFTER_SENDING as exc:
            raise after(f"{self.describe()}: {type(exc).__name__} after sending") from None
        except httpx.HTTPError as exc:
            raise Open311UnavailableError(f"{self.describe()}: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise Open311UnavailableError(f"{self.describe()}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            raise Open311RefusedError(response.status_code, _errors(data) or response.reason_phrase)
        if data is None:
            raise after(f"{self.describe()}: the answer (HTTP {response.status_code}) is not "
                        "JSON")
        return data


class _SentError(Open311UnavailableError):
    """Internal: the request went out; its effect is unknown."""


def _array(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise _SentError("the answer is not a GeoReport array")
    return [item for item in data if isinstance(item, dict)]


def _errors(data: Any) -> str:
    """GeoReport errors: `[{"code": 400, "description": "..."}]`."""
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    return "; ".join(str(item.get("description"))[:200] for item in items
                     if isinstance(item, dict) and item.get("description"))[:450]

"""A real Open311 GeoReport v2 server in the test process (http.server in a thread),
to receive defect reports.

It implements the contract the client relies on: GET /services.json, POST
/requests.json (form-encoded or multipart with a `media` file; `api_key` checked ->
403, no service_code -> 400, unknown service_code -> 400, no location -> 400, each
with the GeoReport error array), GET /requests/{id}.json (404 for an unknown id).

Outages: `stop()`/`start()` close and reopen the port (connection refused), and
`failing = 503` answers every call with a server error. Answers whose outcome the client
cannot know: `post_delay` seconds of silence after a new request is recorded (a read
timeout), `post_answer = (status, body)` instead of the usual answer to an accepted
request (e.g. a token-only answer, a non-JSON 200, an over-long id).
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import free_port

API_KEY = "test-key-4711"
# The smallest valid PNG (1x1): magic bytes are what the service checks.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")
SERVICES = [
    {"service_code": "SL", "service_name": "Straßenbeleuchtung", "description": "Lampe aus",
     "metadata": False, "type": "realtime", "keywords": "licht", "group": "Straße"},
    {"service_code": "PH", "service_name": "Schlagloch", "description": "", "metadata": False,
     "type": "realtime", "keywords": "", "group": "Straße"},
    {"service_code": "DUMP", "service_name": "Wilder Müll", "description": "",
     "metadata": False, "type": "realtime", "keywords": "", "group": "Sauberkeit"},
]


@dataclass
class Received:
    id: str
    fields: dict[str, str]
    media: bytes | None = None
    media_type: str | None = None
    status: str = "open"
    status_notes: str | None = None


@dataclass
class _State:
    requests: list[Received] = field(default_factory=list)
    failing: int | None = None
    post_delay: float = 0.0
    post_answer: tuple[int, bytes] | None = None
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    state: _State  # set on the subclass per server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, description: str) -> None:
        self._send(status, [{"code": status, "description": description}])

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.state.calls.append(f"GET {path}")
        if self.state.failing:
            self._error(self.state.failing, "temporarily unavailable")
            return
        if path.endswith("/services.json"):
            self._send(200, SERVICES)
            return
        if "/requests/" in path and path.endswith(".json"):
            identifier = path.rsplit("/", 1)[-1][:-len(".json")]
            with self.state.lock:
                found = [r for r in self.state.requests if r.id == identifier]
            if not found:
                self._error(404, f"no service request {identifier}")
                return
            item = found[0]
            self._send(200, [{
                "service_request_id": item.id, "status": item.status,
                "status_notes": item.status_notes,
                "service_code": item.fields.get("service_code"),
                "description": item.fields.get("description"),
                "address": item.fields.get("address_string"),
                "requested_datetime": "2026-10-05T08:00:00+02:00"}])
            return
        self._error(404, "not found")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        self.state.calls.append(f"POST {path}")
        if self.state.failing:
            self._error(self.state.failing, "temporarily unavailable")
            return
        if not path.endswith("/requests.json"):
            self._error(404, "not found")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        fields, media, media_type = _parse_form(self.headers.get("Content-Type", ""), body)
        if fields.get("api_key") != API_KEY:
            self._error(403, "Invalid api_key")
            return
        code = fields.get("service_code")
        if not code:
            self._error(400, "service_code is required")
            return
        if code not in {s["service_code"] for s in SERVICES}:
            self._error(400, f"unknown service_code {code}")
            return
        if not (fields.get("address_string") or fields.get("address_id")
                or (fields.get("lat") and fields.get("long"))):
            self._error(400, "lat/long, address_string, or address_id is required")
            return
        with self.state.lock:
            identifier = str(1000 + len(self.state.requests) + 1)
            self.state.requests.append(Received(id=identifier, fields=fields, media=media,
                                                media_type=media_type))
        if self.state.post_delay:
            time.sleep(self.state.post_delay)
        if self.state.post_answer is not None:
            status, answer = self.state.post_answer
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            return
        self._send(201, [{"service_request_id": identifier, "service_notice": "",
                          "account_id": None}])


def _parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], bytes | None,
                                                         str | None]:
    if content_type.startswith("multipart/form-data"):
        message = email.message_from_bytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP)
        fields: dict[str, str] = {}
        media = media_type = None
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if name == "media":
                media, media_type = payload, part.get_content_type()
            elif name:
                fields[str(name)] = payload.decode("utf-8")
        return fields, media, media_type
    parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}, None, None


class Open311Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.state = _State()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/open311/v2"

    @property
    def requests(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def failing(self) -> int | None:
        return self.state.failing

    @failing.setter
    def failing(self, status: int | None) -> None:
        self.state.failing = status

    def start(self) -> Open311Server:
        handler = type("Handler", (_Handler,), {"state": self.state})
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self, identifier: str, notes: str) -> None:
        with self.state.lock:
            for item in self.state.requests:
                if item.id == identifier:
                    item.status, item.status_notes = "closed", notes

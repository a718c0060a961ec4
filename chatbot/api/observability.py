"""The outermost of our middlewares: request id, access log line, request metrics.

One raw ASGI middleware, so it sees every answer: the routes', the problem handler's,
the refusals `LimitsMiddleware` sends before routing, and the 500 Starlette's error
middleware sends for an exception that escapes every handler (this middleware sits
outside that one, see `chatbot.api.app.ChatbotApp`, so that 500 gets a request id and
is counted like any other answer). An exception that still arrives here (a response
broken off half-way) is counted as one 500 — the only places 500s are counted.

The access line replaces uvicorn's: method, route template (never the raw path or the
query string, which carried tokens), status and duration, and no client address.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any

from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatbot.api.metrics import UNMATCHED_ROUTE, Metrics, method_label
from chatbot.logging_setup import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
# An id a proxy or the widget chose is kept when it looks like one (UUIDs, hex, ULIDs):
# bounded, and without characters that could forge log structure or carry an address.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Probes and scrapes every few seconds would drown the citizens' requests.
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

access_log = logging.getLogger("chatbot.access")


def route_template(scope: Scope, table: RouteTable) -> str:
    """The template of the route that answered, or would have answered a request that
    was refused before routing (limits); `unmatched` for paths no route knows."""
    path = getattr(scope.get("route"), "path", None)
    if not (isinstance(path, str) and path):
        path = table.template(scope)
    return path or UNMATCHED_ROUTE


class RouteTable:
    """Every route's template and methods, flattened once per app: newer FastAPI keeps
    included routers nested, and a refused request never went through the router."""

    def __init__(self, routes: Iterable[Any]) -> None:
        self.entries: list[tuple[re.Pattern[str], frozenset[str] | None, str]] = []
        for route in routes:
            path = getattr(route, "path", None)
            if isinstance(path, str) and path:
                methods = getattr(route, "methods", None)
                self.entries.append((compile_path(path)[0],
                                     frozenset(methods) if methods else None, path))

    def template(self, scope: Scope) -> str | None:
        path = str(scope.get("path", ""))
        method = str(scope.get("method", ""))
        partial: str | None = None
        for pattern, methods, template in self.entries:
            if pattern.match(path):
                if methods is None or method in methods:
                    return template
                partial = partial or template  # the path exists, the method does not (405)
        return partial


def _flattened(routes: list[Any]) -> Iterable[Any]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers stayed nested: already flat
        return routes
    return iter_route_contexts(routes)


def incoming_request_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _SANE_REQUEST_ID.fullmatch(candidate) else None
    return None


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._table: tuple[int, RouteTable] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or secrets.token_hex(16)
        # Not reset afterwards: the request's task ends with it, and the problem handler
        # that logs an unexpected error's traceback runs outside this middleware.
        request_id_var.set(request_id)
        started = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # A response broken off half-way (see chatbot/api/last_resort.py).
            self._record(scope, status or 500, started)
            raise
        if status is not None:  # None: the client left before any answer
            self._record(scope, status, started)

    def _route_table(self, scope: Scope) -> RouteTable:
        routes = list(getattr(scope.get("app"), "routes", ()))
        if self._table is None or self._table[0] != len(routes):  # routes added (tests)
            self._table = (len(routes), RouteTable(_flattened(routes)))
        return self._table[1]

    def _record(self, scope: Scope, status: int, started: float) -> None:
        seconds = time.perf_counter() - started
        method = str(scope.get("method", ""))
        route = route_template(scope, self._route_table(scope))
        self.metrics.observe_request(method, route, status, seconds)
        level = logging.DEBUG if route in _QUIET_ROUTES and status < 400 else logging.INFO
        access_log.log(level, "%s %s %d %.1f ms", method_label(method), route, status,
                       seconds * 1000,
                       extra={"fields": {"method": method_label(method), "route": route,
                                         "status": status,
                                         "duration_ms": round(seconds * 1000, 1)}})

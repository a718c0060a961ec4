"""Every error response of the API, from one place: RFC 9457 problem details.

The routes raise domain errors (`chatbot.errors`) and never catch them; the handlers
installed by `install_problem_handlers` turn them, schema errors, HTTP errors and
unexpected failures into `application/problem+json` bodies with `type`, `title`,
`status` and `detail`.

`detail` keeps the shape clients read today: a sentence for most errors, and for 422
FastAPI's list of `{"type", "loc", "msg"}` items, so the widget finds the offending
field by `loc`. Domain-rule failures (unknown service, past slot) come out in that same
list shape. A 422 never echoes the input: it may be personal data, or not even
serialisable (a lone surrogate, NaN).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from chatbot.errors import (
    AuthenticationError,
    ChatbotError,
    ConfigurationError,
    ConflictError,
    ContactLimitError,
    CorpusError,
    DatabaseUnavailableError,
    IndexIncompatibleError,
    IndexNotFoundError,
    InvalidInputError,
    InvalidQueryError,
    ModelNotAvailableError,
    ModelOverloadedError,
    NotFoundError,
    PermissionDeniedError,
    RequestTimeoutError,
)
from chatbot.index.jobs import ReindexBusyError

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:citizen-chatbot:problem:"
# How long a client should wait before retrying while the database is unreachable:
# long enough for a restart or fail-over, short enough that a citizen retries.
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE_DETAIL = "the service's database is unavailable; retry in a few seconds"


@dataclass(frozen=True)
class ProblemKind:
    status: int
    slug: str
    title: str

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.slug


# Most specific first: the first class the error is an instance of decides.
DOMAIN_PROBLEMS: tuple[tuple[type[ChatbotError], ProblemKind], ...] = (
    (InvalidInputError, ProblemKind(422, "invalid-input", "Invalid input")),
    (InvalidQueryError, ProblemKind(422, "invalid-query", "The question cannot be answered "
                                                          "as given")),
    (NotFoundError, ProblemKind(404, "not-found", "Not found")),
    (AuthenticationError, ProblemKind(401, "unauthenticated", "Authentication required")),
    (PermissionDeniedError, ProblemKind(403, "forbidden", "Not allowed for this role")),
    (ContactLimitError, ProblemKind(409, "contact-limit",
                                    "Too many open requests for this contact")),
    (ConflictError, ProblemKind(409, "conflict", "Conflicts with the current state")),
    (DatabaseUnavailableError, ProblemKind(503, "database-unavailable",
                                           "The database is unavailable")),
    (RequestTimeoutError, ProblemKind(503, "timeout", "The request took too long")),
    (IndexNotFoundError, ProblemKind(503, "index-not-found", "No search index yet")),
    (IndexIncompatibleError, ProblemKind(503, "index-incompatible",
                                         "The search index is unusable")),
    (ModelOverloadedError, ProblemKind(503, "model-overloaded",
                                       "The embedding model is overloaded; try again shortly")),
    (ModelNotAvailableError, ProblemKind(503, "model-unavailable",
                                         "The embedding model is unavailable")),
    (CorpusError, ProblemKind(503, "corpus-unavailable", "The corpus is unreadable")),
    (ConfigurationError, ProblemKind(503, "misconfigured", "The server is misconfigured")),
)
VALIDATION = ProblemKind(422, "validation", "The request is not valid")
INTERNAL = ProblemKind(500, "internal", "Internal server error")
REINDEX_BUSY = ProblemKind(409, "reindex-busy", "A re-index is already running")


def domain_problem(exc: ChatbotError) -> ProblemKind:
    for cls, kind in DOMAIN_PROBLEMS:
        if isinstance(exc, cls):
            return kind
    return INTERNAL


def problem_response(kind: ProblemKind | None, status_code: int, detail: Any, *,
                     headers: dict[str, str] | None = None,
                     **extensions: Any) -> Response:
    """A problem document; `kind=None` is a plain HTTP error (`about:blank`)."""
    if not is_body_allowed_for_status_code(status_code):
        return Response(status_code=status_code, headers=headers)
    title = kind.title if kind else _status_phrase(status_code)
    body = {"type": kind.type if kind else "about:blank", "title": title,
            "status": status_code, "detail": detail, **extensions}
    return ProblemResponse(body, status_code=status_code, headers=headers)


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        # An error response must never fail in turn (that would be a 500 and a reset
        # connection): whatever slipped into it is made representable first.
        return json.dumps(_json_safe(content), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")


def _json_safe(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(_json_safe(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return _json_safe(str(value))


def _status_phrase(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def field_error(location: str, field: str, message: str) -> dict[str, Any]:
    """One item of a 422 `detail` list, as FastAPI's schema errors have them."""
    return {"type": "value_error", "loc": [location, field], "msg": message}


def _location(request: Request, field: str) -> str:
    if field == IDEMPOTENCY_HEADER:
        return "header"
    if field in request.query_params or request.method in ("GET", "HEAD", "DELETE"):
        return "query"
    return "body"


def _validation_item(error: Any) -> dict[str, Any]:
    """FastAPI's error item without `input` (never echoed) and with a printable `ctx`."""
    item: dict[str, Any] = {"type": error.get("type"), "loc": list(error.get("loc", ())),
                            "msg": error.get("msg")}
    ctx = error.get("ctx")
    if isinstance(ctx, dict) and ctx:
        item["ctx"] = {key: value if isinstance(value, str | int | float | bool) else str(value)
                       for key, value in ctx.items()}
    return item


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ChatbotError)
    kind = domain_problem(exc)
    if kind is INTERNAL:
        return await _on_unexpected(request, exc)
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, InvalidInputError):
        detail: Any = [field_error(_location(request, exc.field), exc.field, str(exc))]
    else:
        detail = str(exc)
    if isinstance(exc, RequestTimeoutError):
        settings = getattr(request.app.state, "settings", None)
        headers["Retry-After"] = str(getattr(settings, "overload_retry_after_seconds", 5))
    if isinstance(exc, DatabaseUnavailableError):
        headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        # The driver's message (host, reason) is for operators only.
        log.warning("database unavailable: %s", exc)
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.database_errors.inc()
        detail = DATABASE_UNAVAILABLE_DETAIL
    return problem_response(kind, kind.status, detail, headers=headers or None)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem_response(VALIDATION, VALIDATION.status,
                            [_validation_item(e) for e in exc.errors()])


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem_response(None, exc.status_code, exc.detail,
                            headers=dict(exc.headers) if exc.headers else None)


async def _on_reindex_busy(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ReindexBusyError)
    # `detail` as the editors' page has always read it, `job_id` as an RFC 9457 member.
    return problem_response(REINDEX_BUSY, REINDEX_BUSY.status,
                            {"message": str(exc), "job_id": exc.job_id}, job_id=exc.job_id)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback and counted, but the client learns nothing of
    the internals."""
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, path,
              exc_info=exc)
    # Counted once, by the request middleware (chatbot/api/observability.py), which
    # sees the 500 response or, for an exception that escapes the routes, the exception.
    return problem_response(INTERNAL, INTERNAL.status,
                            "An unexpected error occurred; it has been logged.")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ChatbotError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(ReindexBusyError, _on_reindex_busy)
    app.add_exception_handler(Exception, _on_unexpected)


__all__ = ["IDEMPOTENCY_HEADER", "install_problem_handlers", "problem_response"]

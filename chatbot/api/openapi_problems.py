"""The OpenAPI document declares every error answer a route can give, as a problem document.

Routes declare their own domain answers (`responses=` with 401, 403, 404, 409); what the
app adds around every route is declared here, from the same tables that produce them:
the body limit (413) and malformed bodies (400) for every request with a body, schema
errors (422) for every route with input, the rate limits (429) and the conversation
limit (409) for the limited endpoints (`limits.ENDPOINT_CLASSES`), and 503 (database,
model or index unavailable, model overloaded) everywhere but `/healthz`. Every error
answer then gets the `application/problem+json` media type and the problem schema,
unless its route declared a body of its own (`/readyz`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from chatbot.api.limits import BODY_METHODS, ENDPOINT_CLASSES
from chatbot.api.problems import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": PROBLEM_SCHEMA_NAME,
    "description": "RFC 9457 problem details. `detail` is a sentence, or for 422 a list "
                   "of `{type, loc, msg}` items naming the offending field.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {},
    },
}
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {
    "schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}}}
# FastAPI's own 422 body, replaced by ours (the problem handler answers schema errors).
_FASTAPI_VALIDATION_REF = "#/components/schemas/HTTPValidationError"
_ALWAYS_ANSWERS = frozenset({"/healthz"})

DESCRIPTIONS = {
    400: "The body is not well-formed JSON",
    409: "The conversation has reached its message limit",
    413: "The request body is larger than CHATBOT_MAX_BODY_BYTES",
    422: "The request is not valid; `detail` names the field",
    429: "Too many requests from this address; see Retry-After",
    503: "The database, the model or the index is unavailable, or the model is "
         "overloaded; see Retry-After",
}


def install_problem_documentation(app: FastAPI) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Add the app-wide error answers to every operation of `document` (in place)."""
    document.setdefault("components", {}).setdefault("schemas", {})[PROBLEM_SCHEMA_NAME] = (
        PROBLEM_SCHEMA)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for status in _app_wide_statuses(path, method.upper(), operation):
                responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
            for code, response in responses.items():
                if code[0] in "45" and not _declares_own_body(response):
                    response["content"] = _PROBLEM_CONTENT
    return document


def _app_wide_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    statuses = []
    has_body = "requestBody" in operation
    if has_body:
        statuses.append(400)
    if method in BODY_METHODS:
        statuses.append(413)
    if has_body or operation.get("parameters"):
        statuses.append(422)
    endpoint = ENDPOINT_CLASSES.get((method, path))
    if endpoint is not None:
        statuses.append(429)
    if endpoint == "chat":
        statuses.append(409)
    if path not in _ALWAYS_ANSWERS:
        statuses.append(503)
    return statuses


def _declares_own_body(response: dict[str, Any]) -> bool:
    for media in response.get("content", {}).values():
        schema = media.get("schema") or {}
        if schema and schema.get("$ref") != _FASTAPI_VALIDATION_REF:
            return True
    return False


__all__ = ["install_problem_documentation"]

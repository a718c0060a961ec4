"""Domain exceptions of the back office as HTTP errors, in one place for all routers.

Domain-rule failures (unknown service, past slot) come out as 422 in the same shape
as FastAPI's schema errors, so clients find the offending field the same way.
"""

from __future__ import annotations

from fastapi import HTTPException, status

from chatbot.errors import (
    AuthenticationError,
    ChatbotError,
    ConflictError,
    DatabaseUnavailableError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"


def http_error(exc: ChatbotError, *, location: str = "body") -> HTTPException:
    if isinstance(exc, DatabaseUnavailableError):
        raise exc  # chatbot.api.faults answers it: 503 with Retry-After
    if isinstance(exc, InvalidInputError):
        where = "header" if exc.field == IDEMPOTENCY_HEADER else location
        return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=[
            {"type": "value_error", "loc": [where, exc.field], "msg": str(exc)}])
    if isinstance(exc, NotFoundError):
        return HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc))
    if isinstance(exc, AuthenticationError):
        return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=str(exc),
                             headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, PermissionDeniedError):
        return HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc))
    if isinstance(exc, ConflictError):
        return HTTPException(status.HTTP_409_CONFLICT, detail=str(exc))
    return HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, detail=str(exc))

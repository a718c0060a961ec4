"""The database's faults as HTTP answers: 503 with Retry-After, never 500.

The storage layer raises `DatabaseUnavailableError` for a database that is down,
restarting, locked or out of connections (`chatbot.storage.engine`); whatever route
was running, the client learns to come back shortly and nothing was stored.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from chatbot.errors import DatabaseUnavailableError

# Seconds a client should wait: a PostgreSQL restart or fail-over takes a few seconds.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_DETAIL = "the service's database is unavailable; retry in a few seconds"


def unavailable_response() -> JSONResponse:
    # The driver's message (host, reason) goes to the log, not to the client.
    return JSONResponse({"detail": UNAVAILABLE_DETAIL},
                        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _database_unavailable(_request: Request, _exc: Exception) -> JSONResponse:
    return unavailable_response()


def install_fault_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DatabaseUnavailableError, _database_unavailable)

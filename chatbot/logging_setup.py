"""One logging setup for the server: JSON lines on stderr.

Each line is one JSON object with `time`, `level`, `logger`, `message`, the `pid` of
the process (which worker, with `chatbot serve --workers N`) and the `request_id` of
the request it belongs to (null outside requests); a traceback is one
`exception` field, never extra lines a log shipper would split. Extra fields passed
with `extra={"fields": {...}}` are merged into the object (the access line uses them).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

# Set by the request middleware (chatbot/api/observability.py). Each request runs in an
# asyncio task of its own, with its own copy of the context, so the value dies with it.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None)

_HANDLER_NAME = "chatbot-json"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
            "request_id": request_id_var.get(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str | int = logging.INFO, stream: IO[str] | None = None) -> None:
    """JSON lines for every logger (ours, uvicorn's, SQLAlchemy's) through the root
    logger; calling it again replaces the handler instead of adding a second one."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's loggers would otherwise keep handlers of their own (plain text) or, for
    # the access log, print the client's address and the query string (tokens).
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True

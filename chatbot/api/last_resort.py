"""The last answer for an exception that escapes every handler.

Starlette's `ServerErrorMiddleware` is the outermost layer a FastAPI app builds: it
sends the 500 (through our problem handler, which logs the traceback) and then
re-raises, past every middleware added with `add_middleware` (all of them inside it).
So the request-id, access-log and security-header middlewares are placed outside it
(`chatbot.api.app.ChatbotApp`), with this one between them and it:

- the handler answered: the exception is swallowed here (it has been logged and the
  client has its problem document), so the server neither logs it a second time as a
  bare multi-line traceback nor treats the connection as broken;
- nothing was sent (the handler itself failed): a fixed problem document is sent;
- half a response was sent (a failing stream): re-raised, since only closing the
  connection tells the client that the body is incomplete.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatbot.api.problems import INTERNAL, PROBLEM_MEDIA_TYPE

log = logging.getLogger(__name__)

INTERNAL_DETAIL = "An unexpected error occurred; it has been logged."
_BODY = json.dumps({"type": INTERNAL.type, "title": INTERNAL.title, "status": INTERNAL.status,
                    "detail": INTERNAL_DETAIL}).encode()


class LastResortMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = completed = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, completed
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                completed = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if completed:
                return
            if started:
                raise
            log.error("unhandled %s escaped the error handler on %s", type(exc).__name__,
                      scope.get("method", ""), exc_info=exc)
            await send({"type": "http.response.start", "status": INTERNAL.status,
                        "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                                    (b"content-length", str(len(_BODY)).encode())]})
            await send({"type": "http.response.body", "body": _BODY})

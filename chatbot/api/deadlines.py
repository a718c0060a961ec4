"""A server-side deadline for the citizens' endpoints (chat, search, tickets,
appointments): past `CHATBOT_REQUEST_TIMEOUT_SECONDS` the client gets 503 +
`Retry-After` instead of waiting on, whatever the request is waiting for (the model,
a database lock, a slow query, a slow upload).

The deadline covers the whole request, the model queue's own wait
(`CHATBOT_MODEL_QUEUE_TIMEOUT_SECONDS`) included, so it should be the longer of the two.

The work itself is not cancelled: a sync route runs in a worker thread, which cannot be
stopped, and cancelling the awaiting coroutine would only wait for the thread. The
request runs on in a task of its own whose answer is discarded, and whether its writes
are stored is decided at COMMIT by the shared `Deadline` (`chatbot.deadline`): once a
COMMIT that stores something has begun the deadline no longer fires and the request's
real answer goes out, however late; a request already answered 503 has its
transaction rolled back. So a timeout never loses an acknowledged write and never
stores an unacknowledged one.
"""

from __future__ import annotations

import asyncio
import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatbot.api.limits import send_problem
from chatbot.deadline import Deadline

log = logging.getLogger(__name__)

DEADLINE_SCOPE_KEY = "chatbot.deadline"
# The citizens' endpoints; the staff's, the editors' (a re-index is a job of its own)
# and the probes have no deadline here.
CITIZEN_PATHS = re.compile(r"^/api/v1/(?:chat|search|tickets|appointments)(?:/.*)?$")


class DeadlineMiddleware:
    def __init__(self, app: ASGIApp, *, timeout: float, retry_after: int) -> None:
        self.app = app
        self.timeout = timeout
        self.retry_after = retry_after
        self._abandoned: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or self.timeout <= 0
                or not CITIZEN_PATHS.match(scope["path"])):
            await self.app(scope, receive, send)
            return
        deadline = Deadline()
        scope[DEADLINE_SCOPE_KEY] = deadline
        answered = False

        async def send_unless_answered(message: Message) -> None:
            nonlocal answered
            if deadline.expired:
                return  # the client already has its 503
            if message["type"] == "http.response.start":
                answered = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, send_unless_answered))
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        if task in done or answered or not deadline.expire():
            # Finished, already answering, or committing a write: its answer stands.
            await task
            return
        self._abandoned.add(task)  # a reference, or the task may be collected mid-run
        task.add_done_callback(self._finished_late)
        _count_timeout(scope)
        log.warning("request deadline of %.1f s passed; answered 503", self.timeout)
        await send_problem(
            send, status=503, slug="timeout", title="The request took too long",
            detail="The service could not answer in time; nothing was stored. Please try "
                   "again in a moment.", retry_after=self.retry_after)

    def _finished_late(self, task: asyncio.Task[None]) -> None:
        self._abandoned.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            # Nobody else sees it: the server's error handler waits on the answered
            # request, not on this task.
            log.error("unhandled %s after the request's deadline", type(error).__name__,
                      exc_info=error)


def _count_timeout(scope: Scope) -> None:
    metrics = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
    if metrics is not None:
        metrics.count_rejection(_endpoint(scope["path"]), "timeout")


def _endpoint(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/", 1)[0]

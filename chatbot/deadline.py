"""A request's deadline, shared by the event loop that answers it and the worker thread
that does its work.

A thread cannot be stopped, so a request past its deadline is not cancelled: it is
answered (503) and its thread runs on, and what decides whether anything it writes is
stored is this object. Before every COMMIT the session asks it (see
`chatbot.storage.engine`): a COMMIT that would store something *claims* the request —
from then on the deadline can no longer fire, and the request's own answer goes out,
however long the COMMIT takes — while a request that was already answered 503 has its
transaction rolled back. So a 503 for a timeout always means "not stored", and a write
that was committed is always acknowledged.
"""

from __future__ import annotations

import threading

DEADLINE_INFO_KEY = "chatbot.deadline"  # in a Session's `info`
_RUNNING, _EXPIRED, _COMMITTING = "running", "expired", "committing"


class Deadline:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _RUNNING

    @property
    def expired(self) -> bool:
        return self._state == _EXPIRED

    def expire(self) -> bool:
        """The event loop, when the time is up: True if the request may now be answered
        503 (nothing has been committed, and nothing will be); False if a COMMIT
        claimed it first (the request must be allowed to finish)."""
        with self._lock:
            if self._state == _RUNNING:
                self._state = _EXPIRED
            return self._state == _EXPIRED

    def claim_commit(self) -> bool:
        """The worker thread, before a COMMIT that stores something: False if the
        request was already answered 503 (roll back instead)."""
        with self._lock:
            if self._state == _RUNNING:
                self._state = _COMMITTING
            return self._state == _COMMITTING

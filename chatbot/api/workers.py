"""`chatbot serve --workers N`: N server processes on one port.

uvicorn's supervisor binds the socket once and starts N *spawned* processes (not
forked: nothing is shared, so each loads the model and the index itself). A spawned
worker rebuilds the app from an import string (`worker_app`), so everything it needs
travels through the environment: the CLI's overrides are written to `CHATBOT_*`
variables before the workers start and every worker reads the same `get_settings()`.

Each worker runs what one server runs: its own index polling, its own outbox sender
(claims are leased, so several senders never send a row twice), its own model queue
and micro-batcher. What is per process and therefore not exact with N > 1 is said at
start-up (`worker_warnings`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping

from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE

from chatbot.config import Settings, get_settings
from chatbot.errors import ChatbotError

MAX_WORKERS = 64

log = logging.getLogger(__name__)


def worker_threads(workers: int, cores: int | None = None) -> int:
    """torch threads per worker when `CHATBOT_COMPUTE_THREADS` is not set: the share of
    half the cores that one worker gets, at least one.

    One process uses half the cores for its encodes and leaves the other half to its
    request threads (chatbot/embedding/sentence_transformer.py `configure_threads`).
    N workers encode side by side, one batch each, so giving each worker half the cores
    would put N times as many OpenMP threads as that rule allows on the cores, and
    spinning threads waiting for a core were measured to make an encode 20x slower.
    Splitting the same budget keeps the machine's total where one process had it."""
    count = cores if cores is not None else (os.cpu_count() or 2)
    return max(1, count // (2 * workers))


def prepare_environment(settings: Settings, workers: int,
                        environ: MutableMapping[str, str] | None = None) -> int:
    """Put what the spawned workers must agree on into the environment they inherit:
    the address (the CLI's --host/--port win over the variables) and, unless the
    operator chose one, the torch thread count per worker. Returns that count."""
    env = os.environ if environ is None else environ
    env["CHATBOT_HOST"] = settings.host
    env["CHATBOT_PORT"] = str(settings.port)
    threads = settings.compute_threads or worker_threads(workers)
    env["CHATBOT_COMPUTE_THREADS"] = str(threads)
    return threads


def worker_warnings(settings: Settings, workers: int) -> list[str]:
    """What runs per process, said once at start-up when there are several."""
    if workers <= 1:
        return []
    # Prometheus counters live in each worker's memory; a scrape reaches one of them.
    warnings = [f"/metrics answers with the counters of whichever of the {workers} workers "
                "takes the scrape; for exact metrics run one worker per port"]
    if settings.rate_limits_enabled and not settings.redis_url:
        warnings.append(
            f"rate limits are counted in each of the {workers} workers: a client can get "
            f"up to {workers}x its limit; set CHATBOT_REDIS_URL for exact limits")
    if settings.load_search and settings.index_poll_seconds <= 0:
        warnings.append(
            "CHATBOT_INDEX_POLL_SECONDS=0: a re-index or reload through the editors' API "
            "reaches only the worker that answered it; the others keep the old version "
            "until restarted")
    if settings.database_url.startswith("sqlite"):
        warnings.append(
            f"SQLite with {workers} workers: writes (tickets, appointments, feedback) "
            "wait for each other across processes; use PostgreSQL for heavy write load")
    return warnings


def worker_app() -> FastAPI:
    """The app of one worker (uvicorn `factory=True`): JSON logging and settings from
    the environment, as `chatbot serve` configures them for a single process."""
    from chatbot.api.app import create_app
    from chatbot.logging_setup import configure_logging

    # A spawned process starts without the parent's logging configuration.
    configure_logging()
    settings = get_settings()
    if settings.replica_id:  # each worker reports its index version on its own
        settings = settings.model_copy(
            update={"replica_id": f"{settings.replica_id}:{os.getpid()}"})
    log.info("worker started", extra={"fields": {
        "compute_threads": settings.compute_threads}})
    try:
        return create_app(settings)
    except ChatbotError as exc:
        # uvicorn's supervisor restarts a worker that dies of an exception, forever;
        # STARTUP_FAILURE tells it the app is broken and stops the server instead.
        log.error("worker cannot start: %s", exc)
    except Exception:
        log.exception("worker cannot start")
    sys.exit(STARTUP_FAILURE)

"""Liveness, readiness and Prometheus metrics.

The two probes are `async`: they run on the event loop, not in the thread pool that
serves requests, so they answer at once however busy the model is. The readiness
check's database query runs in a one-thread pool of its own, bounded in time.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chatbot.api.deps import DatabaseDep, MetricsDep, OptionalSearchDep, StartupProblemDep
from chatbot.errors import DatabaseUnavailableError
from chatbot.storage import Database
from chatbot.storage.engine import PROBE_TIMEOUT_SECONDS

router = APIRouter(tags=["operations"])

# One thread: a second probe while the first still waits for the database gets the
# timeout, instead of piling up threads.
_probe_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readyz-db")


# Both are coroutines: they run on the event loop and never wait for a thread of the
# pool that chat, search and the database share.
@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _database_problem(database: Database) -> str | None:
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(_probe_pool, database.ping),
                               timeout=PROBE_TIMEOUT_SECONDS + 1)
    except DatabaseUnavailableError as exc:
        return str(exc)
    except TimeoutError:
        return f"the database did not answer within {PROBE_TIMEOUT_SECONDS + 1} s"
    return None


@router.get("/readyz", summary="Model and index are loaded, the database answers",
            responses={503: {"description": "Not ready: `reason` says why", "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["status", "reason"],
                    "properties": {"status": {"type": "string"},
                                   "reason": {"type": "string"}}}}}}})
async def readyz(response: Response, database: DatabaseDep, service: OptionalSearchDep,
                 problem: StartupProblemDep) -> dict[str, object]:
    database_problem = await _database_problem(database)
    if database_problem is not None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "not ready", "reason": database_problem}
    if service is None or not service.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        reason = problem or (
            "no index yet: build one with `chatbot ingest`" if service else "model loading"
        )
        return {"status": "not ready", "reason": reason}
    index = service.index
    return {"status": "ready", "model": service.embedder.model_id,
            "index_version": index.version if index else None, "database": "ok"}


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(registry: MetricsDep) -> Response:
    return Response(generate_latest(registry.registry),
                    media_type=CONTENT_TYPE_LATEST)

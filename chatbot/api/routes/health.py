"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chatbot.api.deps import MetricsDep, OptionalSearchDep, StartupProblemDep

router = APIRouter(tags=["operations"])


# Both are coroutines: they run on the event loop and never wait for a thread of the
# pool that chat, search and the database share.
@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Model and index are loaded")
async def readyz(response: Response, service: OptionalSearchDep,
                 problem: StartupProblemDep) -> dict[str, object]:
    if service is None or not service.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        reason = problem or (
            "no index yet: build one with `chatbot ingest`" if service else "model loading"
        )
        return {"status": "not ready", "reason": reason}
    index = service.index
    return {"status": "ready", "model": service.embedder.model_id,
            "index_version": index.version if index else None}


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(registry: MetricsDep) -> Response:
    return Response(generate_latest(registry.registry),
                    media_type=CONTENT_TYPE_LATEST)

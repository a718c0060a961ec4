"""Re-index jobs started from the editors' API: one background build at a time.

The build runs in a thread of the server process with the embedder the server has
already loaded (a second copy of the model would double its memory), then the
server's `SearchService` reloads. On PostgreSQL the version is first published to the
database (`chatbot.index.distribution`), from where replicas on every machine fetch it;
other server processes pick the new version up through their index polling. Job state
lives in this process only: it is a view of what this server is doing, not shared
state, and the published index itself is the durable result.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from chatbot.config import Settings
from chatbot.errors import PublishRefusedError
from chatbot.index.builder import build_index
from chatbot.index.distribution import VersionDistributor, publish_build, replica_id
from chatbot.index.store import IndexStore

if TYPE_CHECKING:
    from chatbot.retrieval.service import SearchService

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "succeeded", "failed"]


class ReindexBusyError(Exception):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"re-index {job_id} is still running")
        self.job_id = job_id


@dataclass(frozen=True)
class ReindexJob:
    id: str
    state: JobState
    full: bool
    force: bool
    requested_by: str | None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    stage: str | None = None
    done: int = 0
    total: int = 0
    version: str | None = None
    embedded_chunks: int | None = None
    reused_chunks: int | None = None
    file_errors: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ReindexManager:
    def __init__(self, settings: Settings, *,
                 distributor: VersionDistributor | None = None) -> None:
        self._settings = settings
        self._distributor = distributor
        self._lock = threading.Lock()
        self._job: ReindexJob | None = None
        self._thread: threading.Thread | None = None

    @property
    def last_job(self) -> ReindexJob | None:
        return self._job

    @property
    def running(self) -> bool:
        job = self._job
        return job is not None and job.state in ("queued", "running")

    def start(self, service: SearchService, *, full: bool = False, force: bool = False,
              requested_by: str | None = None) -> ReindexJob:
        """`force` publishes even a build that lost German article versions or shrank by
        more than `max_index_shrink`; otherwise such a job fails and says why."""
        with self._lock:
            if self._job is not None and self._job.state in ("queued", "running"):
                raise ReindexBusyError(self._job.id)
            job = ReindexJob(id=uuid.uuid4().hex[:12], state="queued", full=full, force=force,
                             requested_by=requested_by, created_at=_now())
            self._job = job
            self._thread = threading.Thread(target=self._run,
                                            args=(job.id, service, full, force,
                                                  requested_by),
                                            name=f"reindex-{job.id}", daemon=True)
            self._thread.start()
        return job

    def wait(self, timeout: float | None = None) -> ReindexJob | None:
        """For tests and shutdown: block until the current build thread ends."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self._job

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            if self._job is not None and self._job.id == job_id:
                self._job = replace(self._job, **changes)  # type: ignore[arg-type]

    def _run(self, job_id: str, service: SearchService, full: bool, force: bool,
             requested_by: str | None) -> None:
        settings = self._settings
        self._update(job_id, state="running", started_at=_now())

        def progress(stage: str, done: int, total: int) -> None:
            self._update(job_id, stage=stage, done=done, total=total)

        store = IndexStore(settings.index_dir)
        try:
            previous = store.current_version()
            result = build_index(corpus_dir=settings.corpus_dir,
                                 store=store, embedder=service.embedder,
                                 chunk_chars=settings.chunk_chars, full=full,
                                 ann_min_chunks=settings.ann_min_chunks,
                                 keep_versions=settings.keep_index_versions,
                                 progress=progress, model_profile=service.profile.label,
                                 force=force, max_shrink=settings.max_index_shrink)
            if self._distributor is not None and self._distributor.shared:
                self._update(job_id, stage="publishing")
                publish_build(self._distributor, store, result.manifest.version, previous,
                              by=f"{requested_by or 'editor'} on {replica_id(settings)}",
                              keep=settings.keep_index_versions,
                              model_id=service.embedder.model_id)
            self._update(job_id, stage="reloading")
            service.reload()
        except PublishRefusedError as exc:
            # Expected protection, not a crash: no traceback, the reason for the editor.
            log.warning("re-index %s refused: %s", job_id, exc)
            self._update(job_id, state="failed", finished_at=_now(),
                         error=f"{exc}; to publish it anyway: re-index with force")
            return
        except Exception as exc:
            # Whatever broke, the previous version keeps serving; the editor sees why.
            log.exception("re-index %s failed", job_id)
            self._update(job_id, state="failed", finished_at=_now(),
                         error=str(exc) or type(exc).__name__)
            return
        m = result.manifest
        self._update(job_id, state="succeeded", finished_at=_now(), stage="done",
                     version=m.version, embedded_chunks=m.embedded_chunks,
                     reused_chunks=m.reused_chunks, file_errors=len(m.errors))

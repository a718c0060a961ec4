"""Response bodies of the editors' admin API (index versions, re-index jobs, translations)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReindexCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full: bool = Field(default=False, description="Re-embed every chunk, not only changed ones")


class ReindexJobPublic(BaseModel):
    id: str
    state: Literal["queued", "running", "succeeded", "failed"]
    full: bool
    requested_by: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    stage: str | None = Field(description="loading corpus, embedding, writing index, ...")
    done: int = Field(description="chunks embedded so far in this stage")
    total: int = Field(description="chunks to embed in this stage")
    version: str | None = Field(description="the version published by a successful build")
    embedded_chunks: int | None
    reused_chunks: int | None
    file_errors: int | None
    error: str | None


class VersionPublic(BaseModel):
    version: str
    current: bool
    built_at: str | None
    model_id: str | None
    article_count: int | None
    document_count: int | None
    chunk_count: int | None
    languages: dict[str, int]
    embedded_chunks: int | None
    reused_chunks: int | None
    file_errors: int | None
    problem: str | None


class FileErrorPublic(BaseModel):
    path: str
    reason: str


class IndexStatusPublic(BaseModel):
    current_version: str | None = Field(description="what `CURRENT` points at on disk")
    serving_version: str | None = Field(description="what this server process answers from")
    current: VersionPublic | None
    versions: list[VersionPublic] = Field(description="complete versions, oldest first")
    job: ReindexJobPublic | None = Field(description="the running or last re-index here")
    file_errors: list[FileErrorPublic] = Field(
        description="files skipped by the build of the current version")


class ReloadPublic(BaseModel):
    reloaded: bool
    serving_version: str | None


class TranslationStatusPublic(BaseModel):
    article_id: str
    department: str
    title: str
    source_updated: str | None
    missing: list[str]
    stale: list[str]
    complete: bool


class TranslationsPublic(BaseModel):
    languages: list[str]
    articles: list[TranslationStatusPublic]
    file_errors: list[FileErrorPublic] = Field(description="corpus files that do not load")

"""Response bodies of the editors' admin API (index versions, re-index jobs, translations,
content gaps)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chatbot.api.constraints import RequestBody


class ReindexCreate(RequestBody):
    full: bool = Field(default=False, description="Re-embed every chunk, not only changed ones")
    force: bool = Field(default=False, description="Publish even if German article versions "
                        "were lost or the index shrank by more than CHATBOT_MAX_INDEX_SHRINK")


class ReindexJobPublic(BaseModel):
    id: str
    state: Literal["queued", "running", "succeeded", "failed"]
    full: bool
    force: bool = Field(default=False, description="publish even a build that lost German "
                        "versions or shrank too much")
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
    machine_translated: list[str] = Field(
        default_factory=list,
        description="versions that are machine-translated drafts, not yet reviewed")
    complete: bool


class TranslationsPublic(BaseModel):
    languages: list[str]
    articles: list[TranslationStatusPublic]
    file_errors: list[FileErrorPublic] = Field(description="corpus files that do not load")


class NearestArticlePublic(BaseModel):
    article_id: str
    lang: str
    title: str
    score: float = Field(description="the search's confidence that it answers the question")


class ContentGapPublic(BaseModel):
    language: str = Field(description="the question's language; also unsupported ones "
                                      "(e.g. ar), 'unknown' if not recorded")
    department: str = Field(description="department of the article the chat offered, "
                                        "or 'unknown'")
    count: int = Field(description="questions in this cluster (every time asked)")
    representative: str = Field(description="the question closest to the cluster's centre")
    examples: list[str] = Field(description="distinct questions, closest to the centre first")
    escalated: int = Field(description="questions the chat handed to a person")
    negative_feedback: int = Field(description="questions whose reply was rated unhelpful")
    unsupported_language: int = Field(description="questions in a language the chat does "
                                                  "not support (a language gap)")
    offered_articles: list[str] = Field(description="articles the chat answered with or "
                                                    "escalated about, most frequent first")
    first_seen: datetime
    last_seen: datetime
    nearest_article: NearestArticlePublic | None = Field(
        description="top search hit for the representative question, if search is loaded")


class ContentGapsPublic(BaseModel):
    since: datetime | None = Field(description="start of the window; null: all stored")
    language: str | None
    questions: int = Field(description="gap questions in the window")
    clusters: int = Field(description="clusters found; `gaps` lists the first `limit`")
    similarity: Literal["embeddings", "exact"] = Field(
        description="clustered by embedding similarity, or (search not loaded) by "
                    "identical normalised text")
    threshold: float | None = Field(description="cosine similarity to every member "
                                                "needed to join a cluster")
    gaps: list[ContentGapPublic] = Field(description="most asked first")

"""`manifest.json`: what an index version was built from. Loaded before anything else."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

FORMAT_VERSION = 1


class FileError(BaseModel):
    path: str
    reason: str


class VectorIndexInfo(BaseModel):
    """The FAISS index kind of `vectors.faiss` (and `centred.faiss` when approximate).
    Manifests written before this field existed are flat."""

    kind: Literal["flat", "ivf"] = "flat"
    nlist: int | None = Field(default=None, description="IVF lists")
    nprobe: int | None = Field(default=None, description="IVF lists searched per query")


class IndexManifest(BaseModel):
    format_version: int = FORMAT_VERSION
    version: str
    model_id: str
    model_profile: str | None = Field(
        default=None, description="the model profile searches used when the version was built")
    dimension: int
    corpus_hash: str
    article_count: int = Field(description="distinct article ids")
    document_count: int = Field(description="article language versions")
    chunk_count: int
    languages: dict[str, int] = Field(description="language versions per language")
    chunk_chars: int
    errors: list[FileError] = Field(default_factory=list)
    embedded_chunks: int = Field(description="chunks embedded in this build")
    reused_chunks: int = Field(
        description="chunks whose vectors came from a version on disk (same model)")
    forced: bool = Field(
        default=False,
        description="published with force although it lost German versions or shrank")
    vector_index: VectorIndexInfo = Field(
        default_factory=VectorIndexInfo,
        description="exact (flat) or approximate (IVF) vector search, chosen by size")
    built_at: str
    build_seconds: float
    package_version: str

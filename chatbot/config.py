"""Settings, read from `CHATBOT_*` environment variables.

Defaults make `chatbot serve` work with no environment at all; invalid values fail
at start-up with the variable's name rather than at the first request.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_MODEL = "bundled:multilingual-e5-small"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citizen-chatbot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHATBOT_", extra="ignore")

    corpus_dir: Path = Path("knowledge_corpus")
    index_dir: Path = Path("indexes")
    database_url: str = "sqlite:///var/chatbot.sqlite3"
    embedding_model: str = Field(
        default=BUNDLED_MODEL,
        description="`bundled:multilingual-e5-small`, or a sentence-transformers name or path",
    )
    model_cache_dir: Path = Field(default_factory=default_cache_dir)
    embedding_batch_size: Annotated[int, Field(ge=1, le=1024)] = 32

    chunk_chars: Annotated[int, Field(ge=200, le=4000)] = 600
    max_top_k: Annotated[int, Field(ge=1, le=100)] = 20
    # How often a running server checks whether a new index version became current.
    index_poll_seconds: Annotated[float, Field(ge=0)] = 5.0

    public_base_url: str | None = Field(
        default=None,
        description="Absolute base URL for citation links; defaults to the request's origin",
    )
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000

    # Escalation back office (tickets, appointments, agents' console).
    load_search: bool = Field(
        default=True,
        description="Load the embedding model and index at start-up; false serves only the "
                    "ticket, appointment and agent endpoints (search answers 503)",
    )
    auto_migrate: bool = Field(default=True,
                               description="Upgrade the database schema at start-up")
    retention_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        default=180, description="Default age for `chatbot purge`")
    calendars_file: Path | None = Field(
        default=None, description="Appointment calendars YAML; default: the bundled one")
    ticket_reference_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")] = "KR"
    appointment_reference_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")] = "TA"

    @field_validator("embedding_model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a model (or `bundled:multilingual-e5-small`)")
        return value.strip()

    @property
    def uses_bundled_model(self) -> bool:
        return self.embedding_model == BUNDLED_MODEL


@lru_cache
def get_settings() -> Settings:
    return Settings()

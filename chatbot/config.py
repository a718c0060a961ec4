"""Settings, read from `CHATBOT_*` environment variables.

Defaults make `chatbot serve` work with no environment at all; invalid values fail
at start-up with the variable's name rather than at the first request.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_MODEL = "bundled:multilingual-e5-small"


# `prompts/` and `web_widget/` live at the top of the source checkout; the wheel carries
# copies under chatbot/_bundled/ (see setup.py).
BUNDLED_DATA_DIR = Path(__file__).resolve().parent / "_bundled"
CHECKOUT_DIR = Path(__file__).resolve().parents[1]
BUNDLED_FOLDERS = ("prompts", "web_widget")


def checkout_path(path: Path) -> Path:
    """Where a relative data folder like `prompts` is, when the process may run from
    anywhere: the working directory's folder if there is one (a city's own copy), else
    the copy installed with the package, else the source checkout's. Absolute paths
    and folders found nowhere are returned unchanged, so errors name what was set."""
    if path.is_absolute() or path.exists():
        return path
    if path.parts and path.parts[0] in BUNDLED_FOLDERS and (BUNDLED_DATA_DIR / path).exists():
        return BUNDLED_DATA_DIR / path
    if (CHECKOUT_DIR / path).exists():
        return CHECKOUT_DIR / path
    return path


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
    # Older versions stay on disk so `chatbot index rollback` has somewhere to go.
    keep_index_versions: Annotated[int, Field(ge=1, le=1000)] = 5

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
    prompts_dir: Path = Field(default=Path("prompts"),
                              description="Reply templates, prompts/<lang>/*.md.j2")
    model_profile: Path | None = Field(
        default=None, description="Model profile directory (ranker weights, query centroids, "
                                  "chat policy, clustering threshold) fitted for the embedding "
                                  "model; default: the bundled profile of the model")
    hotline_phone: str = Field(default="02151 86-0", min_length=3, max_length=40,
                               description="Hotline number quoted in chat escalations")
    hotline_holiday_subdivision: str = Field(
        default="NW", pattern=r"^[A-Z]{2}$",
        description="German state whose public holidays close the hotline")
    hotline_hours: dict[str, str] = Field(
        default_factory=lambda: {"mon": "08:00-17:00", "tue": "08:00-17:00",
                                 "wed": "08:00-17:00", "thu": "08:00-17:00",
                                 "fri": "08:00-13:00"},
        description='Opening hours per weekday, Europe/Berlin; JSON in the environment, e.g. '
                    '{"mon": "08:00-17:00", "fri": "08:00-13:00"}; days left out are closed')

    # The citizens' widget (web_widget/, served at /widget.js).
    widget_dir: Path = Field(default=Path("web_widget"),
                             description="Widget sources: widget.js, widget.css, i18n/*.json")
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins of the city pages that embed the widget; JSON in the '
                    'environment, e.g. ["https://www.example-stadt.de"]. Same-origin pages '
                    'need no entry; nothing else may call the API from a browser')
    privacy_url: str = Field(
        default="/datenschutz", min_length=1, max_length=500,
        description="Privacy notice linked from the widget's consent checkboxes; a path on "
                    "this service or an absolute URL on the city's site")

    @field_validator("hotline_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, str]) -> dict[str, str]:
        from chatbot.dialogue.hotline import parse_hours

        parse_hours(value)  # raises ValueError naming the bad day or range
        return value

    @field_validator("cors_origins")
    @classmethod
    def _valid_origins(cls, value: list[str]) -> list[str]:
        origins = []
        for origin in value:
            cleaned = origin.strip().rstrip("/")
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", cleaned):
                raise ValueError(f"{origin!r} is not an origin like https://www.example.de "
                                 "(scheme and host, no path, no wildcard)")
            origins.append(cleaned)
        return origins

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

"""Settings, read from `CHATBOT_*` environment variables.

Defaults make `chatbot serve` work with no environment at all; invalid values fail
at start-up with the variable's name rather than at the first request.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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


_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class RateWindow:
    """At most `limit` requests in any `seconds`-long stretch of time."""

    limit: int
    seconds: int


def parse_lat_lon(value: str) -> tuple[float, float]:
    """"51.3331,6.5623" -> (51.3331, 6.5623); ValueError naming what is wrong."""
    parts = value.split(",")
    if len(parts) != 2:
        raise ValueError(f"{value!r} is not lat,lon (e.g. 51.3331,6.5623)")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"{value!r} is not lat,lon (e.g. 51.3331,6.5623)") from None
    # Web Mercator covers +-85.0511 degrees of latitude.
    if not (-85.05 <= lat <= 85.05) or not (-180 <= lon <= 180):
        raise ValueError(f"{value!r}: latitude must be within +-85.05, longitude +-180")
    return lat, lon


def parse_rate_limit(value: str) -> tuple[RateWindow, ...]:
    """"30/minute,300/hour" -> the windows; a ValueError names the part it cannot read."""
    windows = []
    for part in value.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*", part)
        if not match or int(match[1]) < 1 or match[2] == "0":
            raise ValueError(f"{part.strip()!r} is not a limit like 30/minute or 100/10minutes")
        count = int(match[2]) if match[2] else 1
        windows.append(RateWindow(limit=int(match[1]), seconds=count * _UNIT_SECONDS[match[3]]))
    return tuple(windows)


class Settings(BaseSettings):
    # Errors name the variable but never echo its value: it may be a password
    # (CHATBOT_SMTP_URL, CHATBOT_DATABASE_URL, CHATBOT_REDIS_URL).
    model_config = SettingsConfigDict(env_prefix="CHATBOT_", extra="ignore",
                                      hide_input_in_errors=True)

    corpus_dir: Path = Path("knowledge_corpus")
    index_dir: Path = Path("indexes")
    translation_models_dir: Path = Field(
        default=Path("var/translation-models"),
        description="Where `chatbot translate install-model` puts argostranslate models")
    database_url: str = "sqlite:///var/chatbot.sqlite3"
    embedding_model: str = Field(
        default=BUNDLED_MODEL,
        description="`bundled:multilingual-e5-small`, or a sentence-transformers name or path",
    )
    model_cache_dir: Path = Field(default_factory=default_cache_dir)
    embedding_batch_size: Annotated[int, Field(ge=1, le=1024)] = 32

    chunk_chars: Annotated[int, Field(ge=200, le=4000)] = 600
    search_exhaustive: bool = Field(
        default=False,
        description="Score every chunk and document (the reference the two-stage search "
                    "is measured against) instead of the ranker's candidates only")
    two_stage_min_chunks: Annotated[int, Field(ge=0)] = Field(
        default=20_000,
        description="Below this many chunks every search is exhaustive: at the city's 3,056 "
                    "chunks it costs a few milliseconds more, and the chat policy's thresholds "
                    "were fitted on exhaustive scores (two-stage shifts a vague query's top "
                    "score by up to +0.035); 0 = always two-stage")
    search_candidate_chunks: Annotated[int, Field(ge=10, le=10_000)] = Field(
        default=100, description="Chunks per signal (dense, centred, BM25 x2) whose "
                                 "documents the ranker scores")
    ann_min_chunks: Annotated[int, Field(ge=1)] = Field(
        default=50_000, description="From this many chunks on, a build uses an approximate "
                                    "(IVF) vector index; recorded in the manifest")
    encode_batching: bool = Field(
        default=True, description="Encode concurrent requests' queries in one model call")
    encode_batch_window_ms: Annotated[float, Field(ge=0, le=100)] = Field(
        default=3.0, description="How long the first query of a batch waits for others")
    encode_max_batch: Annotated[int, Field(ge=1, le=256)] = Field(
        default=16, description="Queries encoded in one model call at most")
    encode_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = Field(
        default=30.0, description="A query whose encode has not finished by then fails")
    compute_threads: Annotated[int | None, Field(ge=1, le=256)] = Field(
        default=None, description="torch threads per encode; default: half the cores")
    max_top_k: Annotated[int, Field(ge=1, le=100)] = 20
    # How often a running server checks whether a new index version became current (on
    # PostgreSQL: in the database, fetching it into its own index directory; 0 = never).
    index_poll_seconds: Annotated[float, Field(ge=0)] = 5.0
    # 180: each worker of `chatbot serve --workers` appends ":<pid>", and the database
    # column holds 200 characters.
    replica_id: str | None = Field(
        default=None, max_length=180,
        description="This server's name in `chatbot index list` (PostgreSQL only); "
                    "default: host name and process id")
    # Older versions stay on disk so `chatbot index rollback` has somewhere to go.
    keep_index_versions: Annotated[int, Field(ge=1, le=1000)] = 5
    # A build whose article, language-version or chunk count falls by more than this
    # share of the current version's is not published unless forced (a cut or broken
    # corpus must not replace a good index); 1 turns the check off.
    max_index_shrink: Annotated[float, Field(ge=0, le=1)] = 0.2

    public_base_url: str | None = Field(
        default=None,
        description="Absolute base URL for citation links, status URLs and calendar files; "
                    "defaults to the request's origin when its Host is trusted",
    )
    trusted_hosts: tuple[str, ...] = Field(
        default=("localhost", "127.0.0.1", "::1"),
        description="Host names whose Host header may name the service in links when "
                    "CHATBOT_PUBLIC_BASE_URL is unset (JSON list)")
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

    case_status_csv: Path | None = Field(
        default=None,
        description="Departmental CSV export for case-status look-ups (application_number, "
                    "date_of_birth, kind, state, date); re-read when it changes; unset: the "
                    "chat offers no case-status look-up")

    # Defect reports to the utilities (Open311 GeoReport v2, chatbot/defects/).
    open311_url: str | None = Field(
        default=None, max_length=500,
        description="Base URL of the Open311 GeoReport v2 endpoint (services.json and "
                    "requests.json below it), e.g. https://meldungen.example.de/open311/v2; "
                    "unset: defect reports become tickets for open311_fallback_department")
    open311_api_key: SecretStr | None = Field(
        default=None, description="The endpoint's api_key, sent with every new request")
    open311_jurisdiction_id: str | None = Field(
        default=None, max_length=200,
        description="jurisdiction_id for endpoints that serve several cities")
    open311_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = Field(
        default=10.0, description="Connect and read timeout of one Open311 call")
    open311_services_cache_seconds: Annotated[float, Field(ge=0, le=86400)] = Field(
        default=600.0, description="How long the endpoint's service list is reused")
    open311_fallback_department: str = Field(
        default="stadtwerke-kommunalbetrieb", min_length=1, max_length=64,
        description="Department whose ticket queue receives defect reports when no "
                    "Open311 endpoint is configured")
    defect_photo_max_bytes: Annotated[int, Field(ge=1024, le=20 * 1024 * 1024)] = Field(
        default=3 * 1024 * 1024, description="Largest photo a defect report may carry "
                                             "(JPEG, PNG or WebP)")

    # The map picker of the defect report form (a grid of XYZ tiles; unset: no map).
    map_tile_url: str | None = Field(
        default=None, max_length=500,
        description="XYZ tile URL template with {z}, {x} and {y}, e.g. "
                    "https://tiles.example.de/{z}/{x}/{y}.png; unset: the defect report "
                    "form has no map (the location is typed)")
    map_center: str = Field(
        default="51.3331,6.5623", max_length=60,
        description="Where the map starts: lat,lon (default: Krefeld's centre)")
    map_zoom: Annotated[int, Field(ge=1, le=19)] = Field(
        default=16, description="The map's starting zoom level")
    map_attribution: str = Field(
        default="", max_length=300,
        description="Text shown under the map, e.g. \"© OpenStreetMap contributors\"")

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

    # Abuse limits (chatbot/api/limits.py). Windows are "N/unit" ("30/minute"; units
    # second, minute, hour, day, optionally with a count: "100/10minutes"), comma-separated.
    rate_limits_enabled: bool = Field(
        default=True, description="Per-client sliding-window limits on chat, search, tickets, "
                                  "bookings and case-status lookups")
    rate_limit_chat: str = Field(default="30/minute,300/hour",
                                 description="POST /api/v1/chat, per client address")
    rate_limit_search: str = Field(
        default="60/minute,1000/hour",
        description="POST /api/v1/search; hotline agents behind one address share it")
    rate_limit_tickets: str = Field(default="10/minute,60/hour",
                                    description="POST /api/v1/tickets, per client address")
    rate_limit_bookings: str = Field(default="10/minute,60/hour",
                                     description="POST /api/v1/appointments, per client address")
    rate_limit_status: str = Field(
        default="30/minute,300/hour",
        description="Ticket and appointment look-ups and cancelling by reference and token")
    rate_limit_case_status: str = Field(
        default="5/minute,20/hour",
        description="POST /api/v1/case-status, per client address: tighter than the other "
                    "look-ups, since one known application number could otherwise be tried "
                    "with hundreds of dates of birth an hour")
    rate_limit_defect_reports: str = Field(
        default="5/minute,30/hour",
        description="POST /api/v1/defect-reports, per client address")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks of the reverse proxies whose X-Forwarded-For is "
                    "believed, comma-separated, e.g. 10.0.0.0/8,127.0.0.1; nobody's by default")
    client_hash_salt: SecretStr | None = Field(
        default=None, description="Secret for the hashed client addresses the limits key on; "
                                  "generated if unset (shared through Redis when it is set)")
    redis_url: str | None = Field(
        default=None, description="redis://host:6379/0: limits hold across replicas; "
                                  "unset: each process counts on its own")
    redis_key_prefix: str = Field(default="chatbot", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = Field(
        default=256 * 1024, description="Larger request bodies get 413 before parsing")
    max_conversation_turns: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=50, description="Citizen messages per chat conversation; then 409 (start a "
                                "new conversation)")
    max_transcript_chars: Annotated[int, Field(ge=1000, le=1_000_000)] = Field(
        default=100_000, description="Total characters of a transcript sent with a ticket")
    max_open_appointments_per_contact: Annotated[int, Field(ge=0, le=1000)] = Field(
        default=4, description="Future, not cancelled appointments per e-mail address or "
                               "phone number; 0: no cap")
    tickets_per_contact_per_hour: Annotated[int, Field(ge=0, le=100_000)] = Field(
        default=5, description="Tickets per e-mail address or phone number in one hour; "
                               "0: no cap")
    # As many as one encode batch holds: the gate admits the requests whose queries the
    # batcher encodes together. Measured on 2 cores at concurrency 32 (search, batch 16):
    # gate 4 -> 48 requests/s, p95 727 ms; gate 16 -> 74 requests/s, p95 458 ms, peak
    # RSS 1,185 MB; gate 32 with batch 32 -> 90 requests/s but 1,210 MB.
    model_max_active: Annotated[int, Field(ge=1, le=256)] = Field(
        default=16, description="Chat and search requests computed at once (CPU-bound)")
    model_max_waiting: Annotated[int, Field(ge=0, le=10_000)] = Field(
        default=32, description="Chat and search requests that may wait; beyond that 503")
    model_queue_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = Field(
        default=10.0, description="A waiting chat or search request gets 503 after this long")
    overload_retry_after_seconds: Annotated[int, Field(ge=1, le=3600)] = 5
    request_timeout_seconds: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=30.0, description="Chat, search, ticket and appointment requests get 503 + "
                                  "Retry-After after this long (the model queue's wait "
                                  "included); a write not yet committed is then rolled back; "
                                  "0: no deadline")

    # E-mail notifications (chatbot/escalation/outbox.py, chatbot/escalation/mail.py).
    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://[user:password@]host[:port] (STARTTLS unless ?starttls=false) or "
                    "smtps://... (TLS from the start); unset: no e-mail is sent")
    smtp_from: str = Field(default="Buergerservice <buergerservice@example.invalid>",
                           min_length=3, max_length=300,
                           description="Sender of notification e-mails")
    smtp_username: str | None = Field(default=None, max_length=200,
                                      description="SMTP login, if not in the URL")
    smtp_password: SecretStr | None = Field(default=None,
                                            description="SMTP password, if not in the URL")
    smtp_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 20.0
    outbox_poll_seconds: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=10.0, description="How often the server's sender looks for due e-mail; "
                                  "0: the server sends none (`chatbot outbox send` does)")
    outbox_max_attempts: Annotated[int, Field(ge=1, le=100)] = Field(
        default=12, description="Attempts per e-mail before it is marked failed")
    outbox_backoff_seconds: Annotated[float, Field(gt=0, le=86400)] = Field(
        default=30.0, description="Wait after the first failed attempt; doubles each time, "
                                  "at most 6 hours")

    @field_validator("smtp_url")
    @classmethod
    def _valid_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        from chatbot.escalation.mail import parse_smtp_url

        if value is not None and value.get_secret_value().strip():
            parse_smtp_url(value.get_secret_value())  # ValueError without the password
            return value
        return None

    @field_validator("open311_url")
    @classmethod
    def _valid_open311_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL naming a host")
        if parts.query or parts.fragment:
            raise ValueError("must be the endpoint's base URL, without ?query or #fragment")
        if "@" in parts.netloc:  # the message must not repeat the credentials
            raise ValueError("must not contain user:password@ (the API key is "
                             "CHATBOT_OPEN311_API_KEY)")
        return value.strip().rstrip("/")

    @field_validator("map_tile_url")
    @classmethod
    def _valid_map_tile_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from urllib.parse import urlsplit

        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL naming a host")
        if "{" in parts.netloc:
            raise ValueError("the host must be fixed (no {s} subdomain placeholders)")
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in value]
        if missing:
            raise ValueError(f"must contain {', '.join(missing)} (an XYZ tile template)")
        return value

    @field_validator("map_center")
    @classmethod
    def _valid_map_center(cls, value: str) -> str:
        parse_lat_lon(value)  # raises ValueError naming the problem
        return value.strip()

    @property
    def map_tile_origin(self) -> str | None:
        """scheme://host[:port] of the tiles, for the pages' img-src; None without a map."""
        if self.map_tile_url is None:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(self.map_tile_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def smtp_configured(self) -> bool:
        return self.smtp_url is not None

    @field_validator("rate_limit_chat", "rate_limit_search", "rate_limit_tickets",
                     "rate_limit_bookings", "rate_limit_status", "rate_limit_case_status",
                     "rate_limit_defect_reports")
    @classmethod
    def _valid_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)  # raises ValueError naming the bad part
        return value.strip()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _valid_proxies(cls, value: object) -> list[str]:
        import ipaddress

        if isinstance(value, str):
            value = value.strip()
            value = json.loads(value) if value.startswith("[") else value.split(",")
        if not isinstance(value, list):
            raise ValueError("a comma-separated list of addresses or networks")
        proxies = []
        for item in value:
            text = str(item).strip()
            if not text:
                continue
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError as exc:
                raise ValueError(f"{text!r} is not an IP address or network") from exc
            proxies.append(text)
        return proxies

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

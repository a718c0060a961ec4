"""Prometheus metrics, one registry per app so several apps (tests) never collide.

Every label takes values from a bounded set: HTTP methods outside the standard ones are
`other`, paths are route templates (`/api/v1/tickets/{reference}`) or `unmatched`,
languages outside the supported ones are `other`. A client can therefore never create
new series by sending made-up methods, paths or languages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from chatbot.language import SUPPORTED_LANGUAGES

STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
                              "CONNECT", "TRACE"})
OTHER = "other"
UNMATCHED_ROUTE = "unmatched"
NO_DEPARTMENT = "none"
# Seconds; chat runs the model and may take a second or more on a busy CPU.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class ServedIndex:
    version: str
    model: str
    built_at: str


def method_label(method: str) -> str:
    return method if method in STANDARD_METHODS else OTHER


def language_label(code: str | None) -> str:
    return code if code in SUPPORTED_LANGUAGES else OTHER


class _IndexCollector(Collector):
    """Reads the index in service at scrape time, so a swap shows without bookkeeping."""

    def __init__(self) -> None:
        self.source: Callable[[], ServedIndex | None] = lambda: None

    def collect(self) -> Iterator[Metric]:
        served = self.source()
        info = GaugeMetricFamily("chatbot_index_info",
                                 "The index version in service (value 1), by version and model",
                                 labels=["version", "model"])
        built = GaugeMetricFamily("chatbot_index_built_timestamp_seconds",
                                  "When the index version in service was built (Unix time)")
        if served is not None:
            info.add_metric([served.version, served.model], 1)
            # An unreadable build time: the info still says which version serves.
            with contextlib.suppress(ValueError):
                built.add_metric([], datetime.fromisoformat(served.built_at).timestamp())
        yield info
        yield built


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter("chatbot_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.request_seconds = Histogram(
            "chatbot_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.search_seconds = Histogram("chatbot_search_seconds", "Search latency",
                                        registry=self.registry)
        self.chat_replies = Counter(
            "chatbot_chat_replies_total",
            "Chat replies by type (answer, clarify, escalate, unsupported_language), reply "
            "language and department of the topic", ["type", "language", "department"],
            registry=self.registry)
        self.tickets_created = Counter("chatbot_tickets_created_total",
                                       "Tickets stored (idempotent replays not counted)",
                                       registry=self.registry)
        self.bookings_made = Counter("chatbot_bookings_total",
                                     "Appointments booked (idempotent replays not counted)",
                                     registry=self.registry)
        self.limit_rejections = Counter(
            "chatbot_limit_rejections_total",
            "Requests refused by the abuse limits, by endpoint class and reason",
            ["endpoint", "reason"], registry=self.registry)
        self.database_errors = Counter(
            "chatbot_database_unavailable_total",
            "Requests answered 503 because the database was unreachable",
            registry=self.registry)
        self._index = _IndexCollector()
        self.registry.register(self._index)

    def serve_index_from(self, source: Callable[[], ServedIndex | None]) -> None:
        """Where the index version in service is read at scrape time."""
        self._index.source = source

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method_label(method), route, str(status))
        self.requests.labels(*labels).inc()
        self.request_seconds.labels(*labels).observe(seconds)
        # Counted at the edge from the status: a 201 is sent only after the commit, and
        # an idempotent replay answers 200.
        if method == "POST" and status == 201:
            if route == "/api/v1/tickets":
                self.tickets_created.inc()
            elif route == "/api/v1/appointments":
                self.bookings_made.inc()

    def count_reply(self, reply_type: str, language: str | None,
                    department: str | None) -> None:
        self.chat_replies.labels(reply_type, language_label(language),
                                 department or NO_DEPARTMENT).inc()

    def count_rejection(self, endpoint: str | None, reason: str) -> None:
        self.limit_rejections.labels(endpoint or OTHER, reason).inc()

"""Prometheus metrics, one registry per app so several apps (tests) never collide."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter("chatbot_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.search_seconds = Histogram("chatbot_search_seconds", "Search latency",
                                        registry=self.registry)

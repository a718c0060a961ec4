"""The endpoint's category list during an outage: a failure is remembered for a while,
so requests do not each wait for the endpoint's timeout."""

from __future__ import annotations

import pytest

from chatbot.defects.catalogue import Catalogue
from chatbot.defects.client import Open311Client, Open311UnavailableError
from tests.open311_server import API_KEY, Open311Server


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _catalogue(open311: Open311Server, ticks: Ticks) -> Catalogue:
    client = Open311Client(open311.url, api_key=API_KEY, jurisdiction_id=None, timeout=5)
    return Catalogue(client, cache_seconds=300, monotonic=ticks, failure_seconds=45)


def _reads(open311: Open311Server) -> int:
    return sum(1 for call in open311.state.calls if call.endswith("/services.json"))


def test_a_failure_without_a_list_is_remembered_then_retried(open311: Open311Server) -> None:
    ticks = Ticks()
    catalogue = _catalogue(open311, ticks)
    open311.failing = 503
    with pytest.raises(Open311UnavailableError, match="HTTP 503"):
        catalogue.categories("de")
    ticks.now += 30
    with pytest.raises(Open311UnavailableError, match="less than 45 s ago"):
        catalogue.categories("de")
    assert _reads(open311) == 1  # the second request did not wait for the endpoint
    open311.failing = None
    ticks.now += 16
    assert [c.code for c in catalogue.categories("de")] == ["SL", "PH", "DUMP"]
    assert _reads(open311) == 2


def test_a_failure_with_a_list_serves_the_stale_list_without_asking(
        open311: Open311Server) -> None:
    ticks = Ticks()
    catalogue = _catalogue(open311, ticks)
    assert len(catalogue.categories("de")) == 3
    open311.failing = 503
    ticks.now += 301
    assert len(catalogue.categories("de")) == 3  # stale, after one failed read
    ticks.now += 10
    assert len(catalogue.categories("de")) == 3
    assert _reads(open311) == 2
    open311.failing = None
    ticks.now += 40
    assert len(catalogue.categories("de")) == 3
    assert _reads(open311) == 3

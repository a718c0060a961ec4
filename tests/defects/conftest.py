"""A real Open311 server for the defect-report tests, and the app pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatbot.config import Settings
from tests.conftest import FakeClock
from tests.open311_server import API_KEY, Open311Server


@pytest.fixture
def open311() -> Iterator[Open311Server]:
    server = Open311Server().start()
    yield server
    server.stop()


@pytest.fixture
def make_client(db_url: str, tmp_path: Path, clock: FakeClock
                ) -> Iterator[Callable[..., Any]]:
    """The app without the search model, on `db_url`, with Open311 settings given."""
    from fastapi.testclient import TestClient

    from chatbot.api import create_app

    clients: list[Any] = []

    def make(**settings: Any) -> Any:
        config = Settings(database_url=db_url, load_search=False, index_poll_seconds=0,
                          index_dir=tmp_path / "indexes", outbox_poll_seconds=0,
                          rate_limits_enabled=False, **settings)
        client = TestClient(create_app(config, clock=clock))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., Any], open311: Open311Server) -> Any:
    return make_client(open311_url=open311.url, open311_api_key=API_KEY)

"""Tiny argostranslate models, built once per session (random weights), and a guard
that fails any network connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("argostranslate", reason="the optional `translate` extra is not installed")

from tests.translation.tiny_model import build_argosmodel


@pytest.fixture(scope="session")
def argos_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`de_en` and `en_fr` model files: German reaches French only through English."""
    workdir = tmp_path_factory.mktemp("argosmodels")
    return {f"{a}_{b}": build_argosmodel(workdir, a, b, seed=i)
            for i, (a, b) in enumerate([("de", "en"), ("en", "fr")])}


class NetworkAttemptedError(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every outgoing connection or name lookup raises and is recorded."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise NetworkAttemptedError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
    assert attempts == [], f"network access attempted: {attempts}"

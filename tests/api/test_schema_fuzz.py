"""schemathesis over the app's own OpenAPI document, against a served app on SQLite and
on PostgreSQL: no request may get a 5xx other than a documented 503, and every response
must be one the document declares (status, media type, body schema).

Each operation gets a bounded number of generated requests, valid and invalid ones,
sent without a token, with an agent's and with an editor's token. The search model is
not loaded (`load_search=False`): search, chat and the editors' index routes answer 503
problem documents, which are checked against the document like any other answer; the
rest of the API runs for real on the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chatbot.api import create_app
from chatbot.config import Settings
from tests.conftest import FakeClock, serve_in_thread

# Per operation and generation mode; 27 operations x 2 modes x this, per database.
EXAMPLES_PER_OPERATION = 15


def no_server_error(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                    case: schemathesis.Case) -> None:
    """schemathesis's `not_a_server_error`, except that 503 is the documented answer of a
    service that is not ready (here: no search model); status_code_conformance checks
    that the operation declares it."""
    assert response.status_code < 500 or response.status_code == 503, (
        f"server error {response.status_code}: {response.text[:500]}")


CHECKS = [no_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
ROLES = ("public", "agent", "editor")


@pytest.fixture
def served_app(db_url: str, tmp_path: Path, clock: FakeClock,
               make_user: Callable[..., str]) -> Iterator[tuple[dict[str, object], str,
                                                                dict[str, str | None]]]:
    # Limits off: the fuzzer is one client sending hundreds of requests a minute.
    app_settings = Settings(database_url=db_url, load_search=False, index_poll_seconds=0,
                            index_dir=tmp_path / "indexes", rate_limits_enabled=False,
                            tickets_per_contact_per_hour=0,
                            max_open_appointments_per_contact=0,
                            # The services list then carries its `map` object, checked too.
                            map_tile_url="https://tiles.example.de/{z}/{x}/{y}.png")
    app = create_app(app_settings, clock=clock)
    tokens: dict[str, str | None] = {"public": None,
                                     "agent": make_user("fuzz.agent", "agent"),
                                     "editor": make_user("fuzz.editor", "editor")}
    with serve_in_thread(app) as base_url:
        yield app.openapi(), base_url, tokens


def test_every_operation_answers_as_documented(served_app: tuple[
        dict[str, object], str, dict[str, str | None]]) -> None:
    document, base_url, tokens = served_app
    schema = schemathesis.openapi.from_dict(document)
    failures: dict[str, str] = {}
    operations = 0
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _fuzz(operation, mode, session, base_url, tokens)
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE, operation.label
                    continue  # nothing to make invalid: no parameters, no body
                # Every operation is fuzzed and all failures are reported together.
                except (Exception, BaseExceptionGroup) as exc:
                    failures[f"{operation.label} ({mode.value})"] = str(exc)[:3000]
    assert operations >= 20, "the OpenAPI document lost its operations"
    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())


def _fuzz(operation: schemathesis.APIOperation, mode: GenerationMode,
          session: requests.Session, base_url: str, tokens: dict[str, str | None]) -> None:
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              derandomize=True, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @given(case=operation.as_strategy(mode), role=st.sampled_from(ROLES))
    def run(case: schemathesis.Case, role: str) -> None:
        token = tokens[role]
        headers = {"Authorization": f"Bearer {token}"} if token else None
        case.call_and_validate(base_url=base_url, session=session, headers=headers,
                               checks=CHECKS, timeout=30)

    run()


def test_error_answers_are_documented_as_problem_documents(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'doc.sqlite3'}",
                              load_search=False, index_poll_seconds=0))
    document = app.openapi()
    lookup = document["paths"]["/api/v1/appointments/{reference}"]["get"]["responses"]
    assert {"401", "404", "422", "429", "503"} <= set(lookup)
    booking = document["paths"]["/api/v1/appointments"]["post"]["responses"]
    assert {"400", "409", "413", "422", "429", "503"} <= set(booking)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and path != "/readyz":
                    assert list(response["content"]) == ["application/problem+json"], (
                        method, path, status)
    assert "503" not in document["paths"]["/healthz"]["get"]["responses"]

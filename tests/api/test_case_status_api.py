"""`POST /api/v1/case-status` over the CSV connector: the state in every language, the
same neutral answer for a wrong pair and an unknown number, the hotline when the
departmental system is down, and the rate limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chatbot.api import create_app
from chatbot.api.mappers import action_public
from chatbot.casestatus import CaseStatusConfigurationError
from chatbot.config import Settings
from chatbot.dialogue.reply import CaseStatusAction
from chatbot.language import SUPPORTED_LANGUAGES
from tests.conftest import FakeClock

EXPORT = """application_number,date_of_birth,kind,state,date
A123456,1990-02-01,personalausweis,ready_for_pickup,2026-10-01
R777888,1985-12-24,reisepass,in_progress,2026-09-20
"""
URL = "/api/v1/case-status"
RIGHT = {"application_number": "a 123456", "date_of_birth": "1.2.1990"}
WRONG_BIRTH = {"application_number": "A123456", "date_of_birth": "02.02.1990"}
UNKNOWN = {"application_number": "Z999999", "date_of_birth": "01.02.1990"}
HOTLINE = "02151 86-0"

# What "ready for pickup" and the neutral answer say in each language.
READY = {"de": "liegt seit 01.10.2026 zur Abholung bereit",
         "en": "ready for collection since 01.10.2026",
         "fr": "prêt à être retiré depuis le 01.10.2026",
         "it": "pronto per il ritiro dal 01.10.2026",
         "pl": "gotowy do odbioru od 01.10.2026",
         "tr": "01.10.2026 tarihinden beri teslim almaya hazır",
         "ku": "ji 01.10.2026 ve amade ye"}
NEUTRAL = {"de": "keine Auskunft", "en": "no information", "fr": "aucune information",
           "it": "Non ho informazioni", "pl": "Nie mam informacji", "tr": "bilgim yok",
           "ku": "agahiya min tune"}
UNAVAILABLE = {"de": "nicht erreichbar", "en": "cannot be reached", "fr": "inaccessible",
               "it": "non è raggiungibile", "pl": "niedostępna", "tr": "ulaşılamıyor",
               "ku": "nayê gihîştin"}

MakeClient = Callable[..., TestClient]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return path


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[MakeClient]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'api.sqlite3'}",
                            load_search=False, index_poll_seconds=0, outbox_poll_seconds=0,
                            index_dir=tmp_path / "indexes", **overrides)
        client = TestClient(create_app(settings, clock=FakeClock()))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient, export: Path) -> TestClient:
    return make_client(case_status_csv=export)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_the_right_pair_gets_the_state_in_the_citizens_language(client: TestClient,
                                                                lang: str) -> None:
    response = client.post(URL, json={**RIGHT, "lang": lang})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["available"] is True
    assert body["found"] is True
    assert (body["state"], body["kind"], body["date"]) == (
        "ready_for_pickup", "personalausweis", "2026-10-01")
    assert READY[lang] in body["text"]
    assert body["actions"] == []


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_a_wrong_birth_date_and_an_unknown_number_get_the_same_answer(
        client: TestClient, lang: str) -> None:
    wrong = client.post(URL, json={**WRONG_BIRTH, "lang": lang})
    unknown = client.post(URL, json={**UNKNOWN, "lang": lang})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.content == unknown.content
    body = wrong.json()
    assert (body["available"], body["found"], body["state"], body["date"]) == (
        True, False, None, None)
    assert NEUTRAL[lang] in body["text"]
    assert READY[lang] not in body["text"]
    assert {a["kind"] for a in body["actions"]} == {"ticket", "hotline"}


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_a_connector_down_sends_the_citizen_to_the_hotline(client: TestClient, export: Path,
                                                           lang: str) -> None:
    export.unlink()  # the departmental export is gone: nobody can say anything
    response = client.post(URL, json={**RIGHT, "lang": lang})
    assert response.status_code == 200
    body = response.json()
    assert (body["available"], body["found"], body["state"]) == (False, False, None)
    assert UNAVAILABLE[lang] in body["text"]
    assert HOTLINE in body["text"]
    assert NEUTRAL[lang] not in body["text"]  # not "nothing found" when nobody looked
    assert {a["kind"] for a in body["actions"]} == {"ticket", "hotline"}
    assert body["hotline"]["phone"] == HOTLINE


def test_a_new_export_is_answered_and_a_malformed_one_counts_as_down(
        client: TestClient, export: Path, caplog: pytest.LogCaptureFixture) -> None:
    import os

    export.write_text(EXPORT.replace("ready_for_pickup,2026-10-01", "handed_out,2026-10-07"),
                      encoding="utf-8")
    os.utime(export, ns=(2_000_000_000_000_000_000,) * 2)
    body = client.post(URL, json=RIGHT).json()
    assert (body["state"], body["date"]) == ("handed_out", "2026-10-07")
    assert "am 07.10.2026 ausgehändigt" in body["text"]

    export.write_text(EXPORT + "B1,1990-02-01,reisepass,lost,2026-10-01\n", encoding="utf-8")
    os.utime(export, ns=(2_000_000_100_000_000_000,) * 2)
    with caplog.at_level("ERROR", logger="chatbot.casestatus.answers"):
        body = client.post(URL, json=RIGHT).json()
    assert body["available"] is False
    assert "line 4" in caplog.text
    # Neither the number nor the date of birth is logged.
    assert "A123456" not in caplog.text
    assert "1990" not in caplog.text.replace(str(export), "")


def test_a_malformed_export_stops_start_up(make_client: MakeClient, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(EXPORT + "B1,01.02.1990,reisepass,in_progress,2026-10-01\n",
                    encoding="utf-8")
    with pytest.raises(CaseStatusConfigurationError, match="line 4"):
        make_client(case_status_csv=path)


def test_without_a_connector_the_endpoint_is_not_there(make_client: MakeClient) -> None:
    response = make_client().post(URL, json=RIGHT)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "not configured" in response.json()["detail"]


@pytest.mark.parametrize(("field", "value"), [
    ("date_of_birth", "1990"), ("date_of_birth", "31.02.1990"), ("date_of_birth", "02/01/1990"),
    ("application_number", "   "), ("application_number", "<script>"), ("lang", "xx"),
])
def test_malformed_input_is_a_precise_422(client: TestClient, field: str, value: str) -> None:
    response = client.post(URL, json={**RIGHT, field: value})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.text


def test_look_ups_are_rate_limited(make_client: MakeClient, export: Path) -> None:
    client = make_client(case_status_csv=export, rate_limit_case_status="3/minute")
    answers = [client.post(URL, json={**UNKNOWN, "application_number": f"Z{n}000"})
               for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    refused = client.post(URL, json=RIGHT)  # even the right pair: no more tries
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1


def test_the_chat_action_points_at_the_endpoint() -> None:
    assert action_public(CaseStatusAction()) == {"kind": "case_status", "method": "POST",
                                                 "href": URL}

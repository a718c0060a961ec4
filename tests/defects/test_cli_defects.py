"""`chatbot defects` (list, retry, send) as a real process against the Open311 server:
a report stored during an outage is forwarded by `send` once the endpoint is back."""

from __future__ import annotations

from pathlib import Path

from chatbot.defects.reports import DefectRequest, create_report
from chatbot.storage import Database
from tests.conftest import FakeClock
from tests.open311_server import API_KEY, Open311Server
from tests.test_cli_outbox import run_cli


def test_list_send_and_retry(db_url: str, database: Database, clock: FakeClock,
                             tmp_path: Path, open311: Open311Server) -> None:
    with database.write_session() as session:
        reference = create_report(session, request=DefectRequest(
            service_code="PH", description="Tiefes Loch", language="pl", consent=True,
            address_string="Ostwall 1", email="zofia@example.org"),
            categories={"PH": "Schlagloch"}, now=clock(), to_ticket=False,
            fallback_department="allgemein", departments={"allgemein"}).report.reference
    env = {"CHATBOT_OPEN311_URL": open311.url, "CHATBOT_OPEN311_API_KEY": API_KEY,
           "CHATBOT_OUTBOX_MAX_ATTEMPTS": "1"}

    listed = run_cli("defects", "list", db_url=db_url, cwd=tmp_path, **env)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.split("\t")[1:5] == [reference, "pending", "0", "PH"]
    assert "zofia@example.org" not in listed.stdout

    open311.failing = 503
    down = run_cli("defects", "send", db_url=db_url, cwd=tmp_path, **env)
    assert down.returncode == 1
    assert down.stdout.strip() == "forwarded 0, will retry 0, failed 1"
    assert open311.requests == []

    open311.failing = None
    assert run_cli("defects", "send", db_url=db_url, cwd=tmp_path, **env).stdout.strip() == (
        "forwarded 0, will retry 0, failed 0")  # failed waits for a retry
    retried = run_cli("defects", "retry", db_url=db_url, cwd=tmp_path, **env)
    assert retried.stdout.strip() == "1 report(s) queued again"
    sent = run_cli("defects", "send", db_url=db_url, cwd=tmp_path, **env)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "forwarded 1, will retry 0, failed 0"
    [received] = open311.requests
    assert received.fields["description"] == "Tiefes Loch"

    unknown = run_cli("defects", "retry", "99", db_url=db_url, cwd=tmp_path, **env)
    assert unknown.returncode == 2
    not_configured = run_cli("defects", "send", db_url=db_url, cwd=tmp_path)
    assert not_configured.returncode == 2
    assert "CHATBOT_OPEN311_URL" in not_configured.stderr

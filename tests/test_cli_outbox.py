"""`chatbot outbox` (list, retry, send) as a real process against a real SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chatbot.escalation.tickets import Notify, TicketRequest, add_reply, create_ticket
from chatbot.escalation.users import Actor
from chatbot.storage import Database
from tests.conftest import REPO, FakeClock, free_port
from tests.smtp_server import SmtpServer

AGENT = Actor(user_id=None, name="a.schmidt", role="agent")


def run_cli(*args: str, db_url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: this checkout's package, whatever the venv has installed.
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("CHATBOT_SMTP")}
    environment.update({"CHATBOT_DATABASE_URL": db_url, "PYTHONPATH": str(REPO), **env})
    return subprocess.run([sys.executable, "-m", "chatbot.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=environment, timeout=120)


def ticket_with_reply(database: Database, clock: FakeClock, email: str, *,
                      deliver: bool) -> str:
    with database.write_session() as session:
        reference = create_ticket(session, request=TicketRequest(
            message="Frage", preferred_language="pl", consent=True, contact_email=email),
            departments=set(), idempotency_key=None, now=clock()).ticket.reference
    with database.write_session() as session:
        add_reply(session, reference=reference, text="Odpowiedź", actor=AGENT, now=clock(),
                  notify=Notify(base_url="https://service.example", deliver=deliver))
    return reference


def test_list_retry_and_send(db_url: str, database: Database, clock: FakeClock,
                             tmp_path: Path) -> None:
    pending = ticket_with_reply(database, clock, "a@example.org", deliver=True)
    skipped = ticket_with_reply(database, clock, "b@example.org", deliver=False)

    listed = run_cli("outbox", db_url=db_url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.split("\t")[:5] == ["1", "pending", "0", pending, "reply"]
    assert "e-mail is not configured" in listed.stderr
    assert "a@example.org" not in listed.stdout

    not_configured = run_cli("outbox", "send", db_url=db_url, cwd=tmp_path)
    assert not_configured.returncode == 2
    assert not_configured.stderr.strip() == (
        "error: e-mail is not configured: set CHATBOT_SMTP_URL (and CHATBOT_SMTP_FROM)")

    smtp = SmtpServer()
    smtp.port = free_port()  # nothing listens there yet: the server is down
    env = {"CHATBOT_SMTP_URL": smtp.url, "CHATBOT_OUTBOX_BACKOFF_SECONDS": "0.001"}
    down = run_cli("outbox", "send", db_url=db_url, cwd=tmp_path, **env)
    assert down.returncode == 1
    assert down.stdout.strip() == "sent 0, will retry 1, failed 0, skipped 0"

    unknown = run_cli("outbox", "retry", "99", db_url=db_url, cwd=tmp_path)
    assert unknown.returncode == 2
    assert "0 of 1 e-mail(s) queued again" in unknown.stderr
    retried = run_cli("outbox", "retry", db_url=db_url, cwd=tmp_path)
    assert retried.stdout.strip() == "1 e-mail(s) queued again"  # the skipped one

    smtp.start()
    try:
        sent = run_cli("outbox", "send", db_url=db_url, cwd=tmp_path, **env)
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.strip() == "sent 2, will retry 0, failed 0, skipped 0"
        messages = smtp.wait_for(2)
    finally:
        smtp.stop()
    assert sorted(str(m["To"]) for m in messages) == ["a@example.org", "b@example.org"]
    assert {str(m["Content-Language"]) for m in messages} == {"pl"}

    everything = run_cli("outbox", "list", "--all", db_url=db_url, cwd=tmp_path)
    rows = [line.split("\t") for line in everything.stdout.splitlines()]
    assert [(r[1], r[3]) for r in rows] == [("sent", pending), ("sent", skipped)]
    assert run_cli("outbox", db_url=db_url, cwd=tmp_path).stdout == ""
    bad = run_cli("outbox", "list", "--state", "lost", db_url=db_url, cwd=tmp_path)
    assert bad.returncode == 2
    assert "unknown state 'lost'" in bad.stderr

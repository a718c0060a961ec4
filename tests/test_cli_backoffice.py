"""`chatbot users`, `chatbot purge` and `chatbot db upgrade`, run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from chatbot.escalation.calendars import load_calendars
from chatbot.escalation.clock import utc_now
from chatbot.escalation.tickets import TicketRequest, change_status, create_ticket
from chatbot.escalation.users import Actor, authenticate
from chatbot.storage import Database, current_revision
from chatbot.storage.migrate import head_revision
from tests.conftest import REPO


def run_cli(*args: str, db_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: this checkout's package, whatever the venv has installed (a worktree's
    # migrations may be ahead of the installed checkout's).
    env = {**os.environ, "CHATBOT_DATABASE_URL": db_url, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "chatbot.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


def test_users_add_prints_the_token_once(db_url: str, database: Database,
                                         tmp_path: Path) -> None:
    result = run_cli("users", "add", "a.schmidt", "--role", "agent", db_url=db_url,
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert len(token.splitlines()) == 1
    assert len(token) >= 40
    assert "not shown again" in result.stderr
    with database.session() as session:
        assert authenticate(session, token=token).name == "a.schmidt"

    listed = run_cli("users", "list", db_url=db_url, cwd=tmp_path)
    assert listed.stdout.splitlines() == ["a.schmidt\tagent\tactive\t*\t*"]
    assert token not in listed.stdout


@pytest.mark.parametrize(("args", "error"), [
    (["users", "add", "b"], "error: --role is required: agent or editor"),
    (["users", "add", "b", "--role", "admin"], "error: role must be one of agent, editor"),
    (["users", "add", "b c", "--role", "agent"], "error: a user name is 1-64 letters"),
    (["users", "revoke", "nobody"], "error: no user named 'nobody'"),
    (["purge", "--older-than", "0"], "error: --older-than must be at least 1 day"),
    (["users", "add", "b", "--role", "agent", "--departments", "kfz"],
     "error: unknown department 'kfz'; known: allgemein, auslaenderbehoerde"),
    (["users", "add", "b", "--role", "agent", "--languages", "de,ar"],
     "error: unknown language 'ar'; known: de, en, fr, it, ku, pl, tr"),
    (["users", "add", "b", "--role", "agent", "--languages", " , "],
     "error: name at least one of the languages"),
    (["users", "add", "b", "--role", "editor", "--departments", "wohngeld"],
     "error: only agents serve departments and languages"),
])
def test_mistakes_are_one_line_and_exit_2(db_url: str, tmp_path: Path, args: list[str],
                                          error: str) -> None:
    result = run_cli(*args, db_url=db_url, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(error)


def test_an_agent_serves_departments_and_languages(db_url: str, database: Database,
                                                  tmp_path: Path) -> None:
    result = run_cli("users", "add", "t.yilmaz", "--role", "agent", "--departments",
                     "zulassungsstelle,fuehrerscheinstelle", "--languages", "tr, ku,tr",
                     db_url=db_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with database.session() as session:
        actor = authenticate(session, token=result.stdout.strip())
    assert actor.departments == ("zulassungsstelle", "fuehrerscheinstelle")
    assert actor.languages == ("tr", "ku")
    listed = run_cli("users", "list", db_url=db_url, cwd=tmp_path)
    assert listed.stdout.splitlines() == [
        "t.yilmaz\tagent\tactive\tzulassungsstelle,fuehrerscheinstelle\ttr,ku"]


def test_a_duplicate_user_and_revocation(db_url: str, database: Database,
                                         tmp_path: Path) -> None:
    token = run_cli("users", "add", "a.schmidt", "--role", "agent", db_url=db_url,
                    cwd=tmp_path).stdout.strip()
    again = run_cli("users", "add", "a.schmidt", "--role", "editor", db_url=db_url,
                    cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip() == "error: a user named 'a.schmidt' already exists"
    assert run_cli("users", "revoke", "a.schmidt", db_url=db_url,
                   cwd=tmp_path).stdout.strip() == "revoked a.schmidt"
    from chatbot.errors import AuthenticationError

    with database.session() as session, pytest.raises(AuthenticationError):
        authenticate(session, token=token)


def test_purge_uses_the_retention_default_and_the_option(db_url: str, database: Database,
                                                         tmp_path: Path) -> None:
    calendars = load_calendars()
    agent = Actor(name="a.schmidt", role="agent")
    references = []
    for age_days in (200, 10):
        closed_at = utc_now() - timedelta(days=age_days)
        with database.write_session() as session:
            reference = create_ticket(
                session, request=TicketRequest(message="Frage", preferred_language="de",
                                               consent=True, contact_phone="0221 123456"),
                departments=calendars.departments, idempotency_key=None,
                now=closed_at).ticket.reference
            change_status(session, reference=reference, to_status="closed", actor=agent,
                          now=closed_at)
            references.append(reference)

    dry = run_cli("purge", "--dry-run", db_url=db_url, cwd=tmp_path)
    assert dry.stdout.startswith("would delete 1 closed ticket(s), 0 appointment(s) and "
                                 "0 conversation(s) older than 180 days")
    default = run_cli("purge", db_url=db_url, cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    assert default.stdout.startswith("deleted 1 closed ticket(s)")
    shorter = run_cli("purge", "--older-than", "5", db_url=db_url, cwd=tmp_path)
    assert shorter.stdout.startswith("deleted 1 closed ticket(s)")
    assert "older than 5 days" in shorter.stdout


def test_db_upgrade_creates_a_fresh_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'fresh.sqlite3'}"
    result = run_cli("db", "upgrade", db_url=url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"database {url} is at revision {head_revision()}"
    assert current_revision(url) == head_revision()


def test_db_upgrade_reports_an_unreachable_server_in_one_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://someone:secret@127.0.0.1:1/none?connect_timeout=2"
    result = run_cli("db", "upgrade", db_url=url, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: cannot open the database")
    assert "secret" not in result.stderr

"""`chatbot corpus gaps` as a real process with the bundled model."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from chatbot.config import Settings
from chatbot.escalation.clock import utc_now
from chatbot.storage import Database
from tests.editorial.gap_data import seed_gaps
from tests.test_cli_backoffice import run_cli

pytestmark = pytest.mark.slow


def test_gaps_table_and_csv(model_settings: Settings, database: Database, db_url: str,
                            tmp_path: Path) -> None:
    with database.write_session() as session:
        seed_gaps(session, utc_now())
    table = run_cli("corpus", "gaps", "--days", "7", db_url=db_url, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    # The real model puts the question with contact data (masked) with the other two.
    assert lines[0] == "5 question(s) in 3 cluster(s), last 7 days"
    assert "Hundesteuer" in lines[2]
    assert lines[2].split()[0] == "3"
    exported = run_cli("corpus", "gaps", "--csv", db_url=db_url, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout.removeprefix("\ufeff"))))
    assert len(rows) == 3
    assert "example.org" not in exported.stdout
    bad = run_cli("corpus", "gaps", "--days", "0", db_url=db_url, cwd=tmp_path)
    assert bad.returncode == 2

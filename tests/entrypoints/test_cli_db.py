"""`incident-bot db upgrade|current` and `incident-bot log verify|show`, through CliRunner; a
missing PostgreSQL driver, through the real command in a process."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from incident_bot.adapters.db import head_revision
from incident_bot.domain.effects import RecordDecision
from incident_bot.entrypoints.cli import app
from tests.domain.builders import stored_incident

ROOT = Path(__file__).parents[2]
NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # settings read ./.env: make sure there is none


def run(database_url: str, *args: str):
    return CliRunner().invoke(app, list(args), env={"DATABASE_URL": database_url,
                                                    "COLUMNS": "250"})


@pytest.fixture
def logged(uow_factory) -> None:
    """inc-1 with three decision-log entries."""
    with uow_factory() as uow:
        uow.incidents.add(stored_incident("inc-1"), NOW)
        for decision in ("hold media", "open tier 1 [urgent]", "stand down"):
            uow.decisions.append("inc-1", RecordDecision(
                kind="decision", decision=decision, decided_by="gold"), NOW)
        uow.commit()


def test_db_upgrade_migrates_to_the_newest_schema(database_url):
    result = run(database_url, "db", "upgrade")
    assert (result.exit_code, run(database_url, "db", "current").output.strip()) == (
        0, f"{head_revision()} (the newest)")


def test_db_current_on_an_empty_database_says_to_upgrade(database_url):
    result = run(database_url, "db", "current")
    assert (result.exit_code, "incident-bot db upgrade" in result.output) == (0, True)


def test_db_upgrade_on_an_unreachable_database_exits_1_without_a_traceback():
    result = run("postgresql://bot:pw@127.0.0.1:1/bot", "db", "upgrade")
    assert (result.exit_code, "database unavailable" in result.output,
            "Traceback" in result.output) == (1, True, False)


@pytest.mark.usefixtures("logged")
def test_log_verify_passes_an_intact_log(database_url):
    result = run(database_url, "log", "verify", "inc-1")
    assert (result.exit_code, "3 entries, chain intact" in result.output) == (0, True)


@pytest.mark.usefixtures("logged")
def test_log_verify_exits_1_naming_the_tampered_entry(database_url, engine):
    with engine.begin() as connection:
        connection.execute(text("UPDATE decision_log SET decided_by = 'silver' "
                                "WHERE incident_id = 'inc-1' AND seq = 2"))
    result = run(database_url, "log", "verify", "inc-1")
    assert result.exit_code == 1
    assert "FAILED at entry 2" in result.output
    assert "entry 2 was changed after it was written" in result.output


def test_log_verify_of_an_unknown_incident_exits_1(database_url, engine):
    result = run(database_url, "log", "verify", "inc-9")
    assert (result.exit_code, "no incident 'inc-9'" in result.output) == (1, True)


def test_log_verify_refuses_an_unmigrated_database(database_url):
    result = run(database_url, "log", "verify", "inc-1")
    assert (result.exit_code, "run `incident-bot db upgrade`" in result.output) == (1, True)


@pytest.mark.usefixtures("logged")
def test_log_show_prints_every_entry_as_written(database_url):
    result = run(database_url, "log", "show", "inc-1")
    assert result.exit_code == 0
    assert all(d in result.output for d in ("hold media", "open tier 1 [urgent]", "stand down"))


# ---- a PostgreSQL URL without its driver installed ------------------------------------------

WITHOUT_PSYCOPG = ("import sys; sys.modules['psycopg'] = None  # as if never installed\n"
                   "from incident_bot.entrypoints.cli import main; main()")


@pytest.mark.parametrize("command", [("db", "upgrade"), ("db", "current"),
                                     ("incidents", "list"), ("directory", "list"),
                                     ("log", "show", "inc-1"), ("report", "inc-1")])
def test_a_missing_postgresql_driver_is_one_line_saying_how_to_install_it(
        tmp_path: Path, command: tuple[str, ...]):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80",
           "DATABASE_URL": "postgresql+psycopg://bot@127.0.0.1:5432/bot"}
    result = subprocess.run([sys.executable, "-c", WITHOUT_PSYCOPG, *command], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            check=False)
    assert (result.returncode, result.stdout, result.stderr.splitlines()) == (1, "", [
        "error: DATABASE_URL is PostgreSQL but its driver (psycopg) is not installed: run "
        "`pip install --require-hashes --no-deps -r requirements/postgres.txt` in the checkout "
        "(`scripts/setup.sh run` does), or `pip install 'incident-bot[postgres]'`"])

"""`incident-bot db upgrade|current` and `incident-bot log verify|show`, through CliRunner."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from incident_bot.adapters.db import head_revision
from incident_bot.domain.effects import RecordDecision
from incident_bot.entrypoints.cli import app

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
        uow.incidents.add("inc-1", "pb", "active", {}, NOW)
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

"""`incident-bot report`, `incident-bot incidents list` and `incidents export` through Typer's
CliRunner against the database of a real incident."""

from __future__ import annotations

import json
import logging
import re

import pytest
from typer.testing import CliRunner

from incident_bot.entrypoints.cli import app
from incident_bot.service.exports import EXPORT_ACTION

DIGITS = re.compile(r"\d{7,}")


@pytest.fixture
def world(sql_world):
    """The CLI opens the database itself: the world on each database backend."""
    return sql_world


@pytest.fixture
def invoke(world):
    def run(*args: str):
        env = {"COLUMNS": "200", "DATABASE_URL": world.database_url}
        return CliRunner().invoke(app, [str(a) for a in args], env=env)
    return run


def export_audits(world) -> list[dict]:
    with world.uow_factory() as uow:
        return [e for e in uow.audit.entries() if e["action"] == EXPORT_ACTION]


def test_report_prints_the_markdown_report_of_the_incident(invoke, world):
    result = invoke("report", world.incident_id)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# After-action report: ")
    assert f"Incident `{world.incident_id}`" in result.output


def test_report_writes_an_html_page_to_the_output_file(invoke, world, tmp_path):
    target = tmp_path / "out" / "report.html"
    result = invoke("report", world.incident_id, "--format", "html", "--output", target)
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    assert (page.startswith("<!DOCTYPE html>"), "<svg" in page) == (True, True)


def test_report_of_an_unknown_incident_exits_one_naming_it(invoke):
    result = invoke("report", "inc-nope")
    assert (result.exit_code, "inc-nope" in result.output) == (1, True)


def test_incidents_list_shows_the_incident(invoke, world):
    result = invoke("incidents", "list")
    assert result.exit_code == 0, result.output
    assert world.incident_id in result.output
    assert "ct-arrests-and-searches" in result.output


def test_export_holds_the_document_decisions_outbox_timers_and_people(invoke, world):
    result = invoke("incidents", "export", world.incident_id)
    data = json.loads(result.output)
    records = world.records()
    assert (data["document"]["id"], len(data["decision_log"]), len(data["outbox"])) == (
        world.incident_id, len(records.decisions), len(records.outbox))
    assert len(data["timers"]) > 0
    assert {p["key"] for p in data["people"]} == set(records.incident.people)


def test_export_masks_every_phone_number(invoke, world):
    output = invoke("incidents", "export", world.incident_id).output
    phones = [p.phone for p in world.people if p.phone]
    assert [p for p in phones if p in output] == []
    assert "••" in output
    assert json.loads(output)["personal_data_included"] is False


def test_export_without_personal_data_is_not_audited(invoke, world):
    before = len(export_audits(world))
    invoke("incidents", "export", world.incident_id)
    assert len(export_audits(world)) == before


def test_export_with_personal_data_has_the_numbers(invoke, world):
    output = invoke("incidents", "export", world.incident_id, "--include-personal-data").output
    people = {p["key"]: p["phone"] for p in json.loads(output)["people"]}
    directory = {p.key: p.phone for p in world.people if p.key in people}
    assert people == directory


def test_export_with_personal_data_writes_an_audit_entry_without_numbers(invoke, world):
    before = len(export_audits(world))
    invoke("incidents", "export", world.incident_id, "--include-personal-data")
    audits = export_audits(world)
    assert len(audits) == before + 1
    entry = audits[-1]
    assert (entry["actor"].startswith("cli:"), entry["outcome"], world.incident_id in
            entry["detail"], DIGITS.search(entry["detail"])) == (
        True, "personal data included", True, None)


def test_the_export_log_line_never_contains_a_number(invoke, world, caplog):
    with caplog.at_level(logging.INFO, logger="incident_bot"):
        invoke("incidents", "export", world.incident_id, "--include-personal-data")
    lines = [r.getMessage() for r in caplog.records if "exported" in r.getMessage()]
    assert len(lines) == 1
    assert not any(p.phone and p.phone in lines[0] for p in world.people)

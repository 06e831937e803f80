"""Retention: `purge --closed-before DATE` removes the personal data of incidents closed before
DATE, keeps their decision logs whole and leaves one audit line with the counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from incident_bot.adapters.db import SqlUnitOfWork, make_engine, upgrade
from incident_bot.domain.commands import ApproveMessage, Close, StandDown
from incident_bot.domain.decision_log import verify_chain
from incident_bot.entrypoints.cli import app
from incident_bot.service.personal_data import ERASED, purge_closed
from incident_bot.service.use_cases import StartRequest
from tests.drill import drill_people, make_harness
from tests.fakes import T0

NAME, PHONE = "Contact 1-0", "+447700910000"
CUTOFF = T0 + timedelta(days=30)


def run_incident(drill, incident_id: str, close: bool = True) -> str:
    drill.incidents.start_incident(StartRequest(
        playbook_id="restart-drill", area="Northbridge", t0=drill.clock.now(),
        started_by="cmd"), incident_id=incident_id)
    drill.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
    drill.tick()
    if close:
        drill.incidents.execute(incident_id, StandDown("cmd", "over"))
        drill.incidents.execute(incident_id, Close("cmd"))
    return incident_id


def purge(drill, before: datetime = CUTOFF):
    with drill.uow_factory() as uow:
        report = purge_closed(uow, before, drill.clock.now(), "test")
        uow.commit()
    return report


def document_text(drill, incident_id: str) -> str:
    with drill.uow_factory() as uow:
        return json.dumps(uow.incidents.get(incident_id).stored)


def test_an_incident_closed_before_the_date_loses_every_name_and_number(drill):
    incident_id = run_incident(drill, "inc-old")
    purge(drill)
    text = document_text(drill, incident_id)
    assert (NAME in text, PHONE in text, "Helen Marsh" in text) == (False, False, False)
    people = drill.incidents.incident(incident_id).people
    assert {p.name for p in people.values()} == {ERASED}


def test_its_deliveries_lose_their_bodies_and_status_reports(drill):
    incident_id = run_incident(drill, "inc-old")
    report = purge(drill)
    with drill.uow_factory() as uow:
        items = uow.outbox.items(incident_id)
        histories = [uow.outbox.history(i.id) for i in items]
    assert {i.notify.body for i in items} == {ERASED}
    assert histories == [[] for _ in items]
    assert report.deliveries == len(items)


def test_its_decision_log_is_kept_whole(drill):
    incident_id = run_incident(drill, "inc-old")
    with drill.uow_factory() as uow:
        before = uow.decisions.entries(incident_id)
    purge(drill)
    with drill.uow_factory() as uow:
        after = uow.decisions.entries(incident_id)
    assert (after, verify_chain(after).ok) == (before, True)


def test_an_incident_closed_after_the_date_and_an_open_one_are_untouched(drill):
    late = run_incident(drill, "inc-late")
    still_open = run_incident(drill, "inc-open", close=False)
    before = {i: document_text(drill, i) for i in (late, still_open)}
    report = purge(drill, before=T0 - timedelta(days=1))
    assert {i: document_text(drill, i) for i in (late, still_open)} == before
    assert (report.incidents, report.people, report.deliveries) == (0, 0, 0)


def test_the_purge_counts_people_and_leaves_an_audit_line_without_names(drill):
    run_incident(drill, "inc-old")
    report = purge(drill)
    with drill.uow_factory() as uow:
        [line] = [e for e in uow.audit.entries() if e["action"] == "personal_data.purge"]
    assert (report.incidents, report.people) == (1, len(drill_people()))
    assert line["detail"] == report.summary()
    assert NAME not in line["detail"]


def test_purging_twice_removes_nothing_more(drill):
    run_incident(drill, "inc-old")
    purge(drill)
    again = purge(drill)
    assert (again.incidents, again.people, again.delivery_events) == (1, 0, 0)


# ---- the command line ------------------------------------------------------------------------


def cli(database_url: str, *args: str):
    return CliRunner().invoke(app, list(args), env={"DATABASE_URL": database_url,
                                                    "COLUMNS": "200"})


def test_the_purge_command_prints_its_counts(database_url, tmp_path):
    upgrade(database_url)
    engine = make_engine(database_url)
    drill = make_harness(lambda: SqlUnitOfWork(engine), drill_people())
    run_incident(drill, "inc-cli")
    engine.dispose()
    result = cli(database_url, "purge", "--closed-before", "2026-06-01", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("incidents closed before 2026-06-01: 1; people "
                                            f"removed {len(drill_people())}, deliveries erased ")


def test_the_purge_command_refuses_a_date_it_cannot_read(database_url):
    result = cli(database_url, "purge", "--closed-before", "last year", "--yes")
    assert result.exit_code == 2
    assert "is not a date: write YYYY-MM-DD" in result.output


def test_the_purge_command_refuses_a_future_date(database_url):
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    result = cli(database_url, "purge", "--closed-before", tomorrow, "--yes")
    assert (result.exit_code, "in the future" in result.output) == (2, True)

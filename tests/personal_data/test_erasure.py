"""`directory erase` through the service: a person's personal data goes from everywhere but the
decision log, and one anonymised audit line says what was done."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import String, Text, select
from typer.testing import CliRunner

from incident_bot.adapters.db import SqlUnitOfWork, make_engine, upgrade
from incident_bot.adapters.db.tables import Base
from incident_bot.domain.commands import ApproveMessage, Close, LogDecision, StandDown
from incident_bot.domain.decision_log import verify_chain
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import Notify, OutboxChannel
from incident_bot.entrypoints.cli import app
from incident_bot.errors import NotFoundError
from incident_bot.service.personal_data import ERASED, erase_person, person_hash, scrub_text
from incident_bot.service.use_cases import StartRequest
from tests.drill import drill_people, make_harness
from tests.fakes import T0

PERSON, NAME, PHONE = "t1-0", "Contact 1-0", "+447700910000"


def start(drill, incident_id: str = "inc-pd", approve: bool = True) -> str:
    drill.incidents.start_incident(StartRequest(
        playbook_id="restart-drill", area="Northbridge", t0=T0, started_by="cmd"),
        incident_id=incident_id)
    if approve:
        drill.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
    drill.tick()
    return incident_id


def erase(drill, key: str = PERSON):
    with drill.uow_factory() as uow:
        report = erase_person(uow, key, drill.clock.now(), "test")
        uow.commit()
    return report


def every_text_column(drill) -> dict[str, list[str]]:
    """table name → every text value in it (JSON columns as JSON text): ``drill`` on a real
    database (``sql_drill``), since this reads its tables."""
    found: dict[str, list[str]] = {}
    with drill.uow_factory() as uow:
        session = uow._open()
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                found.setdefault(table.name, []).extend(
                    json.dumps(value) if isinstance(value, dict | list) else str(value)
                    for column, value in row.items()
                    if value is not None and (isinstance(value, dict | list) or isinstance(
                        table.c[column].type, String | Text)))
    return found


def tables_mentioning(drill, *texts: str) -> set[str]:
    return {table for table, values in every_text_column(drill).items()
            for value in values for text in texts if text in value}


def test_before_erasure_the_name_and_number_are_in_the_directory_incident_and_outbox(sql_drill):
    start(sql_drill)
    with sql_drill.uow_factory() as uow:
        before = uow.outbox.items()
    assert {"person", "incident"} <= tables_mentioning(sql_drill, NAME, PHONE)
    assert any(item.notify.recipient == PERSON for item in before)


def test_after_erasure_no_table_but_the_decision_log_holds_the_name_or_number(sql_drill):
    incident_id = start(sql_drill)
    sql_drill.incidents.execute(incident_id, LogDecision(f"Call {NAME} on {PHONE} first", "",
                                                         by="cmd"))
    sql_drill.tick()
    erase(sql_drill)
    assert tables_mentioning(sql_drill, NAME, PHONE) <= {"decision_log"}


def test_the_directory_row_goes(drill):
    start(drill)
    erase(drill)
    with drill.uow_factory() as uow:
        assert uow.directory.get(PERSON) is None


def test_the_copy_in_the_incident_document_keeps_only_key_and_roles(drill):
    incident_id = start(drill)
    erase(drill)
    person = drill.incidents.incident(incident_id).people[PERSON]
    assert (person.name, person.phone, person.slack_user_id) == (ERASED, None, None)


def test_deliveries_to_the_person_lose_body_provider_id_and_status_reports(drill):
    incident_id = start(drill)
    with drill.uow_factory() as uow:
        sent = [i for i in uow.outbox.items(incident_id) if i.notify.recipient == PERSON]
        histories = [uow.outbox.history(i.id) for i in sent]
    assert sent
    assert all(histories)
    drill.incidents.delivery_status(sent[0].id, "delivered", None)
    report = erase(drill)
    with drill.uow_factory() as uow:
        after = [uow.outbox.get(i.id) for i in sent]
        histories = [uow.outbox.history(i.id) for i in sent]
    assert {(i.notify.body, i.provider_id) for i in after} == {(ERASED, None)}
    assert histories == [[] for _ in sent]
    assert (report.deliveries, report.delivery_events >= len(sent) + 1) == (len(sent), True)


def test_deliveries_to_other_people_are_untouched(drill):
    incident_id = start(drill)
    with drill.uow_factory() as uow:
        before = {i.id: i.notify.body for i in uow.outbox.items(incident_id)
                  if i.notify.recipient != PERSON}
    erase(drill)
    with drill.uow_factory() as uow:
        after = {i.id: i.notify.body for i in uow.outbox.items(incident_id)
                 if i.notify.recipient != PERSON}
    assert after == before


def test_an_unsent_delivery_to_the_person_is_cancelled_not_sent_as_erased(drill):
    incident_id = start(drill, approve=False)
    drill.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
    with drill.uow_factory() as uow:
        pending = [i.id for i in uow.outbox.items(incident_id)
                   if i.notify.recipient == PERSON and i.status == "pending"]
    assert pending
    erase(drill)
    drill.tick()
    with drill.uow_factory() as uow:
        assert {uow.outbox.get(i).status for i in pending} == {"cancelled"}
    assert drill.sms.to(PHONE) == []


def test_a_closed_incident_is_erased_too(drill):
    incident_id = start(drill)
    drill.incidents.execute(incident_id, StandDown("cmd", "over"))
    drill.incidents.execute(incident_id, Close("cmd"))
    erase(drill)
    with drill.uow_factory() as uow:
        document = json.dumps(uow.incidents.get(incident_id).stored)
    assert NAME not in document
    assert PHONE not in document


def test_the_decision_log_is_not_rewritten(drill):
    incident_id = start(drill)
    with drill.uow_factory() as uow:
        before = uow.decisions.entries(incident_id)
    erase(drill)
    with drill.uow_factory() as uow:
        after = uow.decisions.entries(incident_id)
    assert after == before
    assert verify_chain(after).ok


def test_the_audit_line_names_the_person_by_a_hash_only(drill):
    start(drill)
    erase(drill)
    with drill.uow_factory() as uow:
        [line] = [e for e in uow.audit.entries() if e["action"] == "directory.erase"]
    assert line["detail"].startswith(f"person {person_hash(PERSON)}: incidents 1, ")
    assert not {PERSON, NAME, PHONE} & {w.strip(",:") for w in line["detail"].split()}


def test_earlier_audit_details_mentioning_the_name_are_scrubbed(drill):
    start(drill)
    with drill.uow_factory() as uow:
        uow.audit.record(at=drill.clock.now(), actor="x", action="note", outcome="ok",
                         detail=f"rang {NAME}")
        uow.commit()
    erase(drill)
    with drill.uow_factory() as uow:
        assert [e["detail"] for e in uow.audit.entries() if e["action"] == "note"] == \
            [f"rang {ERASED}"]


def test_someone_whose_deputy_was_erased_has_no_deputy(drill):
    with drill.uow_factory() as uow:
        uow.directory.upsert([replace(uow.directory.get("t1-1"), deputy=PERSON)])
        uow.commit()
    report = erase(drill)
    with drill.uow_factory() as uow:
        assert (uow.directory.get("t1-1").deputy, report.deputy_of) == (None, 1)


def test_a_person_already_gone_from_the_directory_is_still_erased_from_incidents(drill):
    incident_id = start(drill)
    with drill.uow_factory() as uow:
        uow.directory.erase(PERSON)
        uow.commit()
    erase(drill)
    assert drill.incidents.incident(incident_id).people[PERSON].name == ERASED


def test_erasing_an_unknown_key_is_not_found_and_changes_nothing(drill):
    start(drill)
    with pytest.raises(NotFoundError, match="no person with key 'nobody'"):
        erase(drill, "nobody")
    with drill.uow_factory() as uow:
        assert not [e for e in uow.audit.entries() if e["action"] == "directory.erase"]


def test_the_erased_incident_still_loads_and_takes_commands(drill):
    incident_id = start(drill)
    erase(drill)
    drill.clock.set(datetime(2026, 5, 1, 6, 0, tzinfo=T0.tzinfo))
    drill.tick()
    drill.incidents.execute(incident_id, LogDecision("Carry on", "fine", by="cmd"))
    assert drill.incidents.view(incident_id).status == "active"


# ---- the command line ------------------------------------------------------------------------


def test_the_erase_command_erases_from_incidents_and_prints_the_counts(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    drill = make_harness(lambda: SqlUnitOfWork(engine), drill_people())
    incident_id = start(drill)
    result = CliRunner().invoke(app, ["directory", "erase", PERSON, "--yes"],
                                env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("incidents changed 1, deliveries erased ")
    assert drill.incidents.incident(incident_id).people[PERSON].name == ERASED
    engine.dispose()


def test_a_non_ascii_name_quoted_in_another_persons_message_and_its_data_is_erased(drill):
    incident_id = start(drill)
    with drill.uow_factory() as uow:
        uow.directory.upsert([Person(key="zoe", name="Zoë Ångström", tier=2)])
        uow.outbox.add(incident_id, Notify(
            key="k-zoe", channel=OutboxChannel.SLACK_DM, recipient="cmd", purpose="callers.list",
            body="Please call Zoë Ångström", data={"contact": "Zoë Ångström"}), drill.clock.now())
        uow.commit()
    erase(drill, "zoe")
    with drill.uow_factory() as uow:
        [item] = [i for i in uow.outbox.items(incident_id) if i.key == "k-zoe"]
    assert (item.notify.body, item.notify.data) == (f"Please call {ERASED}", {"contact": ERASED})


def test_a_longer_name_that_contains_the_erased_one_is_left_alone():
    assert scrub_text("Ann Lee rang Ann Leeson (Ann Lee's deputy)", ["Ann Lee"]) == \
        f"{ERASED} rang Ann Leeson ({ERASED}'s deputy)"

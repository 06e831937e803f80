"""The stored decision log: numbered without gaps per incident, hash-chained, tamper-evident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from incident_bot.domain.decision_log import GENESIS_HASH, verify_chain
from incident_bot.domain.effects import RecordDecision
from incident_bot.errors import StoreError
from tests.domain.builders import stored_incident

NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def _with_two_incidents(uow_factory):
    with uow_factory() as uow:
        uow.incidents.add(stored_incident("inc-1"), NOW)
        uow.incidents.add(stored_incident("inc-2"), NOW)
        uow.commit()
    return uow_factory


@pytest.fixture
def logs(any_uow_factory):
    """Incidents inc-1 and inc-2, on each store (memory and the database backends)."""
    return _with_two_incidents(any_uow_factory)


@pytest.fixture
def sql_logs(uow_factory):
    """The same on each database backend, for rows changed behind the repository's back."""
    return _with_two_incidents(uow_factory)


def _log(uow_factory, incident_id: str, *decisions: str) -> None:
    with uow_factory() as uow:
        uow.incidents.get_for_update(incident_id)  # as the service does: append under the lock
        for text_ in decisions:
            uow.decisions.append(incident_id, RecordDecision(kind="decision", decision=text_),
                                 NOW)
        uow.commit()


def _entries(uow_factory, incident_id: str = "inc-1"):
    with uow_factory() as uow:
        return uow.decisions.entries(incident_id)


def test_entries_are_numbered_from_one_without_gaps(logs):
    _log(logs, "inc-1", "a", "b")
    _log(logs, "inc-1", "c")
    assert [e.seq for e in _entries(logs)] == [1, 2, 3]


def test_each_incident_has_its_own_numbering(logs):
    _log(logs, "inc-1", "a", "b")
    _log(logs, "inc-2", "c")
    assert [e.seq for e in _entries(logs, "inc-2")] == [1]


def test_each_entry_chains_to_the_one_before(logs):
    _log(logs, "inc-1", "a", "b", "c")
    entries = _entries(logs)
    assert [e.prev_hash for e in entries] == [GENESIS_HASH] + [e.hash for e in entries[:-1]]


def test_a_stored_log_verifies(logs):
    _log(logs, "inc-1", "a", "b", "c")
    assert verify_chain(_entries(logs)).ok


def test_an_entry_keeps_its_own_decision_time_and_the_time_it_was_recorded(logs):
    decided = NOW - timedelta(minutes=20)
    with logs() as uow:
        entry = uow.decisions.append("inc-1", RecordDecision(
            kind="decision", decision="hold media", rationale="arrests ongoing",
            decided_by="gold", recorded_by="loggist", decided_at=decided,
            options_rejected="release now", refers_to=None), NOW)
        uow.commit()
    assert (entry.decided_at, entry.recorded_at) == (decided, NOW)
    assert _entries(logs) == [entry]


def test_a_row_edited_behind_the_logs_back_is_named(sql_logs, engine):
    _log(sql_logs, "inc-1", "a", "b", "c")
    with engine.begin() as connection:
        connection.execute(text("UPDATE decision_log SET decision = 'forged' WHERE seq = 2"))
    check = verify_chain(_entries(sql_logs))
    assert (check.ok, check.first_bad_seq) == (False, 2)


def test_a_deleted_row_is_named_as_missing(sql_logs, engine):
    _log(sql_logs, "inc-1", "a", "b", "c")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM decision_log WHERE seq = 2"))
    check = verify_chain(_entries(sql_logs))
    assert (check.ok, check.first_bad_seq, check.reason) == (
        False, 2, "entry 2 is missing (the next entry is 3)")


def test_the_database_refuses_a_second_entry_with_the_same_number(sql_logs, engine):
    _log(sql_logs, "inc-1", "a")
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO decision_log (incident_id, seq, kind, decision, rationale, decided_by, "
            "recorded_by, decided_at, recorded_at, options_rejected, prev_hash, hash) "
            "VALUES ('inc-1', 1, 'x', 'x', '', '', '', :t, :t, '', '', '')"),
            {"t": NOW.isoformat()})


def test_an_entry_for_an_unknown_incident_is_refused(logs):
    with pytest.raises(StoreError, match="database error"), logs() as uow:
        uow.decisions.append("inc-9", RecordDecision(kind="decision", decision="x"), NOW)

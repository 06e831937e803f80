"""Incidents: the aggregate in one JSON document per row, locked for each command, versioned on
every save."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from incident_bot.domain.incident import Incident, Status
from incident_bot.errors import NotFoundError
from tests.domain.builders import stored_incident

NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def _add(uow_factory, incident_id: str = "inc-1", status: Status = Status.ACTIVE) -> Incident:
    incident = stored_incident(incident_id, "Ünïcode Town ✓", status)
    with uow_factory() as uow:
        uow.incidents.add(incident, NOW)
        uow.commit()
    return incident


def test_an_incident_round_trips_whole(any_uow_factory):
    added = _add(any_uow_factory)
    with any_uow_factory() as uow:
        record = uow.incidents.get("inc-1")
    assert (record.id, record.playbook_id, record.status, record.version) == (
        "inc-1", added.playbook.id, "active", 1)
    assert record.incident.to_dict() == added.to_dict()
    assert list(record.stored) == list(added.to_dict())  # the stored form keeps its key order


def test_get_for_update_then_save_stores_the_change_and_bumps_the_version(any_uow_factory):
    _add(any_uow_factory)
    later = NOW + timedelta(minutes=5)
    with any_uow_factory() as uow:
        incident = uow.incidents.get_for_update("inc-1").incident
        incident.status, incident.channel_id = Status.CLOSED, "C1"
        uow.incidents.save(incident, later)
        uow.commit()
    with any_uow_factory() as uow:
        saved = uow.incidents.get("inc-1")
    assert (saved.status, saved.incident.channel_id, saved.version, saved.updated_at,
            saved.created_at) == ("closed", "C1", 2, later, NOW)


def test_a_record_is_a_copy_until_saved(any_uow_factory):
    _add(any_uow_factory)
    with any_uow_factory() as uow:
        uow.incidents.get("inc-1").incident.channel_id = "C9"  # not saved
        uow.commit()
    with any_uow_factory() as uow:
        assert uow.incidents.get("inc-1").incident.channel_id is None


def test_an_unknown_incident_is_not_found(any_uow_factory):
    with pytest.raises(NotFoundError, match="no incident 'inc-9'"), any_uow_factory() as uow:
        uow.incidents.get_for_update("inc-9")


def test_all_can_filter_by_status(any_uow_factory):
    _add(any_uow_factory, "inc-1", Status.ACTIVE)
    _add(any_uow_factory, "inc-2", Status.CLOSED)
    with any_uow_factory() as uow:
        assert [r.id for r in uow.incidents.all(["active", "prebrief"])] == ["inc-1"]


@pytest.mark.backends("postgres")
def test_a_row_held_by_get_for_update_cannot_be_locked_by_another_transaction(
        uow_factory, engine):
    _add(uow_factory)
    with uow_factory() as uow:
        uow.incidents.get_for_update("inc-1")
        with pytest.raises(OperationalError, match="could not obtain lock"), \
                engine.connect() as other:
            other.execute(text("SELECT id FROM incident WHERE id = 'inc-1' FOR UPDATE NOWAIT"))

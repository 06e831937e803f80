"""Incidents: one JSON document per row, locked for each command, versioned on every save."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from incident_bot.errors import NotFoundError

NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
DOCUMENT = {"id": "inc-1", "tasks": {"b": 1, "a": [1, "two", None]}, "note": "ünïcode ✓"}


def _add(uow_factory, incident_id: str = "inc-1", status: str = "active") -> None:
    with uow_factory() as uow:
        uow.incidents.add(incident_id, "pb", status, dict(DOCUMENT, id=incident_id), NOW)
        uow.commit()


def test_a_document_round_trips_with_its_key_order(uow_factory):
    _add(uow_factory)
    with uow_factory() as uow:
        record = uow.incidents.get("inc-1")
    assert (record.document, list(record.document["tasks"])) == (DOCUMENT, ["b", "a"])


def test_get_for_update_then_save_stores_the_new_document_and_bumps_the_version(uow_factory):
    _add(uow_factory)
    later = NOW + timedelta(minutes=5)
    with uow_factory() as uow:
        record = uow.incidents.get_for_update("inc-1")
        uow.incidents.save("inc-1", "closed", {**record.document, "x": 1}, later)
        uow.commit()
    with uow_factory() as uow:
        saved = uow.incidents.get("inc-1")
    assert (saved.status, saved.document["x"], saved.version, saved.updated_at,
            saved.created_at) == ("closed", 1, 2, later, NOW)


def test_a_document_edited_in_place_is_still_saved(uow_factory):
    _add(uow_factory)
    with uow_factory() as uow:
        record = uow.incidents.get_for_update("inc-1")
        record.document["note"] = "edited"
        uow.incidents.save("inc-1", "active", record.document, NOW)
        uow.commit()
    with uow_factory() as uow:
        assert uow.incidents.get("inc-1").document["note"] == "edited"


def test_an_unknown_incident_is_not_found(uow_factory):
    with pytest.raises(NotFoundError, match="no incident 'inc-9'"), uow_factory() as uow:
        uow.incidents.get_for_update("inc-9")


def test_all_can_filter_by_status(uow_factory):
    _add(uow_factory, "inc-1", "active")
    _add(uow_factory, "inc-2", "closed")
    with uow_factory() as uow:
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

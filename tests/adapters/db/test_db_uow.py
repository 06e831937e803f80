"""The unit of work: one transaction per `with`, committed only on commit()."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from incident_bot.errors import StoreError
from incident_bot.service.ports import UnitOfWork
from tests.domain.builders import stored_incident

NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def _add(uow: UnitOfWork, incident_id: str) -> None:
    uow.incidents.add(stored_incident(incident_id), NOW)


def _ids(uow_factory) -> list[str]:
    with uow_factory() as uow:
        return [record.id for record in uow.incidents.all()]


def test_committed_work_is_kept(any_uow_factory):
    with any_uow_factory() as uow:
        _add(uow, "inc-1")
        uow.commit()
    assert _ids(any_uow_factory) == ["inc-1"]


def test_leaving_without_commit_rolls_back(any_uow_factory):
    with any_uow_factory() as uow:
        _add(uow, "inc-1")
    assert _ids(any_uow_factory) == []


def _add_then_fail(uow_factory) -> None:
    with uow_factory() as uow:
        _add(uow, "inc-1")
        raise LookupError


def test_an_exception_rolls_back_and_propagates(any_uow_factory):
    with pytest.raises(LookupError):
        _add_then_fail(any_uow_factory)
    assert _ids(any_uow_factory) == []


def test_explicit_rollback_discards_work_so_far(any_uow_factory):
    with any_uow_factory() as uow:
        _add(uow, "inc-1")
        uow.rollback()
        _add(uow, "inc-2")
        uow.commit()
    assert _ids(any_uow_factory) == ["inc-2"]


def test_a_unit_of_work_can_be_used_again_after_it_was_left(any_uow_factory):
    uow = any_uow_factory()
    with uow:
        _add(uow, "inc-1")
        uow.commit()
    with uow:
        _add(uow, "inc-2")
        uow.commit()
    assert _ids(any_uow_factory) == ["inc-1", "inc-2"]


def test_commit_outside_a_with_block_is_an_error(any_uow_factory):
    with pytest.raises(StoreError, match="not open"):
        any_uow_factory().commit()


def test_a_constraint_violation_leaves_the_block_as_a_store_error(any_uow_factory):
    with any_uow_factory() as uow:
        _add(uow, "inc-1")
        uow.commit()
    with pytest.raises(StoreError, match="database error"), any_uow_factory() as uow:
        _add(uow, "inc-1")


def test_audit_entries_are_recorded_in_order(any_uow_factory):
    with any_uow_factory() as uow:
        uow.audit.record(at=NOW, actor="cmd", action="ReleaseMessage", outcome="refused",
                         detail="inc-1: media hold")
        uow.audit.record(at=NOW, actor="admin", action="directory.show", outcome="viewed")
        uow.commit()
    with any_uow_factory() as uow:
        entries = uow.audit.entries()
    assert [(e["actor"], e["outcome"], e["detail"]) for e in entries] == [
        ("cmd", "refused", "inc-1: media hold"), ("admin", "viewed", "")]

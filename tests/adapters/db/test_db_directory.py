"""The directory: upsert by key reporting added/updated/unchanged, look-ups, erasure."""

from __future__ import annotations

from datetime import date

from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Channel

ALICE = Person(key="alice", name="Alice Khan", organisation="Council", roles=("caller",),
               tier=1, slack_user_id="U01", phone="+447700900001", language="ur",
               channels=(Channel.SMS, Channel.VOICE), deputy="bob",
               verified_on=date(2026, 4, 1))
BOB = Person(key="bob", name="Bob")


def _upsert(uow_factory, *people: Person):
    with uow_factory() as uow:
        report = uow.directory.upsert(people)
        uow.commit()
    return report


def test_new_people_are_added(any_uow_factory):
    report = _upsert(any_uow_factory, ALICE, BOB)
    assert (report.added, report.updated, report.unchanged) == (2, 0, 0)


def test_an_identical_person_is_unchanged(any_uow_factory):
    _upsert(any_uow_factory, ALICE)
    report = _upsert(any_uow_factory, ALICE)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)


def test_a_changed_person_is_updated_by_key(any_uow_factory):
    _upsert(any_uow_factory, ALICE, BOB)
    report = _upsert(any_uow_factory, ALICE, Person(key="bob", name="Bob Jones"))
    with any_uow_factory() as uow:
        bob = uow.directory.get("bob")
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert bob == Person(key="bob", name="Bob Jones")


def test_every_field_round_trips(any_uow_factory):
    _upsert(any_uow_factory, ALICE)
    with any_uow_factory() as uow:
        assert uow.directory.get("alice") == ALICE


def test_people_are_found_by_slack_user_and_by_phone(any_uow_factory):
    _upsert(any_uow_factory, ALICE, BOB)
    with any_uow_factory() as uow:
        by_slack = uow.directory.by_slack_user("U01")
        by_phone = uow.directory.by_phone("+447700900001")
    assert (by_slack, by_phone) == (ALICE, [ALICE])


def test_an_unknown_key_is_none(any_uow_factory):
    with any_uow_factory() as uow:
        assert uow.directory.get("nobody") is None


def test_all_lists_people_by_key(any_uow_factory):
    _upsert(any_uow_factory, BOB, ALICE)
    with any_uow_factory() as uow:
        assert [p.key for p in uow.directory.all()] == ["alice", "bob"]


def test_an_erased_person_is_gone(any_uow_factory):
    _upsert(any_uow_factory, ALICE)
    with any_uow_factory() as uow:
        erased = uow.directory.erase("alice")
        uow.commit()
    with any_uow_factory() as uow:
        assert (erased, uow.directory.get("alice"), uow.directory.erase("alice")) == (
            True, None, False)

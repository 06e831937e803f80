"""The use cases end to end: start, approve, timers, outbox, replies. On every store (memory,
SQLite, PostgreSQL): the one service flow that keeps the SQL wiring of the use cases covered."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from incident_bot.domain.codes import confirmation_code
from incident_bot.domain.commands import ApproveMessage, LogDecision
from incident_bot.domain.decision_log import verify_chain
from incident_bot.errors import NotAuthorised
from incident_bot.service.use_cases import StartRequest
from tests.drill import Harness, drill_people, make_harness
from tests.fakes import T0


@pytest.fixture
def drill(any_uow_factory) -> Harness:
    """The restart drill on each store in turn (``drill`` elsewhere is on memory alone)."""
    return make_harness(any_uow_factory, drill_people())


def start(drill, approve: bool = True) -> str:
    incident_id = drill.incidents.start_incident(
        StartRequest(playbook_id="restart-drill", area="Northbridge", t0=T0, started_by="cmd"),
        incident_id="inc-test")
    if approve:
        drill.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
    drill.tick()
    return incident_id


def tier_view(drill, incident_id: str, number: int):
    return next(t for t in drill.incidents.view(incident_id).tiers if t.number == number)


def test_an_unauthorised_person_cannot_start_an_incident_and_is_audited(drill):
    with pytest.raises(NotAuthorised):
        drill.incidents.start_incident(StartRequest(
            playbook_id="restart-drill", area="X", t0=T0, started_by="t1-0"))
    with drill.uow_factory() as uow:
        assert uow.incidents.all() == []
        assert [a["outcome"] for a in uow.audit.entries()] == ["refused"]


def test_every_contact_gets_one_sms_once_the_message_is_approved(drill):
    start(drill)
    phones = Counter(sent.address for sent in drill.sms.sent)
    assert len(phones) == 10
    assert set(phones.values()) == {1}


def test_the_sms_carries_the_tier_code_and_no_unfilled_marker(drill):
    incident_id = start(drill)
    code = confirmation_code(incident_id, 1)
    first = drill.sms.to("+447700910000")[0]
    assert code in first.body
    assert "{" not in first.body


def test_a_reply_with_the_code_confirms_the_contact(drill):
    incident_id = start(drill)
    routed = drill.incidents.sms_inbound("+447700910000",
                                         f"ok {confirmation_code(incident_id, 1).lower()} thanks")
    assert routed == [incident_id]
    assert tier_view(drill, incident_id, 1).reached == 1


def test_unconfirmed_contacts_are_called_when_the_sms_rung_times_out(drill):
    incident_id = start(drill)
    drill.incidents.sms_inbound("+447700910000", confirmation_code(incident_id, 1))
    drill.advance(minutes=15)
    called = {c.address for c in drill.voice.calls}
    assert len(called) == 5
    assert "+447700910000" not in called


def test_a_stop_reply_stops_every_later_send_to_that_contact(drill):
    start(drill)
    drill.incidents.sms_inbound("+447700910001", "STOP")
    drill.advance(minutes=60)
    assert [c for c in drill.voice.calls if c.address == "+447700910001"] == []


def test_every_contact_ends_terminal_and_every_timer_fires(drill):
    incident_id = start(drill)
    for minutes in (15, 20, 30, 45, 60, 90):
        drill.clock.set(T0 + timedelta(minutes=minutes))
        drill.tick()
    view = drill.incidents.view(incident_id)
    assert all(t.pending == 0 for t in view.tiers if t.total)
    with drill.uow_factory() as uow:
        due = [t for t in uow.timers.pending(incident_id) if t.due_at <= drill.clock.now()]
    assert due == []


def test_replaying_a_tick_sends_nothing_new(drill):
    start(drill)
    before = (len(drill.sms.sent), len(drill.chat.sent))
    drill.tick()
    assert (len(drill.sms.sent), len(drill.chat.sent)) == before


def test_a_decision_is_logged_with_a_verifiable_chain(drill):
    incident_id = start(drill)
    drill.incidents.execute(incident_id, LogDecision("Open rest centre", "Cordon", by="cmd"))
    with drill.uow_factory() as uow:
        entries = uow.decisions.entries(incident_id)
    assert verify_chain(entries).ok
    assert entries[-1].decision == "Open rest centre"

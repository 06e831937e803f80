"""Notices before chatter: incident notices have a lane of their own in the Slack pace, and a
contact's SMS replies are folded into one post updated in place. Injected clock, no sleeping:
the dispatcher is ticked every quarter of a simulated second."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident_bot.domain.commands import ApproveMessage, MarkCompromised
from incident_bot.domain.effects import UPDATE_TS
from incident_bot.service.dispatcher import Dispatcher
from incident_bot.service.pacing import Pacing
from incident_bot.service.use_cases import StartRequest
from tests.drill import drill_people, make_harness
from tests.fakes import T0

CHANNEL = "C0INCIDENT1"
TICK = timedelta(seconds=0.25)


@pytest.fixture
def cell(memory_uow_factory):
    """A drill incident whose tier-1 texts went out, with a Slack channel, paced as serve
    paces it (one post a second per conversation, three seconds' burst)."""
    harness = make_harness(memory_uow_factory, drill_people())
    harness.dispatcher = Dispatcher(
        harness.uow_factory, harness.clock, harness.incidents, harness.chat, harness.sms,
        harness.voice, worker="paced", pacing=Pacing(sms_per_second=10, calls_per_second=1))
    harness.dispatcher.pace_chat(posts_per_second=1.0, burst_seconds=3.0)
    incident_id = harness.incidents.start_incident(StartRequest(
        playbook_id="restart-drill", area="Northbridge", t0=T0, started_by="cmd"),
        incident_id="inc-lane")
    harness.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
    with memory_uow_factory() as uow:
        incident = uow.incidents.get_for_update(incident_id).incident
        incident.channel_id = CHANNEL
        uow.incidents.save(incident, T0)
        uow.commit()
    _run(harness, seconds=30)
    harness.chat.sent.clear()
    return harness


def _run(harness, seconds: float) -> None:
    for _ in range(int(seconds / TICK.total_seconds())):
        harness.clock.advance(seconds=TICK.total_seconds())
        harness.dispatcher.dispatch()


def _flood(harness, phone: str = "+447700910000", replies: int = 80, within: float = 3.0):
    for n in range(replies):
        harness.incidents.sms_inbound(phone, f"reply number {n}: what is happening?")
        harness.clock.advance(seconds=within / replies)
        harness.dispatcher.dispatch()


def _feedback(harness):
    return [s for s in harness.chat.sent if s.notify.purpose == "ringround.feedback"]


def test_a_commanders_notice_overtakes_a_flood_of_replies_within_two_seconds(cell):
    _flood(cell)
    cell.incidents.execute("inc-lane", MarkCompromised(reason="press at the door", by="cmd"))
    queued = cell.clock.now()
    waited = None
    while waited is None and cell.clock.now() - queued < timedelta(seconds=30):
        _run(cell, seconds=0.25)
        if any(s.notify.purpose == "incident.compromised" for s in cell.chat.sent):
            waited = cell.clock.now() - queued
    assert waited is not None
    assert waited <= timedelta(seconds=2)


def test_chatter_waits_after_a_notice_so_the_channel_keeps_slacks_pace(cell):
    _flood(cell)
    cell.incidents.execute("inc-lane", MarkCompromised(reason="press at the door", by="cmd"))
    before = len(cell.chat.sent)
    _run(cell, seconds=10)
    assert len(cell.chat.sent) - before <= 10 + 3  # one a second, plus one burst


def test_eighty_replies_from_one_contact_are_one_post_updated_in_place(cell):
    _flood(cell)
    _run(cell, seconds=30)
    first, *updates = _feedback(cell)
    assert UPDATE_TS not in first.notify.data
    assert updates
    assert {u.notify.data[UPDATE_TS] for u in updates} == {first.provider_id}


def test_the_folded_post_ends_with_every_reply_counted_and_the_newest_shown(cell):
    _flood(cell)
    _run(cell, seconds=30)
    last = _feedback(cell)[-1].notify.body
    assert "80 so far" in last
    assert last.endswith("• reply number 79: what is happening?")


def test_a_contacts_post_is_updated_at_most_once_every_five_seconds(cell):
    _flood(cell)
    _run(cell, seconds=30)
    assert len(_feedback(cell)) <= 1 + 33 // 5


def test_the_replies_folded_away_are_cancelled_not_sent(cell):
    _flood(cell)
    _run(cell, seconds=30)
    with cell.uow_factory() as uow:
        rows = [i for i in uow.outbox.items("inc-lane")
                if i.notify.purpose == "ringround.feedback"]
    assert len(rows) == 80
    assert {i.status for i in rows} == {"sent", "cancelled"}
    assert sum(i.status == "sent" for i in rows) == len(_feedback(cell))


def test_two_contacts_replies_fold_into_two_posts(cell):
    _flood(cell, phone="+447700910000", replies=10, within=1.0)
    _flood(cell, phone="+447700910001", replies=10, within=1.0)
    _run(cell, seconds=30)
    posts = [s for s in _feedback(cell) if UPDATE_TS not in s.notify.data]
    assert sorted(s.notify.data["contact"] for s in posts) == ["t1-0", "t1-1"]

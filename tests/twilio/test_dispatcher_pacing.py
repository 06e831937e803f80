"""The dispatcher's own send queue: paced per channel on the injected clock, higher tiers first,
chat never stuck behind texts, and a contact's current state re-checked before each send."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident_bot.domain.codes import confirmation_code
from incident_bot.domain.commands import ApproveMessage
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import Notify, OutboxChannel
from incident_bot.domain.playbook import Channel
from incident_bot.service.dispatcher import Dispatcher
from incident_bot.service.pacing import Pacing, grant
from incident_bot.service.use_cases import StartRequest
from tests.drill import drill_people, make_harness
from tests.fakes import T0, FakeClock

BACKLOG = 2000


def _bulk_people(count: int) -> list[Person]:
    return [Person(key=f"k{n}", name=f"Key {n}", tier=3, phone=f"+4477009{n:05d}",
                   channels=(Channel.SMS,)) for n in range(count)]


def _sms(key: str, priority: int) -> Notify:
    return Notify(key=f"inc-x|{key}|bulk|sms|1", channel=OutboxChannel.SMS, recipient=key,
                  body=f"hello {key}", purpose="bulk.sms", priority=priority)


def _paced(harness, sms: float = 10, calls: float = 1) -> Dispatcher:
    return Dispatcher(harness.uow_factory, harness.clock, harness.incidents, harness.chat,
                      harness.sms, harness.voice, worker="paced",
                      pacing=Pacing(sms_per_second=sms, calls_per_second=calls))


def _queue(harness, notices: list[Notify]) -> None:
    with harness.uow_factory() as uow:
        for notify in notices:
            uow.outbox.add("inc-x", notify, harness.clock.now())
        uow.commit()


@pytest.fixture
def backlog(uow_factory):
    harness = make_harness(uow_factory, _bulk_people(BACKLOG + 1), FakeClock(T0))
    _queue(harness, [_sms(f"k{n}", priority=3) for n in range(BACKLOG)])
    return harness


def test_the_pace_refills_at_its_rate_up_to_one_bursts_worth():
    spent = grant(None, T0, 10, rate=10, burst_seconds=1)
    assert spent.granted == 10
    assert grant(spent.tat, T0, 10, 10, 1).granted == 0
    assert grant(spent.tat, T0 + timedelta(milliseconds=500), 10, 10, 1).granted == 5
    assert grant(spent.tat, T0 + timedelta(seconds=60), 50, 10, 1).granted == 10


def test_two_replicas_sharing_the_database_keep_one_pace(backlog):
    first, second = _paced(backlog), _paced(backlog)
    per_second = []
    for _ in range(5):
        per_second.append(first.dispatch() + second.dispatch())
        backlog.clock.advance(seconds=1)
    assert per_second == [10, 10, 10, 10, 10]


def test_sms_leave_no_faster_than_the_configured_rate(backlog):
    dispatcher = _paced(backlog)
    per_second = []
    for _ in range(5):
        per_second.append(dispatcher.dispatch())
        backlog.clock.advance(seconds=1)
    assert per_second == [10, 10, 10, 10, 10]
    assert len(backlog.sms.sent) == 50


def test_a_tier_1_text_leaves_within_a_second_while_thousands_of_tier_3_wait(backlog):
    dispatcher = _paced(backlog)
    dispatcher.dispatch()
    _queue(backlog, [_sms(f"k{BACKLOG}", priority=1)])
    backlog.clock.advance(seconds=1)
    dispatcher.dispatch()
    # sent with the next second's batch (the batch's texts go out concurrently, in any order)
    assert f"k{BACKLOG}" in {s.notify.recipient for s in backlog.sms.sent[10:]}
    with backlog.uow_factory() as uow:
        waiting = [i for i in uow.outbox.items("inc-x") if i.status == "pending"]
    assert len(waiting) == BACKLOG - 19


def test_a_chat_notice_is_not_stuck_behind_paced_texts(backlog):
    dispatcher = _paced(backlog)
    dispatcher.dispatch()
    _queue(backlog, [Notify(key="inc-x|k0|flag|slack_dm|1", channel=OutboxChannel.SLACK_DM,
                            recipient="k0", body="Red flag", purpose="ringround.flag",
                            priority=5)])
    dispatcher.dispatch()  # same instant: no SMS tokens left
    assert [s.notify.body for s in backlog.chat.sent] == ["Red flag"]


def test_calls_are_paced_at_one_a_second(uow_factory):
    harness = make_harness(uow_factory, drill_people(tier1=6, tier2=0))
    dispatcher = _paced(harness)
    calls = [Notify(key=f"inc-x|t1-{n}|v|voice|1", channel=OutboxChannel.VOICE,
                    recipient=f"t1-{n}", body="hello", purpose="bulk.voice", priority=1)
             for n in range(6)]
    _queue(harness, calls)
    dispatcher.dispatch()
    assert len(harness.voice.calls) == 1
    harness.clock.advance(seconds=3)
    dispatcher.dispatch()
    assert len(harness.voice.calls) == 2  # the bucket holds at most one second's worth


# ---- the contact's state, re-checked before sending ---------------------------------------


def _start_without_sending(harness) -> str:
    incident_id = harness.incidents.start_incident(StartRequest(
        playbook_id="restart-drill", area="Northbridge", t0=T0, started_by="cmd"),
        incident_id="inc-test")
    harness.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
    return incident_id  # the SMS rows are queued, not yet dispatched


def _sms_row(harness, recipient: str):
    with harness.uow_factory() as uow:
        return next(i for i in uow.outbox.items("inc-test")
                    if i.notify.recipient == recipient and i.notify.channel is OutboxChannel.SMS)


def test_a_contact_who_texted_stop_while_queued_gets_nothing(sql_drill):
    _start_without_sending(sql_drill)
    sql_drill.incidents.sms_inbound("+447700910001", "STOP")
    sql_drill.tick()
    assert sql_drill.sms.to("+447700910001") == []
    row = _sms_row(sql_drill, "t1-1")
    assert row.status == "cancelled"


def test_a_contact_already_confirmed_is_not_texted_again(sql_drill):
    incident_id = _start_without_sending(sql_drill)
    sql_drill.incidents.sms_inbound("+447700910002", confirmation_code(incident_id, 1))
    sql_drill.tick()
    assert sql_drill.sms.to("+447700910002") == []
    assert _sms_row(sql_drill, "t1-2").status == "cancelled"


def test_a_text_superseded_by_the_next_rung_is_not_sent(sql_drill):
    _start_without_sending(sql_drill)
    sql_drill.clock.advance(minutes=15)
    sql_drill.poller.fire_due()  # the SMS rung timed out before its text ever left
    sql_drill.dispatcher.dispatch()
    assert sql_drill.sms.to("+447700910003") == []
    assert _sms_row(sql_drill, "t1-3").status == "cancelled"
    assert [c.address for c in sql_drill.voice.calls].count("+447700910003") == 1


def test_the_other_contacts_are_still_texted(sql_drill):
    _start_without_sending(sql_drill)
    sql_drill.incidents.sms_inbound("+447700910001", "STOP")
    sql_drill.tick()
    assert len({s.address for s in sql_drill.sms.sent}) == 9


def _dm(n: int) -> Notify:
    return Notify(key=f"inc-x|cmd|update-{n}|slack_dm|1", channel=OutboxChannel.SLACK_DM,
                  recipient="cmd", body=f"update {n}", purpose="bulk.chat", priority=2)


def test_posts_to_one_conversation_keep_slacks_pace_and_wait_untried(sql_drill):
    dispatcher = _paced(sql_drill)
    dispatcher.pace_chat(posts_per_second=1.0, burst_seconds=3.0)
    _queue(sql_drill, [_dm(n) for n in range(6)])
    per_second = []
    for _ in range(4):
        per_second.append(dispatcher.dispatch())
        sql_drill.clock.advance(seconds=1)
    with sql_drill.uow_factory() as uow:
        attempts = [i.attempts for i in uow.outbox.items("inc-x")]
    assert per_second == [3, 1, 1, 1]
    assert set(attempts) == {1}  # waiting for the pace is not a failed attempt

"""The fast ladder (issue #17): rungs that run alongside the one before them (``after``), failed
attempts that move a contact on at once, call lists whose clock starts when they are sent, and a
flag that waits for the rungs still open."""

import json
from datetime import timedelta

import pytest
from test_ringround_support import MIN, START, contact, notifies, sent, tier, timers, world

from incident_bot.domain.effects import OutboxChannel
from incident_bot.domain.ladder import ContactRound, ContactState
from incident_bot.domain.playbook import Rung, RungKind
from incident_bot.domain.ringround import (
    ACCEPT_TIMER,
    accept_list,
    delivery_report,
    record_outcome,
    sms_received,
)

ALONGSIDE = (  # tiers 2-3 of the bundled playbooks: the text goes with the call list
    Rung(RungKind.CALLER, 15 * MIN),
    Rung(RungKind.SMS, 15 * MIN, after=timedelta(0)),
    Rung(RungKind.VOICE, 15 * MIN),
    Rung(RungKind.FLAG),
)
STAGGERED = (
    Rung(RungKind.CALLER, 15 * MIN),
    Rung(RungKind.SMS, 15 * MIN, after=5 * MIN),
    Rung(RungKind.FLAG),
)


ONE_CALLER = {"caller": ["alice"], "backup_caller": ["bea"], "engagement_lead": ["cora"],
              "police_silver": ["sam"]}


def _one(ladder=None, holders=ONE_CALLER, **kwargs):
    """c1 alone, on alice's list (bea her backup), with ``ladder`` on tier 1."""
    return world(contacts=[contact("c1")], holders=holders,
                 tiers=[tier(ladder=ladder)] if ladder else [], **kwargs)


def _c1(w) -> ContactRound:
    return w.state.tiers[1].contacts["c1"]


def _rung_dues(w):
    return [t.due_at for t in w.pending_timers("ringround.rung")]


# ---- after: rungs alongside the one before ------------------------------------------------


def test_a_rung_after_0m_starts_with_the_rung_before_it():
    w = _one(ALONGSIDE)
    effects = w.start()
    assert [n.recipient for n in sent(effects, OutboxChannel.SMS)] == ["c1"]
    assert notifies(effects, "ringround.list")


def test_a_rung_after_0m_is_the_contacts_current_rung():
    w = _one(ALONGSIDE)
    w.start()
    assert _c1(w).rung == 1


def test_a_rung_after_5m_starts_five_minutes_after_the_rung_before_it():
    w = _one(STAGGERED)
    assert sent(w.start(), OutboxChannel.SMS) == []
    assert _rung_dues(w) == [START + 5 * MIN]
    assert [n.recipient for n in sent(w.fire_next("ringround.rung"), OutboxChannel.SMS)] == [
        "c1"]


def test_a_rung_without_after_starts_when_the_rung_before_it_times_out():
    w = _one(ALONGSIDE)
    w.start()
    assert _rung_dues(w) == [START + 15 * MIN]
    assert sent(w.fire_next("ringround.rung"), OutboxChannel.VOICE)


def test_the_caller_may_still_record_a_call_once_the_text_has_gone():
    w = _one(ALONGSIDE)
    w.start()
    record_outcome(w.state, w.ctx, "c1", "reached", "alice", START + 10 * MIN)
    assert _c1(w).state is ContactState.REACHED


def test_a_late_code_still_confirms_after_the_voice_call_started():
    w = _one(ALONGSIDE)
    w.start()
    w.fire_next("ringround.rung")  # on to the voice call
    sms_received(w.state, w.ctx, "c1", w.state.tiers[1].code, START + 20 * MIN)
    assert _c1(w).state is ContactState.CONFIRMED


def test_the_text_sent_alongside_names_the_caller():
    w = _one(ALONGSIDE)
    (sms,) = sent(w.start(), OutboxChannel.SMS)
    assert "Alice here" in sms.body


def test_the_caller_is_not_asked_to_call_now_for_a_list_just_sent():
    ladder = (Rung(RungKind.SMS, 30 * MIN), Rung(RungKind.CALLER, 30 * MIN, after=timedelta(0)),
              Rung(RungKind.FLAG))
    w = _one(ladder)
    effects = w.start()
    assert notifies(effects, "ringround.call_now") == []
    assert _c1(w).rung == 1


def test_a_skipped_rung_with_after_0m_lets_the_next_rung_wait_its_turn():
    ladder = (Rung(RungKind.CALLER, 15 * MIN), Rung(RungKind.SMS, 15 * MIN, after=timedelta(0)),
              Rung(RungKind.SENIOR, 15 * MIN), Rung(RungKind.FLAG))
    w = _one(ladder, texts={})  # no approved text: the sms rung does not apply
    effects = w.start()
    assert notifies(effects, "ringround.senior") == []
    assert _rung_dues(w) == [START + 15 * MIN]


# ---- open_until ---------------------------------------------------------------------------


def test_open_until_is_the_latest_end_of_the_rungs_started():
    w = _one(STAGGERED)
    w.start()
    assert _c1(w).open_until == START + 15 * MIN
    w.fire_next("ringround.rung")
    assert _c1(w).open_until == START + 20 * MIN


def test_open_until_survives_a_json_round_trip():
    w = _one(ALONGSIDE)
    w.start()
    document = json.loads(json.dumps(_c1(w).to_dict()))
    assert ContactRound.from_dict(document).open_until == START + 15 * MIN


def test_a_stored_contact_from_before_open_until_still_loads():
    document = ContactRound("c1", 1).to_dict()
    del document["open_until"]
    assert ContactRound.from_dict(document).open_until is None


# ---- fail fast ----------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["voicemail", "no_answer"])
def test_the_callers_failed_attempt_moves_the_contact_on_at_once(outcome):
    w = _one()
    w.start()
    effects = record_outcome(w.state, w.ctx, "c1", outcome, "alice", START + 3 * MIN)
    assert [n.recipient for n in notifies(effects, "ringround.senior")] == ["sam"]
    assert _c1(w).rung == 1


def test_the_backup_holding_a_moved_list_fails_fast_too():
    w = _one()
    w.start()
    w.fire_next(ACCEPT_TIMER)  # moved to bea
    effects = record_outcome(w.state, w.ctx, "c1", "voicemail", "bea", START + 11 * MIN)
    assert notifies(effects, "ringround.senior")


def test_the_senior_officers_failed_attempt_moves_the_contact_on_at_once():
    w = _one()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "no_answer", "alice", START + MIN)  # on to sam
    effects = record_outcome(w.state, w.ctx, "c1", "voicemail", "sam", START + 4 * MIN)
    assert [n.recipient for n in sent(effects, OutboxChannel.SMS)] == ["c1"]


def test_the_coordinators_voicemail_does_not_move_the_contact():
    w = _one()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "voicemail", "cora", START + MIN)
    assert _c1(w).rung == 0


def test_a_failed_call_on_a_rung_already_passed_changes_nothing():
    w = _one(ALONGSIDE)
    w.start()  # c1 is on the sms rung, the caller rung still open
    effects = record_outcome(w.state, w.ctx, "c1", "no_answer", "alice", START + 2 * MIN)
    assert sent(effects, OutboxChannel.VOICE) == []
    assert _c1(w).rung == 1


def test_a_failed_text_sent_alongside_an_earlier_rung_still_moves_on():
    w = _one(ALONGSIDE)
    (sms,) = sent(w.start(), OutboxChannel.SMS)
    effects = delivery_report(w.state, w.ctx, sms.key, "failed", START + MIN)
    assert sent(effects, OutboxChannel.VOICE)


def test_a_failed_text_on_a_rung_already_passed_changes_nothing():
    ladder = (Rung(RungKind.SMS, 30 * MIN), Rung(RungKind.CALLER, 30 * MIN, after=timedelta(0)),
              Rung(RungKind.VOICE, 15 * MIN), Rung(RungKind.FLAG))
    w = _one(ladder)
    (sms,) = sent(w.start(), OutboxChannel.SMS)
    assert delivery_report(w.state, w.ctx, sms.key, "failed", START + MIN) == []
    assert _c1(w).rung == 1


# ---- the call list's clock ----------------------------------------------------------------


def test_the_caller_rungs_clock_starts_when_the_list_is_sent():
    w = _one()
    w.start()
    assert _rung_dues(w) == [START + 15 * MIN]


def test_accepting_a_list_sets_no_new_timer():
    w = _one()
    w.start()
    assert timers(accept_list(w.state, w.ctx, "alice", "alice", START + 5 * MIN),
                  "ringround.rung") == []


def test_an_unaccepted_list_still_moves_to_the_backup():
    w = _one()
    w.start()
    w.fire_next(ACCEPT_TIMER)
    assert w.state.tiers[1].lists[0].holder == "bea"


def test_an_abandoned_lists_contacts_already_past_the_caller_rung_stay_where_they_are():
    w = _one()
    w.start()
    w.fire_next(ACCEPT_TIMER)  # 10m: moved to bea
    w.fire_next("ringround.rung")  # 15m: c1 on to the senior rung
    effects = w.fire_next(ACCEPT_TIMER)  # 20m: abandoned
    assert notifies(effects, "ringround.senior") == []
    assert _c1(w).rung == 1


def test_an_abandoned_lists_contacts_on_the_caller_rung_move_on_at_once():
    w = _one((Rung(RungKind.CALLER, 60 * MIN), Rung(RungKind.SENIOR, 15 * MIN),
              Rung(RungKind.FLAG)))
    w.start()
    w.fire_next(ACCEPT_TIMER)
    effects = w.fire_next(ACCEPT_TIMER)
    assert [n.data["contact"] for n in notifies(effects, "ringround.senior")] == ["c1"]


# ---- the flag waits for open rungs --------------------------------------------------------


def _failed_early():
    """Tiers 2-3: the text and then the voice call fail in the first minutes."""
    w = _one(ALONGSIDE)
    (sms,) = sent(w.start(), OutboxChannel.SMS)
    (call,) = sent(w.record(delivery_report(w.state, w.ctx, sms.key, "failed", START + MIN)),
                   OutboxChannel.VOICE)
    effects = w.record(delivery_report(w.state, w.ctx, call.key, "failed", START + 2 * MIN))
    return w, effects


def test_a_flag_reached_while_rungs_are_open_does_not_flag_yet():
    w, effects = _failed_early()
    assert notifies(effects, "ringround.flag") == []
    assert _c1(w).state is ContactState.PENDING


def test_the_waiting_flag_fires_when_the_last_open_rung_ends():
    w, _ = _failed_early()
    (flag_timer,) = [t for t in w.pending_timers("ringround.rung")
                     if t.payload["step"] == _c1(w).step]
    assert flag_timer.due_at == START + 15 * MIN  # the caller's 15 minutes
    assert notifies(w.fire(flag_timer), "ringround.flag")
    assert _c1(w).state is ContactState.FLAGGED


def test_the_caller_may_still_reach_a_contact_whose_flag_waits():
    w, _ = _failed_early()
    record_outcome(w.state, w.ctx, "c1", "reached", "alice", START + 10 * MIN)
    effects = [e for t in w.pending_timers("ringround.rung") for e in w.fire(t)]
    assert notifies(effects, "ringround.flag") == []
    assert _c1(w).state is ContactState.REACHED


def test_an_undelivered_text_or_call_holds_the_flag_back_no_longer():
    w = _one(holders={"engagement_lead": ["cora"]})  # no caller: sms, voice, flag
    (sms,) = sent(w.start(), OutboxChannel.SMS)
    (call,) = sent(delivery_report(w.state, w.ctx, sms.key, "failed", START + MIN),
                   OutboxChannel.VOICE)
    effects = delivery_report(w.state, w.ctx, call.key, "failed", START + 2 * MIN)
    assert notifies(effects, "ringround.flag")


def test_a_voicemail_keeps_the_caller_rung_open_for_the_flag():
    ladder = (Rung(RungKind.CALLER, 15 * MIN), Rung(RungKind.FLAG))
    w = _one(ladder)
    w.start()
    effects = record_outcome(w.state, w.ctx, "c1", "voicemail", "alice", START + MIN)
    assert notifies(effects, "ringround.flag") == []
    assert [t.due_at for t in timers(effects, "ringround.rung")] == [START + 15 * MIN]


def test_a_flag_reached_after_every_rung_ended_flags_at_once():
    w = _one(holders={"engagement_lead": ["cora"]})
    w.start()  # sms, then voice, then the flag
    w.fire_next("ringround.rung")
    assert notifies(w.fire_next("ringround.rung"), "ringround.flag")


# ---- texts and calls alongside each other ---------------------------------------------------

ALL_AT_ONCE = (  # tiers 2-3 of the CT playbook: the text and the automatic call with the list
    Rung(RungKind.CALLER, 15 * MIN),
    Rung(RungKind.SMS, 15 * MIN, after=timedelta(0)),
    Rung(RungKind.VOICE, 15 * MIN, after=timedelta(0)),
    Rung(RungKind.FLAG),
)


def test_a_text_and_a_call_alongside_each_other_are_both_still_wanted():
    w = _one(ALL_AT_ONCE)
    effects = w.start()
    text, = sent(effects, OutboxChannel.SMS)
    call, = sent(effects, OutboxChannel.VOICE)
    assert (_c1(w).wants(text.key), _c1(w).wants(call.key)) == (True, True)


def test_a_text_whose_rung_timed_out_before_the_next_is_no_longer_wanted():
    w = _one(ALONGSIDE)
    text, = sent(w.start(), OutboxChannel.SMS)
    call, = sent(w.fire_next("ringround.rung"), OutboxChannel.VOICE)  # the sms rung ends
    assert (_c1(w).wants(text.key), _c1(w).wants(call.key)) == (False, True)

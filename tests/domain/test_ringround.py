"""Starting a tier, call lists, and the outcomes callers record."""

import json

import pytest
from builders import said
from test_ringround_support import (
    MIN,
    START,
    contact,
    notifies,
    sent,
    tier,
    timers,
    world,
)

from incident_bot.domain.effects import OutboxChannel
from incident_bot.domain.ladder import ContactState
from incident_bot.domain.playbook import Channel, Rung, RungKind
from incident_bot.domain.ringround import (
    ACCEPT_TIMER,
    AMBER_TIMER,
    DEADLINE_TIMER,
    RED_TIMER,
    ListStatus,
    RingRound,
    accept_list,
    coverage,
    record_outcome,
    sms_received,
)
from incident_bot.errors import NotAuthorised, NotFoundError, RefusedError, TransitionRefused

LATER = START + 5 * MIN


# ---- starting a tier ----------------------------------------------------------------------


def test_contacts_are_dealt_round_robin_over_callers_in_key_order():
    w = world()
    w.start()
    lists = {lst.caller: lst.contacts for lst in w.state.tiers[1].lists}
    assert lists == {"alice": ["c1", "c3"], "bob": ["c2", "c4"]}


def test_no_caller_gets_more_than_fan_out_contacts():
    w = world(contacts=[contact(f"c{n}") for n in range(1, 8)])
    w.start()
    assert all(len(lst.contacts) <= 2 for lst in w.state.tiers[1].lists)


def test_each_caller_is_sent_their_list_with_the_contact_keys():
    effects = world().start()
    lists = notifies(effects, "ringround.list")
    assert {(n.recipient, n.data["contacts"]) for n in lists} == {
        ("alice", "c1,c3"), ("bob", "c2,c4")}
    assert all(n.channel is OutboxChannel.SLACK_DM for n in lists)


def test_each_list_has_a_backup_caller_who_is_not_its_caller():
    w = world(holders={"caller": ["alice", "bea"], "backup_caller": ["bea"]})
    w.start()
    backups = {lst.caller: lst.backup for lst in w.state.tiers[1].lists}
    assert backups == {"alice": "bea", "bea": None}


def test_each_list_must_be_accepted_within_accept_within():
    effects = world().start()
    assert sorted(t.due_at for t in timers(effects, ACCEPT_TIMER)) == [START + 10 * MIN] * 2


def test_each_contacts_caller_rung_runs_from_when_the_list_is_sent():
    effects = world().start()
    rungs = timers(effects, "ringround.rung")
    assert sorted((t.payload["contact"], t.due_at) for t in rungs) == [
        (key, START + 15 * MIN) for key in ("c1", "c2", "c3", "c4")]


def test_contacts_beyond_the_callers_capacity_go_straight_to_sms():
    w = world(contacts=[contact(f"c{n}") for n in range(1, 6)])
    effects = w.start()
    assert [n.recipient for n in sent(effects, OutboxChannel.SMS)] == ["c5"]
    assert w.state.tiers[1].contacts["c5"].list_id is None


def test_the_coordinator_is_told_which_contacts_have_no_caller():
    effects = world(contacts=[contact(f"c{n}") for n in range(1, 6)]).start()
    (told,) = notifies(effects, "ringround.uncalled")
    assert (told.recipient, told.data["contacts"]) == ("cora", "c5")


def test_a_contact_without_a_phone_channel_is_not_on_a_list_and_starts_on_sms():
    w = world(contacts=[contact("c1", channels=(Channel.SMS,)), contact("c2")])
    effects = w.start()
    assert w.state.tiers[1].contacts["c1"].list_id is None
    assert [n.recipient for n in sent(effects, OutboxChannel.SMS)] == ["c1"]


def test_with_no_callers_every_contact_starts_on_the_first_automatic_rung():
    w = world(holders={"engagement_lead": ["cora"], "police_silver": ["sam"]})
    effects = w.start()
    assert w.state.tiers[1].lists == []
    assert len(sent(effects, OutboxChannel.SMS)) == 4


def test_a_tier_without_a_caller_rung_deals_no_lists():
    ladder = (Rung(RungKind.SMS, 30 * MIN), Rung(RungKind.FLAG))
    w = world(tiers=[tier(ladder=ladder)])
    w.start()
    assert w.state.tiers[1].lists == []


def test_amber_and_red_timers_run_from_the_tier_start():
    effects = world().start()
    assert [t.due_at for t in timers(effects, AMBER_TIMER)] == [START + 45 * MIN]
    assert [t.due_at for t in timers(effects, RED_TIMER)] == [START + 90 * MIN]


def test_the_deadline_timer_is_at_the_tiers_deadline():
    effects = world().start()
    assert [t.due_at.isoformat() for t in timers(effects, DEADLINE_TIMER)] == [
        "2026-05-01T07:00:00+00:00"]


def test_starting_a_started_tier_does_nothing():
    w = world()
    w.start()
    assert w.start(now=LATER) == []


def test_a_broadcast_tier_is_not_a_cascade_and_starts_nothing():
    w = world(contacts=[contact("p1", tier=4)],
              tiers=[tier(4, caller_role=None, backup_role=None, senior_role=None, ladder=())])
    assert w.start(4) == []
    assert coverage(w.state, 4).total == 0


def test_starting_a_tier_the_playbook_lacks_is_not_found():
    with pytest.raises(NotFoundError, match="no tier 3"):
        world().start(3)


def test_each_tier_round_gets_its_confirmation_code():
    w = world()
    w.start()
    assert len(w.state.tiers[1].code) == 4


# ---- accepting a list ---------------------------------------------------------------------


def test_accepting_a_list_leaves_its_contacts_caller_rung_timers_as_they_are():
    w = world()
    w.start()
    effects = accept_list(w.state, w.ctx, "alice", "alice", LATER)
    assert timers(effects, "ringround.rung") == []


def test_an_accepted_list_records_who_and_when():
    w = world()
    w.start()
    accept_list(w.state, w.ctx, "alice", "alice", LATER)
    lst = w.state.tiers[1].lists[0]
    assert (lst.status, lst.holder, lst.accepted_at) == (ListStatus.ACCEPTED, "alice", LATER)


def test_accepting_twice_does_nothing_the_second_time():
    w = world()
    w.start()
    accept_list(w.state, w.ctx, "alice", "alice", LATER)
    assert accept_list(w.state, w.ctx, "alice", "alice", LATER + MIN) == []


def test_accepting_the_list_clicked_leaves_the_callers_other_lists_offered():
    w = world(tiers=(tier(1), tier(2)),
              contacts=[contact(f"c{n}", tier=1 + n % 2) for n in range(1, 9)])
    w.start(1)
    w.start(2)
    first, second = (next(lst for lst in w.state.tiers[n].lists if lst.caller == "alice")
                     for n in (1, 2))

    accept_list(w.state, w.ctx, "alice", "alice", LATER, list_id=first.id)

    assert (first.status, second.status) == (ListStatus.ACCEPTED, ListStatus.OFFERED)


def test_the_coordinator_may_accept_a_list_for_a_caller():
    w = world()
    w.start()
    accept_list(w.state, w.ctx, "alice", "cora", LATER)
    assert w.state.tiers[1].lists[0].status is ListStatus.ACCEPTED


def test_nobody_else_may_accept_a_callers_list():
    w = world()
    w.start()
    with pytest.raises(NotAuthorised, match="accept call lists for Alice"):
        accept_list(w.state, w.ctx, "alice", "bob", LATER)


def test_accepting_without_a_list_is_refused_naming_the_caller_roles():
    w = world()
    w.start()
    with pytest.raises(NotAuthorised, match="only caller may") as refused:
        accept_list(w.state, w.ctx, "sam", "sam", LATER)
    assert refused.value.allowed_roles == ("caller",)


def test_accepting_another_callers_list_is_refused_naming_that_list_and_who_may():
    w = world()
    w.start()
    theirs = next(lst for lst in w.state.tiers[1].lists if lst.caller != "alice")
    with pytest.raises(NotAuthorised, match=f"accept call list {theirs.id}: only "
                                            f"{w.ctx.name(theirs.caller)} \\(its caller\\)"):
        accept_list(w.state, w.ctx, "alice", "alice", LATER, list_id=theirs.id)


def test_accepting_a_list_that_does_not_exist_says_so():
    w = world()
    w.start()
    with pytest.raises(NotFoundError, match="no call list t9-9"):
        accept_list(w.state, w.ctx, "alice", "alice", LATER, list_id="t9-9")


# ---- outcomes -----------------------------------------------------------------------------


def test_reached_ends_the_contacts_ladder():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "reached", "alice", LATER)
    assert w.state.tiers[1].contacts["c1"].state is ContactState.REACHED


def test_reached_counts_towards_coverage():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "reached", "alice", LATER)
    assert coverage(w.state, 1).fraction == pytest.approx(0.25)


def test_a_rung_timer_after_reached_does_nothing():
    w = world()
    w.start()
    w.record(accept_list(w.state, w.ctx, "alice", "alice", LATER))
    record_outcome(w.state, w.ctx, "c1", "reached", "alice", LATER)
    rung = next(t for t in w.pending_timers("ringround.rung") if t.payload["contact"] == "c1")
    assert w.fire(rung) == []


@pytest.mark.parametrize("outcome", ["voicemail", "no_answer"])
def test_voicemail_or_no_answer_keeps_the_contact_pending_on_the_next_rung(outcome):
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", outcome, "alice", LATER)
    c1 = w.state.tiers[1].contacts["c1"]
    assert (c1.state, c1.rung, c1.last_outcome) == (ContactState.PENDING, 1, outcome)


def test_recording_an_outcome_accepts_the_list_implicitly():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "no_answer", "alice", LATER)
    alices = next(lst for lst in w.state.tiers[1].lists if lst.caller == "alice")
    assert (alices.status, alices.accepted_at) == (ListStatus.ACCEPTED, LATER)


def test_a_wrong_number_ends_the_ladder_as_wrong_number():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "wrong_number", "alice", LATER)
    assert w.state.tiers[1].contacts["c1"].state is ContactState.WRONG_NUMBER


def test_a_wrong_number_is_flagged_to_the_coordinator_and_channel():
    w = world()
    w.start()
    effects = record_outcome(w.state, w.ctx, "c1", "wrong_number", "alice", LATER)
    assert {n.recipient for n in notifies(effects, "ringround.flag")} == {"cora", "incident"}


def test_a_wrong_number_is_never_texted():
    w = world()
    w.start()
    w.record(record_outcome(w.state, w.ctx, "c1", "wrong_number", "alice", LATER))
    effects = [e for t in w.pending_timers() for e in w.fire(t)]
    assert "c1" not in {n.recipient for n in sent(effects, OutboxChannel.SMS)}


def test_declined_is_terminal():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "declined", "alice", LATER)
    assert w.state.tiers[1].contacts["c1"].terminal


def test_unsafe_to_call_tells_the_coordinator():
    w = world()
    w.start()
    effects = record_outcome(w.state, w.ctx, "c1", "unsafe_to_call", "alice", LATER)
    assert [n.recipient for n in notifies(effects, "ringround.unsafe")] == ["cora"]


def test_an_unsafe_contact_is_never_texted_or_called():
    w = world()
    w.start()
    w.record(record_outcome(w.state, w.ctx, "c1", "unsafe_to_call", "alice", LATER))
    effects = [e for t in w.pending_timers() for e in w.fire(t)]
    automatic = sent(effects, OutboxChannel.SMS) + sent(effects, OutboxChannel.VOICE)
    assert "c1" not in {n.recipient for n in automatic}


def test_unsafe_to_call_is_taken_even_after_the_contact_confirmed():
    w = world()
    w.start()
    sms_received(w.state, w.ctx, "c1", w.state.tiers[1].code, LATER)
    record_outcome(w.state, w.ctx, "c1", "unsafe_to_call", "cora", LATER)
    assert w.state.tiers[1].contacts["c1"].state is ContactState.UNSAFE_TO_CALL


def test_recording_the_same_outcome_twice_adds_nothing():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "wrong_number", "alice", LATER)
    assert record_outcome(w.state, w.ctx, "c1", "wrong_number", "alice", LATER) == []


def test_a_different_outcome_for_a_finished_contact_is_refused_naming_its_state():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "reached", "alice", LATER)
    with pytest.raises(TransitionRefused,
                       match="can't record no_answer for contact C1 while it is reached"):
        record_outcome(w.state, w.ctx, "c1", "no_answer", "alice", LATER)


def test_an_unknown_outcome_is_refused():
    w = world()
    w.start()
    with pytest.raises(RefusedError, match="unknown call outcome 'busy'"):
        record_outcome(w.state, w.ctx, "c1", "busy", "alice", LATER)


def test_feedback_is_posted_to_the_incident_channel_with_names():
    w = world()
    w.start()
    effects = record_outcome(w.state, w.ctx, "c1", "reached", "alice", LATER,
                             feedback="worried about a rumour of a raid on the mosque")
    (posted,) = notifies(effects, "ringround.feedback")
    assert posted.channel is OutboxChannel.SLACK_CHANNEL
    assert said(posted).startswith("Feedback from Alice on C1 (tier 1): worried")


def test_phone_numbers_in_feedback_are_masked():
    w = world()
    w.start()
    effects = record_outcome(w.state, w.ctx, "c1", "reached", "alice", LATER,
                             feedback="call her son on 07700 900987")
    assert "900987" not in said(notifies(effects, "ringround.feedback")[0])


def test_the_same_feedback_is_posted_once():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "no_answer", "alice", LATER, feedback="busy line")
    again = record_outcome(w.state, w.ctx, "c1", "no_answer", "alice", LATER, feedback="busy line")
    assert notifies(again, "ringround.feedback") == []


def test_someone_else_may_not_record_an_outcome():
    w = world()
    w.start()
    with pytest.raises(NotAuthorised, match="record a call outcome for C1"):
        record_outcome(w.state, w.ctx, "c1", "reached", "bob", LATER)


def test_a_refused_outcome_changes_nothing():
    w = world()
    w.start()
    before = json.dumps(w.state.to_dict())
    with pytest.raises(NotAuthorised):
        record_outcome(w.state, w.ctx, "c1", "reached", "bob", LATER, feedback="x")
    assert json.dumps(w.state.to_dict()) == before


def test_the_backup_may_not_record_before_the_list_moved():
    w = world()
    w.start()
    with pytest.raises(NotAuthorised):
        record_outcome(w.state, w.ctx, "c1", "reached", "bea", LATER)


def test_the_backup_may_record_once_the_list_moved():
    w = world()
    w.start()
    w.fire_next(ACCEPT_TIMER)
    record_outcome(w.state, w.ctx, "c1", "reached", "bea", START + 11 * MIN)
    assert w.state.tiers[1].contacts["c1"].state is ContactState.REACHED


def test_the_coordinator_may_record_for_any_contact():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c2", "declined", "cora", LATER)
    assert w.state.tiers[1].contacts["c2"].outcome_by == "cora"


def test_the_senior_officer_asked_to_try_may_record():
    w = world()
    w.start()
    w.record(accept_list(w.state, w.ctx, "alice", "alice", START))
    w.fire_next("ringround.rung")  # c1 or c3 moves to the senior rung
    on_senior = next(c for c in w.state.tiers[1].contacts.values() if c.senior == "sam")
    record_outcome(w.state, w.ctx, on_senior.key, "reached", "sam", START + 20 * MIN)
    assert on_senior.state is ContactState.REACHED


def test_reaching_a_flagged_contact_clears_the_flag_for_everyone():
    # no callers, no senior officer: sms, voice, then the flag
    w = world(contacts=[contact("c1")], holders={"engagement_lead": ["cora"]})
    w.start()
    for _ in range(2):
        w.fire_next("ringround.rung")  # sms -> voice -> flag for c1
    assert w.state.tiers[1].contacts["c1"].state is ContactState.FLAGGED
    effects = record_outcome(w.state, w.ctx, "c1", "reached", "cora", START + 40 * MIN)
    assert {n.recipient for n in notifies(effects, "ringround.flag_cleared")} == {
        "cora", "incident"}


def test_recording_for_an_unknown_contact_is_not_found():
    w = world()
    w.start()
    with pytest.raises(NotFoundError, match="nobody is not a contact"):
        record_outcome(w.state, w.ctx, "nobody", "reached", "cora", LATER)


# ---- serialisation ------------------------------------------------------------------------


def test_the_state_survives_a_json_round_trip_exactly():
    w = world(contacts=[contact(f"c{n}") for n in range(1, 6)])
    w.start()
    accept_list(w.state, w.ctx, "alice", "alice", LATER)
    record_outcome(w.state, w.ctx, "c1", "no_answer", "alice", LATER, feedback="busy")
    sms_received(w.state, w.ctx, "c5", "STOP", LATER)
    document = json.loads(json.dumps(w.state.to_dict()))
    assert RingRound.from_dict(document) == w.state


def test_an_empty_ring_round_round_trips():
    assert RingRound.from_dict(RingRound().to_dict()) == RingRound()

"""Tier-level timers: list acceptance and backup, amber and red, the coverage deadline; and
coverage itself."""

import pytest
from builders import said
from test_ringround_support import MIN, START, contact, notifies, tier, timers, world

from incident_bot.domain.ladder import ContactState
from incident_bot.domain.ringround import (
    ACCEPT_TIMER,
    AMBER_TIMER,
    DEADLINE_TIMER,
    RED_TIMER,
    Coverage,
    ListStatus,
    RingRound,
    accept_list,
    coverage,
    on_timer,
    record_outcome,
    sms_received,
    unreached,
)
from incident_bot.errors import RefusedError, TransitionRefused

MOVED_AT = START + 10 * MIN


def _alice_list(w):
    return next(lst for lst in w.state.tiers[1].lists if lst.caller == "alice")


def _fire_accept(w, list_id="t1-1", stage=1):
    timer = next(t for t in w.pending_timers(ACCEPT_TIMER)
                 if t.payload["list"] == list_id and t.payload["stage"] == stage)
    return w.fire(timer)


# ---- accepting in time, or the backup -----------------------------------------------------


def test_an_unaccepted_list_moves_to_the_backup():
    w = world()
    w.start()
    _fire_accept(w)
    assert (_alice_list(w).status, _alice_list(w).holder) == (ListStatus.MOVED, "bea")


def test_the_backup_is_sent_the_moved_list():
    w = world()
    w.start()
    effects = _fire_accept(w)
    (moved,) = notifies(effects, "ringround.list")
    assert (moved.recipient, moved.data["contacts"]) == ("bea", "c1,c3")


def test_the_caller_is_told_their_list_moved():
    w = world()
    w.start()
    effects = _fire_accept(w)
    assert [n.recipient for n in notifies(effects, "ringround.list_moved")] == ["alice"]


def test_the_backup_has_accept_within_to_accept():
    w = world()
    w.start()
    effects = _fire_accept(w)
    assert [t.due_at for t in timers(effects, ACCEPT_TIMER)] == [MOVED_AT + 10 * MIN]


def test_an_accepted_list_ignores_its_accept_timeout():
    w = world()
    w.start()
    accept_list(w.state, w.ctx, "alice", "alice", START + MIN)
    assert _fire_accept(w) == []


def test_the_accept_timeout_fired_twice_moves_the_list_once():
    w = world()
    w.start()
    timer = w.pending_timers(ACCEPT_TIMER)[0]
    w.fire(timer)
    assert w.fire(timer) == []


def test_the_backup_may_accept_a_moved_list():
    w = world()
    w.start()
    _fire_accept(w)
    accept_list(w.state, w.ctx, "bea", "bea", MOVED_AT + MIN)
    assert (_alice_list(w).status, _alice_list(w).holder) == (ListStatus.ACCEPTED, "bea")


def test_the_caller_may_take_a_moved_list_back_and_the_backup_is_told():
    w = world()
    w.start()
    _fire_accept(w)
    effects = accept_list(w.state, w.ctx, "alice", "alice", MOVED_AT + MIN)
    assert _alice_list(w).holder == "alice"
    assert [n.recipient for n in notifies(effects, "ringround.list_taken_back")] == ["bea"]


def test_a_list_nobody_accepts_is_abandoned_and_the_coordinator_told():
    w = world()
    w.start()
    _fire_accept(w)
    effects = _fire_accept(w, stage=2)
    assert _alice_list(w).status is ListStatus.ABANDONED
    assert [n.recipient for n in notifies(effects, "ringround.list_abandoned")] == ["cora"]


def test_an_abandoned_lists_contacts_move_past_the_caller_rung():
    w = world()
    w.start()
    _fire_accept(w)
    effects = _fire_accept(w, stage=2)
    assert {n.data["contact"] for n in notifies(effects, "ringround.senior")} == {"c1", "c3"}


def test_without_a_backup_the_list_is_abandoned_at_the_first_timeout():
    w = world(holders={"caller": ["alice"], "engagement_lead": ["cora"]})
    w.start()
    _fire_accept(w)
    assert _alice_list(w).status is ListStatus.ABANDONED


def test_accepting_an_abandoned_list_is_refused_naming_its_state():
    w = world(holders={"caller": ["alice"], "engagement_lead": ["cora"]})
    w.start()
    _fire_accept(w)
    with pytest.raises(TransitionRefused,
                       match="can't accept call list t1-1 while it is abandoned"):
        accept_list(w.state, w.ctx, "alice", "alice", MOVED_AT)


def test_the_backup_may_not_accept_before_the_list_moves():
    w = world()
    w.start()
    with pytest.raises(RefusedError, match="offered to Alice and moves to you only if"):
        accept_list(w.state, w.ctx, "bea", "bea", START + MIN)


def test_the_caller_may_not_accept_a_list_the_backup_accepted():
    w = world()
    w.start()
    _fire_accept(w)
    accept_list(w.state, w.ctx, "bea", "bea", MOVED_AT + MIN)
    with pytest.raises(TransitionRefused, match="while it is accepted by Bea"):
        accept_list(w.state, w.ctx, "alice", "alice", MOVED_AT + 2 * MIN)


# ---- amber, red -----------------------------------------------------------------------------


def test_amber_tells_the_coordinator_who_is_not_yet_reached():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "reached", "alice", START + MIN)
    (amber,) = notifies(w.fire_next(AMBER_TIMER), "ringround.amber")
    assert (amber.recipient, amber.data["contacts"]) == ("cora", "c2,c3,c4")
    assert "3 of 4 contacts not yet reached after 45m" in said(amber)


def test_red_tells_the_coordinator_who_is_not_yet_reached():
    w = world()
    w.start()
    (red,) = notifies(w.fire_next(RED_TIMER), "ringround.red")
    assert red.recipient == "cora"
    assert "RED" in said(red)


def test_amber_with_everyone_reached_says_nothing():
    w = world(contacts=[contact("c1")])
    w.start()
    record_outcome(w.state, w.ctx, "c1", "reached", "alice", START + MIN)
    assert w.fire_next(AMBER_TIMER) == []


def test_amber_fired_twice_is_sent_once():
    w = world()
    w.start()
    timer = w.pending_timers(AMBER_TIMER)[0]
    w.fire(timer)
    assert w.fire(timer) == []


# ---- the deadline -------------------------------------------------------------------------


def test_coverage_short_at_the_deadline_alerts_the_channel_and_tactical_leads():
    w = world()
    w.start()
    effects = w.fire_next(DEADLINE_TIMER)
    assert {n.recipient for n in notifies(effects, "ringround.coverage_short")} == {
        "incident", "tom"}


def test_the_deadline_alert_gives_coverage_and_target():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c1", "reached", "alice", START + MIN)
    (alert, _) = notifies(w.fire_next(DEADLINE_TIMER))
    assert "25% coverage" in said(alert)
    assert "target 90%" in said(alert)


def test_coverage_on_target_at_the_deadline_alerts_nobody():
    w = world(contacts=[contact("c1")])
    w.start()
    sms_received(w.state, w.ctx, "c1", w.state.tiers[1].code, START + MIN)
    assert w.fire_next(DEADLINE_TIMER) == []


def test_the_deadline_fired_twice_alerts_once():
    w = world()
    w.start()
    timer = w.pending_timers(DEADLINE_TIMER)[0]
    w.fire(timer)
    assert w.fire(timer) == []


def test_red_fired_twice_is_sent_once():
    w = world()
    w.start()
    timer = w.pending_timers(RED_TIMER)[0]
    w.fire(timer)
    assert w.fire(timer) == []


def test_a_tier_without_a_deadline_has_no_deadline_timer():
    w = world(tiers=[tier(deadline=None)])
    assert timers(w.start(), DEADLINE_TIMER) == []


def test_a_tier_started_after_its_deadline_checks_coverage_at_once():
    w = world()
    late = START + 3 * 60 * MIN
    (deadline,) = timers(w.start(now=late), DEADLINE_TIMER)
    assert deadline.due_at == late


# ---- unknown timers -------------------------------------------------------------------------


def test_a_timer_of_an_unstarted_tier_does_nothing():
    w = world()
    assert on_timer(w.state, w.ctx, AMBER_TIMER, {"tier": 3}, START) == []


def test_an_unknown_ringround_timer_kind_does_nothing():
    w = world()
    w.start()
    assert on_timer(w.state, w.ctx, "ringround.bogus", {"tier": 1}, START) == []


# ---- coverage -----------------------------------------------------------------------------


def test_coverage_counts_every_state_and_adds_up():
    w = world(contacts=[contact(f"c{n}") for n in range(1, 7)],
              holders={"caller": ["alice", "bob", "cora"], "engagement_lead": ["cora"]})
    w.start()
    now = START + MIN
    record_outcome(w.state, w.ctx, "c1", "reached", "cora", now)
    sms_received(w.state, w.ctx, "c2", w.state.tiers[1].code, now)
    record_outcome(w.state, w.ctx, "c3", "declined", "cora", now)
    sms_received(w.state, w.ctx, "c4", "STOP", now)
    record_outcome(w.state, w.ctx, "c5", "wrong_number", "cora", now)
    assert coverage(w.state, 1) == Coverage(total=6, reached=2, pending=1, failed=2,
                                            opted_out=1, flagged=0)


def test_coverage_fraction_is_reached_over_total():
    assert Coverage(total=4, reached=3, pending=1, failed=0, opted_out=0,
                    flagged=0).fraction == pytest.approx(0.75)


def test_coverage_of_an_empty_tier_is_complete():
    assert coverage(RingRound(), 2).fraction == 1.0


def test_unreached_lists_the_pending_contacts():
    w = world()
    w.start()
    record_outcome(w.state, w.ctx, "c2", "reached", "bob", START + MIN)
    assert unreached(w.state, 1) == ["c1", "c3", "c4"]


def test_a_flagged_contact_is_counted_as_flagged():
    w = world(contacts=[contact("c1", phone=None)])
    w.start()
    assert w.state.tiers[1].contacts["c1"].state is ContactState.FLAGGED
    assert coverage(w.state, 1).flagged == 1


"""The briefing order: gates, the media hold, overrides, the compromised timeline."""

from __future__ import annotations

import pytest
from builders import E0, INCIDENT_ID, MIN, T0, playbook, rel

from incident_bot.domain.briefing import (
    E0_TIMER,
    TIMEOUT_TIMER,
    Briefing,
    Clocks,
    OpenedBy,
    StepStatus,
    advance,
    check_gate,
    complete,
    compromise,
    gate_timers,
    override,
    planned_at,
    status_label,
)
from incident_bot.domain.playbook import Audience, BriefingStep, Gate
from incident_bot.errors import RefusedError, TransitionRefused

PB = playbook()
CLOCKS = Clocks(T0, E0)
NO_COVERAGE: dict[int, float] = {}
LEADERS = Audience(roles=("council_leader",))


def fresh() -> Briefing:
    return Briefing.for_playbook(PB)


def status(b: Briefing, step_id: str) -> StepStatus:
    return b.steps[step_id].status


def with_strategic_done() -> Briefing:
    b = fresh()
    advance(b, PB, NO_COVERAGE, CLOCKS, E0)
    complete(b, PB.step("strategic"), "gold", E0)
    return b


# ---- gates --------------------------------------------------------------------------------


def test_nothing_opens_before_e0():
    b = fresh()
    assert advance(b, PB, NO_COVERAGE, CLOCKS, E0 - MIN) == []


def test_nothing_opens_while_e0_is_unknown():
    b = fresh()
    assert advance(b, PB, NO_COVERAGE, Clocks(T0, None), E0 + 10 * 60 * MIN) == []


def test_an_empty_gate_opens_at_e0():
    b = fresh()
    advance(b, PB, NO_COVERAGE, CLOCKS, E0)
    assert status(b, "strategic") is StepStatus.OPEN


def test_a_step_waits_for_its_after_steps():
    b = fresh()
    advance(b, PB, NO_COVERAGE, CLOCKS, E0)
    assert status(b, "members") is StepStatus.WAITING


def test_a_step_opens_when_its_after_steps_complete():
    b = with_strategic_done()
    advance(b, PB, NO_COVERAGE, CLOCKS, E0)
    assert status(b, "members") is StepStatus.OPEN


def test_steps_after_the_same_step_open_in_parallel():
    b = with_strategic_done()
    changes = advance(b, PB, NO_COVERAGE, CLOCKS, E0)
    assert [c.step_id for c in changes] == ["members", "tier-1"]


def test_an_opening_records_when_and_why():
    b = fresh()
    advance(b, PB, NO_COVERAGE, CLOCKS, E0 + MIN)
    state = b.steps["strategic"]
    assert (state.opened_at, state.opened_by) == (E0 + MIN, OpenedBy.GATE)


def test_a_coverage_gate_waits_for_its_tiers():
    gated = BriefingStep("x", "X", LEADERS, "bcu_commander",
                         gate=Gate(coverage_tiers=(1,), coverage=0.5))
    pb = playbook(briefing=(gated,))
    b = Briefing.for_playbook(pb)
    advance(b, pb, {1: 0.4}, CLOCKS, E0)
    assert status(b, "x") is StepStatus.WAITING
    advance(b, pb, {1: 0.5}, CLOCKS, E0)
    assert status(b, "x") is StepStatus.OPEN


def test_a_tier_whose_round_has_not_started_counts_as_nobody_reached():
    step = BriefingStep("x", "X", LEADERS, "bcu_commander",
                        gate=Gate(coverage_tiers=(1,), coverage=0.1))
    check = check_gate(step, Briefing.for_playbook(playbook(briefing=(step,))), {}, CLOCKS, E0)
    assert not check.may_open


def test_the_media_hold_opens_at_its_timeout():
    b = with_strategic_done()
    advance(b, PB, NO_COVERAGE, CLOCKS, E0 + 90 * MIN)
    assert (status(b, "media"), b.steps["media"].opened_by) == (StepStatus.OPEN,
                                                                 OpenedBy.TIMEOUT)


def test_the_media_hold_stays_held_before_its_timeout():
    b = with_strategic_done()
    advance(b, PB, NO_COVERAGE, CLOCKS, E0 + 89 * MIN)
    assert status_label(PB.step("media"), b.steps["media"]) == "held"


def test_a_timeout_before_e0_still_waits_for_e0():
    early = BriefingStep("x", "X", LEADERS, "bcu_commander",
                         gate=Gate(after=("y",), timeout=rel("T0")))
    waiting = BriefingStep("y", "Y", LEADERS, "bcu_commander", gate=Gate(after=("x",)))
    pb = playbook(briefing=(early, waiting))
    b = Briefing.for_playbook(pb)
    assert advance(b, pb, NO_COVERAGE, CLOCKS, E0 - MIN) == []
    assert [c.step_id for c in advance(b, pb, NO_COVERAGE, CLOCKS, E0)] == ["x"]


def test_a_tier_step_completes_itself_at_its_coverage():
    b = with_strategic_done()
    advance(b, PB, {1: 0.75}, CLOCKS, E0)
    assert b.steps["tier-1"].completed_by == "coverage"


def test_completing_the_tier_step_lifts_the_media_hold():
    b = with_strategic_done()
    advance(b, PB, {1: 0.75}, CLOCKS, E0)
    assert (status(b, "media"), b.steps["media"].opened_by) == (StepStatus.OPEN, OpenedBy.GATE)


def test_below_its_coverage_the_tier_step_stays_open():
    b = with_strategic_done()
    advance(b, PB, {1: 0.74}, CLOCKS, E0)
    assert status(b, "tier-1") is StepStatus.OPEN


def test_the_gate_says_what_it_waits_for():
    b = with_strategic_done()
    advance(b, PB, {1: 0.5}, CLOCKS, E0)
    check = check_gate(PB.step("media"), b, {1: 0.5}, CLOCKS, E0)
    assert check.describe() == "waiting for step tier-1 to complete; opens anyway at 07:30 UTC"


def test_the_gate_says_when_it_waits_for_e0():
    check = check_gate(PB.step("strategic"), fresh(), NO_COVERAGE, CLOCKS, T0)
    assert check.describe() == "waiting for E0 (06:00 UTC)"


# ---- people acting on steps ---------------------------------------------------------------


def test_the_briefer_completes_an_open_step():
    b = with_strategic_done()
    assert (status(b, "strategic"), b.steps["strategic"].completed_by) == (
        StepStatus.COMPLETE, "gold")


def test_completing_a_complete_step_again_does_nothing():
    b = with_strategic_done()
    assert complete(b, PB.step("strategic"), "gold", E0 + MIN) is False


def test_completing_a_waiting_step_is_refused():
    with pytest.raises(TransitionRefused, match="can't complete briefing step members while "
                                                "it is waiting"):
        complete(fresh(), PB.step("members"), "ceo", E0)


def test_a_held_media_step_is_named_held_when_refused():
    with pytest.raises(TransitionRefused, match="media while it is held"):
        complete(fresh(), PB.step("media"), "pcomms", E0)


def test_a_coverage_step_cannot_be_completed_by_hand():
    b = with_strategic_done()
    advance(b, PB, NO_COVERAGE, CLOCKS, E0)
    with pytest.raises(RefusedError, match="completes itself when tier"):
        complete(b, PB.step("tier-1"), "eng", E0)


def test_an_override_opens_a_waiting_step_even_before_e0():
    b = fresh()
    override(b, "media", "Leaked", "gold", T0)
    state = b.steps["media"]
    assert (state.status, state.overridden, state.override_reason) == (
        StepStatus.OPEN, True, "Leaked")


def test_an_override_needs_a_reason():
    with pytest.raises(RefusedError, match="without a reason"):
        override(fresh(), "media", "  ", "gold", E0)


def test_an_open_step_cannot_be_overridden():
    b = fresh()
    advance(b, PB, NO_COVERAGE, CLOCKS, E0)
    with pytest.raises(TransitionRefused, match="can't override briefing step strategic while "
                                                "it is open"):
        override(b, "strategic", "Hurry", "gold", E0)


def test_an_unknown_step_is_refused_naming_the_steps():
    with pytest.raises(RefusedError, match=r"no briefing step 'nope'.*strategic, members"):
        override(fresh(), "nope", "Why", "gold", E0)


def test_a_compromised_timeline_opens_every_waiting_step_at_once():
    b = fresh()
    compromise(b, "On social media", "gold", T0)
    assert {s.status for s in b.steps.values()} == {StepStatus.OPEN}


def test_a_compromised_timeline_needs_a_reason():
    with pytest.raises(RefusedError, match="without a reason"):
        compromise(fresh(), "", "gold", T0)


# ---- timers and plans ---------------------------------------------------------------------


def test_gate_timers_wake_at_e0_and_at_each_timeout():
    found = [(t.kind, t.due_at) for t in gate_timers(INCIDENT_ID, PB, CLOCKS)]
    assert found == [(E0_TIMER, E0), (TIMEOUT_TIMER, E0 + 90 * MIN)]


def test_gate_timer_keys_carry_their_time_so_a_moved_e0_gets_new_ones():
    moved = Clocks(T0, E0 + 30 * MIN)
    first = {t.key for t in gate_timers(INCIDENT_ID, PB, CLOCKS)}
    assert first.isdisjoint({t.key for t in gate_timers(INCIDENT_ID, PB, moved)})


def test_no_gate_timers_while_e0_is_unknown():
    assert gate_timers(INCIDENT_ID, PB, Clocks(T0, None)) == []


def test_the_planned_time_of_a_step_is_its_due():
    assert planned_at(PB.step("members"), CLOCKS) == E0 + 30 * MIN


def test_the_briefing_state_survives_its_round_trip():
    b = with_strategic_done()
    compromise(b, "Leak", "gold", E0)
    assert Briefing.from_dict(b.to_dict()) == b

"""The briefing order as the incident runs it: clocks, ring-rounds, overrides, compromise."""

from __future__ import annotations

from dataclasses import replace

import pytest
from builders import (
    BEFORE_T0,
    E0,
    MIN,
    T0,
    TASKS,
    approve,
    at_e0,
    decisions,
    notices,
    playbook,
    reach,
    run,
    said,
    statuses,
    timers,
)

from incident_bot.domain.briefing import E0_TIMER, TIMEOUT_TIMER
from incident_bot.domain.commands import (
    CompleteStep,
    MarkCompromised,
    OverrideStep,
    RecordOutcome,
    ReleaseMessage,
    SetE0,
)
from incident_bot.domain.durations import parse_relative_time
from incident_bot.domain.incident import Incident, on_timer
from incident_bot.domain.playbook import TaskDef, TaskEscalation
from incident_bot.domain.tasks import DUE_TIMER, OVERDUE_TIMER, TaskState
from incident_bot.errors import NotAuthorised, RefusedError, TransitionRefused


def test_the_e0_timer_opens_the_first_step(active: Incident):
    on_timer(active, E0_TIMER, {}, E0)
    assert statuses(active)["strategic"] == "open"


def test_an_opened_step_is_announced_to_its_briefers(active: Incident):
    effects = on_timer(active, E0_TIMER, {}, E0)
    assert {n.recipient for n in notices(effects, "briefing.opened")} == {"incident", "gold"}


def test_nothing_opens_before_t0_even_if_e0_would_have_passed(prebrief: Incident):
    on_timer(prebrief, E0_TIMER, {}, T0 - MIN)
    assert set(statuses(prebrief).values()) == {"waiting"}


def test_a_stale_e0_timer_does_nothing(briefing_open: Incident):
    assert on_timer(briefing_open, E0_TIMER, {}, E0 + MIN) == []


def test_opening_a_tier_step_starts_that_tiers_ring_round(briefing_open: Incident):
    run(briefing_open, E0, CompleteStep("strategic", "gold"))
    assert list(briefing_open.ringround.tiers) == [1]


def test_the_public_tier_is_never_a_ring_round(briefing_open: Incident):
    run(briefing_open, E0, OverrideStep("media", "Need it out", "gold"))
    assert 4 not in briefing_open.ringround.tiers


def test_tier_coverage_completes_the_tier_step(briefing_open: Incident):
    run(briefing_open, E0, CompleteStep("strategic", "gold"))
    reach(briefing_open, E0 + MIN, "k1", "k2", "k3")
    assert statuses(briefing_open)["tier-1"] == "complete"


def test_contacts_ruled_out_leave_the_coverage_a_tier_step_waits_for(briefing_open: Incident):
    run(briefing_open, E0, CompleteStep("strategic", "gold"))
    run(briefing_open, E0 + MIN, RecordOutcome("k4", "wrong_number", "eng"))
    reach(briefing_open, E0 + MIN, "k1", "k2")
    assert statuses(briefing_open)["tier-1"] == "open"  # 2 of the 3 left: under 75 %
    run(briefing_open, E0 + 2 * MIN, RecordOutcome("k3", "unsafe_to_call", "eng"))
    assert statuses(briefing_open)["tier-1"] == "complete"  # 2 of 2, though 2 of 4 in all
    assert statuses(briefing_open)["media"] == "open"


def test_the_media_hold_lifts_when_tier_one_is_reached(briefing_open: Incident):
    run(briefing_open, E0, CompleteStep("strategic", "gold"))
    reach(briefing_open, E0 + MIN, "k1", "k2", "k3")
    assert statuses(briefing_open)["media"] == "open"


def test_the_media_hold_stays_while_tier_one_is_short(briefing_open: Incident):
    run(briefing_open, E0, CompleteStep("strategic", "gold"))
    reach(briefing_open, E0 + MIN, "k1", "k2")
    assert statuses(briefing_open)["media"] == "waiting"


def test_the_media_hold_lifts_at_its_timeout(briefing_open: Incident):
    on_timer(briefing_open, TIMEOUT_TIMER, {"step": "media"}, E0 + 90 * MIN)
    assert briefing_open.briefing.steps["media"].opened_by.value == "timeout"


def test_completing_a_step_records_the_message_version_used(briefing_open: Incident):
    run(briefing_open, E0, CompleteStep("strategic", "gold"),
        CompleteStep("members", "ceo"))
    assert briefing_open.briefing.steps["members"].message_version == "member-briefing@v1/en"


def test_a_step_cannot_be_completed_without_an_approved_message():
    incident = at_e0(approved=False)
    run(incident, E0, CompleteStep("strategic", "gold"))
    with pytest.raises(RefusedError, match="member-briefing has no approved version"):
        run(incident, E0, CompleteStep("members", "ceo"))


def test_only_the_briefer_or_commander_completes_a_step(briefing_open: Incident):
    with pytest.raises(NotAuthorised, match="complete briefing step strategic: only "
                                            "bcu_commander, police_silver may"):
        run(briefing_open, E0, CompleteStep("strategic", "pcomms"))


def test_completing_steps_is_refused_before_t0(prebrief: Incident):
    with pytest.raises(TransitionRefused, match=r"can't complete step in incident .* prebrief"):
        run(prebrief, BEFORE_T0, CompleteStep("strategic", "gold"))


# ---- overrides ----------------------------------------------------------------------------


def test_an_authorised_override_opens_the_media_step(briefing_open: Incident):
    run(briefing_open, E0, OverrideStep("media", "Already on the radio", "gold"))
    assert statuses(briefing_open)["media"] == "open"


def test_an_override_is_a_decision_log_entry_with_its_reason(briefing_open: Incident):
    effects = run(briefing_open, E0, OverrideStep("media", "Already on the radio", "gold"))
    [entry] = decisions(effects, "override")
    assert (entry.decided_by, entry.rationale) == ("gold", "Already on the radio")
    assert "waiting for step tier-1 to complete" in entry.decision


def test_an_override_by_a_role_not_named_is_refused(briefing_open: Incident):
    with pytest.raises(NotAuthorised, match="override briefing step media"):
        run(briefing_open, E0, OverrideStep("media", "Hurry", "pcomms"))


def test_an_override_without_a_reason_is_refused(briefing_open: Incident):
    with pytest.raises(RefusedError, match="without a reason"):
        run(briefing_open, E0, OverrideStep("media", "", "gold"))


def test_the_commander_may_override_a_step_that_names_no_override_role(briefing_open: Incident):
    run(briefing_open, E0, OverrideStep("tier-3", "Tier 1 stalled", "silver"))
    assert statuses(briefing_open)["tier-3"] == "open"


def test_an_override_before_e0_opens_the_step(active: Incident):
    run(active, T0 + MIN, OverrideStep("strategic", "Brief them now", "gold"))
    assert statuses(active)["strategic"] == "open"


# ---- compromised timeline ------------------------------------------------------------------


def test_a_compromised_timeline_opens_every_remaining_step(briefing_open: Incident):
    run(briefing_open, E0, MarkCompromised("Photos on social media", "gold"))
    assert set(statuses(briefing_open).values()) == {"open"}


def test_a_compromised_timeline_is_logged(briefing_open: Incident):
    effects = run(briefing_open, E0, MarkCompromised("Photos on social media", "gold"))
    assert decisions(effects, "compromised")[0].rationale == "Photos on social media"


def test_a_compromised_timeline_starts_every_tiers_ring_round(briefing_open: Incident):
    run(briefing_open, E0, MarkCompromised("Photos on social media", "gold"))
    assert sorted(briefing_open.ringround.tiers) == [1, 3]


def test_a_compromised_timeline_makes_the_holding_line_releasable_before_e0(active: Incident):
    run(active, T0 + MIN, MarkCompromised("Leaked", "gold"))
    approve(active, "public-holding-statement", T0 + MIN)
    effects = run(active, T0 + 2 * MIN, ReleaseMessage("public-holding-statement", "pcomms"))
    assert len(decisions(effects, "release")) == 1


def test_marking_compromised_twice_does_nothing_more(briefing_open: Incident):
    run(briefing_open, E0, MarkCompromised("Leak", "gold"))
    assert run(briefing_open, E0, MarkCompromised("Leak again", "gold")) == []


def test_only_a_commander_marks_the_timeline_compromised(briefing_open: Incident):
    with pytest.raises(NotAuthorised, match="mark the timeline compromised"):
        run(briefing_open, E0, MarkCompromised("Leak", "pcomms"))


def test_a_compromise_before_t0_is_refused(prebrief: Incident):
    with pytest.raises(TransitionRefused, match="prebrief"):
        run(prebrief, BEFORE_T0, MarkCompromised("Leak", "gold"))


# ---- moving E0 ---------------------------------------------------------------------------


def test_moving_e0_is_an_embargo_decision(active: Incident):
    effects = run(active, T0, SetE0(E0 + 30 * MIN, "gold", "Searches overran"))
    [entry] = decisions(effects, "embargo")
    assert entry.decision == "E0 (embargo lifted) moved from 06:00 UTC to 06:30 UTC"
    assert entry.rationale == "Searches overran"


def test_moving_e0_sets_new_gate_timers(active: Incident):
    effects = run(active, T0, SetE0(E0 + 30 * MIN, "gold"))
    assert [t.due_at for t in timers(effects, E0_TIMER)] == [E0 + 30 * MIN]


def test_moving_e0_moves_tasks_due_on_e0(active: Incident):
    effects = run(active, T0, SetE0(E0 + 30 * MIN, "gold"))
    due = [t.due_at for t in timers(effects, DUE_TIMER) if t.payload["task"] == "brief-leader"]
    assert due == [E0 + 45 * MIN]


def test_after_e0_moved_later_the_old_e0_opens_nothing(active: Incident):
    run(active, T0, SetE0(E0 + 30 * MIN, "gold"))
    on_timer(active, E0_TIMER, {}, E0)
    assert statuses(active)["strategic"] == "waiting"


def test_e0_cannot_move_before_t0(active: Incident):
    with pytest.raises(RefusedError, match="E0 is never before T0"):
        run(active, T0, SetE0(T0 - MIN, "gold"))


def test_setting_the_same_e0_does_nothing(active: Incident):
    assert run(active, T0, SetE0(E0, "gold")) == []


def test_only_a_commander_moves_e0(active: Incident):
    with pytest.raises(NotAuthorised, match="set E0"):
        run(active, T0, SetE0(E0 + MIN, "pcomms"))


# ---- tasks a briefing step does -------------------------------------------------------------


def step_tasks() -> tuple[TaskDef, ...]:
    """The builders' tasks, the leader's briefing done by the strategic step (and escalated to
    the commander half an hour overdue), a tier-1 check done by the tier-1 step."""
    overdue = (TaskEscalation(30 * MIN, "bcu_commander"),)
    return (*(t for t in TASKS if t.id != "brief-leader"),
            replace(next(t for t in TASKS if t.id == "brief-leader"), escalation=overdue,
                    done_by_step="strategic"),
            TaskDef("tier-1-done", "Tier 1 told", "engagement_lead", parse_relative_time("E0+1h"),
                    done_by_step="tier-1"))


@pytest.fixture
def with_step_tasks() -> Incident:
    return at_e0(pb=playbook(tasks=step_tasks()))


def test_completing_a_briefing_step_completes_the_task_it_does(with_step_tasks):
    run(with_step_tasks, E0 + MIN, CompleteStep("strategic", "gold"))
    task = with_step_tasks.tasks.get("brief-leader")
    assert (task.state, task.acted_by) == (TaskState.DONE, "gold")


def test_a_task_done_by_its_step_is_not_escalated_when_its_due_time_passes(with_step_tasks):
    run(with_step_tasks, E0 + MIN, CompleteStep("strategic", "gold"))
    task = with_step_tasks.tasks.get("brief-leader")
    payload = {"task": task.id, "at": task.due.isoformat(), "rung": 0}
    assert on_timer(with_step_tasks, OVERDUE_TIMER, payload, task.due + 30 * MIN) == []


def test_a_step_completed_by_coverage_completes_the_task_it_does(with_step_tasks):
    run(with_step_tasks, E0, CompleteStep("strategic", "gold"))
    reach(with_step_tasks, E0 + MIN, "k1", "k2", "k3")
    assert with_step_tasks.tasks.get("tier-1-done").state is TaskState.DONE


def test_a_task_done_by_a_step_is_announced_as_done(with_step_tasks):
    effects = run(with_step_tasks, E0 + MIN, CompleteStep("strategic", "gold"))
    assert [said(n) for n in notices(effects, "task.done")] == [
        "Done: Brief the council leader (briefing step strategic is complete)."]

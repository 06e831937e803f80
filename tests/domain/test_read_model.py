"""Read-only projections for the dashboard, CLI and exercise report."""

from __future__ import annotations

from datetime import timedelta

from builders import E0, MIN, T0, reach, run, statuses

from incident_bot.domain.commands import (
    ApproveMessage,
    CompleteStep,
    DraftMessage,
    OverrideStep,
)
from incident_bot.domain.incident import Incident
from incident_bot.domain.incident.read_model import (
    incident_view,
    message_views,
    role_views,
    step_views,
    task_views,
    tier_views,
)


def step(incident: Incident, step_id: str, now=E0):
    return next(s for s in step_views(incident, now) if s.id == step_id)


def message(incident: Incident, message_id: str, now=E0):
    return next(m for m in message_views(incident, now) if m.id == message_id)


def test_a_waiting_media_step_shows_as_held(briefing_open: Incident):
    assert step(briefing_open, "media").status == "held"


def test_a_waiting_step_says_what_its_gate_waits_for(briefing_open: Incident):
    assert step(briefing_open, "media").gate.waiting_for == (
        "waiting for step tier-1 to complete; opens anyway at 07:30 UTC")


def test_an_open_step_shows_no_waiting_reason(briefing_open: Incident):
    assert step(briefing_open, "strategic").gate.waiting_for == ""


def test_a_step_shows_planned_and_actual_times(briefing_open: Incident):
    run(briefing_open, E0 + 20 * MIN, CompleteStep("strategic", "gold"))
    view = step(briefing_open, "strategic", E0 + 20 * MIN)
    assert (view.planned_at, view.opened_at, view.completed_at) == (
        E0 + 15 * MIN, E0, E0 + 20 * MIN)


def test_a_step_completed_after_its_plan_shows_how_late(briefing_open: Incident):
    run(briefing_open, E0 + 20 * MIN, CompleteStep("strategic", "gold"))
    assert step(briefing_open, "strategic", E0 + 20 * MIN).late_by == 5 * MIN


def test_an_overridden_step_shows_the_override_and_its_reason(briefing_open: Incident):
    run(briefing_open, E0, OverrideStep("media", "On the radio", "gold"))
    view = step(briefing_open, "media")
    assert (view.overridden, view.opened_by, view.override_reason) == (
        True, "override", "On the radio")


def test_tier_coverage_counts_reached_contacts(briefing_open: Incident):
    run(briefing_open, E0, CompleteStep("strategic", "gold"))
    reach(briefing_open, E0 + MIN, "k1")
    tier1 = tier_views(briefing_open, E0 + MIN)[0]
    assert (tier1.started, tier1.reached, tier1.pending, tier1.total, tier1.fraction) == (
        True, 1, 3, 4, 0.25)


def test_a_tier_not_started_shows_no_coverage(briefing_open: Incident):
    tier1 = tier_views(briefing_open, E0)[0]
    assert (tier1.started, tier1.fraction) == (False, 0.0)


def test_a_tier_short_at_its_deadline_is_marked(briefing_open: Incident):
    run(briefing_open, E0, CompleteStep("strategic", "gold"))
    assert tier_views(briefing_open, E0 + 60 * MIN)[0].short_at_deadline


def test_an_open_task_past_its_due_time_is_overdue(active: Incident):
    task = next(t for t in task_views(active, E0 + MIN) if t.id == "approve-statement")
    assert task.overdue


def test_an_open_task_due_within_fifteen_minutes_is_due_soon(active: Incident):
    task = next(t for t in task_views(active, E0 - 10 * MIN) if t.id == "approve-statement")
    assert (task.due_soon, task.overdue) == (True, False)


def test_tasks_are_listed_by_due_time(active: Incident):
    assert [t.id for t in task_views(active, T0)] == [
        "confirm-readiness", "approve-statement", "brief-leader"]


def test_a_draft_shows_which_approver_roles_it_awaits(briefing_open: Incident):
    run(briefing_open, E0, DraftMessage("member-briefing", {"en": "Two"}, "ccomms"),
        ApproveMessage("member-briefing", 2, "ccomms"))
    v2 = message(briefing_open, "member-briefing").versions[1]
    assert (v2.status, v2.awaiting) == ("draft", ("police_comms",))


def test_a_message_shows_its_current_version_and_statuses(briefing_open: Incident):
    run(briefing_open, E0, DraftMessage("member-briefing", {"en": "Two"}, "ccomms"),
        ApproveMessage("member-briefing", 2, "ccomms"),
        ApproveMessage("member-briefing", 2, "pcomms"))
    view = message(briefing_open, "member-briefing")
    assert (view.current_version, [v.status for v in view.versions]) == (
        2, ["superseded", "approved"])


def test_a_held_message_shows_why_it_cannot_be_released(briefing_open: Incident):
    view = message(briefing_open, "public-holding-statement")
    assert (view.releasable, view.blocked_reason) == (
        False, "can't release public-holding-statement v1 while briefing step media is held")


def test_a_message_lists_languages_its_current_version_lacks(briefing_open: Incident):
    run(briefing_open, E0, DraftMessage("ring-round-sms", {"en": "Two", "ur": "دو"}, "pcomms"),
        ApproveMessage("ring-round-sms", 2, "pcomms"),
        ApproveMessage("ring-round-sms", 2, "ccomms"))
    assert message(briefing_open, "ring-round-sms").missing_languages == ("pl",)


def test_roles_show_holders_and_deputies(active: Incident):
    commander = next(r for r in role_views(active) if r.code == "bcu_commander")
    assert (commander.holders, commander.deputies) == (("gold",), ("silver",))


def test_the_incident_view_gathers_everything_at_one_moment(briefing_open: Incident):
    view = incident_view(briefing_open, E0 + MIN)
    assert (view.status, view.as_of, len(view.steps), len(view.tiers)) == (
        "active", E0 + MIN, 5, 3)


def test_a_view_changes_nothing(briefing_open: Incident):
    before = briefing_open.to_dict()
    incident_view(briefing_open, E0 + timedelta(hours=3))
    assert briefing_open.to_dict() == before
    assert statuses(briefing_open)["media"] == "waiting"

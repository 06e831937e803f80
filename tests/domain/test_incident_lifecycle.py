"""The incident lifecycle: prebrief → active (T0) → standing_down → closed."""

from __future__ import annotations

from datetime import datetime

import pytest
from builders import (
    BEFORE_T0,
    E0,
    MIN,
    T0,
    decisions,
    notices,
    playbook,
    run,
    said,
    start,
    started,
    timers,
)

from incident_bot.domain.commands import (
    Close,
    CompleteTask,
    DraftMessage,
    SmsReceived,
    StandDown,
)
from incident_bot.domain.incident import T0_TIMER, TRANSITIONS, Incident, Status, on_timer
from incident_bot.domain.incident.model import Event
from incident_bot.errors import NotAuthorised, RefusedError, TransitionRefused

# ---- starting -----------------------------------------------------------------------------


def test_an_incident_started_before_t0_is_in_prebrief():
    assert started(BEFORE_T0).status is Status.PREBRIEF


def test_an_incident_started_before_t0_schedules_the_t0_timer():
    _, effects = start(BEFORE_T0)
    assert [(t.kind, t.due_at) for t in timers(effects, T0_TIMER)] == [(T0_TIMER, T0)]


def test_an_incident_started_at_or_after_t0_is_active_at_once():
    assert started(T0).status is Status.ACTIVE


def test_an_incident_started_after_t0_schedules_no_t0_timer():
    _, effects = start(T0 + MIN)
    assert timers(effects, T0_TIMER) == []


def test_only_a_holder_of_a_started_by_role_may_start_an_incident():
    with pytest.raises(NotAuthorised, match="bcu_commander, police_silver"):
        start(by="pcomms")


def test_a_deputy_commander_role_listed_in_started_by_may_start_an_incident():
    assert started(by="silver").started_by == "silver"


def test_e0_comes_from_the_parameters_when_given():
    assert started(e0=T0 + 30 * MIN).params.e0 == T0 + 30 * MIN


def test_e0_defaults_to_the_playbooks_e0_default():
    assert started().params.e0 == T0 + 60 * MIN


def test_e0_stays_unknown_without_parameter_or_default():
    incident, _ = start(pb=playbook(e0_default=None))
    assert incident.params.e0 is None


def test_e0_before_t0_is_refused():
    with pytest.raises(RefusedError, match="E0 is never before T0"):
        start(e0=T0 - MIN)


def test_starting_records_a_start_decision_by_the_commander():
    _, effects = start()
    [entry] = decisions(effects, "start")
    assert (entry.decided_by, entry.decided_at) == ("gold", BEFORE_T0)


def test_starting_before_t0_records_the_need_to_know_members():
    _, effects = start()
    [entry] = decisions(effects, "membership")
    assert "pre-brief" in entry.decision
    assert "council_chief_exec: Ceo" in entry.decision
    assert "council_leader" not in entry.decision


def test_starting_before_t0_welcomes_only_need_to_know_members():
    _, effects = start()
    welcomed = {n.recipient for n in notices(effects, "incident.member_added")}
    assert welcomed == {"gold", "sio", "ceo", "silver"}


def test_starting_after_t0_welcomes_every_role_holder_without_a_prebrief_warning():
    _, effects = start(T0 + MIN)
    welcomed = notices(effects, "incident.member_added")
    assert len(welcomed) == 11
    assert not any("pre-brief" in said(n) for n in welcomed)


def test_the_welcome_shows_t0_and_e0_in_the_incidents_time_zone():
    _, effects = start(zone="Europe/London", e0=E0)  # 1 May: BST, UTC+1
    welcome = notices(effects, "incident.member_added")[0]
    assert "T0 06:00 BST, E0 07:00 BST." in said(welcome)


def test_the_start_decision_records_the_variables_the_commander_set():
    _, effects = start(variables={"roads_affected": 'Elm Street "north"', "helpline": "0300"})
    assert decisions(effects, "start")[0].decision.endswith(
        '; variables set at start: helpline="0300", roads_affected="Elm Street "north""')


def test_starting_after_t0_records_every_member():
    _, effects = start(T0 + MIN)
    assert decisions(effects, "membership")[0].decision.startswith("Members at start: ")


def test_a_naive_time_is_a_programming_error():
    with pytest.raises(ValueError, match="naive"):
        start(now=datetime(2026, 5, 1, 3, 0))  # deliberately naive


# ---- T0 -----------------------------------------------------------------------------------


def test_the_t0_timer_makes_the_incident_active(prebrief: Incident):
    on_timer(prebrief, T0_TIMER, {}, T0)
    assert prebrief.status is Status.ACTIVE


def test_at_t0_the_other_role_holders_join_and_are_welcomed(prebrief: Incident):
    effects = on_timer(prebrief, T0_TIMER, {}, T0)
    joined = {n.recipient for n in notices(effects, "incident.member_added")}
    assert joined == {"leader", "pcomms", "ccomms", "eng", "cal1", "cal2", "cllr"}


def test_at_t0_the_membership_change_is_logged(prebrief: Incident):
    effects = on_timer(prebrief, T0_TIMER, {}, T0)
    [entry] = decisions(effects, "membership")
    assert "Pcomms (pcomms)" in entry.decision


def test_at_t0_tasks_reach_holders_who_were_outside_the_prebrief(prebrief: Incident):
    on_timer(prebrief, T0_TIMER, {}, T0)
    assert prebrief.tasks.get("approve-statement").assignees == ["pcomms"]


def test_before_t0_tasks_go_only_to_need_to_know_holders(prebrief: Incident):
    assert prebrief.tasks.get("approve-statement").assignees == []


def test_a_repeated_t0_timer_does_nothing(active: Incident):
    assert on_timer(active, T0_TIMER, {}, T0 + MIN) == []


def test_a_command_after_t0_catches_up_when_the_t0_timer_is_late(prebrief: Incident):
    run(prebrief, T0 + MIN, DraftMessage("member-briefing", {"en": "New"}, "gold"))
    assert prebrief.status is Status.ACTIVE


def test_status_changes_are_kept_with_who_and_when(prebrief: Incident):
    on_timer(prebrief, T0_TIMER, {}, T0)
    assert [(h.status, h.at, h.by) for h in prebrief.history] == [
        (Status.PREBRIEF, BEFORE_T0, "gold"), (Status.ACTIVE, T0, "system")]


# ---- standing down and closing ------------------------------------------------------------


def test_the_commander_stands_the_incident_down(active: Incident):
    run(active, E0, StandDown("gold", "Operation over"))
    assert active.status is Status.STANDING_DOWN


def test_stand_down_is_logged_with_its_reason(active: Incident):
    effects = run(active, E0, StandDown("gold", "Operation over"))
    [entry] = decisions(effects, "standdown")
    assert (entry.decided_by, entry.rationale) == ("gold", "Operation over")


def test_an_operation_called_off_before_t0_stands_down_from_prebrief(prebrief: Incident):
    run(prebrief, BEFORE_T0, StandDown("gold", "Called off"))
    assert prebrief.status is Status.STANDING_DOWN


def test_only_a_commander_may_stand_down(active: Incident):
    with pytest.raises(NotAuthorised, match="stand the incident down"):
        run(active, E0, StandDown("pcomms"))


def test_close_follows_stand_down_and_is_logged(active: Incident):
    effects = run(active, E0, StandDown("gold"), Close("gold"))
    assert active.status is Status.CLOSED
    assert len(decisions(effects, "close")) == 1


def test_closing_an_active_incident_is_refused_naming_event_and_state(active: Incident):
    with pytest.raises(TransitionRefused, match="can't close incident inc-0f1e2d3c while it "
                                                "is active"):
        run(active, E0, Close("gold"))


def test_commands_in_a_closed_incident_are_refused(active: Incident):
    run(active, E0, StandDown("gold"), Close("gold"))
    with pytest.raises(TransitionRefused, match=r"can't complete task in incident .* closed"):
        run(active, E0, CompleteTask("approve-statement", "pcomms"))


def test_a_late_sms_reply_after_closing_is_ignored(active: Incident):
    run(active, E0, StandDown("gold"), Close("gold"))
    assert run(active, E0, SmsReceived("k1", "hello")) == []


def test_timers_after_closing_do_nothing(active: Incident):
    run(active, E0, StandDown("gold"), Close("gold"))
    assert on_timer(active, "task.due", {"task": "approve-statement"}, E0) == []


def test_the_lifecycle_is_a_table_of_state_and_event():
    assert TRANSITIONS[(Status.ACTIVE, Event.STAND_DOWN)] is Status.STANDING_DOWN
    assert (Status.CLOSED, Event.STAND_DOWN) not in TRANSITIONS


def test_incidents_are_independent_objects():
    first, second = started(), started()
    on_timer(first, T0_TIMER, {}, T0)
    assert second.status is Status.PREBRIEF

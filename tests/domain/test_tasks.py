import json
from datetime import UTC, datetime, timedelta

import pytest
from builders import said

from incident_bot.domain.durations import parse_relative_time
from incident_bot.domain.effects import Notify, OutboxChannel, ScheduleTimer
from incident_bot.domain.playbook import TaskDef, TaskEscalation
from incident_bot.domain.tasks import (
    ACK_TIMER,
    DUE_TIMER,
    OVERDUE_TIMER,
    REMIND_TIMER,
    TaskBoard,
    TaskContext,
    TaskState,
    ack,
    add_task,
    blocked_by,
    cannot_do,
    complete,
    create_tasks,
    on_timer,
    reschedule,
    status,
    sync_assignees,
)
from incident_bot.errors import NotAuthorised, NotFoundError, RefusedError, TransitionRefused

T0 = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
E0 = T0 + timedelta(hours=1)
NOW = T0 - timedelta(hours=2)  # the incident starts in the pre-brief
MIN = timedelta(minutes=1)

DEFS = (
    TaskDef("confirm-readiness", "Confirm council readiness", "council_tactical_lead",
            parse_relative_time("T0-1h")),
    TaskDef("draft-statement", "Draft the holding statement", "police_comms",
            parse_relative_time("T0-30m")),
    TaskDef("approve-messages", "Approve the statement and script", "investigation_owner",
            parse_relative_time("T0+1h"), depends_on=("draft-statement",),
            escalation=(TaskEscalation(30 * MIN, "police_silver"),
                        TaskEscalation(120 * MIN, "bcu_commander"))),
    TaskDef("brief-leader", "Brief the council leader", "council_chief_exec",
            parse_relative_time("E0+15m"), depends_on=("confirm-readiness",)),
    TaskDef("tension-report", "First tension report", "police_silver",
            parse_relative_time("T0+6h"), remind_before=30 * MIN, ack_within=None),
)
HOLDERS = {
    "council_tactical_lead": ["tina"], "police_comms": ["pat", "paula"],
    "investigation_owner": ["ivan"], "council_chief_exec": ["chloe"],
    "police_silver": ["sil"], "bcu_commander": ["gold"], "emergency_planning": ["emma"],
    "council_comms": ["cc"],
}
DEPUTIES = {"council_tactical_lead": "emergency_planning", "police_comms": "council_comms",
            "council_chief_exec": "council_tactical_lead", "police_silver": "bcu_commander"}


def _ctx(holders=None):
    return TaskContext("inc-1", HOLDERS if holders is None else holders, DEPUTIES, ("gold",))


def _board(e0=E0, holders=None):
    board = TaskBoard()
    effects = create_tasks(board, _ctx(holders), DEFS, T0, e0, NOW)
    return board, effects


def _notifies(effects, purpose=None):
    return [e for e in effects if isinstance(e, Notify) and purpose in (None, e.purpose)]


def _timers(effects, kind=None, task=None):
    return [e for e in effects if isinstance(e, ScheduleTimer) and kind in (None, e.kind)
            and task in (None, e.payload["task"])]


def _fire(board, timer, now=None, ctx=None):
    return on_timer(board, ctx or _ctx(), timer.kind, timer.payload, now or timer.due_at)


# ---- creating -----------------------------------------------------------------------------


def test_due_times_are_resolved_from_t0_and_e0():
    board, _ = _board()
    assert board.tasks["confirm-readiness"].due == T0 - 60 * MIN
    assert board.tasks["brief-leader"].due == E0 + 15 * MIN


def test_every_holder_of_the_owner_role_is_assigned_and_told():
    _, effects = _board()
    told = _notifies(effects, "task.assigned")
    assert {n.recipient for n in told if n.data["task"] == "draft-statement"} == {"pat", "paula"}
    assert all(n.channel is OutboxChannel.SLACK_DM for n in told)


def test_a_task_whose_owner_has_no_holder_is_unassigned_and_has_no_ack_timer():
    holders = {k: v for k, v in HOLDERS.items() if k != "council_chief_exec"}
    board, effects = _board(holders=holders)
    assert board.tasks["brief-leader"].assignees == []
    assert _timers(effects, ACK_TIMER, "brief-leader") == []


def test_a_reminder_is_set_remind_before_the_due_time():
    _, effects = _board()
    (remind,) = _timers(effects, REMIND_TIMER, "tension-report")
    assert remind.due_at == T0 + 6 * 60 * MIN - 30 * MIN


def test_the_owner_must_acknowledge_within_ack_within():
    _, effects = _board()
    (ack_timer,) = _timers(effects, ACK_TIMER, "draft-statement")
    assert ack_timer.due_at == NOW + 10 * MIN


def test_no_ack_timer_when_ack_within_is_off():
    _, effects = _board()
    assert _timers(effects, ACK_TIMER, "tension-report") == []


def test_each_escalation_rung_has_an_overdue_timer():
    _, effects = _board()
    overdue = _timers(effects, OVERDUE_TIMER, "approve-messages")
    assert [(t.due_at, t.payload["rung"]) for t in overdue] == [
        (T0 + 90 * MIN, 0), (T0 + 180 * MIN, 1)]


def test_timer_keys_carry_the_due_time():
    _, effects = _board()
    (due,) = _timers(effects, DUE_TIMER, "confirm-readiness")
    assert due.key == "inc-1:task:confirm-readiness:due:2026-05-01T04:00:00+00:00"


def test_a_task_on_an_unknown_e0_has_no_due_time_and_no_due_timers():
    board, effects = _board(e0=None)
    assert board.tasks["brief-leader"].due is None
    assert _timers(effects, DUE_TIMER, "brief-leader") == []


def test_creating_the_same_tasks_again_does_nothing():
    board, _ = _board()
    assert create_tasks(board, _ctx(), DEFS, T0, E0, NOW) == []


# ---- acknowledging ------------------------------------------------------------------------


def test_acknowledging_records_who_and_when():
    board, _ = _board()
    ack(board, _ctx(), "draft-statement", "pat", NOW + MIN)
    task = board.tasks["draft-statement"]
    assert (task.state, task.acted_by, task.acted_at) == (
        TaskState.ACKNOWLEDGED, "pat", NOW + MIN)


def test_acknowledging_twice_does_nothing():
    board, _ = _board()
    ack(board, _ctx(), "draft-statement", "pat", NOW + MIN)
    assert ack(board, _ctx(), "draft-statement", "pat", NOW + 2 * MIN) == []
    assert board.tasks["draft-statement"].acted_at == NOW + MIN


def test_someone_unrelated_may_not_act_on_a_task():
    board, _ = _board()
    with pytest.raises(NotAuthorised, match="only police_comms, council_comms, a commander"):
        ack(board, _ctx(), "draft-statement", "ivan", NOW)


def test_a_deputy_holder_may_act_on_a_task():
    board, _ = _board()
    ack(board, _ctx(), "draft-statement", "cc", NOW)
    assert board.tasks["draft-statement"].acted_by == "cc"


def test_a_commander_may_act_on_any_task():
    board, _ = _board()
    complete(board, _ctx(), "confirm-readiness", "gold", NOW)
    assert board.tasks["confirm-readiness"].state is TaskState.DONE


def test_an_unknown_task_is_not_found():
    board, _ = _board()
    with pytest.raises(NotFoundError, match="no task 'nope'"):
        ack(board, _ctx(), "nope", "gold", NOW)


# ---- dependencies -------------------------------------------------------------------------


def test_a_task_with_open_dependencies_is_blocked():
    board, _ = _board()
    assert status(board, "approve-messages") == "blocked"
    assert blocked_by(board, "approve-messages") == ["draft-statement"]


def test_a_blocked_task_can_be_acknowledged():
    board, _ = _board()
    ack(board, _ctx(), "approve-messages", "ivan", NOW)
    assert board.tasks["approve-messages"].state is TaskState.ACKNOWLEDGED


def test_a_blocked_task_cannot_be_completed_and_says_why():
    board, _ = _board()
    with pytest.raises(RefusedError, match="can't complete task approve-messages while it is "
                                           "blocked: draft-statement must be done first"):
        complete(board, _ctx(), "approve-messages", "ivan", NOW)


def test_completing_a_dependency_tells_the_dependents_assignees():
    board, _ = _board()
    effects = complete(board, _ctx(), "draft-statement", "pat", NOW)
    assert [n.recipient for n in _notifies(effects, "task.unblocked")] == ["ivan"]
    assert status(board, "approve-messages") == "waiting"


# ---- completing and giving up -------------------------------------------------------------


def test_completing_posts_to_the_incident_channel():
    board, _ = _board()
    effects = complete(board, _ctx(), "confirm-readiness", "tina", NOW)
    (done,) = _notifies(effects, "task.done")
    assert done.channel is OutboxChannel.SLACK_CHANNEL


def test_completing_twice_does_nothing():
    board, _ = _board()
    complete(board, _ctx(), "confirm-readiness", "tina", NOW)
    assert complete(board, _ctx(), "confirm-readiness", "tina", NOW + MIN) == []


def test_cannot_do_tells_the_deputies_the_commanders_and_the_channel():
    board, _ = _board()
    effects = cannot_do(board, _ctx(), "confirm-readiness", "chief exec unreachable", "tina", NOW)
    assert {n.recipient for n in _notifies(effects, "task.cannot_do")} == {
        "emma", "gold", "incident"}
    assert board.tasks["confirm-readiness"].reason == "chief exec unreachable"


def test_cannot_do_needs_a_reason():
    board, _ = _board()
    with pytest.raises(RefusedError, match="without a reason"):
        cannot_do(board, _ctx(), "confirm-readiness", "  ", "tina", NOW)


def test_cannot_do_twice_does_nothing():
    board, _ = _board()
    cannot_do(board, _ctx(), "confirm-readiness", "no access", "tina", NOW)
    assert cannot_do(board, _ctx(), "confirm-readiness", "no access", "tina", NOW) == []


def test_a_done_task_cannot_be_given_up():
    board, _ = _board()
    complete(board, _ctx(), "confirm-readiness", "tina", NOW)
    with pytest.raises(TransitionRefused,
                       match="can't mark as cannot-do task confirm-readiness while it is done"):
        cannot_do(board, _ctx(), "confirm-readiness", "too late", "tina", NOW)


def test_a_deputy_can_pick_up_a_task_given_up():
    board, _ = _board()
    cannot_do(board, _ctx(), "confirm-readiness", "no access", "tina", NOW)
    effects = ack(board, _ctx(), "confirm-readiness", "emma", NOW + MIN)
    assert board.tasks["confirm-readiness"].state is TaskState.ACKNOWLEDGED
    assert _notifies(effects, "task.picked_up")


# ---- timers -------------------------------------------------------------------------------


def test_the_reminder_goes_to_the_assignees():
    board, effects = _board()
    (remind,) = _timers(effects, REMIND_TIMER, "draft-statement")
    told = _fire(board, remind)
    assert {n.recipient for n in _notifies(told, "task.reminder")} == {"pat", "paula"}


def test_a_blocked_tasks_reminder_still_fires_and_says_what_it_waits_on():
    board, effects = _board()
    (remind,) = _timers(effects, REMIND_TIMER, "approve-messages")
    (told,) = _notifies(_fire(board, remind), "task.reminder")
    assert "waiting on: draft-statement" in said(told)


def test_a_timer_fired_twice_notifies_once():
    board, effects = _board()
    (remind,) = _timers(effects, REMIND_TIMER, "draft-statement")
    _fire(board, remind)
    assert _fire(board, remind) == []


def test_an_unacknowledged_task_goes_to_the_deputy_and_the_channel():
    board, effects = _board()
    (timer,) = _timers(effects, ACK_TIMER, "confirm-readiness")
    told = _fire(board, timer)
    assert {n.recipient for n in _notifies(told, "task.not_acknowledged")} == {"emma", "incident"}


def test_an_acknowledged_task_does_not_escalate_for_acknowledgement():
    board, effects = _board()
    ack(board, _ctx(), "confirm-readiness", "tina", NOW + MIN)
    (timer,) = _timers(effects, ACK_TIMER, "confirm-readiness")
    assert _fire(board, timer) == []


def test_at_the_due_time_the_assignees_are_told_it_is_overdue():
    board, effects = _board()
    (due,) = _timers(effects, DUE_TIMER, "confirm-readiness")
    assert [n.recipient for n in _notifies(_fire(board, due), "task.overdue")] == ["tina"]


def test_an_overdue_task_escalates_to_the_rungs_role():
    board, effects = _board()
    first, second = _timers(effects, OVERDUE_TIMER, "approve-messages")
    assert [n.recipient for n in _fire(board, first)] == ["sil"]
    assert [n.recipient for n in _fire(board, second)] == ["gold"]


def test_an_escalation_to_a_role_nobody_holds_goes_to_the_channel():
    board, effects = _board()
    (first, _) = _timers(effects, OVERDUE_TIMER, "approve-messages")
    holders = {k: v for k, v in HOLDERS.items() if k != "police_silver"}
    assert [n.recipient for n in _fire(board, first, ctx=_ctx(holders))] == ["incident"]


def test_timers_of_a_done_task_do_nothing():
    board, effects = _board()
    complete(board, _ctx(), "confirm-readiness", "tina", NOW)
    assert [e for t in _timers(effects, task="confirm-readiness") for e in _fire(board, t)] == []


def test_an_unknown_task_timer_does_nothing():
    board, _ = _board()
    assert on_timer(board, _ctx(), REMIND_TIMER, {"task": "gone", "at": "x"}, NOW) == []


# ---- rescheduling -------------------------------------------------------------------------


def test_moving_e0_moves_e0_tasks_with_new_timer_keys():
    board, _ = _board()
    effects = reschedule(board, _ctx(), T0, E0 + 30 * MIN, NOW)
    assert board.tasks["brief-leader"].due == E0 + 45 * MIN
    assert {t.payload["task"] for t in _timers(effects)} == {"brief-leader"}
    assert all("2026-05-01T06:45:00+00:00" in t.key for t in _timers(effects))


def test_timers_for_the_old_due_time_are_stale_after_a_reschedule():
    board, effects = _board()
    (old,) = _timers(effects, DUE_TIMER, "brief-leader")
    reschedule(board, _ctx(), T0, E0 + 30 * MIN, NOW)
    assert _fire(board, old) == []


def test_setting_e0_gives_waiting_tasks_their_due_time():
    board, _ = _board(e0=None)
    effects = reschedule(board, _ctx(), T0, E0, NOW)
    assert board.tasks["brief-leader"].due == E0 + 15 * MIN
    assert _timers(effects, DUE_TIMER, "brief-leader")


def test_rescheduling_with_the_same_clocks_does_nothing():
    board, _ = _board()
    assert reschedule(board, _ctx(), T0, E0, NOW) == []


# ---- ad-hoc tasks and assignment ----------------------------------------------------------


def test_an_ad_hoc_task_is_assigned_and_timed():
    board, _ = _board()
    effects = add_task(board, _ctx(), "Check for planned protests", "police_silver",
                       T0 + 3 * 60 * MIN, "gold", NOW)
    assert board.tasks["adhoc-1"].assignees == ["sil"]
    assert _timers(effects, DUE_TIMER, "adhoc-1")


def test_an_ad_hoc_task_keeps_its_due_time_when_e0_moves():
    board, _ = _board()
    add_task(board, _ctx(), "Check for protests", "police_silver", T0 + 3 * 60 * MIN, "gold", NOW)
    reschedule(board, _ctx(), T0, E0 + 60 * MIN, NOW)
    assert board.tasks["adhoc-1"].due == T0 + 3 * 60 * MIN


def test_adding_the_same_ad_hoc_task_twice_creates_it_once():
    board, _ = _board()
    due = T0 + 3 * 60 * MIN
    add_task(board, _ctx(), "Check for protests", "police_silver", due, "gold", NOW)
    assert add_task(board, _ctx(), "Check for protests", "police_silver", due, "gold", NOW) == []


def test_an_ad_hoc_task_may_not_depend_on_an_unknown_task():
    board, _ = _board()
    with pytest.raises(RefusedError, match="unknown tasks nope"):
        add_task(board, _ctx(), "X", "police_silver", T0, "gold", NOW, depends_on=("nope",))


def test_new_role_holders_are_given_open_tasks_and_told():
    board, _ = _board()
    holders = {**HOLDERS, "police_comms": ["pat", "paula", "pete"]}
    effects = sync_assignees(board, _ctx(holders), NOW + 5 * MIN)
    assert {(n.recipient, n.data["task"]) for n in _notifies(effects)} == {
        ("pete", "draft-statement")}


def test_people_who_lost_the_owner_role_are_no_longer_assignees():
    board, _ = _board()
    holders = {**HOLDERS, "police_comms": ["paula"]}
    sync_assignees(board, _ctx(holders), NOW + 5 * MIN)
    assert board.tasks["draft-statement"].assignees == ["paula"]


def test_notices_use_display_names_when_given():
    board, _ = _board()
    ctx = TaskContext("inc-1", HOLDERS, DEPUTIES, ("gold",), names={"tina": "Tina Jones"})
    (done,) = _notifies(complete(board, ctx, "confirm-readiness", "tina", NOW), "task.done")
    assert said(done) == "Done: Confirm council readiness (by Tina Jones)."


def test_done_tasks_are_not_handed_to_new_holders():
    board, _ = _board()
    complete(board, _ctx(), "draft-statement", "pat", NOW)
    holders = {**HOLDERS, "police_comms": ["pete"]}
    assert sync_assignees(board, _ctx(holders), NOW) == []


# ---- serialisation ------------------------------------------------------------------------


def test_the_board_survives_a_json_round_trip_exactly():
    board, effects = _board(e0=None)
    ack(board, _ctx(), "approve-messages", "ivan", NOW)
    cannot_do(board, _ctx(), "confirm-readiness", "no access", "tina", NOW)
    add_task(board, _ctx(), "Check protests", "police_silver", T0, "gold", NOW)
    _fire(board, _timers(effects, REMIND_TIMER, "draft-statement")[0])
    document = json.loads(json.dumps(board.to_dict()))
    assert TaskBoard.from_dict(document) == board


def test_task_notices_show_the_due_time_in_the_incidents_time_zone():
    board = TaskBoard()
    winter = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    for zone, due, shown in (("Europe/London", T0, "06:00 BST"),
                             ("Europe/London", winter, "09:30 GMT"), ("UTC", T0, "05:00 UTC")):
        ctx = TaskContext("inc-1", HOLDERS, DEPUTIES, ("gold",), zone=zone)
        effects = add_task(board, ctx, f"Check {shown}", "police_silver", due, "gold", NOW)
        (assigned,) = _notifies(effects, "task.assigned")
        assert said(assigned) == f"New task: Check {shown} (due {shown})."

"""A refused command raises and leaves the incident exactly as it was; refusals say what,
why and who may."""

from __future__ import annotations

from datetime import datetime

import pytest
from builders import E0, MIN, T0, run

from incident_bot.domain.commands import (
    AcceptCallList,
    AddTask,
    AddTranslation,
    ApproveMessage,
    AssignRole,
    CannotDoTask,
    Close,
    Command,
    CompleteStep,
    CompleteTask,
    DraftMessage,
    LogDecision,
    MarkCompromised,
    OverrideStep,
    RecordOutcome,
    ReleaseMessage,
    SetE0,
    UnassignRole,
    WithdrawMessage,
)
from incident_bot.domain.incident import Incident, handle, on_timer
from incident_bot.errors import IncidentBotError, NotAuthorised, TransitionRefused

REFUSED: list[tuple[str, Command]] = [
    ("assign by a non-commander", AssignRole("caller", "cllr", "pcomms")),
    ("unassign an unknown role", UnassignRole("ghost", "cal1", "gold")),
    ("e0 before t0", SetE0(T0 - MIN, "gold")),
    ("draft without english", DraftMessage("member-briefing", {"pl": "x"}, "ccomms")),
    ("approve a missing version", ApproveMessage("member-briefing", 9, "ccomms")),
    ("translate into an unknown language",
     AddTranslation("ring-round-sms", 1, "de", "x", "pcomms")),
    ("release while held", ReleaseMessage("public-holding-statement", "pcomms")),
    ("withdraw without a reason", WithdrawMessage("member-briefing", "", "ccomms")),
    ("complete a waiting step", CompleteStep("members", "ceo")),
    ("override without a reason", OverrideStep("media", "", "gold")),
    ("compromise by a non-commander", MarkCompromised("Leak", "cal1")),
    ("accept another caller's list", AcceptCallList("cal1", "cal2")),
    ("outcome for nobody", RecordOutcome("nobody", "reached", "eng")),
    ("complete a task of someone else", CompleteTask("approve-statement", "cal1")),
    ("give up a task without a reason", CannotDoTask("approve-statement", "", "pcomms")),
    ("add a task for an unknown role", AddTask("x", "ghost", E0, "gold")),
    ("log a decision without a role", LogDecision("x", "y", "k1")),
    ("close an active incident", Close("gold")),
]


@pytest.mark.parametrize("command", [c for _, c in REFUSED], ids=[n for n, _ in REFUSED])
def test_a_refused_command_changes_nothing(briefing_open: Incident, command: Command):
    before = briefing_open.to_dict()
    with pytest.raises(IncidentBotError):
        handle(briefing_open, command, E0 + MIN)
    assert briefing_open.to_dict() == before


def test_a_refusal_after_a_late_t0_also_undoes_the_catch_up(prebrief: Incident):
    before = prebrief.to_dict()
    with pytest.raises(NotAuthorised):
        handle(prebrief, AssignRole("caller", "cllr", "cal1"), T0 + MIN)
    assert prebrief.to_dict() == before


def test_a_refusal_names_the_event_the_state_and_who_may(briefing_open: Incident):
    with pytest.raises(NotAuthorised) as refused:
        run(briefing_open, E0, OverrideStep("media", "Hurry", "pcomms"))
    assert str(refused.value) == ("you may not override briefing step media: only "
                                  "bcu_commander, police_silver may")


def test_a_transition_refusal_names_event_and_state(briefing_open: Incident):
    with pytest.raises(TransitionRefused) as refused:
        run(briefing_open, E0, Close("gold"))
    assert (refused.value.event, refused.value.state) == ("close", "active")


def test_a_timer_for_an_unknown_task_changes_nothing(active: Incident):
    before = active.to_dict()
    on_timer(active, "task.due", {"task": "no-such-task"}, T0 + MIN)
    assert active.to_dict() == before


def test_the_clock_must_be_aware(active: Incident):
    with pytest.raises(ValueError, match="naive"):
        handle(active, Close("gold"), datetime(2026, 5, 1, 7, 0))  # deliberately naive

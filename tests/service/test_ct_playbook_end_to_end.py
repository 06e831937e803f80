"""The full ct-arrests-and-searches playbook, end to end through the service layer with the
bundled sample directory, the real templates and recording fakes for chat, SMS and voice.

Everyone does their part on time: approvers approve, briefers complete their steps, callers
accept their lists and reach every contact. The timeline must then match the playbook: steps
open in the briefing order, the media hold lifts only after tier 1 is briefed, and tasks are
due exactly when the playbook says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident_bot.domain.commands import (
    AcceptCallList,
    ApproveMessage,
    CompleteStep,
    RecordOutcome,
)
from incident_bot.domain.playbook import Playbook
from incident_bot.service.dispatcher import Dispatcher
from incident_bot.service.timers import TimerPoller
from tests.ct_incident import E0, T0, ct_service, start_ct
from tests.fakes import FakeClock, RecordingChat, RecordingSms, RecordingVoice


@pytest.fixture(scope="module")
def ct(module_memory_uow_factory):
    """The response runs once, on the memory store, and every test below reads the same outcome
    (``test_service_flow.py`` keeps a flow on each database backend too)."""
    uow_factory = module_memory_uow_factory
    clock = FakeClock(T0 - timedelta(hours=1))
    incidents, setup = ct_service(uow_factory, clock)
    playbook, people = setup.playbook, setup.people
    chat, sms, voice = RecordingChat(), RecordingSms(), RecordingVoice()
    poller = TimerPoller(uow_factory, clock, "e2e")
    dispatcher = Dispatcher(uow_factory, clock, incidents, chat, sms, voice, worker="e2e")

    def tick() -> None:
        while poller.fire_due() + dispatcher.dispatch():
            pass

    incident_id = start_ct(incidents, setup, "inc-e2e")
    tick()
    world = incidents, clock, tick, playbook, people, incident_id, sms
    return world, run_the_response(world)


def holders(incident, role: str) -> list[str]:
    return next(r for r in incident.roles if r.code == role).holders


def approve_everything(incidents, incident_id, playbook: Playbook) -> None:
    view = incidents.view(incident_id)
    for message in playbook.messages:
        for role in message.approvers:
            holder = next(r for r in view.roles if r.code == role).holders[0]
            incidents.execute(incident_id, ApproveMessage(message.id, 1, by=holder))


def complete_role_steps(incidents, incident_id, playbook: Playbook) -> None:
    view = incidents.view(incident_id)
    for step in view.steps:
        defined = playbook.step(step.id)
        called = defined.audience.tiers and not defined.audience.public
        if step.status == "open" and defined.complete_at_coverage is None and \
                not called:
            briefer = next(r for r in view.roles if r.code == defined.briefed_by).holders[0]
            incidents.execute(incident_id, CompleteStep(step.id, by=briefer))


def callers_reach_everyone(incidents, incident_id) -> None:
    incident = incidents.incident(incident_id)
    for round_ in incident.ringround.tiers.values():
        for call_list in round_.lists:
            holder = call_list.holder
            if call_list.status.value == "offered":
                incidents.execute(incident_id, AcceptCallList(holder, by=holder))
            for contact in call_list.contacts:
                if round_.contacts[contact].state.value == "pending":
                    incidents.execute(incident_id, RecordOutcome(contact, "reached", by=holder))


def run_the_response(world) -> object:
    incidents, clock, tick, playbook, _people, incident_id, _sms = world
    clock.set(T0 - timedelta(minutes=30))
    approve_everything(incidents, incident_id, playbook)
    tick()
    for minutes in range(0, 8 * 60, 5):
        clock.set(E0 - timedelta(hours=1) + timedelta(minutes=minutes))
        tick()
        complete_role_steps(incidents, incident_id, playbook)
        callers_reach_everyone(incidents, incident_id)
        tick()
        if all(s.status == "complete" for s in incidents.view(incident_id).steps):
            break
    return incidents.view(incident_id)


def test_every_briefing_step_opens_and_completes(ct):
    view = ct[1]
    assert {s.id: s.status for s in view.steps} == {s.id: "complete" for s in view.steps}


def test_steps_open_in_the_briefing_order(ct):
    view = ct[1]
    opened = {s.id: s.opened_at for s in view.steps}
    playbook = ct[0][3]
    for step in playbook.briefing:
        for before in step.gate.after:
            assert opened[before] <= opened[step.id], (before, step.id)
    assert all(at >= E0 for at in opened.values())


def test_the_media_hold_lifts_by_its_gate_after_tier_one_is_briefed(ct):
    view = ct[1]
    steps = {s.id: s for s in view.steps}
    assert steps["media"].opened_by == "gate"
    assert steps["media"].opened_at >= steps["tier-1"].completed_at


def test_every_tier_is_fully_reached_by_its_callers(ct):
    view = ct[1]
    started = [t for t in view.tiers if t.started]
    assert {t.number for t in started} == {0, 1, 2, 3}
    assert all((t.reached, t.pending) == (t.total, 0) for t in started)


def test_only_texts_sent_with_the_call_lists_go_when_callers_reach_everyone_in_time(ct):
    # The bundled ladders send the text alongside the call list (sms after: 0m); a contact
    # reached before the dispatcher got to it is not texted at all. Nothing later escalates.
    sent, playbook = ct[0][6].sent, ct[0][3]
    alongside = {t.number for t in playbook.tiers
                 if any(r.kind.value == "sms" and r.after == timedelta(0) for r in t.ladder)}
    assert {s.notify.data["tier"] for s in sent} <= alongside
    assert len({s.notify.recipient for s in sent}) == len(sent)


def test_task_due_times_are_the_playbooks_relative_times(ct):
    view = ct[1]
    playbook = ct[0][3]
    due = {t.id: t.due for t in view.tasks}
    for task in playbook.tasks:
        assert due[task.id] == task.due.resolve(T0, E0), task.id

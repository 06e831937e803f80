"""A real ct-arrests-and-searches incident, run through the service layer with the bundled
sample directory, the real templates, recording fakes and a fake clock, with a varied response:
callers reach most contacts but also leave voicemails and record declines, unsafe-to-call and
wrong numbers; unreached contacts climb the ladder (SMS, voice, red flag) and one replies with
its code; one briefer completes late; tasks are done on time, late or not at all."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from incident_bot.domain.commands import (
    AcceptCallList,
    ApproveMessage,
    CompleteStep,
    CompleteTask,
    RecordOutcome,
)
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Playbook
from incident_bot.errors import RefusedError
from incident_bot.service.dispatcher import Dispatcher
from incident_bot.service.ports import UnitOfWork
from incident_bot.service.reports.after_action import Records, load_records
from incident_bot.service.timers import TimerPoller
from incident_bot.service.use_cases import IncidentService
from tests.ct_incident import E0, T0, ct_service, start_ct
from tests.fakes import FakeClock, RecordingChat, RecordingSms, RecordingVoice

INCIDENT = "inc-aar"
LATE_STEP = "members"  # its briefer completes it a quarter of an hour after its plan
# Caller outcomes by the order contacts are first called (the rest are reached).
OUTCOMES = {3: "voicemail", 9: "declined", 14: "unsafe_to_call", 20: "wrong_number",
            26: "voicemail", 31: "no_answer", 40: "voicemail"}


@dataclass
class World:
    uow_factory: Callable[[], UnitOfWork]
    database_url: str | None  # None on the memory store
    incidents: IncidentService
    clock: FakeClock
    playbook: Playbook
    people: list[Person]
    sms: RecordingSms
    incident_id: str = INCIDENT
    tried: set[str] = field(default_factory=set)
    confirmed_by_sms: list[str] = field(default_factory=list)

    def records(self) -> Records:
        with self.uow_factory() as uow:
            return load_records(uow, self.incident_id)


def build_world(uow_factory: Callable[[], UnitOfWork], database_url: str | None) -> World:
    clock = FakeClock(T0 - timedelta(hours=1))
    incidents, ct = ct_service(uow_factory, clock)
    sms = RecordingSms()
    world = World(uow_factory, database_url, incidents, clock, ct.playbook, ct.people, sms)
    poller = TimerPoller(uow_factory, clock, "aar")
    dispatcher = Dispatcher(uow_factory, clock, incidents, RecordingChat(), sms,
                            RecordingVoice(), worker="aar")

    def tick() -> None:
        while poller.fire_due() + dispatcher.dispatch():
            pass

    start_ct(incidents, ct, INCIDENT)
    tick()
    run_the_response(world, tick)
    return world


def run_the_response(world: World, tick: Callable[[], None]) -> None:
    world.clock.set(T0 - timedelta(minutes=30))
    approve_everything(world)
    tick()
    for minutes in range(0, 4 * 60, 5):
        world.clock.set(E0 - timedelta(hours=1) + timedelta(minutes=minutes))
        tick()
        complete_role_steps(world)
        callers_call(world)
        reply_to_the_first_sms(world)
        work_on_tasks(world)
        tick()


def approve_everything(world: World) -> None:
    view = world.incidents.view(world.incident_id)
    for message in world.playbook.messages:
        for role in message.approvers:
            holder = next(r for r in view.roles if r.code == role).holders[0]
            world.incidents.execute(world.incident_id, ApproveMessage(message.id, 1, by=holder))


def complete_role_steps(world: World) -> None:
    view = world.incidents.view(world.incident_id)
    now = world.clock.now()
    for step in view.steps:
        defined = world.playbook.step(step.id)
        called = defined.audience.tiers and not defined.audience.public
        if step.status != "open" or defined.complete_at_coverage is not None or called:
            continue
        if step.id == LATE_STEP and step.planned_at and now < step.planned_at + \
                timedelta(minutes=15):
            continue
        briefer = next(r for r in view.roles if r.code == defined.briefed_by).holders[0]
        world.incidents.execute(world.incident_id, CompleteStep(step.id, by=briefer))


def callers_call(world: World) -> None:
    incident = world.incidents.incident(world.incident_id)
    for round_ in incident.ringround.tiers.values():
        for call_list in round_.lists:
            holder = call_list.holder
            if call_list.status.value == "offered":
                world.incidents.execute(world.incident_id, AcceptCallList(holder, by=holder))
            for contact in call_list.contacts:
                if round_.contacts[contact].state.value != "pending" or contact in world.tried:
                    continue
                world.tried.add(contact)
                outcome = OUTCOMES.get(len(world.tried), "reached")
                world.incidents.execute(world.incident_id,
                                        RecordOutcome(contact, outcome, by=holder))


def reply_to_the_first_sms(world: World) -> None:
    """The first contact texted and not reached by a caller (texts go with the call lists)
    replies with their tier's code."""
    if world.confirmed_by_sms:
        return
    incident = world.incidents.incident(world.incident_id)
    for sent in world.sms.sent:
        round_, contact = incident.ringround.find(sent.notify.recipient)
        if contact.state.value == "pending":
            world.incidents.sms_inbound(sent.address, round_.code)
            world.confirmed_by_sms.append(sent.notify.recipient)
            return


def work_on_tasks(world: World) -> None:
    """Tasks in even places are done 5 minutes before due; every third is done 10 minutes
    late; the rest never."""
    now = world.clock.now()
    for index, task in enumerate(world.incidents.view(world.incident_id).tasks):
        if task.status in ("done", "cannot_do") or task.due is None or not task.assignees:
            continue
        when = (task.due - timedelta(minutes=5) if index % 2 == 0
                else task.due + timedelta(minutes=10) if index % 3 == 1 else None)
        if when is not None and now >= when:
            # Blocked by a dependency: tried again at the next tick.
            with contextlib.suppress(RefusedError):
                world.incidents.execute(world.incident_id,
                                        CompleteTask(task.id, by=task.assignees[0]))

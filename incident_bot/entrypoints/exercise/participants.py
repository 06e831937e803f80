"""The simulated people of an exercise, who react to what the bot sends them as people do.

The staff are here; the ring-round's callers and community contacts are in ``community.py``.

- The **commander** (the first holder of the playbook's first ``started_by`` role that has one)
  starts the incident at T0-30m, or 15 minutes before the playbook's first task falls due if
  that is earlier, with E0 from the playbook's default (else T0+1h). The exercise
  has one inject: if the media hold is still held an hour after E0 (a journalist has the
  story), the commander overrides it with a reason, which the bot puts in the decision log.
- **Approvers** approve every key message's version 1 a few minutes after the start (one holder
  per approver role); one whose role is not need-to-know is refused before T0 and tries again
  just after it.
- **Briefers** complete the steps briefed in person 5-20 minutes after they open, and release
  the statement of a public step before completing it.
- **Task owners** acknowledge within minutes, late (15 %) or never (15 %), and complete around
  the due time; a deputy told of an unacknowledged task often picks it up.

The staff's random draws come from one ``random.Random(seed)``, in the order events happen, so
the same seed plays out the same way; the callers and contacts act on their fixed dispositions
(``people.py``), the same whatever order events happen in.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from incident_bot.domain.commands import (
    AckTask,
    ApproveMessage,
    CompleteStep,
    CompleteTask,
    OverrideStep,
    ReleaseMessage,
)
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import BriefingStep, Playbook
from incident_bot.entrypoints.exercise.acting import Acting, Behaviour
from incident_bot.entrypoints.exercise.community import Community, dead_phones
from incident_bot.entrypoints.exercise.people import People, people_for
from incident_bot.entrypoints.exercise.runner import Delivery, ExerciseConfig, Stage
from incident_bot.entrypoints.exercise.transcript import UK
from incident_bot.errors import IncidentBotError
from incident_bot.service.use_cases import StartRequest

__all__ = ["Behaviour", "Cast"]

OVERRIDE_REASON = ("A journalist has the story and will publish within the hour: release the "
                   "holding statement now so the public hears it from us.")
SUMMARY = "Exercise: pre-planned arrests and searches at three addresses."


@dataclass(frozen=True)
class TaskPlan:
    task_id: str
    owner: str


class Cast(Acting):
    """Every simulated person; implements ``runner.Participants``."""

    def __init__(self, playbook: Playbook, people: Sequence[Person], config: ExerciseConfig,
                 behaviour: Behaviour | None = None) -> None:
        super().__init__(random.Random(config.seed),  # noqa: S311 - a simulation, not secrecy
                         behaviour or Behaviour())
        self.playbook, self.config = playbook, config
        self.people = {p.key: p for p in sorted(people, key=lambda p: p.key)}
        self.fixed: People = people_for(playbook, people, config.seed, self.behaviour)
        self.dead_numbers = dead_phones(people, self.fixed)
        self.community = Community(self, self.fixed)
        self._steps_taken: set[str] = set()
        self._task_owner: dict[str, str | None] = {}  # None: nobody is acting on it
        self._blocked: set[str] = set()

    @property
    def commander(self) -> str:
        for role in self.playbook.started_by:
            holders = sorted(k for k, p in self.people.items() if role in p.roles)
            if holders:
                return holders[0]
        return "nobody"

    def e0(self) -> datetime:
        return self.config.e0(self.playbook)

    # ---- the start and the inject -----------------------------------------------------------

    def opening(self, stage: Stage) -> None:
        stage.at(self.config.start_at, self.commander, "start the incident",
                 lambda: self._start(stage))

    def _start(self, stage: Stage) -> None:
        config, e0 = self.config, self.e0()
        try:
            stage.services.incidents.start_incident(StartRequest(
                playbook_id=self.playbook.id, area=config.area, t0=config.t0,
                started_by=self.commander, e0=e0, summary=SUMMARY),
                incident_id=stage.incident_id)
        except IncidentBotError as error:
            stage.refused += 1
            stage.note(f"REFUSED: {stage.name(self.commander)} starts the incident: {error}")
            return
        stage.started = True
        stage.note(f"{stage.name(self.commander)} starts the incident ({self.playbook.id}) in "
                   f"{config.area}: T0 {_hhmm(config.t0)}, E0 {_hhmm(e0)}")
        self._schedule_approvals(stage)
        media = next((s for s in self.playbook.briefing if s.media_hold), None)
        if media is not None:
            stage.at(e0 + self.behaviour.override_after_e0, self.commander, "media-hold inject",
                     lambda: self._override_if_held(stage, media))

    def _schedule_approvals(self, stage: Stage) -> None:
        incident = stage.incident()
        for message in self.playbook.messages:
            if not incident.messages.get(message.id).versions:
                continue
            chosen: list[str] = []
            for role in message.approvers:
                holders = sorted(incident.roles.holders_of(role))
                if holders and not set(holders) & set(chosen):
                    chosen.append(self.rng.choice(holders))
            for person in chosen:
                stage.later(self.minutes(self.behaviour.approve), person,
                            f"approve {message.id}",
                            self._approval(stage, person, message.id))

    def _approval(self, stage: Stage, person: str, message_id: str) -> Callable[[], None]:
        def approve() -> None:
            command = ApproveMessage(message_id, 1, by=person)
            if not self.do(stage, person, command, f"approves {message_id} v1") and \
                    stage.now < self.config.t0:  # not need-to-know: in the incident from T0
                stage.at(self.config.t0 + self.minutes((1, 5)), person,
                         f"approve {message_id} again", approve)
        return approve

    def _override_if_held(self, stage: Stage, step: BriefingStep) -> None:
        if stage.incident().briefing.get(step.id).status.value != "waiting":
            return
        stage.note(f"INJECT: a journalist has the story; {stage.name(self.commander)} "
                   f"overrides the media hold ({step.id})", escalation=True)
        self.do(stage, self.commander, OverrideStep(step.id, OVERRIDE_REASON, self.commander),
                f"overrides briefing step {step.id}")

    # ---- reacting to the bot ----------------------------------------------------------------

    def react(self, stage: Stage, delivery: Delivery) -> None:
        if delivery.kind == "sms":
            self.community.on_sms(stage, delivery)
        elif delivery.kind == "voice":
            self.community.on_voice(stage, delivery)
        elif delivery.notify.recipient != "incident":
            handler = self._CHAT.get(delivery.notify.purpose)
            if handler is not None:
                handler(self, stage, delivery)

    # ---- briefers ---------------------------------------------------------------------------

    def _on_step_opened(self, stage: Stage, delivery: Delivery) -> None:
        step_id = str(delivery.notify.data.get("step", ""))
        if step_id in self._steps_taken:
            return  # another holder of the briefer role is on it
        self._steps_taken.add(step_id)
        step, briefer = self.playbook.step(step_id), delivery.notify.recipient
        if step.complete_at_coverage is not None:
            return  # a ring-round step: it completes itself at coverage
        if step.audience.public and step.message:
            stage.later(self.minutes(self.behaviour.release), briefer, f"release {step.message}",
                        lambda: self._release_then_complete(stage, briefer, step, 0))
        else:
            stage.later(self.minutes(self.behaviour.brief), briefer, f"complete {step.id}",
                        lambda: self._complete_step(stage, briefer, step, 0))

    def _release_then_complete(self, stage: Stage, briefer: str, step: BriefingStep,
                               tries: int) -> None:
        assert step.message is not None
        if self.do(stage, briefer, ReleaseMessage(step.message, briefer),
                   f"releases {step.message}"):
            stage.later(timedelta(minutes=1), briefer, f"complete {step.id}",
                        lambda: self._complete_step(stage, briefer, step, 0))
        elif tries < self.behaviour.retries:
            stage.later(timedelta(minutes=5), briefer, f"release {step.message} again",
                        lambda: self._release_then_complete(stage, briefer, step, tries + 1))

    def _complete_step(self, stage: Stage, briefer: str, step: BriefingStep, tries: int) -> None:
        if self.do(stage, briefer, CompleteStep(step.id, briefer),
                   f"marks briefing step {step.id} done"):
            return
        if tries < self.behaviour.retries:
            stage.later(timedelta(minutes=5), briefer, f"complete {step.id} again",
                        lambda: self._complete_step(stage, briefer, step, tries + 1))

    # ---- task owners and their deputies -----------------------------------------------------

    def _on_task_assigned(self, stage: Stage, delivery: Delivery) -> None:
        task_id, owner = str(delivery.notify.data.get("task")), delivery.notify.recipient
        if task_id in self._task_owner:
            return  # the first holder told is the one who acts (or does not)
        b = self.behaviour
        draw = self.rng.random()
        if draw < b.task_never:
            self._task_owner[task_id] = None
            return
        self._task_owner[task_id] = owner
        delay = self.minutes(b.task_ack_late if draw < b.task_never + b.task_late else b.task_ack)
        self._take_on(stage, TaskPlan(task_id, owner), delay)

    def _on_not_acknowledged(self, stage: Stage, delivery: Delivery) -> None:
        task_id, deputy = str(delivery.notify.data.get("task")), delivery.notify.recipient
        if self._task_owner.get(task_id, "") is not None:
            return  # someone is on it (or it was never assigned to a simulated person)
        self._task_owner[task_id] = deputy
        if self.chance(self.behaviour.deputy_picks_up):
            self._take_on(stage, TaskPlan(task_id, deputy), self.minutes((5, 15)))

    def _take_on(self, stage: Stage, plan: TaskPlan, delay: timedelta) -> None:
        stage.later(delay, plan.owner, f"acknowledge {plan.task_id}",
                    lambda: self._acknowledge(stage, plan))

    def _acknowledge(self, stage: Stage, plan: TaskPlan) -> None:
        if not self.do(stage, plan.owner, AckTask(plan.task_id, plan.owner),
                       f"acknowledges task {plan.task_id}", quiet=True):
            return
        due = stage.incident().tasks.get(plan.task_id).due
        earliest = stage.now + self.minutes((5, 20))
        when = max(earliest, due + self.minutes((-30, 30))) if due else earliest
        stage.at(when, plan.owner, f"complete {plan.task_id}",
                 lambda: self._complete_task(stage, plan))

    def _complete_task(self, stage: Stage, plan: TaskPlan) -> None:
        if not self.do(stage, plan.owner, CompleteTask(plan.task_id, plan.owner),
                       f"completes task {plan.task_id}", quiet=True, quiet_refusal=True):
            self._blocked.add(plan.task_id)  # done once what it waits for is done

    def _on_task_unblocked(self, stage: Stage, delivery: Delivery) -> None:
        task_id = str(delivery.notify.data.get("task"))
        owner = self._task_owner.get(task_id)
        if task_id in self._blocked and owner == delivery.notify.recipient:
            self._blocked.discard(task_id)
            plan = TaskPlan(task_id, owner)
            stage.later(self.minutes((5, 15)), owner, f"complete {task_id}",
                        lambda: self._complete_task(stage, plan))

    _CHAT: ClassVar[dict[str, Callable[[Cast, Stage, Delivery], None]]] = {
        "briefing.opened": _on_step_opened,
        "ringround.list": lambda cast, stage, d: cast.community.on_call_list(stage, d),
        "ringround.senior": lambda cast, stage, d: cast.community.on_senior(stage, d),
        "ringround.list_taken_back": lambda cast, stage, d: cast.community.on_list_closed(stage, d),
        "ringround.list_abandoned": lambda cast, stage, d: cast.community.on_list_abandoned(stage,
                                                                                          d),
        "task.assigned": _on_task_assigned,
        "task.not_acknowledged": _on_not_acknowledged,
        "task.unblocked": _on_task_unblocked,
    }


def _hhmm(instant: datetime) -> str:
    return instant.astimezone(UK).strftime("%H:%M")

"""The exercise's discrete-event loop: a simulated clock, the bot's own timers and outbox, and the
simulated people's actions, on a fresh database.

Each *busy* moment the runner does, in order: the participants' actions due now (each one a real
use case on the real service: start, approve, accept a call list, record an outcome, reply by
SMS...), then the bot's background work (fire due timers, dispatch the outbox) until nothing is
left, then hands every delivery the transports captured to the participants, who schedule their
reactions. Between busy moments simulated time advances in steps (15 s by default); at
``speed`` 0 it jumps straight to the next event, otherwise each step is paced to ``speed``
simulated seconds per real second (pacing is the only wall-clock read, and only for display).

The run ends when every ring-round contact is in a terminal state and nothing (timer or action)
is due within the next simulated hour, or at the cap (T0+12h by default). Every random choice
comes from the seed (the staff's from ``random.Random(seed)``, the callers' and contacts' from
generators of their own, ``people.py``): the same seed gives the same run. Each run has its own
incident id (so its database and reports never overwrite another run's); the SMS confirmation
codes derive from the id, so they are all that differs between two runs of one seed.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from incident_bot.bootstrap import Services
from incident_bot.domain.directory import Person
from incident_bot.domain.incident.model import Incident
from incident_bot.domain.ladder import ContactState
from incident_bot.domain.playbook import Playbook
from incident_bot.entrypoints.exercise.transcript import UK, Transcript
from incident_bot.entrypoints.exercise.transport import Delivery, ExerciseTransport
from incident_bot.service.reports.after_action import (
    AfterActionReport,
    after_action_report,
    load_records,
)
from incident_bot.service.reports.readiness import ReadinessReport, readiness_report

if TYPE_CHECKING:
    from incident_bot.entrypoints.exercise.reach import RoundReach

__all__ = ["UK", "Agenda", "Delivery", "ExerciseConfig", "ExerciseResult", "ExerciseTransport",
           "Participants", "Runner", "Stage", "SteppedClock", "every_contact_final"]


# ---- the clock ------------------------------------------------------------------------------


@dataclass
class SteppedClock:
    """Simulated time that moves only when the runner moves it."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant


# ---- the agenda of participant actions ------------------------------------------------------


@dataclass(order=True)
class Action:
    at: datetime
    seq: int
    actor: str = field(compare=False)
    label: str = field(compare=False)
    act: Callable[[], None] = field(compare=False)


class Agenda:
    """Participant actions in time order (ties in the order they were scheduled)."""

    def __init__(self) -> None:
        self._heap: list[Action] = []
        self._seq = itertools.count()

    def schedule(self, at: datetime, actor: str, label: str, act: Callable[[], None]) -> None:
        heapq.heappush(self._heap, Action(at, next(self._seq), actor, label, act))

    def pop_due(self, now: datetime) -> Action | None:
        if self._heap and self._heap[0].at <= now:
            return heapq.heappop(self._heap)
        return None

    def next_at(self) -> datetime | None:
        return self._heap[0].at if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)


# ---- configuration and result ---------------------------------------------------------------


def new_exercise_id() -> str:
    return f"ex-{secrets.token_hex(4)}"


START_BEFORE_T0 = timedelta(minutes=30)
START_BEFORE_FIRST_TASK = timedelta(minutes=15)


@dataclass(frozen=True)
class ExerciseConfig:
    playbook_id: str
    t0: datetime  # aware UTC: the simulated strike
    seed: int = 1
    area: str = "Northbridge"
    e0_after_t0: timedelta | None = None  # None: the playbook's e0_default, else 1 hour
    # None: T0-30m, or 15 minutes before the playbook's first task falls due if that is earlier
    # (see ``resolved``), so no task is overdue the moment the incident starts
    start_before_t0: timedelta | None = None
    step: timedelta = timedelta(seconds=15)
    cap_after_t0: timedelta = timedelta(hours=12)
    quiet: timedelta = timedelta(hours=1)  # finished when nothing is due this long
    speed: float = 0.0  # simulated seconds per real second; 0: as fast as possible
    verified_within_months: int = 12

    incident_id: str = field(default_factory=new_exercise_id)

    @property
    def start_at(self) -> datetime:
        lead = START_BEFORE_T0 if self.start_before_t0 is None else self.start_before_t0
        return self.t0 - lead

    def e0(self, playbook: Playbook) -> datetime:
        """The E0 the commander gives at the start."""
        if self.e0_after_t0 is not None:
            return self.t0 + self.e0_after_t0
        if playbook.e0_default is not None:
            return playbook.e0_default.resolve(self.t0, self.t0)
        return self.t0 + timedelta(hours=1)

    def resolved(self, playbook: Playbook) -> ExerciseConfig:
        """The start fixed: the commander starts the incident before any task falls due."""
        if self.start_before_t0 is not None:
            return self
        e0 = self.e0(playbook)
        first_due = min((task.due.resolve(self.t0, e0) for task in playbook.tasks),
                        default=self.t0)
        lead = max(START_BEFORE_T0, self.t0 - first_due + START_BEFORE_FIRST_TASK)
        return replace(self, start_before_t0=lead)


@dataclass(frozen=True)
class ExerciseResult:
    incident_id: str
    started_at: datetime
    ended_at: datetime
    ended_because: str
    transcript: Transcript
    report: ReadinessReport
    actions: int  # participant actions run
    refused: int  # of which the bot refused
    warnings: tuple[str, ...]  # log warnings from the bot (each a bug or a provider failure)
    after_action: AfterActionReport | None = None
    reach: RoundReach | None = None  # how far and fast the ring-round reached (reach.py)


class Participants(Protocol):
    """What the runner needs from the simulated people (see ``participants.Cast``)."""

    def opening(self, stage: Stage) -> None:
        """Schedule the first actions (the commander starting the incident)."""
        ...

    def react(self, stage: Stage, delivery: Delivery) -> None:
        """Schedule reactions to something the bot sent."""
        ...


# ---- the stage the participants act on ------------------------------------------------------


@dataclass
class Stage:
    """The participants' view of the world: the service, the clock, the agenda, the log."""

    services: Services
    config: ExerciseConfig
    clock: SteppedClock
    agenda: Agenda
    transcript: Transcript
    people: dict[str, Person]
    started: bool = False  # the incident exists (the start was not refused)
    actions: int = 0
    refused: int = 0
    _cached: tuple[datetime, Incident] | None = None

    @property
    def incident_id(self) -> str:
        return self.config.incident_id

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def name(self, key: str) -> str:
        person = self.people.get(key)
        return person.name if person else key

    def later(self, delay: timedelta, actor: str, label: str, act: Callable[[], None]) -> None:
        self.agenda.schedule(self.now + delay, actor, label, act)

    def at(self, when: datetime, actor: str, label: str, act: Callable[[], None]) -> None:
        self.agenda.schedule(max(when, self.now), actor, label, act)

    def incident(self) -> Incident:
        """The incident as stored now (cached until the clock or a command moves it on)."""
        if self._cached is None or self._cached[0] != self.now:
            self._cached = (self.now, self.services.incidents.incident(self.incident_id))
        return self._cached[1]

    def changed(self) -> None:
        self._cached = None

    def note(self, text: str, escalation: bool = False) -> None:
        self.transcript.note(self.now, text, escalation)


# ---- the loop -------------------------------------------------------------------------------


class Runner:
    def __init__(self, services: Services, config: ExerciseConfig, clock: SteppedClock,
                 transport: ExerciseTransport, participants: Participants,
                 transcript: Transcript, people: dict[str, Person],
                 describe: Callable[[Stage, Delivery], tuple[str, bool] | None],
                 on_step: Callable[[Stage, bool], None] | None = None,
                 on_end: Callable[[Stage], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.services, self.config, self.clock = services, config, clock
        self.transport, self.participants = transport, participants
        self.describe, self.on_step, self.on_end = describe, on_step, on_end
        self.stage = Stage(services, config, clock, Agenda(), transcript, people)
        self._sleep, self._monotonic = sleep, monotonic
        self._real_origin = 0.0

    def run(self) -> ExerciseResult:
        config, stage = self.config, self.stage
        self.clock.set(config.start_at)
        self._real_origin = self._monotonic()
        cap = config.t0 + config.cap_after_t0
        self.participants.opening(stage)
        with _captured_warnings() as warnings:
            while True:
                self._busy()
                next_at = self._next_event_at()
                if self._finished(next_at):
                    reason = "every contact reached a final state and nothing is due"
                    break
                if self.clock.now() >= cap:
                    reason = "the simulated time cap was reached"
                    break
                self._advance_to(min(next_at or cap, cap))
        if self.on_end is not None:
            self.on_end(stage)
        return ExerciseResult(
            incident_id=config.incident_id, started_at=config.start_at, ended_at=self.clock.now(),
            ended_because=reason, transcript=stage.transcript, report=self.report(),
            actions=stage.actions, refused=stage.refused, warnings=tuple(warnings),
            after_action=self.after_action(),
        )

    def report(self) -> ReadinessReport:
        services, incident_id = self.services, self.config.incident_id
        with services.uow_factory() as uow:
            incident = uow.incidents.get(incident_id).incident
            directory = uow.directory.all()
            outbox = uow.outbox.items(incident_id)
            decisions = uow.decisions.entries(incident_id)
        return readiness_report(incident, directory, outbox, decisions, services.templates,
                                self.clock.now(), self.config.verified_within_months)

    def after_action(self) -> AfterActionReport | None:
        if not self.stage.started:
            return None
        with self.services.uow_factory() as uow:
            records = load_records(uow, self.config.incident_id)
        return after_action_report(records, self.clock.now())

    # ---- one busy moment --------------------------------------------------------------------

    def _busy(self) -> None:
        """Run what is due now until nothing more is: actions, timers, deliveries, reactions."""
        while True:
            worked = self._run_due_actions()
            worked += self._background()
            for delivery in self.transport.take():
                worked += 1
                self._show(delivery)
                self.participants.react(self.stage, delivery)
            if not worked:
                break
        if self.on_step is not None:
            self.on_step(self.stage, True)

    def _run_due_actions(self) -> int:
        count = 0
        while (action := self.stage.agenda.pop_due(self.clock.now())) is not None:
            count += 1
            self.stage.actions += 1
            action.act()
            self.stage.changed()
        return count

    def _background(self) -> int:
        """Fire due timers and dispatch the outbox until both have nothing left."""
        if not self._incident_exists():
            return 0
        total = 0
        while True:
            failures = self.transport.failures
            done = self.services.poller.fire_due() + self.services.dispatcher.dispatch()
            done += self.transport.failures - failures
            if not done:
                break
            total += done
            self.stage.changed()
        return total

    def _incident_exists(self) -> bool:
        return self.stage.started

    def _show(self, delivery: Delivery) -> None:
        shown = self.describe(self.stage, delivery)
        if shown is not None:
            text, escalation = shown
            self.stage.note(text, escalation)

    # ---- time -------------------------------------------------------------------------------

    def _next_event_at(self) -> datetime | None:
        times = [t for t in (self.stage.agenda.next_at(), self._next_timer_at()) if t]
        return min(times) if times else None

    def _next_timer_at(self) -> datetime | None:
        if not self._incident_exists():
            return None
        with self.services.uow_factory() as uow:
            pending = uow.timers.pending(self.config.incident_id)
        return pending[0].due_at if pending else None

    def _finished(self, next_at: datetime | None) -> bool:
        soon = next_at is not None and next_at - self.clock.now() < self.config.quiet
        if not self._incident_exists() or soon:
            return False
        return every_contact_final(self.stage.incident())

    def _advance_to(self, target: datetime) -> None:
        """Step to ``target`` (rounded up to the step grid), pacing each step when asked."""
        step = self.config.step
        now = self.clock.now()
        steps = max(1, -(-(target - now) // step))
        if self.config.speed <= 0:
            self.clock.set(now + steps * step)
            return
        for _ in range(steps):
            self.clock.set(self.clock.now() + step)
            self._pace()
            if self.on_step is not None:
                self.on_step(self.stage, False)

    def _pace(self) -> None:
        simulated = (self.clock.now() - self.config.start_at).total_seconds()
        due = self._real_origin + simulated / self.config.speed
        delay = due - self._monotonic()
        if delay > 0:
            self._sleep(delay)


def every_contact_final(incident: Incident) -> bool:
    """Every contact of every tier the playbook runs a round for is in a started round and in
    a terminal state."""
    round_tiers = {t.number for t in incident.playbook.tiers if t.caller_role or t.ladder}
    expected = {k for k, p in incident.people.items() if p.tier in round_tiers}
    seen: set[str] = set()
    for round_ in incident.ringround.tiers.values():
        for contact in round_.contacts.values():
            if contact.state is ContactState.PENDING:
                return False
            seen.add(contact.key)
    return expected <= seen


@contextmanager
def _captured_warnings() -> Iterator[list[str]]:
    """Keep the bot's warnings (e.g. a failed delivery) for the result instead of letting them
    interleave with the live view; they never contain phone numbers (a project rule)."""
    captured: list[str] = []
    handler = _ListHandler(captured)
    logger = logging.getLogger("incident_bot")
    logger.addHandler(handler)
    saved = logger.propagate
    logger.propagate = False
    try:
        yield captured
    finally:
        logger.removeHandler(handler)
        logger.propagate = saved


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self._sink.append(record.getMessage())

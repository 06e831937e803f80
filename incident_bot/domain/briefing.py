"""The briefing order and the media hold (domain.md §4). Standard library only.

Each playbook step is ``waiting`` → ``open`` → ``complete``. No step opens before E0. From E0 a
step opens when its gate allows: every ``after`` step complete and each ``coverage`` tier at
its threshold; or the gate's ``timeout`` has passed. An authorised override (with a reason) opens
it at once, even before E0, and so does marking the timeline compromised. A step whose audience
is a set of tiers may complete itself at a coverage (``complete_at_coverage``); any other step is
completed by its briefer.

The media-hold step is an ordinary step with a gate: it cannot open before the key individuals'
steps complete unless its timeout passes or someone overrides it, and a waiting media step is
reported as *held*.

Functions here change the :class:`Briefing` they are given and report what changed; the
orchestrator (``incident.py``) checks who may act, starts ring-rounds and writes the notices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from incident_bot.domain.durations import IncidentClock, RelativeTime
from incident_bot.domain.effects import ScheduleTimer
from incident_bot.domain.playbook import BriefingStep, Playbook
from incident_bot.domain.serial import from_iso, hhmm, iso
from incident_bot.errors import RefusedError, TransitionRefused

E0_TIMER = "briefing.e0"
TIMEOUT_TIMER = "briefing.timeout"
BY_COVERAGE = "coverage"  # completed_by of a step that completed itself


class StepStatus(StrEnum):
    WAITING = "waiting"
    OPEN = "open"
    COMPLETE = "complete"


class OpenedBy(StrEnum):
    GATE = "gate"  # its conditions were met
    TIMEOUT = "timeout"
    OVERRIDE = "override"
    COMPROMISED = "compromised"


@dataclass(frozen=True)
class Clocks:
    """The incident's T0 and E0 (None while the police have not set it), and the time zone its
    notices show them in."""

    t0: datetime
    e0: datetime | None
    zone: str = "UTC"

    def resolve(self, when: RelativeTime | None) -> datetime | None:
        if when is None or (when.clock is IncidentClock.E0 and self.e0 is None):
            return None
        return when.resolve(self.t0, self.e0 or self.t0)


@dataclass
class StepState:
    id: str
    status: StepStatus = StepStatus.WAITING
    overridden: bool = False
    opened_at: datetime | None = None
    opened_by: OpenedBy | None = None
    override_by: str | None = None  # person key
    override_reason: str = ""
    completed_at: datetime | None = None
    completed_by: str | None = None  # person key, or "coverage"
    message_version: str | None = None  # e.g. "member-briefing@v2/en": what the briefing used

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value, "opened_at": iso(self.opened_at),
                "opened_by": self.opened_by.value if self.opened_by else None,
                "completed_at": iso(self.completed_at)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StepState:
        return cls(**{**d, "status": StepStatus(d["status"]),
                      "opened_at": from_iso(d["opened_at"]),
                      "opened_by": OpenedBy(d["opened_by"]) if d["opened_by"] else None,
                      "completed_at": from_iso(d["completed_at"])})


@dataclass
class Briefing:
    steps: dict[str, StepState] = field(default_factory=dict)
    compromised_at: datetime | None = None
    compromised_by: str | None = None
    compromise_reason: str = ""

    @classmethod
    def for_playbook(cls, playbook: Playbook) -> Briefing:
        return cls({step.id: StepState(step.id) for step in playbook.briefing})

    @property
    def compromised(self) -> bool:
        return self.compromised_at is not None

    def get(self, step_id: str) -> StepState:
        if step_id not in self.steps:
            known = ", ".join(self.steps) or "none"
            raise RefusedError(f"no briefing step {step_id!r} in this incident (steps: {known})")
        return self.steps[step_id]

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps.values()],
                "compromised_at": iso(self.compromised_at),
                "compromised_by": self.compromised_by,
                "compromise_reason": self.compromise_reason}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Briefing:
        steps = [StepState.from_dict(s) for s in d["steps"]]
        return cls({s.id: s for s in steps}, from_iso(d["compromised_at"]), d["compromised_by"],
                   d["compromise_reason"])


def status_label(step: BriefingStep, state: StepState) -> str:
    """``held`` for a waiting media-hold step, else the status."""
    if step.media_hold and state.status is StepStatus.WAITING:
        return "held"
    return state.status.value


# ---- gates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageNeed:
    tier: int
    have: float
    need: float


@dataclass(frozen=True)
class GateCheck:
    """Where a step's gate stands at one moment."""

    e0_at: datetime | None
    e0_passed: bool
    steps_waiting: tuple[str, ...]  # ``after`` steps not complete yet
    coverage_short: tuple[CoverageNeed, ...]
    timeout_at: datetime | None
    timed_out: bool
    override_by: tuple[str, ...]
    zone: str = "UTC"  # the incident's, for the times in ``describe``

    @property
    def conditions_met(self) -> bool:
        return not self.steps_waiting and not self.coverage_short

    @property
    def may_open(self) -> bool:
        return self.e0_passed and (self.conditions_met or self.timed_out)

    def describe(self) -> str:
        """What the step is waiting for, in words (empty when it may open)."""
        if self.may_open:
            return ""
        parts = [] if self.e0_passed else [f"E0 ({hhmm(self.e0_at, self.zone)})"]
        parts += [f"step {s} to complete" for s in self.steps_waiting]
        parts += [f"tier {c.tier} coverage {c.have:.0%} of {c.need:.0%}"
                  for c in self.coverage_short]
        text = "waiting for " + ", ".join(parts)
        if self.timeout_at is not None and not self.timed_out:
            text += f"; opens anyway at {hhmm(self.timeout_at, self.zone)}"
        return text


def check_gate(step: BriefingStep, briefing: Briefing, coverage: Mapping[int, float],
               clocks: Clocks, now: datetime) -> GateCheck:
    """``coverage`` maps a tier to the fraction of its contacts reached; a tier whose round has
    not started is absent and counts as nothing reached."""
    gate = step.gate
    waiting = tuple(s for s in gate.after
                    if briefing.get(s).status is not StepStatus.COMPLETE)
    need = gate.coverage
    short = tuple(CoverageNeed(t, coverage.get(t, 0.0), need) for t in gate.coverage_tiers
                  if need is not None and coverage.get(t, 0.0) < need)
    timeout_at = clocks.resolve(gate.timeout)
    return GateCheck(
        e0_at=clocks.e0, e0_passed=clocks.e0 is not None and now >= clocks.e0,
        steps_waiting=waiting, coverage_short=short, timeout_at=timeout_at,
        timed_out=timeout_at is not None and now >= timeout_at, override_by=gate.override_by,
        zone=clocks.zone,
    )


def coverage_reached(step: BriefingStep, coverage: Mapping[int, float]) -> bool:
    """Whether a ``complete_at_coverage`` step's tiers have all reached it."""
    target = step.complete_at_coverage
    return target is not None and all(coverage.get(t, 0.0) >= target
                                      for t in step.audience.tiers)


@dataclass(frozen=True)
class Change:
    step_id: str
    event: str  # "opened" or "completed"
    how: str  # OpenedBy value, "coverage", or a person key


def advance(briefing: Briefing, playbook: Playbook, coverage: Mapping[int, float],
            clocks: Clocks, now: datetime) -> list[Change]:
    """Open every step whose gate allows it and complete every step whose tiers reached their
    coverage, repeating until nothing changes (one completion may open the next step)."""
    changes: list[Change] = []
    while True:
        found = _next_change(briefing, playbook, coverage, clocks, now)
        if found is None:
            return changes
        changes.append(found)


def _next_change(briefing: Briefing, playbook: Playbook, coverage: Mapping[int, float],
                 clocks: Clocks, now: datetime) -> Change | None:
    for step in playbook.briefing:
        state = briefing.get(step.id)
        if state.status is StepStatus.WAITING:
            check = check_gate(step, briefing, coverage, clocks, now)
            if check.may_open:
                how = OpenedBy.GATE if check.conditions_met else OpenedBy.TIMEOUT
                _open(state, how, now)
                return Change(step.id, "opened", how.value)
        elif state.status is StepStatus.OPEN and coverage_reached(step, coverage):
            _complete(state, BY_COVERAGE, now)
            return Change(step.id, "completed", BY_COVERAGE)
    return None


# ---- people acting on steps ---------------------------------------------------------------


def override(briefing: Briefing, step_id: str, reason: str, by: str,
             now: datetime) -> Change:
    """Open a waiting step now (the orchestrator checks ``by`` may, and logs it)."""
    state = briefing.get(step_id)
    if not reason.strip():
        raise RefusedError(f"can't override briefing step {step_id} without a reason: "
                           "the reason goes in the decision log")
    if state.status is not StepStatus.WAITING:
        raise TransitionRefused("override", state.status.value, f"briefing step {step_id}")
    _open(state, OpenedBy.OVERRIDE, now)
    state.overridden, state.override_by, state.override_reason = True, by, reason.strip()
    return Change(step_id, "opened", OpenedBy.OVERRIDE.value)


def complete(briefing: Briefing, step: BriefingStep, by: str, now: datetime) -> bool:
    """The briefer marks an open step done; False for a repeat. A step that completes itself
    at a coverage cannot be marked done by hand: that would lift the media hold unseen."""
    state = briefing.get(step.id)
    if step.complete_at_coverage is not None:
        raise RefusedError(
            f"can't complete briefing step {step.id} by hand: it completes itself when tier(s) "
            f"{', '.join(map(str, step.audience.tiers))} reach "
            f"{step.complete_at_coverage:.0%} coverage; to go on without it, override the next "
            "step with a reason")
    if state.status is StepStatus.COMPLETE:
        return False
    if state.status is not StepStatus.OPEN:
        raise TransitionRefused("complete", status_label(step, state), f"briefing step {step.id}")
    _complete(state, by, now)
    return True


def compromise(briefing: Briefing, reason: str, by: str, now: datetime) -> list[Change]:
    """The operation is public: every waiting step opens at once, in parallel."""
    if not reason.strip():
        raise RefusedError("can't mark the timeline compromised without a reason: the reason "
                           "goes in the decision log")
    briefing.compromised_at, briefing.compromised_by = now, by
    briefing.compromise_reason = reason.strip()
    changes = []
    for state in briefing.steps.values():
        if state.status is StepStatus.WAITING:
            _open(state, OpenedBy.COMPROMISED, now)
            changes.append(Change(state.id, "opened", OpenedBy.COMPROMISED.value))
    return changes


def _open(state: StepState, how: OpenedBy, now: datetime) -> None:
    state.status, state.opened_at, state.opened_by = StepStatus.OPEN, now, how


def _complete(state: StepState, by: str, now: datetime) -> None:
    state.status, state.completed_at, state.completed_by = StepStatus.COMPLETE, now, by


# ---- timers and plans ---------------------------------------------------------------------


def gate_timers(incident_id: str, playbook: Playbook, clocks: Clocks) -> list[ScheduleTimer]:
    """Wake-ups at E0 and at each step's timeout. Their keys carry the time, so after E0 moves
    new timers are set; a timer that fires at an old time finds nothing to do."""
    if clocks.e0 is None:
        return []
    at = clocks.e0.isoformat()
    timers = [ScheduleTimer(f"{incident_id}:briefing:e0:{at}", clocks.e0, E0_TIMER, {"at": at})]
    for step in playbook.briefing:
        timeout = clocks.resolve(step.gate.timeout)
        if timeout is not None:
            stamp = timeout.isoformat()
            timers.append(ScheduleTimer(f"{incident_id}:briefing:{step.id}:timeout:{stamp}",
                                        timeout, TIMEOUT_TIMER, {"step": step.id, "at": stamp}))
    return timers


def planned_at(step: BriefingStep, clocks: Clocks) -> datetime | None:
    """When the playbook planned the step (its ``due``), for the report."""
    return clocks.resolve(step.due)


def steps_for_tier(playbook: Playbook, tier: int) -> list[BriefingStep]:
    return [step for step in playbook.briefing if tier in step.audience.tiers]

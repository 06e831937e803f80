"""The media hold under random events (Hypothesis stateful test).

Whatever the order of step completions, call outcomes, overrides (authorised or not, with or
without a reason), E0 changes, compromise and the passing of time (timers firing late), the
media step only ever opens when, at that moment, E0 has passed and either the tier-1 step is
complete or the hold's timeout has passed — or the same event logged an override of it or a
compromised timeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from builders import MIN, T0, active_incident, approve_all
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from incident_bot.domain.briefing import StepStatus
from incident_bot.domain.commands import (
    Command,
    CompleteStep,
    MarkCompromised,
    OverrideStep,
    RecordOutcome,
    SetE0,
)
from incident_bot.domain.effects import Effect, RecordDecision, ScheduleTimer
from incident_bot.domain.incident import Incident, handle, on_timer
from incident_bot.errors import IncidentBotError

PEOPLE = ["gold", "silver", "pcomms", "eng", "cal1"]
STEPS = ["strategic", "members", "tier-1", "media", "tier-3"]
OUTCOMES = ["reached", "no_answer", "declined", "voicemail"]


class MediaHold(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.incident: Incident = active_incident()
        approve_all(self.incident, T0)
        self.now = T0 + MIN
        self.timers: dict[str, ScheduleTimer] = {}
        self.fired: set[str] = set()

    # ---- events -----------------------------------------------------------------------

    @rule(minutes=st.integers(0, 45))
    def time_passes(self, minutes: int) -> None:
        target = self.now + timedelta(minutes=minutes)
        while due := self._next_due(target):
            self.fired.add(due.key)
            self.now = max(self.now, due.due_at)
            self._apply(lambda d=due: on_timer(self.incident, d.kind, d.payload, self.now))
        self.now = target

    @rule(step=st.sampled_from(STEPS), by=st.sampled_from(PEOPLE))
    def complete_step(self, step: str, by: str) -> None:
        self._command(CompleteStep(step, by))

    @rule(contact=st.sampled_from(["k1", "k2", "k3", "k4"]), outcome=st.sampled_from(OUTCOMES))
    def call_outcome(self, contact: str, outcome: str) -> None:
        self._command(RecordOutcome(contact, outcome, "eng"))

    @rule(step=st.sampled_from(STEPS), by=st.sampled_from(PEOPLE),
          reason=st.sampled_from(["", "Reported on local radio"]))
    def override(self, step: str, by: str, reason: str) -> None:
        self._command(OverrideStep(step, reason, by))

    @rule(minutes=st.integers(0, 150))
    def move_e0(self, minutes: int) -> None:
        self._command(SetE0(T0 + timedelta(minutes=minutes), "gold"))

    @rule(by=st.sampled_from(PEOPLE))
    def compromise(self, by: str) -> None:
        self._command(MarkCompromised("Pictures on social media", by))

    # ---- the property -----------------------------------------------------------------

    @invariant()
    def an_open_media_step_records_how_it_opened(self) -> None:
        state = self.incident.briefing.steps["media"]
        if state.status is not StepStatus.WAITING:
            assert state.opened_by is not None
            assert state.opened_at is not None

    def _command(self, command: Command) -> None:
        self._apply(lambda: handle(self.incident, command, self.now))

    def _apply(self, act: object) -> None:
        was_waiting = self._media_waiting()
        before = self.incident.state_dict()
        try:
            effects: list[Effect] = act()  # type: ignore[operator]
        except IncidentBotError:
            assert self.incident.state_dict() == before
            return
        for effect in effects:
            if isinstance(effect, ScheduleTimer):
                self.timers.setdefault(effect.key, effect)
        if was_waiting and not self._media_waiting():
            assert self._allowed(effects), self.incident.briefing.steps["media"]

    def _allowed(self, effects: list[Effect]) -> bool:
        """The conditions at the moment it opened (E0 may have moved in the same event)."""
        e0, timeout = self.incident.params.e0, self._timeout()
        logged = [e for e in effects if isinstance(e, RecordDecision)]
        overridden = any(e.kind == "override" and "step media " in e.decision for e in logged)
        compromised = any(e.kind == "compromised" for e in logged)
        tier1_done = self.incident.briefing.steps["tier-1"].status is StepStatus.COMPLETE
        after_e0 = e0 is not None and self.now >= e0
        timed_out = timeout is not None and self.now >= timeout
        return overridden or compromised or (after_e0 and (tier1_done or timed_out))

    def _media_waiting(self) -> bool:
        return self.incident.briefing.steps["media"].status is StepStatus.WAITING

    def _timeout(self) -> datetime | None:
        step = self.incident.playbook.step("media")
        return self.incident.clocks.resolve(step.gate.timeout)

    def _next_due(self, target: datetime) -> ScheduleTimer | None:
        due = [t for k, t in self.timers.items() if k not in self.fired and t.due_at <= target]
        return min(due, key=lambda t: (t.due_at, t.key)) if due else None


MediaHold.TestCase.settings = settings(
    max_examples=50, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_the_media_hold_never_opens_without_its_conditions_or_a_logged_override = MediaHold.TestCase

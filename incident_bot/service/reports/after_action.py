"""The after-action report: what happened in one incident, in order, against the playbook. Pure:
computed from the incident as stored, its decision log, its outbox rows and the provider's
delivery records, at one moment (``as_of``); it changes nothing.

- summary: playbook, area, T0/E0, status, classification;
- timeline: status changes, briefing steps opened and completed, escalations fired and decisions
  logged, in time order;
- the decision log and the result of checking its hash chain;
- the briefing order planned (the playbook's ``due``) against the times steps really opened and
  completed;
- the ring-round per tier: contacts reached (by a caller), confirmed (SMS code or voice digit),
  left on voicemail or no answer (their latest outcome), failed (declined or wrong number),
  opted out, unsafe to call, flagged; median and worst time to reach from the tier's start; and
  coverage over time for the chart;
- which key message version went to whom on which channel (people by name: a phone number is
  never in the report);
- tasks done on time, done late, not done; escalations fired.

``load_records`` reads what the builder needs through a unit of work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from incident_bot.domain.decision_log import ChainCheck, verify_chain
from incident_bot.domain.durations import median_duration
from incident_bot.domain.effects import OutboxChannel
from incident_bot.domain.incident import read_model
from incident_bot.domain.incident.model import INCIDENT_CHANNEL, Incident
from incident_bot.domain.ladder import REACHED_STATES, ContactState
from incident_bot.domain.ringround import TierRound, times_to_reach
from incident_bot.domain.tasks import Task, TaskState
from incident_bot.service.ports import DecisionEntry, OutboxItem, UnitOfWork
from incident_bot.service.reports.readiness import (
    ESCALATIONS,
    PUBLIC_TIER,
    Count,
    escalation_counts,
    event_id,
)

# ---- the records it is built from -----------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRecord:
    """One status the provider (or the dispatcher) recorded for an outbox row."""

    outbox_id: int
    status: str
    error_code: str | None
    at: datetime


@dataclass(frozen=True)
class Records:
    incident: Incident
    decisions: tuple[DecisionEntry, ...]
    outbox: tuple[OutboxItem, ...]
    deliveries: Mapping[int, tuple[DeliveryRecord, ...]]


def load_records(uow: UnitOfWork, incident_id: str) -> Records:
    """Everything the report needs, read in the caller's unit of work."""
    incident = uow.incidents.get(incident_id).incident
    outbox = tuple(uow.outbox.items(incident_id))
    deliveries = {item.id: tuple(DeliveryRecord(item.id, status, code, at)
                                 for status, code, at in uow.outbox.history(item.id))
                  for item in outbox}
    return Records(incident, tuple(uow.decisions.entries(incident_id)), outbox, deliveries)


# ---- the report model -----------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    incident_id: str
    playbook_id: str
    playbook_title: str
    area: str
    t0: datetime
    e0: datetime | None
    status: str
    classification: str
    started_at: datetime
    started_by: str  # a name
    compromised: bool
    as_of: datetime


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str  # status, step opened, step completed, escalation, decision
    text: str


@dataclass(frozen=True)
class DecisionLine:
    seq: int
    decided_at: datetime
    kind: str
    decision: str
    rationale: str
    decided_by: str  # a name, or the person key / role as logged


@dataclass(frozen=True)
class DecisionLog:
    entries: tuple[DecisionLine, ...]
    chain: ChainCheck

    @property
    def verdict(self) -> str:
        if self.chain.ok:
            return f"hash chain intact ({self.chain.entries} entries)"
        return f"hash chain BROKEN at entry {self.chain.first_bad_seq}: {self.chain.reason}"


@dataclass(frozen=True)
class StepLine:
    id: str
    title: str
    briefed_by: str  # a role
    planned_at: datetime | None
    opened_at: datetime | None
    opened_by: str | None  # gate, timeout, override, compromised
    completed_at: datetime | None
    completed_by: str | None  # a name, or "coverage"
    opened_late_by: timedelta | None  # opened after the plan
    late_by: timedelta | None  # completed (or still open at the report time) after the plan


@dataclass(frozen=True)
class CoveragePoint:
    at: datetime
    fraction: float


@dataclass(frozen=True)
class TierLine:
    number: int
    title: str
    started_at: datetime | None
    total: int
    reached: int  # by a caller (or a senior officer)
    confirmed: int  # by SMS code or voice digit
    voicemail: int  # latest outcome recorded: voicemail
    no_answer: int  # latest outcome recorded: no answer
    failed: int  # declined or wrong number
    opted_out: int
    unsafe: int
    flagged: int
    pending: int
    target: float
    median_to_reach: timedelta | None
    worst_to_reach: timedelta | None
    curve: tuple[CoveragePoint, ...]  # share reached (reached or confirmed) after each success

    @property
    def fraction(self) -> float:
        return (self.reached + self.confirmed) / self.total if self.total else 0.0


@dataclass(frozen=True)
class MessageDelivery:
    version: str  # e.g. ring-round-sms@v1/ur
    channel: str
    recipient: str  # a name, or "incident channel"
    status: str  # the outbox row's status: sent, failed, cancelled, pending
    provider_status: str | None  # the last status the provider reported
    at: datetime  # when it was sent (else when it was queued)


@dataclass(frozen=True)
class TaskLine:
    id: str
    title: str
    owner: str
    due: datetime | None
    done_at: datetime | None
    outcome: str  # on time, late, not done
    late_by: timedelta | None


@dataclass(frozen=True)
class TaskTally:
    on_time: int
    late: int
    not_done: int


@dataclass(frozen=True)
class AfterActionReport:
    summary: Summary
    timeline: tuple[TimelineEvent, ...]
    decision_log: DecisionLog
    steps: tuple[StepLine, ...]
    tiers: tuple[TierLine, ...]
    deliveries: tuple[MessageDelivery, ...]
    tasks: tuple[TaskLine, ...]
    task_tally: TaskTally
    escalations: tuple[Count, ...]

    def tier(self, number: int) -> TierLine:
        return next(t for t in self.tiers if t.number == number)


# ---- building it ----------------------------------------------------------------------------


def after_action_report(records: Records, as_of: datetime) -> AfterActionReport:
    incident = records.incident
    steps = step_lines(incident, as_of)
    tasks = task_lines(incident)
    return AfterActionReport(
        summary=summary(incident, as_of),
        timeline=timeline(incident, records.decisions, records.outbox),
        decision_log=decision_log(incident, records.decisions),
        steps=steps, tiers=tier_lines(incident), deliveries=message_deliveries(records),
        tasks=tasks, task_tally=tally(tasks), escalations=escalation_counts(records.outbox),
    )


def summary(incident: Incident, as_of: datetime) -> Summary:
    pb, params = incident.playbook, incident.params
    return Summary(
        incident_id=incident.id, playbook_id=pb.id, playbook_title=pb.title, area=params.area,
        t0=params.t0, e0=params.e0, status=incident.status.value,
        classification=params.classification.value, started_at=incident.started_at,
        started_by=incident.name(incident.started_by), compromised=incident.briefing.compromised,
        as_of=as_of,
    )


def timeline(incident: Incident, decisions: Iterable[DecisionEntry],
             outbox: Iterable[OutboxItem]) -> tuple[TimelineEvent, ...]:
    """Every event in time order; at the same instant: status, steps, escalations, decisions
    (each group in the order it was recorded)."""
    events = [*_status_events(incident), *_step_events(incident),
              *_escalation_events(outbox), *_decision_events(incident, decisions)]
    order = {"status": 0, "step opened": 1, "step completed": 2, "escalation": 3, "decision": 4}
    ranked = sorted(enumerate(events), key=lambda pair: (pair[1].at, order[pair[1].kind],
                                                          pair[0]))
    return tuple(event for _, event in ranked)


def _status_events(incident: Incident) -> list[TimelineEvent]:
    return [TimelineEvent(change.at, "status",
                          f"incident {change.status.value} ({incident.name(change.by)})")
            for change in incident.history]


def _step_events(incident: Incident) -> list[TimelineEvent]:
    events = []
    for step in incident.playbook.briefing:
        state = incident.briefing.get(step.id)
        if state.opened_at is not None:
            how = state.opened_by.value if state.opened_by else "?"
            events.append(TimelineEvent(state.opened_at, "step opened",
                                        f"{step.id}: {step.title} opened ({how})"))
        if state.completed_at is not None:
            events.append(TimelineEvent(state.completed_at, "step completed",
                                        f"{step.id}: {step.title} completed "
                                        f"({_who(incident, state.completed_by)})"))
    return events


def _escalation_events(outbox: Iterable[OutboxItem]) -> list[TimelineEvent]:
    """One event per escalation (an alert told to three people is one event), at the time it
    was queued."""
    first: dict[str, OutboxItem] = {}
    for item in outbox:
        if item.notify.purpose in ESCALATIONS:
            first.setdefault(event_id(item), item)
    return [TimelineEvent(item.created_at or item.next_attempt_at, "escalation",
                          _escalation_text(item)) for item in first.values()]


def _escalation_text(item: OutboxItem) -> str:
    label = ESCALATIONS[item.notify.purpose]
    tier = item.notify.data.get("tier")
    return f"{label} (tier {tier})" if tier is not None else label


def _decision_events(incident: Incident,
                     decisions: Iterable[DecisionEntry]) -> list[TimelineEvent]:
    return [TimelineEvent(entry.decided_at, "decision",
                          f"#{entry.seq} {entry.kind}: {entry.decision} "
                          f"({incident.name(entry.decided_by)})")
            for entry in decisions]


def decision_log(incident: Incident, decisions: Sequence[DecisionEntry]) -> DecisionLog:
    lines = tuple(DecisionLine(e.seq, e.decided_at, e.kind, e.decision, e.rationale,
                               incident.name(e.decided_by))
                  for e in sorted(decisions, key=lambda e: e.seq))
    return DecisionLog(lines, verify_chain(decisions))


def step_lines(incident: Incident, as_of: datetime) -> tuple[StepLine, ...]:
    return tuple(
        StepLine(id=v.id, title=v.title, briefed_by=v.briefed_by, planned_at=v.planned_at,
                 opened_at=v.opened_at, opened_by=v.opened_by, completed_at=v.completed_at,
                 completed_by=_who(incident, v.completed_by),
                 opened_late_by=_after(v.planned_at, v.opened_at), late_by=v.late_by)
        for v in read_model.step_views(incident, as_of)
    )


def _after(planned: datetime | None, actual: datetime | None) -> timedelta | None:
    if planned is None or actual is None or actual <= planned:
        return None
    return actual - planned


def _who(incident: Incident, key: str | None) -> str | None:
    if key is None or key == "coverage":
        return key
    return incident.name(key)


# ---- the ring-round -------------------------------------------------------------------------


def tier_lines(incident: Incident) -> tuple[TierLine, ...]:
    lines = []
    for tier in incident.playbook.tiers:
        round_ = incident.ringround.tiers.get(tier.number)
        if tier.number == PUBLIC_TIER and round_ is None:
            continue  # the public is a broadcast, never a round
        lines.append(_tier_line(tier.number, tier.title, tier.coverage_target, round_))
    return tuple(lines)


def _tier_line(number: int, title: str, target: float, round_: TierRound | None) -> TierLine:
    contacts = list(round_.contacts.values()) if round_ else []
    states = Counter(c.state for c in contacts)
    latest = Counter(c.last_outcome for c in contacts if c.state not in REACHED_STATES)
    waits = times_to_reach(round_) if round_ else []
    s = ContactState
    return TierLine(
        number=number, title=title, started_at=round_.started_at if round_ else None,
        total=len(contacts), reached=states[s.REACHED], confirmed=states[s.CONFIRMED],
        voicemail=latest["voicemail"], no_answer=latest["no_answer"],
        failed=states[s.DECLINED] + states[s.WRONG_NUMBER], opted_out=states[s.OPTED_OUT],
        unsafe=states[s.UNSAFE_TO_CALL], flagged=states[s.FLAGGED], pending=states[s.PENDING],
        target=target, median_to_reach=median_duration(waits),
        worst_to_reach=waits[-1] if waits else None,
        curve=coverage_curve(round_) if round_ else (),
    )


def coverage_curve(round_: TierRound) -> tuple[CoveragePoint, ...]:
    """The share of the tier reached, from 0 at the tier's start, stepping up at each contact's
    reach (contacts finally reached or confirmed, at the time of that outcome)."""
    total = len(round_.contacts)
    if not total:
        return ()
    times = sorted(c.outcome_at for c in round_.contacts.values()
                   if c.state in REACHED_STATES and c.outcome_at is not None)
    points = [CoveragePoint(round_.started_at, 0.0)]
    points += [CoveragePoint(at, (index + 1) / total) for index, at in enumerate(times)]
    return tuple(points)


# ---- messages and tasks ---------------------------------------------------------------------


def message_deliveries(records: Records) -> tuple[MessageDelivery, ...]:
    """Every outbox row that carried a key-message version, in the order it was queued."""
    incident = records.incident
    rows = []
    for item in records.outbox:
        version = item.notify.message_version
        if version is None:
            continue
        history = records.deliveries.get(item.id, ())
        sent = next((r.at for r in history), None)
        rows.append(MessageDelivery(
            version=version, channel=item.notify.channel.value,
            recipient=_recipient(incident, item.notify.recipient, item.notify.channel),
            status=item.status, provider_status=history[-1].status if history else None,
            at=sent or item.created_at or item.next_attempt_at,
        ))
    return tuple(rows)


def _recipient(incident: Incident, key: str, channel: OutboxChannel) -> str:
    if key == INCIDENT_CHANNEL and channel is OutboxChannel.SLACK_CHANNEL:
        return "incident channel"
    return incident.name(key)


def task_lines(incident: Incident) -> tuple[TaskLine, ...]:
    tasks = sorted(incident.tasks.tasks.values(),
                   key=lambda t: (t.due is None, t.due or incident.params.t0, t.id))
    return tuple(_task_line(task) for task in tasks)


def _task_line(task: Task) -> TaskLine:
    done_at = task.acted_at if task.state is TaskState.DONE else None
    late = _after(task.due, done_at)
    outcome = "not done" if done_at is None else "late" if late else "on time"
    return TaskLine(task.id, task.title, task.owner, task.due, done_at, outcome, late)


def tally(tasks: Iterable[TaskLine]) -> TaskTally:
    counts = Counter(t.outcome for t in tasks)
    return TaskTally(counts["on time"], counts["late"], counts["not done"])

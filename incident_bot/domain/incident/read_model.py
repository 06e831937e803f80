"""Read-only projections of an incident for the Slack dashboard, the CLI and the exercise
report: plain frozen dataclasses, computed at one moment, never changing the incident.

``incident_view(incident, now)`` gives the whole picture; the part functions
(:func:`step_views`, :func:`tier_views`, :func:`task_views`, :func:`message_views`,
:func:`role_views`) can be used alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from incident_bot.domain import briefing, messages, ringround, tasks
from incident_bot.domain.briefing import CoverageNeed, StepStatus
from incident_bot.domain.incident.model import Incident, coverage
from incident_bot.domain.messages import VersionStatus
from incident_bot.domain.serial import utc


@dataclass(frozen=True)
class GateView:
    e0_passed: bool
    steps_waiting: tuple[str, ...]
    coverage_short: tuple[CoverageNeed, ...]
    timeout_at: datetime | None
    override_by: tuple[str, ...]
    waiting_for: str  # in words; "" when the gate is open or the step has opened


@dataclass(frozen=True)
class StepView:
    id: str
    title: str
    audience: str
    briefed_by: str
    status: str  # waiting, held (a waiting media step), open, complete
    media_hold: bool
    overridden: bool
    opened_by: str | None  # gate, timeout, override, compromised
    override_reason: str
    planned_at: datetime | None  # the playbook's ``due``
    opened_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    late_by: timedelta | None  # completion (or now, if not complete) past the plan
    message_id: str | None
    message_version: str | None  # the version the briefing used
    gate: GateView


@dataclass(frozen=True)
class TierView:
    number: int
    title: str
    started: bool
    total: int
    reached: int
    pending: int
    failed: int
    opted_out: int
    flagged: int
    fraction: float
    target: float
    deadline_at: datetime | None
    short_at_deadline: bool  # the deadline has passed below target


@dataclass(frozen=True)
class TaskView:
    id: str
    title: str
    owner: str
    status: str  # waiting, acknowledged, done, cannot_do, blocked
    due: datetime | None
    due_soon: bool  # open and due within the next 15 minutes
    overdue: bool
    assignees: tuple[str, ...]
    depends_on: tuple[str, ...]
    reason: str
    zone: str = "UTC"  # the incident's time zone, to show ``due`` in


@dataclass(frozen=True)
class ApprovalView:
    role: str
    by: str
    at: datetime


@dataclass(frozen=True)
class VersionView:
    number: int
    status: str
    languages: tuple[str, ...]
    drafted_by: str
    drafted_at: datetime
    approvals: tuple[ApprovalView, ...]
    awaiting: tuple[str, ...]  # approver roles still to approve (drafts only)
    released_at: datetime | None
    withdrawn_reason: str


@dataclass(frozen=True)
class MessageView:
    id: str
    title: str
    current_version: int | None  # the approved version in use
    embargo_at: datetime | None
    embargo_lifted: bool
    releasable: bool
    blocked_reason: str | None  # why it cannot be released now
    missing_languages: tuple[str, ...]  # the current version has no text in these
    versions: tuple[VersionView, ...]


@dataclass(frozen=True)
class RoleView:
    code: str
    title: str
    level: str
    need_to_know: bool
    holders: tuple[str, ...]
    deputy_role: str | None
    deputies: tuple[str, ...]


@dataclass(frozen=True)
class IncidentView:
    id: str
    playbook_id: str
    title: str
    area: str
    summary: str
    classification: str
    status: str
    t0: datetime
    e0: datetime | None
    compromised: bool
    as_of: datetime
    steps: tuple[StepView, ...]
    tiers: tuple[TierView, ...]
    tasks: tuple[TaskView, ...]
    messages: tuple[MessageView, ...]
    roles: tuple[RoleView, ...]
    zone: str = "UTC"  # the IANA time zone the incident's notices show times in


DUE_SOON = timedelta(minutes=15)


def incident_view(incident: Incident, now: datetime) -> IncidentView:
    now = utc(now)
    pb, params = incident.playbook, incident.params
    return IncidentView(
        id=incident.id, playbook_id=pb.id, title=pb.title, area=params.area,
        summary=params.summary, classification=params.classification.value,
        status=incident.status.value,
        t0=params.t0, e0=params.e0, compromised=incident.briefing.compromised, as_of=now,
        steps=step_views(incident, now), tiers=tier_views(incident, now),
        tasks=task_views(incident, now), messages=message_views(incident, now),
        roles=role_views(incident), zone=params.zone,
    )


def step_views(incident: Incident, now: datetime) -> tuple[StepView, ...]:
    cover, clocks = coverage(incident), incident.clocks
    views = []
    for step in incident.playbook.briefing:
        state = incident.briefing.get(step.id)
        check = briefing.check_gate(step, incident.briefing, cover, clocks, now)
        waiting = state.status is StepStatus.WAITING
        planned = briefing.planned_at(step, clocks)
        views.append(StepView(
            id=step.id, title=step.title, audience=step.audience.describe(),
            briefed_by=step.briefed_by, status=briefing.status_label(step, state),
            media_hold=step.media_hold, overridden=state.overridden,
            opened_by=state.opened_by.value if state.opened_by else None,
            override_reason=state.override_reason, planned_at=planned,
            opened_at=state.opened_at, completed_at=state.completed_at,
            completed_by=state.completed_by,
            late_by=_late(planned, state.completed_at, now), message_id=step.message,
            message_version=state.message_version,
            gate=GateView(check.e0_passed, check.steps_waiting, check.coverage_short,
                          check.timeout_at, check.override_by,
                          check.describe() if waiting else ""),
        ))
    return tuple(views)


def _late(planned: datetime | None, done: datetime | None, now: datetime) -> timedelta | None:
    if planned is None:
        return None
    late = (done or now) - planned
    return late if late > timedelta(0) else None


def tier_views(incident: Incident, now: datetime) -> tuple[TierView, ...]:
    views = []
    for tier in incident.playbook.tiers:
        cover = ringround.coverage(incident.ringround, tier.number)
        started = tier.number in incident.ringround.tiers
        deadline = incident.clocks.resolve(tier.deadline)
        fraction = cover.fraction if started else 0.0
        views.append(TierView(
            number=tier.number, title=tier.title, started=started, total=cover.total,
            reached=cover.reached, pending=cover.pending, failed=cover.failed,
            opted_out=cover.opted_out, flagged=cover.flagged, fraction=fraction,
            target=tier.coverage_target, deadline_at=deadline,
            short_at_deadline=(deadline is not None and now >= deadline
                               and fraction < tier.coverage_target),
        ))
    return tuple(views)


def task_views(incident: Incident, now: datetime) -> tuple[TaskView, ...]:
    views = []
    for task in incident.tasks.tasks.values():
        due = task.due
        views.append(TaskView(
            id=task.id, title=task.title, owner=task.owner,
            status=tasks.status(incident.tasks, task.id), due=due,
            due_soon=task.open and due is not None and now <= due <= now + DUE_SOON,
            overdue=task.open and due is not None and now > due,
            assignees=tuple(task.assignees), depends_on=task.depends_on, reason=task.reason,
            zone=incident.params.zone,
        ))
    return tuple(sorted(views, key=lambda v: (v.due is None, v.due or now, v.id)))


def message_views(incident: Incident, now: datetime) -> tuple[MessageView, ...]:
    views = []
    for message in incident.playbook.messages:
        state = incident.messages.get(message.id)
        current = state.current
        steps = messages.briefing_steps_for(incident.playbook, message.id)
        labels = {s.id: briefing.status_label(s, incident.briefing.get(s.id)) for s in steps}
        embargo = messages.embargo_at(message, incident.clocks)
        lifted = messages.embargo_lifted(message, incident.clocks, now,
                                         incident.briefing.compromised)
        blocker = messages.release_blocker(incident.messages, message, labels, lifted, embargo,
                                           incident.params.zone)
        released = current is not None and current.released_at is not None
        views.append(MessageView(
            id=message.id, title=message.title,
            current_version=current.number if current else None, embargo_at=embargo,
            embargo_lifted=lifted, releasable=blocker is None and not released,
            blocked_reason=blocker,
            missing_languages=tuple(lang for lang in message.languages
                                    if current is not None and lang not in current.texts),
            versions=tuple(_version_view(message.approvers, v) for v in state.versions),
        ))
    return tuple(views)


def _version_view(approvers: tuple[str, ...], version: messages.Version) -> VersionView:
    awaiting = (tuple(r for r in approvers if r not in version.approved_roles())
                if version.status is VersionStatus.DRAFT else ())
    return VersionView(
        number=version.number, status=version.status.value,
        languages=tuple(version.texts), drafted_by=version.drafted_by,
        drafted_at=version.drafted_at,
        approvals=tuple(ApprovalView(a.role, a.by, a.at) for a in version.approvals),
        awaiting=awaiting, released_at=version.released_at,
        withdrawn_reason=version.withdraw_reason,
    )


def role_views(incident: Incident) -> tuple[RoleView, ...]:
    book, pb = incident.roles, incident.playbook
    return tuple(
        RoleView(code=role.code, title=role.title, level=role.level.value,
                 need_to_know=role.need_to_know, holders=tuple(book.holders_of(role.code)),
                 deputy_role=role.deputy, deputies=tuple(book.deputies_of(pb, role.code)))
        for role in pb.roles
    )

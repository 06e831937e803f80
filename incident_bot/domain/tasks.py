"""Tasks: the playbook's actions with owners, due times, dependencies and escalation
(domain.md §7). Standard library only.

Each task is due at an absolute time resolved from its playbook time (``T0+1h``, ``E0+15m``); a
task due on E0 while E0 is unknown has no due time (and no reminders) until :func:`reschedule`.
Timers carry the due time (or the assignment time) they were set for, so after a reschedule the
old ones are stale and do nothing. A task whose dependencies are not all done is *blocked*: it can
be acknowledged but not completed, and its reminders still fire.

Who is told comes from ``TaskContext.holders``: the orchestrator passes only people who may see
the incident now (need-to-know before T0) and calls :func:`sync_assignees` when that changes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from incident_bot.domain.durations import IncidentClock, RelativeTime, parse_relative_time
from incident_bot.domain.effects import (
    VARIANT,
    Effect,
    Fact,
    Facts,
    Notify,
    OutboxChannel,
    ScheduleTimer,
    outbox_key,
)
from incident_bot.domain.playbook import TaskDef, TaskEscalation
from incident_bot.domain.serial import from_iso, hhmm, iso, relative_to_text
from incident_bot.errors import NotAuthorised, NotFoundError, RefusedError, TransitionRefused

INCIDENT_CHANNEL = "incident"
REMIND_TIMER, DUE_TIMER, ACK_TIMER, OVERDUE_TIMER = (
    "task.remind", "task.due", "task.ack_timeout", "task.overdue")


class TaskState(StrEnum):
    WAITING = "waiting"  # assigned, not yet acknowledged
    ACKNOWLEDGED = "acknowledged"
    DONE = "done"
    CANNOT_DO = "cannot_do"


OPEN_STATES = frozenset({TaskState.WAITING, TaskState.ACKNOWLEDGED})
# event -> states it may happen in -> state it leads to; an event in its target state is a
# repeat and does nothing; anything else is refused.
_TRANSITIONS: dict[str, dict[TaskState, TaskState]] = {
    "acknowledge": {TaskState.WAITING: TaskState.ACKNOWLEDGED,
                    TaskState.CANNOT_DO: TaskState.ACKNOWLEDGED},  # someone picks it up
    "complete": {TaskState.WAITING: TaskState.DONE, TaskState.ACKNOWLEDGED: TaskState.DONE,
                 TaskState.CANNOT_DO: TaskState.DONE},
    "mark as cannot-do": {TaskState.WAITING: TaskState.CANNOT_DO,
                          TaskState.ACKNOWLEDGED: TaskState.CANNOT_DO},
}


@dataclass(frozen=True)
class TaskContext:
    """What tasks need from the incident for one call. ``holders`` maps a role code to the
    person keys holding it now (only people who may see the incident now), ``deputies`` a role
    code to its deputy role code, ``commanders`` lists person keys who may act on any task, and
    ``names`` gives display names for notices."""

    incident_id: str
    holders: Mapping[str, Sequence[str]]
    deputies: Mapping[str, str] = field(default_factory=dict)
    commanders: Collection[str] = ()
    names: Mapping[str, str] = field(default_factory=dict)
    zone: str = "UTC"  # the incident's, for times in notices

    def name(self, key: str) -> str:
        return self.names.get(key, key)

    def holders_of(self, role: str | None) -> list[str]:
        return _unique(self.holders.get(role, ())) if role else []

    def deputy_holders(self, role: str) -> list[str]:
        return self.holders_of(self.deputies.get(role))


@dataclass
class Task:
    id: str
    title: str
    owner: str  # role code
    due: datetime | None  # None while it is due on an unknown E0
    due_spec: RelativeTime | None = None  # the playbook time; None for an ad-hoc task
    depends_on: tuple[str, ...] = ()
    remind_before: timedelta | None = timedelta(minutes=15)
    ack_within: timedelta | None = timedelta(minutes=10)
    escalation: tuple[TaskEscalation, ...] = ()
    description: str = ""
    created_by: str = "playbook"
    state: TaskState = TaskState.WAITING
    assignees: list[str] = field(default_factory=list)
    assigned_at: datetime | None = None  # when it was first given to someone: the ack clock
    acted_by: str | None = None  # who last acknowledged, completed or gave it up
    acted_at: datetime | None = None
    reason: str = ""  # why it cannot be done
    notices: int = 0  # events notified so far: makes outbox keys unique
    fired: list[str] = field(default_factory=list)  # timers already handled: a replay is a no-op

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self), "due": iso(self.due),
            "due_spec": relative_to_text(self.due_spec) if self.due_spec else None,
            "depends_on": list(self.depends_on),
            "remind_before": _seconds(self.remind_before), "ack_within": _seconds(self.ack_within),
            "escalation": [[_seconds(e.after_overdue), e.to_role] for e in self.escalation],
            "state": self.state.value, "assigned_at": iso(self.assigned_at),
            "acted_at": iso(self.acted_at),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Task:
        return cls(**{
            **d, "due": from_iso(d["due"]),
            "due_spec": parse_relative_time(d["due_spec"]) if d["due_spec"] else None,
            "depends_on": tuple(d["depends_on"]),
            "remind_before": _delta(d["remind_before"]), "ack_within": _delta(d["ack_within"]),
            "escalation": tuple(TaskEscalation(timedelta(seconds=after), role)
                                for after, role in d["escalation"]),
            "state": TaskState(d["state"]), "assignees": list(d["assignees"]),
            "fired": list(d["fired"]),
            "assigned_at": from_iso(d["assigned_at"]), "acted_at": from_iso(d["acted_at"]),
        })


@dataclass
class TaskBoard:
    tasks: dict[str, Task] = field(default_factory=dict)

    def get(self, task_id: str) -> Task:
        try:
            return self.tasks[task_id]
        except KeyError:
            raise NotFoundError(f"no task {task_id!r} in this incident") from None

    def to_dict(self) -> dict[str, Any]:
        return {"tasks": [task.to_dict() for task in self.tasks.values()]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TaskBoard:
        tasks = [Task.from_dict(t) for t in d["tasks"]]
        return cls({task.id: task for task in tasks})


def blocked_by(board: TaskBoard, task_id: str) -> list[str]:
    """Dependencies of the task that are not done yet."""
    task = board.get(task_id)
    return [dep for dep in task.depends_on
            if dep in board.tasks and board.tasks[dep].state is not TaskState.DONE]


def status(board: TaskBoard, task_id: str) -> str:
    """The task's state, or "blocked" for an open task waiting on its dependencies."""
    task = board.get(task_id)
    return "blocked" if task.open and blocked_by(board, task_id) else task.state.value


# ---- creating and assigning ---------------------------------------------------------------


def create_tasks(board: TaskBoard, ctx: TaskContext, defs: Iterable[TaskDef], t0: datetime,
                 e0: datetime | None, now: datetime) -> list[Effect]:
    """Tasks from the playbook: due times resolved, owners' holders told, timers set. A task
    created before is left alone, so a replay does nothing."""
    effects: list[Effect] = []
    for d in defs:
        if d.id in board.tasks:
            continue
        task = Task(d.id, d.title, d.owner, _resolve(d.due, t0, e0), d.due, d.depends_on,
                    d.remind_before, d.ack_within, d.escalation, d.description)
        board.tasks[task.id] = task
        effects += _assign(ctx, task, ctx.holders_of(task.owner), now) + _due_timers(ctx, task)
    return effects


def add_task(board: TaskBoard, ctx: TaskContext, title: str, owner: str, due: datetime,
             by: str, now: datetime, depends_on: Sequence[str] = ()) -> list[Effect]:
    """An ad-hoc task with an absolute due time (the orchestrator checks who may add one).
    The same task added twice (a replayed command) is created once."""
    missing = [dep for dep in depends_on if dep not in board.tasks]
    if missing:
        raise RefusedError(f"can't add task {title!r}: it depends on unknown tasks "
                           f"{', '.join(missing)}")
    if any(t.title == title and t.owner == owner and t.due == due and t.created_by == by
           for t in board.tasks.values()):
        return []
    number = 1 + sum(1 for t in board.tasks.values() if t.due_spec is None)
    while f"adhoc-{number}" in board.tasks:
        number += 1
    task = Task(f"adhoc-{number}", title, owner, due, None, tuple(depends_on), created_by=by)
    board.tasks[task.id] = task
    return _assign(ctx, task, ctx.holders_of(owner), now) + _due_timers(ctx, task)


def sync_assignees(board: TaskBoard, ctx: TaskContext, now: datetime) -> list[Effect]:
    """Make open tasks' assignees the current holders of their owner role (e.g. at T0, when the
    incident opens beyond need-to-know, or after a role changes hands); newcomers are told."""
    effects: list[Effect] = []
    for task in board.tasks.values():
        if task.open:
            holders = ctx.holders_of(task.owner)
            task.assignees = [p for p in task.assignees if p in holders]
            effects += _assign(ctx, task, holders, now)
    return effects


def _assign(ctx: TaskContext, task: Task, people: list[str], now: datetime) -> list[Effect]:
    newcomers = [p for p in people if p not in task.assignees]
    if not newcomers:
        return []
    task.assignees += newcomers
    due: dict[str, Fact] = {"due_at": hhmm(task.due, ctx.zone)} if task.due else {}
    effects = _tell(ctx, task, newcomers, "task.assigned", due)
    if task.assigned_at is None:
        task.assigned_at = now
        effects += _ack_timer(ctx, task)
    return effects


# ---- acting on a task ---------------------------------------------------------------------


def ack(board: TaskBoard, ctx: TaskContext, task_id: str, by: str,
        now: datetime) -> list[Effect]:
    """Acknowledge a task (also allowed while it is blocked, and to pick up a cannot-do task)."""
    task = _authorised(board, ctx, task_id, "acknowledge", by)
    given_up = task.state is TaskState.CANNOT_DO
    if not _transition(task, "acknowledge", by, now) or not given_up:
        return []
    return _tell(ctx, task, [INCIDENT_CHANNEL], "task.picked_up", {"by": ctx.name(by)})


def complete(board: TaskBoard, ctx: TaskContext, task_id: str, by: str,
             now: datetime) -> list[Effect]:
    task = _authorised(board, ctx, task_id, "complete", by)
    waiting_on = blocked_by(board, task_id)
    if waiting_on and task.state is not TaskState.DONE:
        raise RefusedError(f"can't complete task {task_id} while it is blocked: "
                           f"{', '.join(waiting_on)} must be done first")
    if not _transition(task, "complete", by, now):
        return []
    effects = _tell(ctx, task, [INCIDENT_CHANNEL], "task.done", {"by": ctx.name(by)})
    return effects + _unblocked(board, ctx, task_id)


def complete_with_step(board: TaskBoard, ctx: TaskContext, task_ids: Iterable[str], step_id: str,
                       by: str, now: datetime) -> list[Effect]:
    """The tasks a briefing step does (the playbook's ``done_by_step``) are done when it
    completes, whatever they depend on: the step's gate has already ordered the work. Their
    reminders and escalations then do nothing."""
    effects: list[Effect] = []
    for task in (board.tasks[t] for t in task_ids if t in board.tasks):
        if _transition(task, "complete", by, now):
            effects += _tell(ctx, task, [INCIDENT_CHANNEL], "task.done",
                             {VARIANT: "by_step", "step": step_id})
            effects += _unblocked(board, ctx, task.id)
    return effects


def cannot_do(board: TaskBoard, ctx: TaskContext, task_id: str, reason: str, by: str,
              now: datetime) -> list[Effect]:
    """Give a task up, with a reason: the owner role's deputies, the commanders and the incident
    channel are told so someone else can pick it up."""
    if not reason.strip():
        raise RefusedError(f"can't mark task {task_id} as cannot-do without a reason")
    task = _authorised(board, ctx, task_id, "mark as cannot-do", by)
    if not _transition(task, "mark as cannot-do", by, now):
        return []
    task.reason = reason.strip()
    recipients = [*ctx.deputy_holders(task.owner), *ctx.commanders, INCIDENT_CHANNEL]
    return _tell(ctx, task, recipients, "task.cannot_do",
                 {"by": ctx.name(by), "reason": task.reason})


def _authorised(board: TaskBoard, ctx: TaskContext, task_id: str, event: str,
                by: str) -> Task:
    """The task, if ``by`` is an assignee, a holder of the owner's deputy role or a commander."""
    task = board.get(task_id)
    allowed = {*task.assignees, *ctx.deputy_holders(task.owner), *ctx.commanders}
    if by not in allowed:
        raise NotAuthorised(f"{event} task {task_id}",
                            (task.owner, ctx.deputies.get(task.owner) or "its deputy",
                             "a commander"))
    return task


def _transition(task: Task, event: str, by: str, now: datetime) -> bool:
    """Apply ``event`` by the table; False when it is a repeat that changes nothing."""
    moves = _TRANSITIONS[event]
    if task.state not in moves:
        if task.state is next(iter(moves.values())):
            return False
        raise TransitionRefused(event, task.state.value, f"task {task.id}")
    task.state, task.acted_by, task.acted_at = moves[task.state], by, now
    if task.state is not TaskState.CANNOT_DO:
        task.reason = ""
    return True


def _unblocked(board: TaskBoard, ctx: TaskContext, done_id: str) -> list[Effect]:
    effects: list[Effect] = []
    for task in board.tasks.values():
        if done_id in task.depends_on and task.open and not blocked_by(board, task.id):
            effects += _tell(ctx, task, task.assignees, "task.unblocked", {})
    return effects


# ---- time ---------------------------------------------------------------------------------


def reschedule(board: TaskBoard, ctx: TaskContext, t0: datetime, e0: datetime | None,
               now: datetime) -> list[Effect]:
    """Recompute playbook due times after T0 or E0 changed; moved tasks get new timers (their
    keys carry the due time, and the old timers become stale)."""
    effects: list[Effect] = []
    for task in board.tasks.values():
        if task.due_spec is None or task.state is TaskState.DONE:
            continue
        due = _resolve(task.due_spec, t0, e0)
        if due != task.due:
            task.due = due
            effects += _due_timers(ctx, task)
    return effects


def on_timer(board: TaskBoard, ctx: TaskContext, kind: str, payload: Mapping[str, str | int],
             now: datetime) -> list[Effect]:
    """A ``task.*`` timer fired. Stale ones (task done, due time moved) return []."""
    task = board.tasks.get(str(payload.get("task")))
    handler = _TIMERS.get(kind)
    if task is None or handler is None or task.state is TaskState.DONE:
        return []
    stamp = iso(task.assigned_at if kind == ACK_TIMER else task.due)
    mark = f"{kind}:{payload.get('rung', '')}:{stamp}"
    if payload.get("at") != stamp or mark in task.fired:
        return []
    task.fired.append(mark)
    return handler(board, ctx, task, payload)


def _on_remind(board: TaskBoard, ctx: TaskContext, task: Task,
               payload: Mapping[str, str | int]) -> list[Effect]:
    if not task.open:
        return []
    return _tell(ctx, task, task.assignees, "task.reminder",
                 {"due_at": hhmm(task.due, ctx.zone),
                  "waiting_on": tuple(blocked_by(board, task.id))})


def _on_due(board: TaskBoard, ctx: TaskContext, task: Task,
            payload: Mapping[str, str | int]) -> list[Effect]:
    if not task.open:
        return []
    return _tell(ctx, task, task.assignees, "task.overdue", {"due_at": hhmm(task.due, ctx.zone)})


def _on_ack_timeout(board: TaskBoard, ctx: TaskContext, task: Task,
                    payload: Mapping[str, str | int]) -> list[Effect]:
    if task.state is not TaskState.WAITING:
        return []
    return _tell(ctx, task, [*ctx.deputy_holders(task.owner), INCIDENT_CHANNEL],
                 "task.not_acknowledged", {"owner": task.owner})


def _on_overdue(board: TaskBoard, ctx: TaskContext, task: Task,
                payload: Mapping[str, str | int]) -> list[Effect]:
    rung = int(payload.get("rung", -1))
    if not 0 <= rung < len(task.escalation):  # still escalates when given up: it needs doing
        return []
    role = task.escalation[rung].to_role
    return _tell(ctx, task, ctx.holders_of(role) or [INCIDENT_CHANNEL], "task.escalated",
                 {"role": role, "owner": task.owner, "due_at": hhmm(task.due, ctx.zone),
                  "status": status(board, task.id)})


_Handler = Callable[[TaskBoard, TaskContext, Task, Mapping[str, str | int]], list[Effect]]
_TIMERS: dict[str, _Handler] = {
    REMIND_TIMER: _on_remind, DUE_TIMER: _on_due, ACK_TIMER: _on_ack_timeout,
    OVERDUE_TIMER: _on_overdue,
}


def _due_timers(ctx: TaskContext, task: Task) -> list[Effect]:
    if task.due is None:
        return []
    timers: list[Effect] = [_timer(ctx, task, DUE_TIMER, "due", task.due, task.due)]
    if task.remind_before is not None:
        timers.append(_timer(ctx, task, REMIND_TIMER, "remind", task.due,
                             task.due - task.remind_before))
    for rung, step in enumerate(task.escalation):
        timers.append(_timer(ctx, task, OVERDUE_TIMER, f"overdue:{rung}", task.due,
                             task.due + step.after_overdue, rung=rung))
    return timers


def _ack_timer(ctx: TaskContext, task: Task) -> list[Effect]:
    if task.ack_within is None or task.assigned_at is None:
        return []
    return [_timer(ctx, task, ACK_TIMER, "ack", task.assigned_at,
                   task.assigned_at + task.ack_within)]


def _timer(ctx: TaskContext, task: Task, kind: str, name: str, stamp: datetime,
           due_at: datetime, **extra: int) -> ScheduleTimer:
    at = stamp.isoformat()
    return ScheduleTimer(key=f"{ctx.incident_id}:task:{task.id}:{name}:{at}", due_at=due_at,
                         kind=kind, payload={"task": task.id, "at": at, **extra})


# ---- notices and helpers ------------------------------------------------------------------


def _tell(ctx: TaskContext, task: Task, recipients: Sequence[str], purpose: str,
          facts: Facts) -> list[Effect]:
    """One notice about ``task`` (its title and ``facts``) per recipient; each event gets a
    fresh number so keys never repeat."""
    task.notices += 1
    topic = f"task:{task.id}:{purpose}:{task.notices}"
    about: Facts = {"title": task.title, **facts}
    return [_dm(ctx, r, topic, purpose, about, task) for r in _unique(recipients)]


def _dm(ctx: TaskContext, recipient: str, topic: str, purpose: str, facts: Facts,
        task: Task) -> Notify:
    channel = (OutboxChannel.SLACK_CHANNEL if recipient == INCIDENT_CHANNEL
               else OutboxChannel.SLACK_DM)
    return Notify(key=outbox_key(ctx.incident_id, recipient, topic, channel.value),
                  channel=channel, recipient=recipient, body="", purpose=purpose,
                  data={"task": task.id}, facts=dict(facts))


def _resolve(spec: RelativeTime, t0: datetime, e0: datetime | None) -> datetime | None:
    if spec.clock is IncidentClock.E0 and e0 is None:
        return None
    return spec.resolve(t0, e0 or t0)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _delta(seconds: float | None) -> timedelta | None:
    return timedelta(seconds=seconds) if seconds is not None else None

"""An incident's response, run by the playbook: the domain's entry points.

The package: this module (start, handle a command, react to a timer), :mod:`.model` (the
aggregate and the settling every handler shares), :mod:`.handlers` (one function per command),
:mod:`.approvals` (what waits on approval) and :mod:`.read_model` (what an incident looks like
now, for the dashboard, the CLI and the reports). The commands themselves are
:mod:`incident_bot.domain.commands`.

``start_incident`` builds the aggregate from a playbook snapshot, the directory and the drafts
the service rendered; ``handle`` applies one command; ``on_timer`` reacts to a timer the domain
scheduled. Each returns effects (timers, notices, decision-log entries) for the service to
persist in the same transaction. A refused command raises a ``RefusedError`` and leaves the
incident exactly as it was.

Lifecycle (the table is :data:`TRANSITIONS`): ``prebrief`` (before T0: need-to-know roles only)
→ ``active`` (at T0) → ``standing_down`` → ``closed``. Every command and timer first catches up
with the clocks (a late ``incident.t0`` timer changes nothing that a command did not already do)
and finally *settles* the briefing order (:func:`.model.settle`) and follows up what waits on
approval (:func:`approvals.follow_up`: approval requests, held ring-round flags).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from incident_bot.domain import briefing, messages, ringround, tasks
from incident_bot.domain.briefing import Briefing
from incident_bot.domain.commands import PROVIDER_EVENTS, Command
from incident_bot.domain.directory import Person, mask_phone
from incident_bot.domain.effects import VARIANT, Effect, Fact, ScheduleTimer
from incident_bot.domain.incident import approvals
from incident_bot.domain.incident.handlers import HANDLERS
from incident_bot.domain.incident.model import (
    TRANSITIONS,
    Event,
    Incident,
    IncidentParams,
    Status,
    StatusChange,
    announce,
    decision,
    round_context,
    settle,
    task_context,
    tell,
    transition,
)
from incident_bot.domain.playbook import Playbook
from incident_bot.domain.ringround import RingRound
from incident_bot.domain.roles import RoleBook, describe_holders, need_to_know
from incident_bot.domain.serial import hhmm, utc
from incident_bot.domain.tasks import TaskBoard
from incident_bot.errors import NotAuthorised, RefusedError, TransitionRefused

__all__ = [
    "T0_TIMER", "TRANSITIONS", "Event", "Incident", "IncidentParams", "Status", "handle",
    "on_timer", "start_incident",
]

T0_TIMER = "incident.t0"
SYSTEM = "system"


# ---- starting -----------------------------------------------------------------------------


def start_incident(
    incident_id: str,
    playbook: Playbook,
    params: IncidentParams,
    people: Sequence[Person],
    started_by: str,
    drafts: Mapping[tuple[str, str], str],
    now: datetime,
) -> tuple[Incident, list[Effect]]:
    """A new incident. ``started_by`` must hold a ``started_by`` role in the directory;
    ``drafts[(message_id, language)]`` are the rendered templates, which become version 1."""
    now, t0 = utc(now), utc(params.t0)
    e0 = _initial_e0(playbook, params, t0)
    snapshot = _snapshot_people(playbook, people)
    roles = RoleBook.from_people(playbook, snapshot.values())
    if not roles.holds_any(started_by, playbook.started_by):
        raise NotAuthorised(f"start an incident with playbook {playbook.id}",
                            playbook.started_by)
    status = Status.ACTIVE if t0 <= now else Status.PREBRIEF
    incident = Incident(
        id=incident_id, playbook=playbook,
        params=replace(params, t0=t0, e0=e0, variables=dict(params.variables)),
        status=status, started_by=started_by, started_at=now, people=snapshot,
        roles=roles, briefing=Briefing.for_playbook(playbook), ringround=RingRound(),
        messages=messages.from_drafts(playbook, drafts, now), tasks=TaskBoard(),
        history=[StatusChange(status, now, started_by)],
    )
    members = incident.roles.visible_members(playbook, incident.prebrief)
    effects: list[Effect] = [*_start_entries(incident, now), *_welcome(incident, members)]
    if incident.prebrief:
        effects.append(ScheduleTimer(f"{incident_id}:incident:t0", t0, T0_TIMER,
                                     {"at": t0.isoformat()}))
    effects += briefing.gate_timers(incident_id, playbook, incident.clocks)
    effects += tasks.create_tasks(incident.tasks, task_context(incident), playbook.tasks, t0, e0,
                                  now)
    return incident, effects + _settle(incident, now)


def _initial_e0(playbook: Playbook, params: IncidentParams, t0: datetime) -> datetime | None:
    if params.e0 is not None:
        e0 = utc(params.e0)
    elif playbook.e0_default is not None:
        e0 = playbook.e0_default.resolve(t0, t0)
    else:
        return None
    if e0 < t0:
        raise RefusedError(f"can't start the incident with E0 at {hhmm(e0, params.zone)}: E0 "
                           f"is never before T0 ({hhmm(t0, params.zone)})")
    return e0


def _snapshot_people(playbook: Playbook, people: Sequence[Person]) -> dict[str, Person]:
    """Staff (anyone with a role or on Slack) and this playbook's tier contacts. Phone numbers
    are masked: the domain only needs to know one exists; the service dials by person key."""
    tiers = {t.number for t in playbook.tiers}
    chosen = [p for p in people if p.roles or p.slack_user_id or p.tier in tiers]
    return {p.key: replace(p, phone=mask_phone(p.phone) if p.phone else None)
            for p in sorted(chosen, key=lambda p: p.key)}


def _start_entries(incident: Incident, now: datetime) -> list[Effect]:
    pb, params = incident.playbook, incident.params
    text = (f"Incident started with playbook {pb.id} ({pb.title}) in {params.area}: "
            f"T0 {params.t0.isoformat()}, E0 "
            f"{params.e0.isoformat() if params.e0 else 'not yet set'}, "
            f"{params.classification.value}")
    if params.variables:
        text += "; variables set at start: " + ", ".join(
            f'{name}="{value}"' for name, value in sorted(params.variables.items()))
    names = {key: p.name for key, p in incident.people.items()}
    roles = need_to_know(pb) if incident.prebrief else [r.code for r in pb.roles]
    who = describe_holders(incident.roles, names, roles)
    members = ("Members of the confidential pre-brief (need to know): " if incident.prebrief
               else "Members at start: ")
    return [decision("start", text, incident.started_by, now, rationale=params.summary),
            decision("membership", members + who, incident.started_by, now)]


def _welcome(incident: Incident, people: list[str]) -> list[Effect]:
    pb, params = incident.playbook, incident.params
    effects: list[Effect] = []
    for key in people:
        roles = ", ".join(incident.roles.roles_of(key))
        facts: dict[str, Fact] = {
            VARIANT: "prebrief_welcome" if incident.prebrief else "welcome",
            "marking": params.classification.value, "title": pb.title, "area": params.area,
            "roles": roles, "t0": hhmm(params.t0, params.zone), "e0": hhmm(params.e0, params.zone)}
        effects += tell(incident, [key], "incident.member_added", facts, {"roles": roles})
    return effects


# ---- commands -----------------------------------------------------------------------------


def handle(incident: Incident, command: Command, now: datetime, *,
           restore: bool = True) -> list[Effect]:
    """Apply ``command``; on refusal raise and leave the incident unchanged. A caller that
    throws the incident away on error (the service: its transaction rolls back) passes
    ``restore=False`` and saves the snapshot, whose cost grows with the number of contacts."""
    now = utc(now)
    saved = incident.state_dict() if restore else None
    try:
        effects = _catch_up(incident, now)
        effects += _dispatch(incident, command, now)
        return effects + _settle(incident, now)
    except Exception:  # refused, or a bug: either way the incident must not half-change
        if saved is not None:
            _restore(incident, saved)
        raise


def _dispatch(incident: Incident, command: Command, now: datetime) -> list[Effect]:
    handler, allowed = HANDLERS[type(command)]
    if incident.status not in allowed:
        if isinstance(command, PROVIDER_EVENTS):
            return []  # a late reply or delivery report after the round: nothing to do
        raise TransitionRefused(_event_name(command), incident.status.value,
                                f"incident {incident.id}")
    return handler(incident, command, now)


def _event_name(command: Command) -> str:
    """``ApproveMessage`` → ``approve message in`` (lifecycle events read on their own)."""
    name = type(command).__name__
    words = "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in name).strip()
    lifecycle = {Event.STAND_DOWN.value, Event.CLOSE.value}
    return words if words in lifecycle else f"{words} in"


def _restore(incident: Incident, saved: dict[str, Any]) -> None:
    """Put the incident back as it was (the playbook never changes, so it is not saved)."""
    restored = Incident.from_state(incident.playbook, saved)
    for f in fields(Incident):
        setattr(incident, f.name, getattr(restored, f.name))


# ---- timers -------------------------------------------------------------------------------


def on_timer(incident: Incident, kind: str, payload: Mapping[str, str | int],
             now: datetime, *, restore: bool = True) -> list[Effect]:
    """A timer fired (perhaps late, perhaps after a restart); stale ones return []. On error
    the incident is left unchanged, unless ``restore=False`` (see :func:`handle`)."""
    now = utc(now)
    saved = incident.state_dict() if restore else None
    try:
        return _on_timer(incident, kind, payload, now)
    except Exception:  # refused, or a bug: either way the incident must not half-change
        if saved is not None:
            _restore(incident, saved)
        raise


def _on_timer(incident: Incident, kind: str, payload: Mapping[str, str | int],
              now: datetime) -> list[Effect]:
    if incident.status is Status.CLOSED:
        return []
    effects = _catch_up(incident, now)  # incident.t0 needs nothing more
    namespace = kind.partition(".")[0]
    if namespace == "ringround" and incident.status is Status.ACTIVE:
        effects += ringround.on_timer(incident.ringround, round_context(incident, now), kind,
                                      payload, now)
    elif namespace == "task":
        effects += tasks.on_timer(incident.tasks, task_context(incident), kind, payload, now)
    return effects + _settle(incident, now)  # briefing.* timers only need settling


def _settle(incident: Incident, now: datetime) -> list[Effect]:
    """Settle the briefing order, then ask for every draft and flag every round held on one."""
    return settle(incident, now) + approvals.follow_up(incident)


def _catch_up(incident: Incident, now: datetime) -> list[Effect]:
    """At T0 the incident opens to every role holder (the need-to-know pre-brief ends)."""
    if incident.status is not Status.PREBRIEF or now < incident.params.t0:
        return []
    pb = incident.playbook
    before = set(incident.roles.visible_members(pb, prebrief=True))
    transition(incident, Event.REACH_T0, SYSTEM, now)
    joined = [k for k in incident.roles.visible_members(pb, prebrief=False) if k not in before]
    names = {key: p.name for key, p in incident.people.items()}
    text = ("T0: the incident is active and open to every role holder; joined: "
            + (", ".join(f"{names.get(k, k)} ({k})" for k in joined) or "nobody new"))
    effects: list[Effect] = [decision("membership", text, SYSTEM, now),
                             announce(incident, "incident.active",
                                      {"joined": tuple(names.get(k, k) for k in joined),
                                       "joined_keys": tuple(joined)})]
    effects += _welcome(incident, joined)
    return effects + tasks.sync_assignees(incident.tasks, task_context(incident), now)

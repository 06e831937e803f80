"""The incident aggregate: its state, its snapshot form, and the helpers the handlers share.

Entry points live in :mod:`incident_bot.domain.incident`; command handlers in
:mod:`incident_bot.domain.incident.handlers`. This module holds the data and the orchestration
every handler needs: who is in the incident now, the contexts handed to the ring-round and tasks
modules, notices and decision-log entries, and *settling* (opening and completing briefing steps
as the clocks and coverage allow, and starting the ring-round of each tier whose step opens).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from incident_bot.domain import briefing, messages, ringround, tasks
from incident_bot.domain.briefing import Briefing, Change, Clocks
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import (
    VARIANT,
    Effect,
    Fact,
    Facts,
    Notify,
    OutboxChannel,
    RecordDecision,
    outbox_key,
)
from incident_bot.domain.ladder import RoundContext
from incident_bot.domain.messages import MessageBook
from incident_bot.domain.playbook import Classification, KeyMessage, Level, Playbook
from incident_bot.domain.ringround import RingRound
from incident_bot.domain.roles import RoleBook, deputy_roles, roles_at_level
from incident_bot.domain.serial import (
    from_iso,
    iso,
    person_from_dict,
    person_to_dict,
    playbook_from_dict,
    playbook_to_dict,
)
from incident_bot.domain.tasks import TaskBoard, TaskContext
from incident_bot.errors import NotAuthorised, RefusedError

SCHEMA = 1
INCIDENT_CHANNEL = "incident"  # Notify recipient meaning the incident's Slack channel
BOT = "incident-bot"
PUBLIC_TIER = 4  # a broadcast: never a ring-round


class Status(StrEnum):
    PREBRIEF = "prebrief"  # before T0: need-to-know roles only
    ACTIVE = "active"
    STANDING_DOWN = "standing_down"
    CLOSED = "closed"


class Event(StrEnum):
    REACH_T0 = "reach T0"
    STAND_DOWN = "stand down"
    CLOSE = "close"


# The lifecycle: (state, event) → next state. Anything not listed is refused.
TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.PREBRIEF, Event.REACH_T0): Status.ACTIVE,
    (Status.PREBRIEF, Event.STAND_DOWN): Status.STANDING_DOWN,  # operation called off pre-strike
    (Status.ACTIVE, Event.STAND_DOWN): Status.STANDING_DOWN,
    (Status.STANDING_DOWN, Event.CLOSE): Status.CLOSED,
}


@dataclass(frozen=True)
class IncidentParams:
    area: str
    t0: datetime
    e0: datetime | None
    classification: Classification
    summary: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    # the IANA time zone its notices show times in; incidents stored without one were started
    # when typed times were read as UTC
    zone: str = "UTC"

    def to_dict(self) -> dict[str, Any]:
        return {"area": self.area, "t0": iso(self.t0), "e0": iso(self.e0),
                "classification": self.classification.value, "summary": self.summary,
                "variables": dict(self.variables), "zone": self.zone}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IncidentParams:
        return cls(d["area"], datetime.fromisoformat(d["t0"]), from_iso(d["e0"]),
                   Classification(d["classification"]), d["summary"], dict(d["variables"]),
                   d.get("zone", "UTC"))


@dataclass(frozen=True)
class StatusChange:
    status: Status
    at: datetime
    by: str


@dataclass
class Incident:
    id: str
    playbook: Playbook  # a snapshot: editing the YAML never changes a running incident
    params: IncidentParams
    status: Status
    started_by: str
    started_at: datetime
    people: dict[str, Person]  # staff and this playbook's tier contacts, phones masked
    roles: RoleBook
    briefing: Briefing
    ringround: RingRound
    messages: MessageBook
    tasks: TaskBoard
    channel_id: str | None = None  # the Slack channel, set by the Slack adapter
    history: list[StatusChange] = field(default_factory=list)
    notices: int = 0  # notices so far: makes each notice's outbox key unique

    @property
    def clocks(self) -> Clocks:
        return Clocks(self.params.t0, self.params.e0, self.params.zone)

    @property
    def prebrief(self) -> bool:
        return self.status is Status.PREBRIEF

    @property
    def confidential(self) -> bool:
        """Before T0, or stood down without ever having reached it (an operation called off
        before the strike stays need-to-know for good): who may read and act is narrowest."""
        return self.prebrief or all(change.status is not Status.ACTIVE
                                    for change in self.history)

    def name(self, key: str) -> str:
        person = self.people.get(key)
        return person.name if person else key

    def key_message(self, message_id: str) -> KeyMessage:
        found = next((m for m in self.playbook.messages if m.id == message_id), None)
        if found is None:
            known = ", ".join(m.id for m in self.playbook.messages) or "none"
            raise RefusedError(f"no key message {message_id!r} in this incident ({known})")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "playbook": playbook_to_dict(self.playbook),
                **self.state_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Incident:
        if d.get("schema") != SCHEMA:
            raise ValueError(f"incident document schema {d.get('schema')!r} is not {SCHEMA}")
        return cls.from_state(playbook_from_dict(d["playbook"]), d)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the playbook (which never changes once the incident started)."""
        return {
            "id": self.id, "params": self.params.to_dict(), "status": self.status.value,
            "started_by": self.started_by, "started_at": iso(self.started_at),
            "people": [person_to_dict(p) for p in self.people.values()],
            "roles": self.roles.to_dict(), "briefing": self.briefing.to_dict(),
            "ringround": self.ringround.to_dict(), "messages": self.messages.to_dict(),
            "tasks": self.tasks.to_dict(), "channel_id": self.channel_id,
            "history": [{"status": h.status.value, "at": iso(h.at), "by": h.by}
                        for h in self.history],
            "notices": self.notices,
        }

    @classmethod
    def from_state(cls, playbook: Playbook, d: Mapping[str, Any]) -> Incident:
        people = [person_from_dict(p) for p in d["people"]]
        return cls(
            id=d["id"], playbook=playbook, params=IncidentParams.from_dict(d["params"]),
            status=Status(d["status"]), started_by=d["started_by"],
            started_at=datetime.fromisoformat(d["started_at"]),
            people={p.key: p for p in people}, roles=RoleBook.from_dict(d["roles"]),
            briefing=Briefing.from_dict(d["briefing"]),
            ringround=RingRound.from_dict(d["ringround"]),
            messages=MessageBook.from_dict(d["messages"]),
            tasks=TaskBoard.from_dict(d["tasks"]), channel_id=d["channel_id"],
            history=[StatusChange(Status(h["status"]), datetime.fromisoformat(h["at"]), h["by"])
                     for h in d["history"]],
            notices=d["notices"],
        )


# ---- who may ------------------------------------------------------------------------------


def require(incident: Incident, by: str, roles: tuple[str, ...] | list[str], action: str,
            *, commanders_may: bool = True) -> None:
    """``by`` must be in the incident now and hold one of ``roles`` or (unless
    ``commanders_may`` is False) be a commander; a refusal says which of the two failed."""
    pb = incident.playbook
    if commanders_may:
        allowed = incident.roles.may(pb, by, roles)
        who = list(dict.fromkeys([*roles, *pb.started_by]))
    else:
        allowed, who = incident.roles.holds_any(by, roles), list(roles)
    if not allowed:
        raise NotAuthorised(action, who)
    require_present(incident, by, action, who)


def require_present(incident: Incident, by: str, action: str,
                    who: tuple[str, ...] | list[str] = ()) -> None:
    """``by`` must be in the incident now (before T0: hold a need-to-know role, or have been
    let in early); the refusal says so, whoever else may act."""
    if not incident.roles.is_visible(incident.playbook, by, incident.confidential):
        raise NotAuthorised(action, who, not_present(incident, by))


def not_present(incident: Incident, by: str) -> str:
    """Why ``by`` is not in the incident now, in words."""
    if not incident.roles.roles_of(by):
        return "you hold no role in this incident"
    if incident.prebrief:
        return "the incident is need-to-know until T0 and none of your roles is"
    return ("the operation was called off before T0, so the incident stays need-to-know, "
            "and none of your roles is")


def commanders(incident: Incident) -> list[str]:
    return incident.roles.commanders(incident.playbook)


# ---- contexts for the ring-round and task modules -----------------------------------------


def task_context(incident: Incident) -> TaskContext:
    """Only people in the incident now are given tasks (need-to-know before T0)."""
    pb = incident.playbook
    holders = incident.roles.visible_holders(pb, incident.prebrief)
    visible = [k for k in commanders(incident)
               if incident.roles.is_visible(pb, k, incident.prebrief)]
    names = {key: person.name for key, person in incident.people.items()}
    return TaskContext(incident.id, holders, deputy_roles(pb), visible, names,
                       zone=incident.params.zone)


def round_context(incident: Incident, now: datetime) -> RoundContext:
    pb = incident.playbook
    tactical = incident.roles.holders_of_any(roles_at_level(pb, Level.TACTICAL))
    return RoundContext(
        incident_id=incident.id, playbook=pb, people=incident.people,
        holders={role: list(keys) for role, keys in incident.roles.holders.items()},
        text_for=lambda message_id, language: usable_text(incident, message_id, language, now),
        t0=incident.params.t0, e0=incident.params.e0, tactical_leads=tactical,
    )


def usable_text(incident: Incident, message_id: str, language: str,
                now: datetime) -> tuple[str, str] | None:
    """The current approved text in ``language``, once the message's embargo has lifted."""
    message = next((m for m in incident.playbook.messages if m.id == message_id), None)
    if message is None or not messages.embargo_lifted(
            message, incident.clocks, now, incident.briefing.compromised):
        return None
    return messages.text_for(incident.messages, message_id, language)


def coverage(incident: Incident) -> dict[int, float]:
    """Per *started* tier (a tier not started has reached nobody), the fraction reached of the
    contacts not ruled out: the coverage briefing gates and ``complete_at_coverage`` wait for.
    A wrong number or an unsafe-to-call contact must not hold the next tier (or the media
    statement) until its timeout."""
    return {tier: ringround.coverage(incident.ringround, tier).fraction_of_reachable
            for tier in incident.ringround.tiers}


# ---- notices and decisions ----------------------------------------------------------------


def notice(incident: Incident, recipient: str, purpose: str, facts: Facts | None = None,
           data: Mapping[str, str | int] | None = None, version: str | None = None) -> Notify:
    """A Slack notice to a person (DM) or to the incident channel, with a unique key; the
    service words it from ``purpose`` and ``facts``."""
    incident.notices += 1
    channel = (OutboxChannel.SLACK_CHANNEL if recipient == INCIDENT_CHANNEL
               else OutboxChannel.SLACK_DM)
    topic = f"{purpose}:{incident.notices}"
    return Notify(key=outbox_key(incident.id, recipient, topic, channel.value), channel=channel,
                  recipient=recipient, body="", purpose=purpose, message_version=version,
                  data=dict(data or {}), facts=dict(facts or {}))


def announce(incident: Incident, purpose: str, facts: Facts | None = None,
             data: Mapping[str, str | int] | None = None, version: str | None = None) -> Notify:
    return notice(incident, INCIDENT_CHANNEL, purpose, facts, data, version)


def tell(incident: Incident, people: list[str], purpose: str, facts: Facts | None = None,
         data: Mapping[str, str | int] | None = None) -> list[Effect]:
    return [notice(incident, key, purpose, facts, data) for key in dict.fromkeys(people)]


def decision(kind: str, text: str, by: str, now: datetime, rationale: str = "",
             recorded_by: str = BOT) -> RecordDecision:
    return RecordDecision(kind=kind, decision=text, rationale=rationale, decided_by=by,
                          recorded_by=recorded_by, decided_at=now)


def transition(incident: Incident, event: Event, by: str, now: datetime) -> Status:
    """Move along the lifecycle table (callers check the move exists first)."""
    incident.status = TRANSITIONS[(incident.status, event)]
    incident.history.append(StatusChange(incident.status, now, by))
    return incident.status


def with_e0(incident: Incident, e0: datetime | None) -> None:
    incident.params = replace(incident.params, e0=e0)


# ---- settling: the briefing order drives the ring-round -----------------------------------


def settle(incident: Incident, now: datetime) -> list[Effect]:
    """Open and complete every briefing step the clocks and coverage now allow, starting the
    ring-round of each opened tier, until nothing more changes. Only while active."""
    effects: list[Effect] = []
    while incident.status is Status.ACTIVE:
        changes = briefing.advance(incident.briefing, incident.playbook, coverage(incident),
                                   incident.clocks, now)
        if not changes:
            break
        for change in changes:
            effects += on_change(incident, change, now)
    if incident.status is Status.ACTIVE:
        effects += start_ready_rounds(incident, now)
    return effects


def on_change(incident: Incident, change: Change, now: datetime) -> list[Effect]:
    if change.event == "opened":
        return on_opened(incident, change, now)
    return on_completed(incident, change, now)


def on_opened(incident: Incident, change: Change, now: datetime) -> list[Effect]:
    step = incident.playbook.step(change.step_id)
    state = incident.briefing.get(step.id)
    state.message_version = _version_label(incident, step.message)
    facts: dict[str, Fact] = {"step": step.title, "audience": step.audience.describe(),
                              "briefer": step.briefed_by, "how": change.how}
    if step.message:
        facts["message"] = step.message
    if state.message_version:
        facts["version"] = state.message_version
    data: dict[str, str | int] = {"step": step.id, "how": change.how}
    briefers = incident.roles.visible_holders(incident.playbook, incident.prebrief)
    effects: list[Effect] = [announce(incident, "briefing.opened", facts, data)]
    effects += tell(incident, briefers.get(step.briefed_by, []), "briefing.opened", facts, data)
    return effects + _start_rounds(incident, step.audience.tiers, now)


def _start_rounds(incident: Incident, tiers: tuple[int, ...], now: datetime) -> list[Effect]:
    """Start each tier's ring-round once its script and SMS have an approved version: a caller
    or a contact must never get an unapproved or empty message (the approvers were asked and
    the coordinator is flagged: :mod:`incident_bot.domain.incident.approvals`; approval then
    starts the round through :func:`start_ready_rounds`)."""
    defined = {t.number for t in incident.playbook.tiers}
    ctx = round_context(incident, now)
    effects: list[Effect] = []
    for tier in tiers:
        if tier in defined and tier != PUBLIC_TIER and _round_messages_approved(incident, tier):
            effects += ringround.start_tier(incident.ringround, ctx, tier, now)
    return effects


def _round_messages_approved(incident: Incident, tier_number: int) -> bool:
    tier = incident.playbook.tier(tier_number)
    needed = [m for m in (tier.script, tier.sms_message) if m]
    return all(messages.text_for(incident.messages, m, "en") for m in needed)


def start_ready_rounds(incident: Incident, now: datetime) -> list[Effect]:
    """Start the rounds of opened steps that were waiting for their messages' approval."""
    tiers = held_tiers(incident)
    return _start_rounds(incident, tiers, now) if tiers else []


def held_tiers(incident: Incident) -> tuple[int, ...]:
    """Ring-round tiers whose briefing step has opened but whose round has not started (after
    :func:`settle`: held until their script and SMS message are approved)."""
    opened = (briefing.StepStatus.OPEN, briefing.StepStatus.COMPLETE)
    defined = {t.number for t in incident.playbook.tiers} - {PUBLIC_TIER}
    return tuple(sorted({tier for step in incident.playbook.briefing
                         if incident.briefing.get(step.id).status in opened
                         for tier in step.audience.tiers
                         if tier in defined and tier not in incident.ringround.tiers}))


def on_completed(incident: Incident, change: Change, now: datetime) -> list[Effect]:
    step = incident.playbook.step(change.step_id)
    state = incident.briefing.get(step.id)
    if step.message and state.message_version is None:
        state.message_version = _version_label(incident, step.message)
    facts: dict[str, Fact] = {"step": step.title}
    if change.how == briefing.BY_COVERAGE:
        facts[VARIANT] = "coverage"
    else:
        facts["by"] = incident.name(change.how)
    if state.message_version:
        facts["version"] = state.message_version
    return [announce(incident, "briefing.completed", facts, {"step": step.id}),
            *tasks_done_by_step(incident, step.id, change.how, now)]


def tasks_done_by_step(incident: Incident, step_id: str, by: str,
                       now: datetime) -> list[Effect]:
    """A completed briefing step completes the tasks the playbook says it does."""
    done = [t.id for t in incident.playbook.tasks if t.done_by_step == step_id]
    if not done:
        return []
    return tasks.complete_with_step(incident.tasks, task_context(incident), done, step_id, by,
                                    now)


def _version_label(incident: Incident, message_id: str | None) -> str | None:
    found = messages.text_for(incident.messages, message_id, "en") if message_id else None
    return found[0] if found else None

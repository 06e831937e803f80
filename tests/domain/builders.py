"""A small playbook and directory for the incident tests (this module holds no tests).

The playbook is a cut-down counter-terrorism plan: strategic → members and tier-1 (in parallel)
→ media (held until tier 1 is reached, E0+90m at the latest, or the commander overrides) and
tier 3. People are named by what they do: ``gold`` (bcu_commander), ``sio``, ``ceo``,
``leader``, ``silver``, ``pcomms``, ``ccomms``, ``eng`` (engagement lead, the coordinator),
``cal1``/``cal2`` (callers), ``cllr``; contacts ``k1``..``k4`` (tier 1) and ``k5``, ``k6``
(tier 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from incident_bot.domain.commands import ApproveMessage, Command, RecordOutcome
from incident_bot.domain.directory import Person
from incident_bot.domain.durations import parse_relative_time
from incident_bot.domain.effects import Effect, Notify, RecordDecision, ScheduleTimer
from incident_bot.domain.incident import (
    Incident,
    IncidentParams,
    Status,
    handle,
    on_timer,
    start_incident,
)
from incident_bot.domain.playbook import (
    Audience,
    BriefingStep,
    Channel,
    Classification,
    Gate,
    KeyMessage,
    Level,
    Playbook,
    Role,
    Rung,
    RungKind,
    TaskDef,
    Tier,
)
from incident_bot.service.wording import chat_text

T0 = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
E0 = T0 + timedelta(hours=1)
BEFORE_T0 = T0 - timedelta(hours=2)
MIN = timedelta(minutes=1)
INCIDENT_ID = "inc-0f1e2d3c"
rel = parse_relative_time

S, T, D = Level.STRATEGIC, Level.TACTICAL, Level.DELIVERY
ROLES = (
    Role("bcu_commander", "BCU commander", S, deputy="police_silver", need_to_know=True),
    Role("investigation_owner", "CT SIO", S, need_to_know=True),
    Role("council_chief_exec", "Chief executive", S, need_to_know=True),
    Role("council_leader", "Council leader", S),
    Role("police_silver", "Police Silver", T, deputy="bcu_commander", need_to_know=True),
    Role("police_comms", "Police comms", T, deputy="council_comms"),
    Role("council_comms", "Council comms", T, deputy="police_comms"),
    Role("engagement_lead", "Engagement lead", T, deputy="police_silver"),
    Role("caller", "Caller", D, deputy="engagement_lead"),
    Role("elected_member", "Ward councillors", D),
)
TIERS = (
    Tier(1, "Top-tier key individuals", fan_out=5, caller_role="caller",
         backup_role="engagement_lead", script="ring-round-script",
         sms_message="ring-round-sms", coverage_target=0.9, deadline=rel("E0+1h"),
         ladder=(Rung(RungKind.CALLER, 15 * MIN), Rung(RungKind.SMS, 15 * MIN),
                 Rung(RungKind.FLAG))),
    Tier(3, "Key Individual Network", script="ring-round-script", sms_message="ring-round-sms",
         ladder=(Rung(RungKind.SMS, 30 * MIN), Rung(RungKind.FLAG))),
    Tier(4, "The public"),
)
BRIEFING = (
    BriefingStep("strategic", "Brief the chief executive and leader",
                 Audience(roles=("council_chief_exec", "council_leader")), "bcu_commander",
                 due=rel("E0+15m")),
    BriefingStep("members", "Brief ward councillors", Audience(roles=("elected_member",)),
                 "council_chief_exec", message="member-briefing",
                 gate=Gate(after=("strategic",)), due=rel("E0+30m")),
    BriefingStep("tier-1", "Ring-round tier 1", Audience(tiers=(1,)), "engagement_lead",
                 message="ring-round-script", gate=Gate(after=("strategic",)),
                 complete_at_coverage=0.75, due=rel("E0+1h")),
    BriefingStep("media", "Public holding statement", Audience(public=True), "police_comms",
                 message="public-holding-statement", media_hold=True,
                 gate=Gate(after=("tier-1",), timeout=rel("E0+90m"),
                           override_by=("bcu_commander",)),
                 due=rel("E0+1h")),
    BriefingStep("tier-3", "Ring-round tier 3", Audience(tiers=(3,)), "engagement_lead",
                 message="ring-round-script", gate=Gate(after=("tier-1",)),
                 complete_at_coverage=0.8, due=rel("E0+4h")),
)
MESSAGES = (
    KeyMessage("public-holding-statement", "Holding statement", "public-holding-statement",
               Audience(public=True), (Channel.WEB, Channel.SLACK),
               ("police_comms", "investigation_owner"), embargo=rel("E0")),
    KeyMessage("member-briefing", "Member briefing", "member-briefing",
               Audience(roles=("elected_member",)), (Channel.EMAIL,),
               ("council_comms", "police_comms")),
    KeyMessage("ring-round-script", "Script", "ring-round-script", Audience(tiers=(1, 3)),
               (Channel.PHONE,), ("police_comms", "council_comms"), ("en", "ur", "pl")),
    KeyMessage("ring-round-sms", "SMS", "ring-round-sms", Audience(tiers=(1, 3)),
               (Channel.SMS, Channel.VOICE), ("police_comms", "council_comms"),
               ("en", "ur", "pl")),
)
TASKS = (
    TaskDef("confirm-readiness", "Confirm council readiness", "council_chief_exec",
            rel("T0-1h")),
    TaskDef("brief-leader", "Brief the council leader", "council_leader", rel("E0+15m")),
    TaskDef("approve-statement", "Approve the holding statement", "police_comms", rel("T0+1h")),
)


def playbook(**changes: object) -> Playbook:
    base = Playbook(
        id="ct-test", title="CT arrests (test)", description="",
        classification=Classification.OFFICIAL_SENSITIVE,
        started_by=("bcu_commander", "police_silver"), coordinator="engagement_lead",
        roles=ROLES, tiers=TIERS, briefing=BRIEFING, messages=MESSAGES, tasks=TASKS,
        e0_default=rel("T0+1h"), variables={"helpline": "0300 123 4567"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


PHONE = (Channel.PHONE, Channel.SMS, Channel.VOICE)


def staff(key: str, *roles: str) -> Person:
    return Person(key=key, name=key.title(), roles=roles, slack_user_id=f"U{key.upper()}")


def contact(key: str, tier: int, language: str = "en") -> Person:
    return Person(key=key, name=key.upper(), tier=tier, phone="+447700900123",
                  language=language, channels=PHONE)


def people() -> list[Person]:
    return [
        staff("gold", "bcu_commander"), staff("sio", "investigation_owner"),
        staff("ceo", "council_chief_exec"), staff("leader", "council_leader"),
        staff("silver", "police_silver"), staff("pcomms", "police_comms"),
        staff("ccomms", "council_comms"), staff("eng", "engagement_lead"),
        staff("cal1", "caller"), staff("cal2", "caller"), staff("cllr", "elected_member"),
        contact("k1", 1), contact("k2", 1, "ur"), contact("k3", 1), contact("k4", 1),
        contact("k5", 3), contact("k6", 3, "pl"),
        Person(key="stranger", name="Not relevant"),  # no role, no Slack, no tier
    ]


def drafts(pb: Playbook | None = None) -> dict[tuple[str, str], str]:
    pb = pb or playbook()
    return {(m.id, lang): f"{m.id} {lang} v1 text" for m in pb.messages for lang in m.languages}


def params(**changes: object) -> IncidentParams:
    base = IncidentParams(area="Anytown", t0=T0, e0=None,
                          classification=Classification.OFFICIAL_SENSITIVE, summary="Arrests")
    return replace(base, **changes)  # type: ignore[arg-type]


def start(now: datetime = BEFORE_T0, pb: Playbook | None = None,
          who: Sequence[Person] | None = None, by: str = "gold",
          **param_changes: object) -> tuple[Incident, list[Effect]]:
    pb = pb or playbook()
    return start_incident(INCIDENT_ID, pb, params(**param_changes),
                          people() if who is None else who, by, drafts(pb), now)


def started(now: datetime = BEFORE_T0, **kwargs: object) -> Incident:
    incident, _ = start(now, **kwargs)  # type: ignore[arg-type]
    return incident


def run(incident: Incident, now: datetime, *commands: Command) -> list[Effect]:
    effects: list[Effect] = []
    for command in commands:
        effects += handle(incident, command, now)
    return effects


APPROVERS = {"police_comms": "pcomms", "council_comms": "ccomms",
             "investigation_owner": "sio"}


def approve(incident: Incident, message_id: str, now: datetime, version: int = 1) -> None:
    message = incident.playbook.message(message_id)
    for role in message.approvers:
        handle(incident, ApproveMessage(message_id, version, APPROVERS[role]), now)


def approve_all(incident: Incident, now: datetime) -> None:
    for message in incident.playbook.messages:
        approve(incident, message.id, now)


def reach(incident: Incident, now: datetime, *contacts: str) -> list[Effect]:
    """The coordinator records each contact as reached."""
    return run(incident, now, *(RecordOutcome(k, "reached", "eng") for k in contacts))


# ---- looking at effects ---------------------------------------------------------------------


def decisions(effects: Iterable[Effect], kind: str | None = None) -> list[RecordDecision]:
    return [e for e in effects
            if isinstance(e, RecordDecision) and (kind is None or e.kind == kind)]


def notices(effects: Iterable[Effect], purpose: str | None = None) -> list[Notify]:
    return [e for e in effects
            if isinstance(e, Notify) and (purpose is None or e.purpose == purpose)]


def said(notify: Notify) -> str:
    """What a chat notice says once the service words it (strict: unworded facts fail)."""
    return chat_text(notify, strict=True)


def timers(effects: Iterable[Effect], kind: str | None = None) -> list[ScheduleTimer]:
    return [e for e in effects
            if isinstance(e, ScheduleTimer) and (kind is None or e.kind == kind)]


# ---- incidents at common moments ------------------------------------------------------------


def active_incident(pb: Playbook | None = None) -> Incident:
    """Started before T0 and taken to T0 by its timer: active, E0 not yet reached."""
    incident = started(pb=pb)
    on_timer(incident, "incident.t0", {"at": T0.isoformat()}, T0)
    return incident


def at_e0(approved: bool = True, pb: Playbook | None = None) -> Incident:
    """Active, every message v1 approved (unless told not to), E0 reached: strategic open."""
    incident = active_incident(pb)
    if approved:
        approve_all(incident, T0 + MIN)
    on_timer(incident, "briefing.e0", {"at": E0.isoformat()}, E0)
    return incident


def statuses(incident: Incident) -> dict[str, str]:
    return {step_id: state.status.value for step_id, state in incident.briefing.steps.items()}


def stored_incident(incident_id: str, area: str = "Northbridge",
                    status: Status | None = None) -> Incident:
    """An active incident with this id and area (and status, when given), for tests that need
    one stored, as the repositories take and give them."""
    incident = active_incident()
    incident.id = incident_id
    incident.params = replace(incident.params, area=area)
    if status is not None:
        incident.status = status
    return incident

"""One handler per command: check who may, change the incident, return effects.

Handlers check before they change; :func:`incident_bot.domain.incident.handle` also restores
the incident if anything raises, so a refused command never leaves a trace in the aggregate.
Which commands are allowed in which lifecycle state is the table :data:`HANDLERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from incident_bot.domain import briefing, messages, ringround, tasks
from incident_bot.domain.commands import (
    AcceptCallList,
    AckTask,
    AddTask,
    AddTranslation,
    ApproveMessage,
    AssignRole,
    CannotDoTask,
    Close,
    Command,
    CompleteStep,
    CompleteTask,
    DeliveryReport,
    DraftMessage,
    LogDecision,
    MarkCompromised,
    OverrideStep,
    RecordOutcome,
    ReleaseMessage,
    SetE0,
    SmsReceived,
    StandDown,
    UnassignRole,
    VoiceDigit,
    WithdrawMessage,
)
from incident_bot.domain.effects import VARIANT, Effect, Fact, RecordDecision
from incident_bot.domain.incident import approvals
from incident_bot.domain.incident.model import (
    TRANSITIONS,
    Event,
    Incident,
    Status,
    announce,
    commanders,
    coverage,
    decision,
    on_opened,
    require,
    require_present,
    round_context,
    task_context,
    tasks_done_by_step,
    tell,
    transition,
    with_e0,
)
from incident_bot.domain.playbook import KeyMessage, Level
from incident_bot.domain.roles import need_to_know, roles_at_level
from incident_bot.domain.serial import hhmm, utc
from incident_bot.errors import NotFoundError, RefusedError

Handler = Callable[[Incident, Any, datetime], list[Effect]]


# ---- membership and clocks ----------------------------------------------------------------


def assign_role(inc: Incident, c: AssignRole, now: datetime) -> list[Effect]:
    require(inc, c.by, (), f"assign role {c.role}")
    _known_role(inc, c.role)
    if c.person_key not in inc.people:
        raise NotFoundError(f"no person {c.person_key!r} in this incident's directory snapshot")
    early = (inc.prebrief and c.role not in need_to_know(inc.playbook)
             and not inc.roles.is_visible(inc.playbook, c.person_key, prebrief=True))
    # Re-assigning a role someone holds outside the pre-brief is how they are let in early.
    if not inc.roles.assign(c.role, c.person_key) and not early:
        return []
    note = " before T0, outside need-to-know (confidential pre-brief widened)" if early else ""
    if early:
        inc.roles.admit_early(c.person_key)
    who = f"{inc.name(c.person_key)} ({c.person_key})"  # the record keeps the key too
    effects: list[Effect] = [
        decision("membership", f"{who} given role {c.role}{note}", c.by, now),
        announce(inc, "incident.role_assigned",
                 {VARIANT: "early" if early else "assigned", "name": inc.name(c.person_key),
                  "role": c.role, "by": inc.name(c.by)}, {"role": c.role}),
    ]
    if inc.roles.is_visible(inc.playbook, c.person_key, inc.prebrief):
        effects += tell(inc, [c.person_key], "incident.member_added",
                        {VARIANT: "role", "role": c.role, "title": inc.playbook.title,
                         "area": inc.params.area}, {"roles": c.role})
    return effects + tasks.sync_assignees(inc.tasks, task_context(inc), now)


def unassign_role(inc: Incident, c: UnassignRole, now: datetime) -> list[Effect]:
    require(inc, c.by, (), f"unassign role {c.role}")
    _known_role(inc, c.role)
    if c.person_key not in inc.roles.holders_of(c.role):
        return []
    if _last_commander(inc, c.role, c.person_key):
        raise RefusedError(f"can't unassign {c.role} from {inc.name(c.person_key)}: they are "
                           "the last commander; assign another commander first")
    inc.roles.unassign(c.role, c.person_key)
    left = not inc.roles.roles_of(c.person_key)
    if left and c.person_key in inc.roles.admitted_early:
        inc.roles.admitted_early.remove(c.person_key)
    who = f"{inc.name(c.person_key)} ({c.person_key})"
    effects: list[Effect] = [
        decision("membership", f"{who} no longer holds role {c.role}", c.by, now),
        announce(inc, "incident.role_unassigned",
                 {"name": inc.name(c.person_key), "role": c.role}, {"role": c.role}),
    ]
    purpose = "incident.member_removed" if left else "incident.role_removed"
    effects += tell(inc, [c.person_key], purpose,
                    {"role": c.role, "title": inc.playbook.title}, {"role": c.role})
    return effects + tasks.sync_assignees(inc.tasks, task_context(inc), now)


def _last_commander(inc: Incident, role: str, person: str) -> bool:
    """Whether taking ``role`` from ``person`` would leave nobody able to command."""
    started_by = inc.playbook.started_by
    if role not in started_by:
        return False
    others = [k for k in commanders(inc) if k != person]
    kept = [r for r in inc.roles.roles_of(person) if r in started_by and r != role]
    return not others and not kept


def _known_role(inc: Incident, role: str) -> None:
    if role not in {r.code for r in inc.playbook.roles}:
        known = ", ".join(r.code for r in inc.playbook.roles)
        raise RefusedError(f"unknown role {role!r}: this playbook's roles are {known}")


def set_e0(inc: Incident, c: SetE0, now: datetime) -> list[Effect]:
    require(inc, c.by, (), "set E0 (the embargo)")
    e0, old, zone = utc(c.e0), inc.params.e0, inc.params.zone
    if e0 < inc.params.t0:
        raise RefusedError(f"can't set E0 to {hhmm(e0, zone)}: E0 is never before T0 "
                           f"({hhmm(inc.params.t0, zone)})")
    if e0 == old:
        return []
    with_e0(inc, e0)
    text = f"E0 (embargo lifted) moved from {hhmm(old, zone)} to {hhmm(e0, zone)}"
    effects: list[Effect] = [decision("embargo", text, c.by, now, rationale=c.reason),
                             announce(inc, "incident.e0_changed",
                                      {"old": hhmm(old, zone), "new": hhmm(e0, zone)})]
    effects += briefing.gate_timers(inc.id, inc.playbook, inc.clocks)
    effects += ringround.reschedule_deadlines(inc.ringround, round_context(inc, now), now)
    return effects + tasks.reschedule(inc.tasks, task_context(inc), inc.params.t0, e0, now)


# ---- key messages -------------------------------------------------------------------------


def draft_message(inc: Incident, c: DraftMessage, now: datetime) -> list[Effect]:
    message = inc.key_message(c.message_id)
    require(inc, c.by, message.approvers, f"draft message {message.id}")
    version = messages.draft(inc.messages, message, c.texts, c.by, now)
    facts: dict[str, Fact] = {"message": message.id, "version": version.number,
                              "by": inc.name(c.by), "languages": tuple(version.texts),
                              "approvers": tuple(message.approvers)}
    data: dict[str, str | int] = {"message": message.id, "version": version.number}
    return [announce(inc, "message.drafted", facts, data),
            *approvals.ask(inc, message, version, {VARIANT: "drafted", **facts})]


def approve_message(inc: Incident, c: ApproveMessage, now: datetime) -> list[Effect]:
    message = inc.key_message(c.message_id)
    require(inc, c.by, message.approvers, f"approve message {message.id} v{c.version}",
            commanders_may=False)  # approval is the approver roles' alone
    roles = inc.roles.roles_of(c.by)
    result = messages.approve(inc.messages, message, c.version, roles, c.by, now,
                              two_person=inc.playbook.needs_two_people(message),
                              approvers=_approvers(inc, message))
    if not result.changed:
        return []
    facts: dict[str, Fact] = {"message": message.id, "version": c.version}
    if not result.complete:
        facts |= {VARIANT: "awaiting", "by": inc.name(c.by), "awaiting": tuple(result.awaiting)}
    else:
        facts |= {VARIANT: "complete", "superseded": tuple(str(n) for n in result.superseded)}
    return [announce(inc, "message.approved", facts,
                     {"message": message.id, "version": c.version})]


def _approvers(inc: Incident, message: KeyMessage) -> list[messages.Approver]:
    return [messages.Approver(key, inc.name(key), tuple(
                role for role in inc.roles.roles_of(key) if role in message.approvers))
            for key in inc.roles.holders_of_any(message.approvers)]


def add_translation(inc: Incident, c: AddTranslation, now: datetime) -> list[Effect]:
    message = inc.key_message(c.message_id)
    require(inc, c.by, message.approvers, f"translate message {message.id}")
    version = messages.add_translation(inc.messages, message, c.version, c.language, c.text,
                                       c.by, now)
    if version is None:
        return []
    facts: dict[str, Fact] = {"label": messages.label(message.id, version.number, c.language),
                              "by": inc.name(c.by)}
    data: dict[str, str | int] = {"message": message.id, "version": version.number}
    if version.number == c.version:
        return [announce(inc, "message.translated", {VARIANT: "added", **facts}, data)]
    # v(n) was approved: the translation is a new version and needs approving like a draft
    facts |= {VARIANT: "new_version", "approved": c.version,
              "approvers": tuple(message.approvers)}
    return [announce(inc, "message.translated", facts, data),
            *approvals.ask(inc, message, version, facts)]


def release_message(inc: Incident, c: ReleaseMessage, now: datetime) -> list[Effect]:
    message = inc.key_message(c.message_id)
    steps = messages.briefing_steps_for(inc.playbook, message.id)
    require(inc, c.by, [*message.approvers, *(s.briefed_by for s in steps)],
            f"release message {message.id}")
    labels = {s.id: briefing.status_label(s, inc.briefing.get(s.id)) for s in steps}
    lifted = messages.embargo_lifted(message, inc.clocks, now, inc.briefing.compromised)
    blocker = messages.release_blocker(inc.messages, message, labels, lifted,
                                       messages.embargo_at(message, inc.clocks), inc.params.zone)
    if blocker:
        raise RefusedError(blocker)
    version = messages.release(inc.messages, message, c.by, now)
    if version is None:
        return []
    en = messages.label(message.id, version.number, "en")
    languages = ", ".join(version.texts)
    return [decision("release", f"Released {message.id} v{version.number} ({languages})",
                     c.by, now),
            announce(inc, "message.released",
                     {"label": en, "title": message.title,
                      "channels": tuple(ch.value for ch in message.channels),
                      "text": version.texts.get("en", "")},
                     {"message": message.id, "version": version.number,
                      "languages": languages}, version=en)]


def withdraw_message(inc: Incident, c: WithdrawMessage, now: datetime) -> list[Effect]:
    message = inc.key_message(c.message_id)
    require(inc, c.by, message.approvers, f"withdraw message {message.id}")
    version = messages.withdraw(inc.messages, message, c.reason, c.by, now)
    text = f"Withdrew {message.id} v{version.number}: nothing of it will be used"
    return [decision("withdraw", text, c.by, now, rationale=c.reason),
            announce(inc, "message.withdrawn",
                     {"message": message.id, "version": version.number,
                      "reason": c.reason.strip()},
                     {"message": message.id, "version": version.number})]


# ---- the briefing order -------------------------------------------------------------------


def complete_step(inc: Incident, c: CompleteStep, now: datetime) -> list[Effect]:
    inc.briefing.get(c.step_id)
    step = inc.playbook.step(c.step_id)
    require(inc, c.by, (step.briefed_by,), f"complete briefing step {step.id}")
    version = messages.text_for(inc.messages, step.message, "en") if step.message else None
    if step.message and version is None:
        raise RefusedError(f"can't complete briefing step {step.id}: message {step.message} "
                           "has no approved version to brief from")
    if not briefing.complete(inc.briefing, step, c.by, now):
        return []
    state = inc.briefing.get(step.id)
    state.message_version = version[0] if version else None
    facts: dict[str, Fact] = {VARIANT: "marked", "step": step.title, "by": inc.name(c.by)}
    if state.message_version:
        facts["version"] = state.message_version
    return [announce(inc, "briefing.completed", facts, {"step": step.id}),
            *tasks_done_by_step(inc, step.id, c.by, now)]


def override_step(inc: Incident, c: OverrideStep, now: datetime) -> list[Effect]:
    inc.briefing.get(c.step_id)
    step = inc.playbook.step(c.step_id)
    require(inc, c.by, step.gate.override_by, f"override briefing step {step.id}")
    check = briefing.check_gate(step, inc.briefing, coverage(inc), inc.clocks, now)
    change = briefing.override(inc.briefing, step.id, c.reason, c.by, now)
    held = check.describe() or "its gate was about to open"
    text = f"Override: opened briefing step {step.id} ({step.title}) early; it was {held}"
    return [decision("override", text, c.by, now, rationale=c.reason),
            *on_opened(inc, change, now)]


def mark_compromised(inc: Incident, c: MarkCompromised, now: datetime) -> list[Effect]:
    require(inc, c.by, (), "mark the timeline compromised")
    if inc.briefing.compromised:
        return []
    changes = briefing.compromise(inc.briefing, c.reason, c.by, now)
    text = ("Timeline compromised: every remaining briefing step opened at once and the "
            "holding line may be released")
    effects: list[Effect] = [decision("compromised", text, c.by, now, rationale=c.reason),
                             announce(inc, "incident.compromised", {"reason": c.reason})]
    for change in changes:
        effects += on_opened(inc, change, now)
    return effects



# ---- the ring-round (its module checks who may) -------------------------------------------


def accept_call_list(inc: Incident, c: AcceptCallList, now: datetime) -> list[Effect]:
    return ringround.accept_list(inc.ringround, round_context(inc, now), c.caller_key, c.by, now,
                                 c.list_id)


def record_outcome(inc: Incident, c: RecordOutcome, now: datetime) -> list[Effect]:
    return ringround.record_outcome(inc.ringround, round_context(inc, now), c.contact_key,
                                    c.outcome, c.by, now, c.feedback)


def sms_received(inc: Incident, c: SmsReceived, now: datetime) -> list[Effect]:
    return ringround.sms_received(inc.ringround, round_context(inc, now), c.contact_key,
                                  c.text, now)


def voice_digit(inc: Incident, c: VoiceDigit, now: datetime) -> list[Effect]:
    return ringround.voice_digit(inc.ringround, round_context(inc, now), c.contact_key,
                                 c.digit, now)


def delivery_report(inc: Incident, c: DeliveryReport, now: datetime) -> list[Effect]:
    return ringround.delivery_report(inc.ringround, round_context(inc, now), c.outbox_key,
                                     c.status, now, c.error_code)


# ---- tasks (its module checks who may act on a task) --------------------------------------


# Tasks go only to people in the incident now: someone outside it is told that, not whose
# roles may (they may hold the owner's role and wait outside the pre-brief).


def ack_task(inc: Incident, c: AckTask, now: datetime) -> list[Effect]:
    require_present(inc, c.by, f"acknowledge task {c.task_id}")
    return tasks.ack(inc.tasks, task_context(inc), c.task_id, c.by, now)


def complete_task(inc: Incident, c: CompleteTask, now: datetime) -> list[Effect]:
    require_present(inc, c.by, f"complete task {c.task_id}")
    return tasks.complete(inc.tasks, task_context(inc), c.task_id, c.by, now)


def cannot_do_task(inc: Incident, c: CannotDoTask, now: datetime) -> list[Effect]:
    require_present(inc, c.by, f"mark as cannot-do task {c.task_id}")
    return tasks.cannot_do(inc.tasks, task_context(inc), c.task_id, c.reason, c.by, now)


def add_task(inc: Incident, c: AddTask, now: datetime) -> list[Effect]:
    leads = [*roles_at_level(inc.playbook, Level.STRATEGIC),
             *roles_at_level(inc.playbook, Level.TACTICAL)]
    require(inc, c.by, leads, "add a task")
    _known_role(inc, c.owner_role)
    return tasks.add_task(inc.tasks, task_context(inc), c.title, c.owner_role, utc(c.due), c.by,
                          now, c.depends_on)


# ---- decision log and lifecycle -----------------------------------------------------------


def log_decision(inc: Incident, c: LogDecision, now: datetime) -> list[Effect]:
    require_present(inc, c.by, "record a decision")
    if not c.decision.strip():
        raise RefusedError("can't record an empty decision")
    return [RecordDecision(kind="decision", decision=c.decision, rationale=c.rationale,
                           decided_by=c.by, recorded_by=c.by,
                           decided_at=utc(c.decided_at) if c.decided_at else now,
                           options_rejected=c.options_rejected, refers_to=c.refers_to)]


def stand_down(inc: Incident, c: StandDown, now: datetime) -> list[Effect]:
    require(inc, c.by, (), "stand the incident down")
    was = inc.status
    transition(inc, Event.STAND_DOWN, c.by, now)
    text = ("Stand-down: the response is ending; no more briefing steps open and the "
            "ring-round sends nothing more automatically")
    if was is Status.PREBRIEF:
        text = "Stand-down before T0: the operation was called off"
    return [decision("standdown", text, c.by, now, rationale=c.reason),
            announce(inc, "incident.standing_down",
                     {VARIANT: "called_off" if was is Status.PREBRIEF else "ending"})]


def close(inc: Incident, c: Close, now: datetime) -> list[Effect]:
    require(inc, c.by, (), "close the incident")
    transition(inc, Event.CLOSE, c.by, now)
    return [decision("close", "Incident closed", c.by, now),
            announce(inc, "incident.closed")]


# ---- the tables ---------------------------------------------------------------------------

_OPEN = frozenset({Status.PREBRIEF, Status.ACTIVE, Status.STANDING_DOWN})
_RUNNING = frozenset({Status.ACTIVE, Status.STANDING_DOWN})
_ACTIVE = frozenset({Status.ACTIVE})


def _from_table(event: Event) -> frozenset[Status]:
    return frozenset(state for state, e in TRANSITIONS if e is event)


# command → (handler, the states it is allowed in)
HANDLERS: dict[type[Command], tuple[Handler, frozenset[Status]]] = {
    AssignRole: (assign_role, _OPEN),
    UnassignRole: (unassign_role, _OPEN),
    SetE0: (set_e0, frozenset({Status.PREBRIEF, Status.ACTIVE})),
    DraftMessage: (draft_message, _OPEN),
    ApproveMessage: (approve_message, _OPEN),
    AddTranslation: (add_translation, _OPEN),
    ReleaseMessage: (release_message, _RUNNING),
    WithdrawMessage: (withdraw_message, _OPEN),
    CompleteStep: (complete_step, _ACTIVE),
    OverrideStep: (override_step, _ACTIVE),
    MarkCompromised: (mark_compromised, _ACTIVE),
    AcceptCallList: (accept_call_list, _RUNNING),
    RecordOutcome: (record_outcome, _RUNNING),
    SmsReceived: (sms_received, _RUNNING),
    VoiceDigit: (voice_digit, _RUNNING),
    DeliveryReport: (delivery_report, _RUNNING),
    AckTask: (ack_task, _OPEN),
    CompleteTask: (complete_task, _OPEN),
    CannotDoTask: (cannot_do_task, _OPEN),
    AddTask: (add_task, _OPEN),
    LogDecision: (log_decision, frozenset(Status)),  # corrections may come after closing
    StandDown: (stand_down, _from_table(Event.STAND_DOWN)),
    Close: (close, _from_table(Event.CLOSE)),
}

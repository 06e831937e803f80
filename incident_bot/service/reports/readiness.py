"""The readiness report: how an exercise (or a real response) went against the playbook, and the
gaps that would hurt on the day. Pure: computed from the incident, the directory and the rows the
response left behind (outbox deliveries, decision log), at one moment; it changes nothing.

- time to brief each step against the plan (planned ``due`` vs opened / completed);
- coverage per tier (reached, pending, failed, opted out, flagged; median and worst time from the
  start of the tier's round to reaching a contact; whether the target was met by the deadline);
- escalations fired, counted as events (one alert told to three people is one alert);
- gaps: roles with no holder or no deputy holder, contacts not verified recently, contacts
  whose number is missing, malformed, unusable or failed, templates missing a language the
  playbook lists, contacts whose language has no translation, SMS texts over the segment budget,
  tiers short of target at their deadline, tasks never acknowledged.

Contacts are named (the report is for the partnership's coordinator); phone numbers are never in
it except masked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from incident_bot.domain import ringround
from incident_bot.domain.directory import E164, NUMBER_CHANNELS, Person, mask_phone
from incident_bot.domain.durations import median_duration
from incident_bot.domain.effects import CHAT_CHANNELS
from incident_bot.domain.incident import read_model
from incident_bot.domain.incident.model import Incident
from incident_bot.domain.ladder import REACHED_STATES, ContactState, effective_ladder
from incident_bot.domain.personalise import personalise
from incident_bot.domain.playbook import Channel, KeyMessage, Playbook, RungKind, Tier
from incident_bot.domain.sms import count_for_sending
from incident_bot.domain.tasks import Task, TaskState
from incident_bot.service.ports import DecisionEntry, OutboxItem

DEFAULT_VERIFIED_WITHIN_MONTHS = 12
PUBLIC_TIER = 4
# A confirmation code is always this long; SMS texts are measured with a worst-case stand-in.
CODE_STAND_IN = "XXXX"

# Outbox purposes that are escalations, with the words the report uses for them.
ESCALATIONS: Mapping[str, str] = {
    "ringround.list_moved": "call list moved to the backup caller",
    "ringround.list_abandoned": "call list accepted by nobody",
    "ringround.uncalled": "contacts with no caller (not enough callers)",
    "ringround.senior": "senior officer asked to try personally",
    "ringround.sms": "automatic SMS sent",
    "ringround.voice": "automatic voice call placed",
    "ringround.amber": "tier amber alert",
    "ringround.red": "tier red alert",
    "ringround.flag": "red flag to the coordinator",
    "ringround.held": "ring-round held: its script or SMS not approved",
    "ringround.coverage_short": "tier short of coverage at its deadline",
    "task.not_acknowledged": "task not acknowledged: deputy asked",
    "task.overdue": "task overdue",
    "task.escalated": "overdue task escalated",
}


class TemplateLanguages(Protocol):
    """What the report needs from the template store."""

    def languages(self, template: str) -> list[str]: ...


# ---- the report model -----------------------------------------------------------------------


@dataclass(frozen=True)
class StepTiming:
    id: str
    title: str
    audience: str
    status: str  # waiting, held, open, complete
    planned_at: datetime | None
    opened_at: datetime | None
    opened_by: str | None  # gate, timeout, override, compromised
    completed_at: datetime | None
    completed_by: str | None  # a name, or "coverage"
    late_by: timedelta | None  # completion (or the report time) past the plan
    message_version: str | None


@dataclass(frozen=True)
class TierCoverage:
    number: int
    title: str
    started_at: datetime | None
    total: int
    reached: int
    pending: int
    failed: int  # declined, unsafe to call, wrong number
    opted_out: int
    flagged: int
    target: float
    fraction: float
    median_to_reach: timedelta | None
    worst_to_reach: timedelta | None
    deadline_at: datetime | None
    reached_by_deadline: int | None  # None without a deadline

    @property
    def met_target_by_deadline(self) -> bool | None:
        if self.reached_by_deadline is None or not self.total:
            return None
        return self.reached_by_deadline / self.total >= self.target


@dataclass(frozen=True)
class Count:
    kind: str
    label: str
    count: int


@dataclass(frozen=True)
class TaskSummary:
    total: int
    done: int
    open: int
    overdue: int
    cannot_do: int
    never_acknowledged: int  # still waiting, never picked up


@dataclass(frozen=True)
class Gap:
    area: str  # roles, callers, verification, numbers, templates, languages, sms, coverage, tasks
    subject: str
    detail: str


@dataclass(frozen=True)
class ReadinessReport:
    incident_id: str
    playbook_id: str
    playbook_title: str
    area: str
    status: str
    t0: datetime
    e0: datetime | None
    as_of: datetime
    steps: tuple[StepTiming, ...]
    tiers: tuple[TierCoverage, ...]
    escalations: tuple[Count, ...]
    deliveries: tuple[Count, ...]  # outbox rows by channel and status
    decisions: tuple[Count, ...]  # decision-log entries by kind
    tasks: TaskSummary
    gaps: tuple[Gap, ...]

    def gaps_in(self, area: str) -> tuple[Gap, ...]:
        return tuple(g for g in self.gaps if g.area == area)

    def escalation(self, kind: str) -> int:
        return next((c.count for c in self.escalations if c.kind == kind), 0)


# ---- computing it ---------------------------------------------------------------------------


def readiness_report(
    incident: Incident,
    directory: Sequence[Person],
    outbox: Sequence[OutboxItem],
    decisions: Sequence[DecisionEntry],
    templates: TemplateLanguages,
    now: datetime,
    verified_within_months: int = DEFAULT_VERIFIED_WITHIN_MONTHS,
) -> ReadinessReport:
    """The report for ``incident`` as of ``now``. ``directory`` is the full directory (real
    numbers: they are checked, never copied out); ``outbox`` and ``decisions`` are the incident's
    delivery rows and decision-log entries."""
    pb = incident.playbook
    mine = [item for item in outbox if item.incident_id == incident.id]
    contacts = tier_contacts(pb, directory)
    gaps = [
        *role_gaps(incident),
        *caller_gaps(incident),
        *verification_gaps(contacts, now.date(), verified_within_months),
        *number_gaps(incident, contacts, mine),
        *template_gaps(pb, templates),
        *language_gaps(pb, contacts),
        *sms_budget_gaps(incident, contacts, directory),
        *coverage_gaps(incident, now),
        *task_gaps(incident),
    ]
    return ReadinessReport(
        incident_id=incident.id, playbook_id=pb.id, playbook_title=pb.title,
        area=incident.params.area, status=incident.status.value, t0=incident.params.t0,
        e0=incident.params.e0, as_of=now, steps=step_timings(incident, now),
        tiers=tier_coverage(incident, now), escalations=escalation_counts(mine),
        deliveries=delivery_counts(mine), decisions=decision_counts(decisions),
        tasks=task_summary(incident, now), gaps=tuple(gaps),
    )


def step_timings(incident: Incident, now: datetime) -> tuple[StepTiming, ...]:
    return tuple(
        StepTiming(
            id=v.id, title=v.title, audience=v.audience, status=v.status,
            planned_at=v.planned_at, opened_at=v.opened_at, opened_by=v.opened_by,
            completed_at=v.completed_at, completed_by=_who(incident, v.completed_by),
            late_by=v.late_by, message_version=v.message_version,
        )
        for v in read_model.step_views(incident, now)
    )


def _who(incident: Incident, key: str | None) -> str | None:
    return None if key is None or key == "coverage" else incident.name(key)


def tier_coverage(incident: Incident, now: datetime) -> tuple[TierCoverage, ...]:
    rows = []
    for view in read_model.tier_views(incident, now):
        if view.number == PUBLIC_TIER and not view.started:
            continue  # the public is a broadcast, never a round
        round_ = incident.ringround.tiers.get(view.number)
        waits = ringround.times_to_reach(round_) if round_ else []
        rows.append(TierCoverage(
            number=view.number, title=view.title,
            started_at=round_.started_at if round_ else None, total=view.total,
            reached=view.reached, pending=view.pending, failed=view.failed,
            opted_out=view.opted_out, flagged=view.flagged, target=view.target,
            fraction=view.fraction,
            median_to_reach=median_duration(waits), worst_to_reach=waits[-1] if waits else None,
            deadline_at=view.deadline_at,
            reached_by_deadline=(_reached_by(round_, view.deadline_at)
                                 if view.deadline_at is not None else None),
        ))
    return tuple(rows)


def _reached_by(round_: ringround.TierRound | None, deadline: datetime) -> int:
    if round_ is None:
        return 0
    return sum(1 for c in round_.contacts.values() if c.state in REACHED_STATES
               and c.outcome_at is not None and c.outcome_at <= deadline)


# ---- counts ---------------------------------------------------------------------------------


def event_id(item: OutboxItem) -> str:
    """One event told to several people is one event: chat notices share their outbox key's
    topic (see ``effects.outbox_key``); an SMS or a call is an event per delivery."""
    if item.notify.channel in CHAT_CHANNELS:
        parts = item.key.split("|")
        return f"{item.notify.purpose}|{parts[2] if len(parts) > 2 else item.key}"
    return item.key


def escalation_counts(outbox: Iterable[OutboxItem]) -> tuple[Count, ...]:
    events: dict[str, set[str]] = {}
    for item in outbox:
        if item.notify.purpose in ESCALATIONS:
            events.setdefault(item.notify.purpose, set()).add(event_id(item))
    return tuple(Count(kind, label, len(events[kind]))
                 for kind, label in ESCALATIONS.items() if kind in events)


def delivery_counts(outbox: Iterable[OutboxItem]) -> tuple[Count, ...]:
    counts = Counter((item.notify.channel.value, item.status) for item in outbox)
    return tuple(Count(f"{channel}.{status}", f"{channel} {status}", n)
                 for (channel, status), n in sorted(counts.items()))


def decision_counts(decisions: Iterable[DecisionEntry]) -> tuple[Count, ...]:
    counts = Counter(entry.kind for entry in decisions)
    return tuple(Count(kind, kind, n) for kind, n in sorted(counts.items()))


def task_summary(incident: Incident, now: datetime) -> TaskSummary:
    tasks = list(incident.tasks.tasks.values())
    return TaskSummary(
        total=len(tasks),
        done=sum(1 for t in tasks if t.state is TaskState.DONE),
        open=sum(1 for t in tasks if t.open),
        overdue=sum(1 for t in tasks if t.open and t.due is not None and now > t.due),
        cannot_do=sum(1 for t in tasks if t.state is TaskState.CANNOT_DO),
        never_acknowledged=sum(1 for t in tasks if _never_acknowledged(t)),
    )


def _never_acknowledged(task: Task) -> bool:
    return task.state is TaskState.WAITING and task.assigned_at is not None


# ---- gaps -----------------------------------------------------------------------------------


def role_gaps(incident: Incident) -> list[Gap]:
    """Every role needs a holder and a deputy holder who is someone else."""
    gaps = []
    book, pb = incident.roles, incident.playbook
    for role in pb.roles:
        holders = book.holders_of(role.code)
        deputies = book.deputies_of(pb, role.code)
        if not holders:
            gaps.append(Gap("roles", role.code, "no holder in the directory"))
        if role.deputy is None:
            gaps.append(Gap("roles", role.code, "the playbook names no deputy role"))
        elif not deputies:
            gaps.append(Gap("roles", role.code, f"its deputy role {role.deputy} has no holder"))
        elif holders and set(deputies) <= set(holders) and len(holders) == 1:
            gaps.append(Gap("roles", role.code, f"the only holder ({incident.name(holders[0])}) "
                            f"is also the only {role.deputy} holder: nobody to cover"))
    return gaps


def caller_gaps(incident: Incident) -> list[Gap]:
    """Tiers whose callers cannot take every phoneable contact at the tier's list size."""
    gaps = []
    for tier in incident.playbook.tiers:
        if tier.caller_role is None or not _has_caller_rung(tier):
            continue
        callers = len(incident.roles.holders_of(tier.caller_role))
        phoneable = sum(1 for p in incident.people.values() if p.tier == tier.number
                        and Channel.PHONE in p.channels and p.phone)
        if phoneable > callers * tier.fan_out:
            gaps.append(Gap("callers", f"tier {tier.number}",
                            f"{phoneable} contacts to phone but {callers} {tier.caller_role} "
                            f"holders x {tier.fan_out} a list: "
                            f"{phoneable - callers * tier.fan_out} get no call"))
    return gaps


def _has_caller_rung(tier: Tier) -> bool:
    return any(r.kind is RungKind.CALLER for r in effective_ladder(tier))


def tier_contacts(playbook: Playbook, directory: Iterable[Person]) -> list[Person]:
    """Directory people in one of the playbook's ring-round tiers (not the public tier)."""
    tiers = {t.number for t in playbook.tiers if t.number != PUBLIC_TIER}
    return sorted((p for p in directory if p.tier in tiers), key=lambda p: p.key)


def verification_gaps(contacts: Sequence[Person], today: date, months: int) -> list[Gap]:
    cutoff = months_before(today, months)
    gaps = []
    for person in contacts:
        if person.verified_on is None:
            gaps.append(Gap("verification", _subject(person), "never verified"))
        elif person.verified_on < cutoff:
            age = _months_between(person.verified_on, today)
            gaps.append(Gap("verification", _subject(person),
                            f"last verified {person.verified_on.isoformat()} ({age} months ago)"))
    return gaps


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for candidate in range(day.day, 0, -1):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise ValueError(f"no date {months} months before {day}")  # pragma: no cover


def _months_between(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def number_gaps(incident: Incident, contacts: Sequence[Person],
                outbox: Iterable[OutboxItem]) -> list[Gap]:
    """Numbers missing, malformed or unusable in the directory, and numbers that failed in the
    response (a permanent delivery failure, or a caller recording a wrong number)."""
    gaps = [Gap("numbers", _subject(person), problem) for person in contacts
            if (problem := _number_problem(person))]
    masked = {p.key: p.masked_phone for p in contacts}
    failed = sorted({item.notify.recipient for item in outbox
                     if item.status == "failed" and item.notify.channel not in CHAT_CHANNELS})
    gaps += [Gap("numbers", _subject_of(incident, key),
                 f"{masked.get(key, '(number)')}: a text or call to it failed permanently")
             for key in failed]
    return gaps + _wrong_numbers(incident, masked)


def _wrong_numbers(incident: Incident, masked: Mapping[str, str]) -> list[Gap]:
    return [Gap("numbers", _subject_of(incident, contact.key),
                f"{masked.get(contact.key, '(number)')}: recorded as a wrong number by "
                f"{incident.name(contact.outcome_by or '')}")
            for round_ in incident.ringround.tiers.values()
            for contact in round_.contacts.values()
            if contact.state is ContactState.WRONG_NUMBER]


def _number_problem(person: Person) -> str | None:
    wants = sorted(c.value for c in person.channels if c in NUMBER_CHANNELS)
    if not person.phone:
        return f"no phone number, but listed for {', '.join(wants)}" if wants else \
            "no phone number and no phone, SMS or voice channel: cannot be reached"
    if not E164.match(person.phone):
        return f"{mask_phone(person.phone)} is not a valid international (E.164) number"
    if not wants:
        return (f"{mask_phone(person.phone)} has no phone, sms or voice channel listed: "
                "never called or texted")
    return None


def template_gaps(playbook: Playbook, templates: TemplateLanguages) -> list[Gap]:
    gaps = []
    for message in playbook.messages:
        have = set(templates.languages(message.template))
        missing = [lang for lang in message.languages if lang not in have]
        if missing:
            gaps.append(Gap("templates", message.id,
                            f"no template in {', '.join(missing)} "
                            f"(message_templates/{message.template}.<lang>.j2)"))
    return gaps


def language_gaps(playbook: Playbook, contacts: Sequence[Person]) -> list[Gap]:
    """Contacts whose language a tier's script or SMS does not have: they get English."""
    missing: dict[tuple[str, str], list[Person]] = {}
    for person in contacts:
        tier = _tier(playbook, person.tier)
        for message_id in (tier.sms_message, tier.script) if tier else ():
            message = _message(playbook, message_id)
            if message is not None and person.language not in message.languages:
                missing.setdefault((message.id, person.language), []).append(person)
    return [
        Gap("languages", f"{message_id} in {language}",
            f"{_count(len(people), 'contact speaks', 'contacts speak')} {language} and "
            f"{'gets' if len(people) == 1 else 'get'} English: "
            + ", ".join(p.name for p in people))
        for (message_id, language), people in sorted(missing.items())
    ]


def sms_budget_gaps(incident: Incident, contacts: Sequence[Person],
                    directory: Iterable[Person]) -> list[Gap]:
    """SMS texts (the current version, else the latest) over the segment budget, measured with
    the longest names that can be filled in and a code-length stand-in."""
    pb = incident.playbook
    names = {"contact_name": _longest(p.name for p in contacts),
             "caller_name": _longest(p.name for p in directory if _is_caller(pb, p)),
             "confirm_code": CODE_STAND_IN}
    gaps = []
    for message in pb.messages:
        if Channel.SMS not in message.channels:
            continue
        budget = message.sms_segment_budget or pb.sms_segment_budget
        for language, text in _texts(incident, message).items():
            info = count_for_sending(personalise(text, **names))
            if info.segments > budget:
                gaps.append(Gap("sms", f"{message.id} in {language}",
                                f"{info.segments} segments ({info.encoding}, {info.units} "
                                f"units): over the budget of {budget}"))
    return gaps


def _texts(incident: Incident, message: KeyMessage) -> dict[str, str]:
    state = incident.messages.messages.get(message.id)
    version = (state.current or state.latest) if state else None
    return dict(sorted(version.texts.items())) if version else {}


def _is_caller(playbook: Playbook, person: Person) -> bool:
    roles = {r for t in playbook.tiers for r in (t.caller_role, t.backup_role, t.senior_role) if r}
    return bool(roles & set(person.roles))


def _longest(names: Iterable[str]) -> str:
    return max(names, key=len, default="")


def coverage_gaps(incident: Incident, now: datetime) -> list[Gap]:
    gaps = []
    for tier in tier_coverage(incident, now):
        met = tier.met_target_by_deadline
        if tier.deadline_at is not None and now >= tier.deadline_at and met is False:
            share = (tier.reached_by_deadline or 0) / tier.total
            gaps.append(Gap("coverage", f"tier {tier.number}",
                            f"{share:.0%} reached by its deadline (target {tier.target:.0%})"))
        elif tier.started_at is None and tier.total == 0 and _round_tier(incident, tier.number):
            gaps.append(Gap("coverage", f"tier {tier.number}", "its ring-round never started"))
    return gaps


def _round_tier(incident: Incident, number: int) -> bool:
    return any(p.tier == number for p in incident.people.values())


def task_gaps(incident: Incident) -> list[Gap]:
    return [Gap("tasks", task.id, f"{task.title} (owner {task.owner}) was never acknowledged")
            for task in incident.tasks.tasks.values() if _never_acknowledged(task)]


# ---- small helpers --------------------------------------------------------------------------


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _subject(person: Person) -> str:
    tier = f", tier {person.tier}" if person.tier is not None else ""
    return f"{person.name} ({person.key}{tier})"


def _subject_of(incident: Incident, key: str) -> str:
    known = incident.people.get(key)
    return _subject(known) if known else key


def _tier(playbook: Playbook, number: int | None) -> Tier | None:
    return next((t for t in playbook.tiers if t.number == number), None)


def _message(playbook: Playbook, message_id: str | None) -> KeyMessage | None:
    return next((m for m in playbook.messages if m.id == message_id), None)

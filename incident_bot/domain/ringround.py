"""The ring-round: telephone tree and text cascade per tier (domain.md §6). Standard library only.

``start_tier`` deals the tier's contacts into call lists (at most ``fan_out`` each, round-robin
over the caller role's holders, each with a backup) and puts every contact on the tier's ladder
(:mod:`incident_bot.domain.ladder`). Callers record outcomes; contacts reply by SMS or press a
digit on a voice call; timers move lists to backups, contacts down their ladders, and alert the
coordinator (amber, red) and tactical leads (coverage short at the deadline).

Every function mutates the :class:`RingRound` it is given and returns effects. Replaying a command
or a timer changes nothing and returns no effects: each handler checks the state first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from incident_bot.domain.codes import confirmation_code, is_opt_in, is_opt_out, match_code
from incident_bot.domain.durations import IncidentClock, format_duration
from incident_bot.domain.effects import Effect, Fact, ScheduleTimer
from incident_bot.domain.ladder import (
    INCIDENT_CHANNEL,
    REACHED_STATES,
    RUNG_TIMER,
    ContactRound,
    ContactState,
    Outcome,
    RoundContext,
    Seat,
    apply_outcome,
    attempt_failed,
    can_use,
    confirm,
    effective_ladder,
    enter_rung,
    first_rung,
    notice,
    opt_in,
    opt_out,
    outcome_changes_state,
    post_feedback,
    post_reply,
    rung_timed_out,
    send_failed,
    unique,
    withhold,
)
from incident_bot.domain.playbook import Channel, RungKind, Tier
from incident_bot.domain.serial import flat_fields, from_iso, iso
from incident_bot.errors import (
    IncidentBotError,
    NotAuthorised,
    NotFoundError,
    RefusedError,
    TransitionRefused,
)

ACCEPT_TIMER = "ringround.accept_timeout"
AMBER_TIMER = "ringround.amber"
RED_TIMER = "ringround.red"
DEADLINE_TIMER = "ringround.deadline"
FAILED_DELIVERY = frozenset({"undelivered", "failed"})
WITHHELD = "withheld"  # a DeliveryReport status from the dispatcher, not from Twilio
TWILIO_OPTED_OUT = "21610"  # Twilio's error: the number replied STOP to this sender


class ListStatus(StrEnum):
    OFFERED = "offered"  # waiting for the caller to accept
    MOVED = "moved"  # not accepted in time: offered to the backup caller
    ACCEPTED = "accepted"
    ABANDONED = "abandoned"  # nobody accepted: its contacts on the caller rung moved on


@dataclass
class CallList:
    id: str
    caller: str
    backup: str | None
    contacts: list[str]
    offered_at: datetime
    holder: str  # the caller, or the backup once the list moved
    status: ListStatus = ListStatus.OFFERED
    accepted_at: datetime | None = None

    def seat(self) -> Seat | None:
        if self.status is ListStatus.ABANDONED:
            return None
        return Seat(self.holder, self.offered_at)

    def may_accept(self) -> tuple[str, ...]:
        if self.status is ListStatus.OFFERED:
            return (self.caller,)
        if self.status is ListStatus.MOVED and self.backup:
            return (self.caller, self.backup)
        return ()

    def to_dict(self) -> dict[str, Any]:
        return {**flat_fields(self), "offered_at": iso(self.offered_at),
                "status": self.status.value, "accepted_at": iso(self.accepted_at)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CallList:
        return cls(**{**d, "contacts": list(d["contacts"]),
                      "offered_at": datetime.fromisoformat(d["offered_at"]),
                      "status": ListStatus(d["status"]), "accepted_at": from_iso(d["accepted_at"])})


@dataclass
class TierRound:
    number: int
    code: str  # the confirmation code contacts of this tier reply with
    started_at: datetime
    lists: list[CallList] = field(default_factory=list)
    contacts: dict[str, ContactRound] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)  # amber, red, deadline: each at most once

    def call_list(self, list_id: str | None) -> CallList | None:
        return next((lst for lst in self.lists if lst.id == list_id), None)

    def seat_for(self, contact: ContactRound) -> Seat | None:
        lst = self.call_list(contact.list_id)
        return lst.seat() if lst else None

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "code": self.code, "started_at": iso(self.started_at),
                "lists": [lst.to_dict() for lst in self.lists],
                "contacts": [c.to_dict() for c in self.contacts.values()],
                "alerts": list(self.alerts)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TierRound:
        contacts = [ContactRound.from_dict(c) for c in d["contacts"]]
        return cls(number=d["number"], code=d["code"],
                   started_at=datetime.fromisoformat(d["started_at"]),
                   lists=[CallList.from_dict(lst) for lst in d["lists"]],
                   contacts={c.key: c for c in contacts}, alerts=list(d["alerts"]))


@dataclass
class RingRound:
    """The ring-round state of one incident: one round per started tier."""

    tiers: dict[int, TierRound] = field(default_factory=dict)

    def find(self, contact_key: str) -> tuple[TierRound, ContactRound]:
        for round_ in self.tiers.values():
            if contact_key in round_.contacts:
                return round_, round_.contacts[contact_key]
        raise NotFoundError(f"{contact_key} is not a contact in any started ring-round tier")

    def lists_of(self, person_key: str) -> list[CallList]:
        """The call lists a person is the caller or backup for."""
        return [lst for r in self.tiers.values() for lst in r.lists
                if person_key in (lst.caller, lst.backup)]

    def to_dict(self) -> dict[str, Any]:
        return {"tiers": [r.to_dict() for r in self.tiers.values()]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RingRound:
        rounds = [TierRound.from_dict(r) for r in d["tiers"]]
        return cls(tiers={r.number: r for r in rounds})


@dataclass(frozen=True)
class Coverage:
    """A tier's contacts by state; the counts add up to ``total``. ``failed`` is declined,
    unsafe to call and wrong number; opted-out and flagged contacts are counted apart."""

    total: int
    reached: int  # reached by a caller, or confirmed by SMS code / voice digit
    pending: int
    failed: int
    opted_out: int
    flagged: int

    @property
    def fraction(self) -> float:
        return self.reached / self.total if self.total else 1.0

    @property
    def fraction_of_reachable(self) -> float:
        """Reached among the contacts nobody has ruled out (wrong number, declined, unsafe to
        call): what the briefing order waits for, since waiting can never reach those."""
        reachable = self.total - self.failed
        return self.reached / reachable if reachable else 1.0


def coverage(state: RingRound, tier: int) -> Coverage:
    round_ = state.tiers.get(tier)
    counts = Counter(c.state for c in round_.contacts.values()) if round_ else Counter()
    s = ContactState
    return Coverage(
        total=sum(counts.values()), reached=sum(counts[state] for state in REACHED_STATES),
        pending=counts[s.PENDING],
        failed=counts[s.DECLINED] + counts[s.UNSAFE_TO_CALL] + counts[s.WRONG_NUMBER],
        opted_out=counts[s.OPTED_OUT], flagged=counts[s.FLAGGED],
    )


def times_to_reach(round_: TierRound) -> list[timedelta]:
    """From the tier's start to each reach (contacts now reached or confirmed), shortest first."""
    return sorted(c.outcome_at - round_.started_at for c in round_.contacts.values()
                  if c.state in REACHED_STATES and c.outcome_at is not None)


def unreached(state: RingRound, tier: int) -> list[str]:
    """Keys of the tier's contacts still on their ladder."""
    round_ = state.tiers.get(tier)
    contacts = round_.contacts.values() if round_ else ()
    return [c.key for c in contacts if c.state is ContactState.PENDING]


# ---- starting a tier ----------------------------------------------------------------------


def start_tier(state: RingRound, ctx: RoundContext, tier_number: int,
               now: datetime) -> list[Effect]:
    """Start the round for a tier: call lists to callers, every contact on its first rung, and
    the tier's amber, red and deadline timers. Starting a started tier does nothing, and so does
    starting a broadcast tier (no callers and no ladder: tier 4, the public)."""
    tier = ctx.tier(tier_number)
    if tier_number in state.tiers or not (tier.caller_role or tier.ladder):
        return []
    keys = sorted(k for k, person in ctx.people.items() if person.tier == tier_number)
    round_ = TierRound(tier_number, confirmation_code(ctx.incident_id, tier_number), now,
                       contacts={k: ContactRound(k, tier_number) for k in keys})
    state.tiers[tier_number] = round_
    effects = _deal_lists(ctx, round_, tier, now)
    for contact in round_.contacts.values():
        seat = round_.seat_for(contact)
        effects += enter_rung(ctx, contact, first_rung(ctx, contact, seat), seat, round_.code, now)
    return effects + _tier_timers(ctx, round_, tier, now)


def _deal_lists(ctx: RoundContext, round_: TierRound, tier: Tier, now: datetime) -> list[Effect]:
    """Deal the tier's contacts into call lists (``deal``) and offer each to its caller."""
    if not any(r.kind is RungKind.CALLER for r in effective_ladder(tier)):
        return []
    callers = ctx.holders_of(tier.caller_role)
    phoneable = [k for k in round_.contacts if can_use(ctx.people.get(k), Channel.PHONE)]
    effects: list[Effect] = []
    for dealt in deal(tier, callers, ctx.holders_of(tier.backup_role), phoneable):
        lst = CallList(dealt.id, dealt.caller, dealt.backup, list(dealt.contacts), now,
                       dealt.caller)
        round_.lists.append(lst)
        for key in lst.contacts:
            round_.contacts[key].list_id = lst.id
        effects += [_list_notice(ctx, round_, lst, tier, "offer"),
                    _accept_timer(ctx, round_, lst, tier, now, stage=1)]
    return effects + _report_uncalled(ctx, round_, phoneable[len(callers) * tier.fan_out:])


@dataclass(frozen=True)
class Dealt:
    """One call list as dealt: its id, caller, backup and contacts in calling order."""

    id: str
    caller: str
    backup: str | None
    contacts: tuple[str, ...]


def deal(tier: Tier, callers: Sequence[str], backups: Sequence[str],
         phoneable: Sequence[str]) -> list[Dealt]:
    """Round-robin the phoneable contacts over the callers (sorted), at most ``fan_out`` each;
    each list's backup is the next of the other backup holders in turn. The manual ring-round
    of exercise mode deals its printed lists with this too."""
    callers, backups = sorted(callers), sorted(backups)
    dealt: dict[str, list[str]] = {caller: [] for caller in callers}
    for index, key in enumerate(phoneable[:len(callers) * tier.fan_out]):
        dealt[callers[index % len(callers)]].append(key)
    lists = []
    for number, caller in enumerate(c for c in callers if dealt[c]):
        others = [b for b in backups if b != caller]
        backup = others[number % len(others)] if others else None
        lists.append(Dealt(f"t{tier.number}-{number + 1}", caller, backup, tuple(dealt[caller])))
    return lists


def _list_notice(ctx: RoundContext, round_: TierRound, lst: CallList, tier: Tier,
                 occasion: str) -> Effect:
    facts: dict[str, Fact] = {"tier": round_.number, "count": len(lst.contacts),
                              "within": format_duration(tier.accept_within)}
    if occasion == "moved":
        facts["moved_from"] = ctx.name(lst.caller)
    data: dict[str, str | int] = {"tier": round_.number, "list": lst.id,
                                  "contacts": ",".join(lst.contacts), "script": tier.script or ""}
    return notice(ctx.incident_id, lst.holder, f"ringround:{lst.id}:{occasion}",
                  "ringround.list", facts, data)


def _accept_timer(ctx: RoundContext, round_: TierRound, lst: CallList, tier: Tier,
                  now: datetime, stage: int) -> Effect:
    return ScheduleTimer(key=f"{ctx.incident_id}:ringround:{lst.id}:accept:{stage}",
                         due_at=now + tier.accept_within, kind=ACCEPT_TIMER,
                         payload={"tier": round_.number, "list": lst.id, "stage": stage})


def _report_uncalled(ctx: RoundContext, round_: TierRound, keys: list[str]) -> list[Effect]:
    if not keys:
        return []
    facts: dict[str, Fact] = {"tier": round_.number, "names": _names(ctx, keys)}
    return [notice(ctx.incident_id, r, f"ringround:t{round_.number}:uncalled",
                   "ringround.uncalled", facts, {"tier": round_.number, "contacts": ",".join(keys)})
            for r in ctx.coordinators_or_channel()]


def _tier_timers(ctx: RoundContext, round_: TierRound, tier: Tier,
                 now: datetime) -> list[Effect]:
    payload: dict[str, str | int] = {"tier": round_.number}
    prefix = f"{ctx.incident_id}:ringround:t{round_.number}"
    timers: list[Effect] = [
        ScheduleTimer(f"{prefix}:amber", now + tier.amber_after, AMBER_TIMER, dict(payload)),
        ScheduleTimer(f"{prefix}:red", now + tier.red_after, RED_TIMER, dict(payload)),
    ]
    return timers + _deadline_timer(ctx, round_.number, tier, now)


def _deadline_due(ctx: RoundContext, tier: Tier) -> datetime | None:
    deadline = tier.deadline
    if deadline is None or (deadline.clock is IncidentClock.E0 and ctx.e0 is None):
        return None
    return deadline.resolve(ctx.t0, ctx.e0 or ctx.t0)


def _deadline_timer(ctx: RoundContext, number: int, tier: Tier,
                    now: datetime) -> list[Effect]:
    """The coverage-deadline wake-up. Its key carries the due time, so when E0 moves a new one
    is set and the old one, firing at the old time, finds nothing to do."""
    due = _deadline_due(ctx, tier)
    if due is None:
        return []
    stamp = due.isoformat()
    payload: dict[str, str | int] = {"tier": number, "at": stamp}
    return [ScheduleTimer(f"{ctx.incident_id}:ringround:t{number}:deadline:{stamp}",
                          max(due, now), DEADLINE_TIMER, payload)]


def reschedule_deadlines(state: RingRound, ctx: RoundContext, now: datetime) -> list[Effect]:
    """After E0 moved: started tiers' coverage deadlines follow it."""
    effects: list[Effect] = []
    for number, round_ in state.tiers.items():
        if "deadline" not in round_.alerts:
            effects += _deadline_timer(ctx, number, ctx.tier(number), now)
    return effects


# ---- callers ------------------------------------------------------------------------------


def accept_list(state: RingRound, ctx: RoundContext, caller_key: str, by: str,
                now: datetime, list_id: str | None = None) -> list[Effect]:
    """``caller_key`` accepts the call lists offered to them (only ``list_id`` when given); the
    contacts' caller rungs have run since the list was sent. The original caller may take back
    a list that moved to the backup but was not accepted."""
    if by != caller_key and by not in ctx.coordinators():
        raise NotAuthorised(f"accept call lists for {ctx.name(caller_key)}",
                            (ctx.name(caller_key), ctx.playbook.coordinator))
    mine = [lst for lst in state.lists_of(caller_key) if list_id in (None, lst.id)]
    open_lists = [lst for lst in mine if caller_key in lst.may_accept()]
    if not open_lists:
        return _nothing_to_accept(state, ctx, mine, caller_key, list_id)
    effects: list[Effect] = []
    for lst in open_lists:
        effects += _accept(ctx, _round_of(state, lst), lst, caller_key, now)
    return effects


def _nothing_to_accept(state: RingRound, ctx: RoundContext, lists: list[CallList],
                       caller_key: str, list_id: str | None) -> list[Effect]:
    """Why none of the lists asked for (``list_id``, else all of the caller's) can be
    accepted: about those lists and no other."""
    if any(lst.status is ListStatus.ACCEPTED and lst.holder == caller_key for lst in lists):
        return []  # accepted already: a replay
    if list_id is not None and not lists:
        raise _not_theirs(state, ctx, list_id)
    if not lists:  # not a caller in this round: say who is
        callers = list(dict.fromkeys(t.caller_role for t in ctx.playbook.tiers if t.caller_role))
        holds = any(caller_key in ctx.holders_of(role) for role in callers)
        raise NotAuthorised("accept a call list", callers,
                            "no call list is offered to you" if holds else None)
    refusals = [_why_not(ctx, lst) for lst in lists]
    if len(refusals) == 1:
        raise refusals[0]
    raise RefusedError("; ".join(map(str, refusals)))


def _not_theirs(state: RingRound, ctx: RoundContext, list_id: str) -> IncidentBotError:
    lst = next((lst for r in state.tiers.values() for lst in r.lists if lst.id == list_id), None)
    if lst is None:
        return NotFoundError(f"no call list {list_id} in this incident")
    who = [f"{ctx.name(lst.caller)} (its caller)"]
    if lst.backup:
        who.append(f"{ctx.name(lst.backup)} (its backup)")
    return NotAuthorised(f"accept call list {list_id}", [lst.caller, *filter(None, [lst.backup])],
                         f"only {' or '.join(who)} may")


def _why_not(ctx: RoundContext, lst: CallList) -> RefusedError:
    if lst.status is ListStatus.OFFERED:  # they are only its backup
        return RefusedError(f"can't accept call list {lst.id}: it is offered to "
                            f"{ctx.name(lst.caller)} and moves to you only if not accepted "
                            "in time")
    held = f" by {ctx.name(lst.holder)}" if lst.status is ListStatus.ACCEPTED else ""
    return TransitionRefused("accept", f"{lst.status.value}{held}", f"call list {lst.id}")


def _accept(ctx: RoundContext, round_: TierRound, lst: CallList, caller_key: str,
            now: datetime) -> list[Effect]:
    effects: list[Effect] = []
    if lst.status is ListStatus.MOVED and caller_key == lst.caller and lst.backup:
        effects.append(notice(ctx.incident_id, lst.backup, f"ringround:{lst.id}:taken_back",
                              "ringround.list_taken_back",
                              {"caller": ctx.name(lst.caller), "list": lst.id},
                              {"list": lst.id}))
    lst.status, lst.holder, lst.accepted_at = ListStatus.ACCEPTED, caller_key, now
    return effects


def _round_of(state: RingRound, lst: CallList) -> TierRound:
    return next(r for r in state.tiers.values() if lst in r.lists)


def record_outcome(state: RingRound, ctx: RoundContext, contact_key: str, outcome: str,
                   by: str, now: datetime, feedback: str = "") -> list[Effect]:
    """A caller (or the backup, a senior officer asked to try, or the coordinator) records how a
    call went, with optional feedback (mood, rumours, needs) for the incident channel."""
    round_, contact = state.find(contact_key)
    result = _parse_outcome(outcome)
    _authorise_outcome(ctx, round_, contact, by)
    changes = outcome_changes_state(ctx, contact, result)  # may refuse: before any change
    effects = _implicit_accept(ctx, round_, contact, by, now)
    if changes:
        effects += apply_outcome(ctx, contact, result, by, now)
    if result in (Outcome.VOICEMAIL, Outcome.NO_ANSWER):
        effects += attempt_failed(ctx, contact, _attempts_of(round_, contact, by),
                                  round_.seat_for(contact), round_.code, now)
    return effects + post_feedback(ctx, contact, by, feedback)


def _attempts_of(round_: TierRound, contact: ContactRound, by: str) -> set[RungKind]:
    """The rungs whose call ``by`` makes: the caller rung for the list's caller or holder, the
    senior rung for the senior officer asked to try (a coordinator's call is neither)."""
    lst = round_.call_list(contact.list_id)
    kinds = {RungKind.CALLER} if lst and by in (lst.caller, lst.holder) else set()
    return kinds | ({RungKind.SENIOR} if by == contact.senior else set())


def _parse_outcome(outcome: str) -> Outcome:
    try:
        return Outcome(outcome)
    except ValueError:
        known = ", ".join(o.value for o in Outcome)
        raise RefusedError(f"unknown call outcome {outcome!r}: use one of {known}") from None


def _authorise_outcome(ctx: RoundContext, round_: TierRound, contact: ContactRound,
                       by: str) -> None:
    lst = round_.call_list(contact.list_id)
    allowed = {*ctx.coordinators(), contact.senior}
    if lst is not None:
        allowed |= {lst.caller, lst.holder}
    if by not in allowed:
        raise NotAuthorised(f"record a call outcome for {ctx.name(contact.key)}",
                            ("the assigned caller", "the backup caller once the list moved",
                             ctx.playbook.coordinator))


def _implicit_accept(ctx: RoundContext, round_: TierRound, contact: ContactRound, by: str,
                     now: datetime) -> list[Effect]:
    """Recording an outcome on a list you were offered accepts it."""
    lst = round_.call_list(contact.list_id)
    if lst is None or by not in lst.may_accept():
        return []
    return _accept(ctx, round_, lst, by, now)


# ---- replies from contacts ----------------------------------------------------------------


def sms_received(state: RingRound, ctx: RoundContext, contact_key: str, text: str,
                 now: datetime) -> list[Effect]:
    """An SMS from a contact: an opt-out or opt-in keyword, this tier's code, or feedback."""
    round_, contact = state.find(contact_key)
    if is_opt_out(text):
        return opt_out(ctx, contact)
    if is_opt_in(text):  # without an opt-out it changes nothing (and is no confirmation)
        return opt_in(ctx, contact, round_.seat_for(contact), round_.code, now)
    if match_code(text, round_.code):
        return confirm(ctx, contact, "sms", now)
    return post_reply(ctx, contact, text)


def voice_digit(state: RingRound, ctx: RoundContext, contact_key: str, digit: str,
                now: datetime) -> list[Effect]:
    """A digit pressed on the voice call: 1 confirms; 2 (replay) is the voice layer's business."""
    _, contact = state.find(contact_key)
    return confirm(ctx, contact, "voice", now) if digit.strip() == "1" else []


def delivery_report(state: RingRound, ctx: RoundContext, outbox_key: str, status: str,
                    now: datetime, error_code: str | None = None) -> list[Effect]:
    """A permanent delivery failure of the SMS or voice call of a contact's current rung ends
    that rung (one already passed, still open, changes nothing); Twilio refusing the number as
    opted out (21610) opts the contact out: no call follows. ``withheld``: the dispatcher held
    the send back because the contact had opted out."""
    found = _current_send(state, outbox_key)
    if found is None:
        return []
    round_, contact = found
    if status == WITHHELD:
        return withhold(contact, outbox_key)
    if status not in FAILED_DELIVERY or contact.state is not ContactState.PENDING:
        return []
    if error_code == TWILIO_OPTED_OUT:
        return opt_out(ctx, contact)
    return send_failed(ctx, contact, round_.seat_for(contact), round_.code, now)


def _current_send(state: RingRound, outbox_key: str) -> tuple[TierRound, ContactRound] | None:
    """The contact whose latest SMS or voice call this is."""
    for round_ in state.tiers.values():
        for contact in round_.contacts.values():
            if contact.send_key == outbox_key:
                return round_, contact
    return None


# ---- timers -------------------------------------------------------------------------------


def on_timer(state: RingRound, ctx: RoundContext, kind: str, payload: Mapping[str, str | int],
             now: datetime) -> list[Effect]:
    """A ``ringround.*`` timer fired. Stale or repeated timers return []."""
    handler = _TIMERS.get(kind)
    round_ = state.tiers.get(int(payload.get("tier", -1)))
    if handler is None or round_ is None:
        return []
    return handler(ctx, round_, payload, now)


def _on_rung(ctx: RoundContext, round_: TierRound, payload: Mapping[str, str | int],
             now: datetime) -> list[Effect]:
    contact = round_.contacts.get(str(payload.get("contact")))
    if contact is None:
        return []
    return rung_timed_out(ctx, contact, int(payload.get("step", -1)), round_.seat_for(contact),
                          round_.code, now)


def _on_accept_timeout(ctx: RoundContext, round_: TierRound, payload: Mapping[str, str | int],
                       now: datetime) -> list[Effect]:
    lst = round_.call_list(str(payload.get("list")))
    stage = int(payload.get("stage", 1))
    if lst is None:
        return []
    if stage == 1 and lst.status is ListStatus.OFFERED:
        move = _move_to_backup if lst.backup else _abandon
        return move(ctx, round_, lst, now)
    if stage == 2 and lst.status is ListStatus.MOVED:
        return _abandon(ctx, round_, lst, now)
    return []


def _move_to_backup(ctx: RoundContext, round_: TierRound, lst: CallList,
                    now: datetime) -> list[Effect]:
    assert lst.backup is not None
    tier = ctx.tier(round_.number)
    lst.status, lst.holder = ListStatus.MOVED, lst.backup
    told_caller = notice(
        ctx.incident_id, lst.caller, f"ringround:{lst.id}:moved", "ringround.list_moved",
        {"list": lst.id, "within": format_duration(tier.accept_within),
         "backup": ctx.name(lst.backup)}, {"list": lst.id})
    return [_list_notice(ctx, round_, lst, tier, "moved"), told_caller,
            _accept_timer(ctx, round_, lst, tier, now, stage=2)]


def _abandon(ctx: RoundContext, round_: TierRound, lst: CallList, now: datetime) -> list[Effect]:
    lst.status = ListStatus.ABANDONED
    effects: list[Effect] = [
        notice(ctx.incident_id, r, f"ringround:{lst.id}:abandoned", "ringround.list_abandoned",
               {"list": lst.id, "tier": round_.number, "count": len(lst.contacts)},
               {"tier": round_.number, "list": lst.id, "contacts": ",".join(lst.contacts)})
        for r in ctx.coordinators_or_channel()]
    for key in lst.contacts:
        contact = round_.contacts[key]
        effects += attempt_failed(ctx, contact, (RungKind.CALLER,), None, round_.code, now)
    return effects


def _alert(level: str, purpose: str) -> Callable[
        [RoundContext, TierRound, Mapping[str, str | int], datetime], list[Effect]]:
    def fire(ctx: RoundContext, round_: TierRound, payload: Mapping[str, str | int],
             now: datetime) -> list[Effect]:
        waiting = [k for k, c in round_.contacts.items() if c.state is ContactState.PENDING]
        if level in round_.alerts or not waiting:
            return []
        round_.alerts.append(level)
        facts: dict[str, Fact] = {"tier": round_.number, "total": len(round_.contacts),
                                  "after": format_duration(now - round_.started_at),
                                  "names": _names(ctx, waiting)}
        data: dict[str, str | int] = {"tier": round_.number, "contacts": ",".join(waiting)}
        return [notice(ctx.incident_id, r, f"ringround:t{round_.number}:{level}",
                       purpose, facts, data) for r in ctx.coordinators_or_channel()]
    return fire


def _on_deadline(ctx: RoundContext, round_: TierRound, payload: Mapping[str, str | int],
                 now: datetime) -> list[Effect]:
    tier = ctx.tier(round_.number)
    due = _deadline_due(ctx, tier)
    if "at" in payload and (due is None or payload["at"] != due.isoformat()):
        return []  # E0 moved since this timer was set: a newer one stands in for it
    cover = coverage(RingRound({round_.number: round_}), round_.number)
    if "deadline" in round_.alerts or cover.fraction >= tier.coverage_target:
        return []
    round_.alerts.append("deadline")
    facts: dict[str, Fact] = {"tier": round_.number, "coverage": cover.fraction,
                              "target": tier.coverage_target, "reached": cover.reached,
                              "total": cover.total, "pending": cover.pending,
                              "unreachable": cover.failed + cover.opted_out + cover.flagged}
    return [notice(ctx.incident_id, r, f"ringround:t{round_.number}:deadline",
                   "ringround.coverage_short", facts, {"tier": round_.number})
            for r in unique([INCIDENT_CHANNEL, *ctx.tactical_leads])]


_TIMERS: dict[str, Callable[[RoundContext, TierRound, Mapping[str, str | int], datetime],
                            list[Effect]]] = {
    RUNG_TIMER: _on_rung,
    ACCEPT_TIMER: _on_accept_timeout,
    AMBER_TIMER: _alert("amber", "ringround.amber"),
    RED_TIMER: _alert("red", "ringround.red"),
    DEADLINE_TIMER: _on_deadline,
}


def _names(ctx: RoundContext, keys: list[str]) -> tuple[str, ...]:
    return tuple(ctx.name(k) for k in keys)

"""One contact's way down a tier's escalation ladder (domain.md §6). Standard library only.

A contact not yet reached climbs the tier's rungs in order: the assigned caller phones them, a
senior officer tries, an automatic SMS with a confirmation code, an automatic voice call, and at
the end a red flag to the coordinator. ``contact.rung`` points at the latest rung started; one
rung timer moves it on to the next rung that *applies* to the contact (a contact without an SMS
channel, or who opted out, skips the SMS rung). That timer is due when the current rung times
out, or sooner when the next rung has ``after`` (it runs alongside: 0 starts it at once). A
failed attempt on the current rung moves the contact on at once. Rungs once started stay open
until their timeout (a text or call that could not be delivered closes its rung): a caller may
still record a call and a late code still confirms, and the flag waits for them
(``open_until``). Every entry into a rung bumps ``step``, and rung timers
carry it, so a timer from a rung the contact has already left is stale and ignored.

The ladder always ends in a flag (added when the playbook's ladder has none), so every contact
ends in a terminal state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from incident_bot.domain.codes import mask_numbers
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import (
    FOLD,
    VARIANT,
    Effect,
    Fact,
    Facts,
    Notify,
    OutboxChannel,
    ScheduleTimer,
    outbox_key,
)
from incident_bot.domain.personalise import personalise
from incident_bot.domain.playbook import Channel, Playbook, Rung, RungKind, Tier
from incident_bot.domain.serial import flat_fields, from_iso, iso
from incident_bot.errors import NotFoundError, TransitionRefused

# text_for(message_id, language) -> (version label, text) of the approved version, or None.
TextFor = Callable[[str, str], tuple[str, str] | None]

INCIDENT_CHANNEL = "incident"  # Notify recipient meaning the incident's Slack channel
RUNG_TIMER = "ringround.rung"
AUTOMATIC_RUNGS = frozenset({RungKind.SMS, RungKind.VOICE, RungKind.FLAG})
DEFAULT_RUNG_TIMEOUT = timedelta(minutes=15)  # only for a malformed rung without a timeout
VOICE_PROMPT = "Press 1 to confirm you have heard this message, or 2 to hear it again."


class ContactState(StrEnum):
    PENDING = "pending"  # on the ladder
    REACHED = "reached"  # a caller spoke to them
    CONFIRMED = "confirmed"  # replied with the code, or pressed 1 on the voice call
    DECLINED = "declined"
    UNSAFE_TO_CALL = "unsafe_to_call"  # e.g. close to an arrested person: never call or text
    WRONG_NUMBER = "wrong_number"
    OPTED_OUT = "opted_out"  # texted STOP (or similar): nothing more is sent
    FLAGGED = "flagged"  # the ladder ran out: the coordinator has a red flag


TERMINAL_STATES = frozenset(ContactState) - {ContactState.PENDING}
# What counts as reached in coverage and the reports: a caller spoke to them, or they confirmed.
REACHED_STATES = frozenset({ContactState.REACHED, ContactState.CONFIRMED})


class Outcome(StrEnum):
    """What a caller records after trying a contact."""

    REACHED = "reached"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    DECLINED = "declined"
    UNSAFE_TO_CALL = "unsafe_to_call"


_S = ContactState
_HUMAN_FROM = frozenset({_S.PENDING, _S.FLAGGED, _S.OPTED_OUT})
# Outcome -> (state it leaves the contact in, None = unchanged; states it may be recorded in).
_OUTCOMES: dict[Outcome, tuple[ContactState | None, frozenset[ContactState]]] = {
    Outcome.REACHED: (_S.REACHED, _HUMAN_FROM),
    Outcome.VOICEMAIL: (None, _HUMAN_FROM),
    Outcome.NO_ANSWER: (None, _HUMAN_FROM),
    Outcome.WRONG_NUMBER: (_S.WRONG_NUMBER, _HUMAN_FROM),
    Outcome.DECLINED: (_S.DECLINED, _HUMAN_FROM),
    # Safety news is always taken: it stops every call and text from now on.
    Outcome.UNSAFE_TO_CALL: (_S.UNSAFE_TO_CALL, frozenset(_S) - {_S.UNSAFE_TO_CALL}),
}
_CONFIRMABLE = _HUMAN_FROM  # a late code still counts after a red flag or an opt-out


@dataclass(frozen=True)
class RoundContext:
    """Everything the ring-round needs from the incident for one call; the orchestrator builds
    it each time, so role holders and approved texts are always current.

    ``holders`` maps a role code to the person keys holding it now; ``people`` holds every person
    the incident knows (contacts and role holders); ``tactical_leads`` are the person keys alerted
    when a tier misses its coverage target at its deadline."""

    incident_id: str
    playbook: Playbook
    people: Mapping[str, Person]
    holders: Mapping[str, Sequence[str]]
    text_for: TextFor
    t0: datetime
    e0: datetime | None = None
    tactical_leads: Sequence[str] = ()

    def tier(self, number: int) -> Tier:
        for tier in self.playbook.tiers:
            if tier.number == number:
                return tier
        raise NotFoundError(f"playbook {self.playbook.id} has no tier {number}")

    def holders_of(self, role: str | None) -> list[str]:
        return unique(self.holders.get(role, ())) if role else []

    def coordinators(self) -> list[str]:
        return self.holders_of(self.playbook.coordinator)

    def coordinators_or_channel(self) -> list[str]:
        """Who hears about flags and opt-outs: the coordinator, else the incident channel."""
        return self.coordinators() or [INCIDENT_CHANNEL]

    def name(self, key: str) -> str:
        person = self.people.get(key)
        return person.name if person else key


@dataclass(frozen=True)
class Seat:
    """Where a contact's call list sits: who holds it now and when it was first sent."""

    holder: str
    offered_at: datetime


@dataclass
class ContactRound:
    """One contact's progress in one tier's round."""

    key: str
    tier: int
    list_id: str | None = None  # the call list it is on, if a caller was assigned
    state: ContactState = ContactState.PENDING
    rung: int = -1  # index into the effective ladder
    step: int = 0  # rung entries so far; rung timers carry it
    rung_started: datetime | None = None  # when the current rung (or its clock) last started
    open_until: datetime | None = None  # latest end (start + timeout) of the rungs open
    open_before: datetime | None = None  # open_until of the rungs started before the current one
    senior: str | None = None  # the senior officer asked to try personally
    send_key: str | None = None  # outbox key of the latest SMS or voice call (until the next)
    text_key: str | None = None  # the latest SMS's: still wanted alongside a later voice call
    call_key: str | None = None  # the latest voice call's
    sends: int = 0  # SMS and voice attempts so far: the outbox attempt number
    notices: int = 0  # notices about this contact so far: makes their outbox keys unique
    last_outcome: str | None = None
    outcome_by: str | None = None
    outcome_at: datetime | None = None
    opted_out: bool = False
    withheld: str | None = None  # send_key of a text or call the dispatcher held back (opt-out)
    feedback_seen: list[str] = field(default_factory=list)  # digests of feedback already posted
    replies: list[str] = field(default_factory=list)  # their SMS feedback, masked, in order

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def wants(self, send_key: str) -> bool:
        """Whether a queued text or call is still this contact's latest of its kind: an SMS
        and a voice call of rungs running alongside are both wanted; an older one of the same
        kind was replaced."""
        return send_key in (self.send_key, self.text_key, self.call_key)

    def to_dict(self) -> dict[str, Any]:
        return {**flat_fields(self), "state": self.state.value,
                "rung_started": iso(self.rung_started), "open_until": iso(self.open_until),
                "open_before": iso(self.open_before), "outcome_at": iso(self.outcome_at)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ContactRound:
        return cls(**{**d, "state": ContactState(d["state"]),
                      "rung_started": from_iso(d["rung_started"]),
                      "open_until": from_iso(d.get("open_until")),  # absent before issue #17
                      "open_before": from_iso(d.get("open_before")),
                      "text_key": d.get("text_key"), "call_key": d.get("call_key"),
                      "outcome_at": from_iso(d["outcome_at"]),
                      "feedback_seen": list(d["feedback_seen"])})


# ---- the ladder ---------------------------------------------------------------------------


def effective_ladder(tier: Tier) -> tuple[Rung, ...]:
    """The tier's ladder, ending in a flag (no ladder: the caller tries until red, then flag)."""
    ladder = tier.ladder or (Rung(RungKind.CALLER, tier.red_after),)
    if ladder[-1].kind is not RungKind.FLAG:
        ladder = (*ladder, Rung(RungKind.FLAG))
    return ladder


def can_use(person: Person | None, channel: Channel) -> bool:
    """A person is reachable on a phone channel only with a number and that channel listed."""
    return person is not None and bool(person.phone) and channel in person.channels


def first_rung(ctx: RoundContext, contact: ContactRound, seat: Seat | None) -> int:
    """The top rung when a caller can phone the contact, else the first automatic rung."""
    ladder = effective_ladder(ctx.tier(contact.tier))
    if seat is not None and can_use(ctx.people.get(contact.key), Channel.PHONE):
        return 0
    return next(i for i, rung in enumerate(ladder) if rung.kind in AUTOMATIC_RUNGS)


def current_rung(ctx: RoundContext, contact: ContactRound) -> Rung | None:
    ladder = effective_ladder(ctx.tier(contact.tier))
    return ladder[contact.rung] if 0 <= contact.rung < len(ladder) else None


@dataclass(frozen=True)
class Climb:
    """One contact entering one rung: the arguments every rung action needs."""

    ctx: RoundContext
    contact: ContactRound
    rung: Rung
    seat: Seat | None
    code: str
    now: datetime

    @property
    def person(self) -> Person | None:
        return self.ctx.people.get(self.contact.key)


def enter_rung(ctx: RoundContext, contact: ContactRound, start: int, seat: Seat | None,
               code: str, now: datetime) -> list[Effect]:
    """Move ``contact`` to the first rung from ``start`` on that applies to it, and act it out."""
    ladder = effective_ladder(ctx.tier(contact.tier))
    start = min(max(start, 0), len(ladder) - 1)
    index = _next_applying(ctx, contact, ladder, start, seat)
    contact.rung, contact.step, contact.rung_started = index, contact.step + 1, now
    climb = Climb(ctx, contact, ladder[index], seat, code, now)
    return _ACTIONS[ladder[index].kind](climb)


def _next_applying(ctx: RoundContext, contact: ContactRound, ladder: Sequence[Rung], start: int,
                   seat: Seat | None) -> int:
    return next(i for i in range(start, len(ladder)) if _applies(ctx, contact, ladder[i], seat))


def rung_timed_out(ctx: RoundContext, contact: ContactRound, step: int, seat: Seat | None,
                   code: str, now: datetime) -> list[Effect]:
    """A rung timer fired: move on, unless the contact left that rung (or the ladder) already.
    On the flag rung (waiting for open rungs) this enters the flag again, which now flags."""
    if contact.state is not ContactState.PENDING or step != contact.step:
        return []
    if _after_of_next(ctx, contact, seat) is None:  # the rung ends here, not alongside the next
        _forget_send(ctx, contact)
    return enter_rung(ctx, contact, contact.rung + 1, seat, code, now)


def _forget_send(ctx: RoundContext, contact: ContactRound) -> None:
    """The current rung timed out: a text or call of it still queued is no longer wanted."""
    rung = current_rung(ctx, contact)
    if rung is not None and rung.kind is RungKind.SMS:
        contact.text_key = None
    elif rung is not None and rung.kind is RungKind.VOICE:
        contact.call_key = None


def attempt_failed(ctx: RoundContext, contact: ContactRound, kinds: Collection[RungKind],
                   seat: Seat | None, code: str, now: datetime) -> list[Effect]:
    """A call of one of ``kinds`` failed (voicemail, no answer): when that is the contact's
    current rung the next one starts now, not at the timeout; the rung stays open (the caller
    may try again). A failure on an earlier rung that is still open changes nothing."""
    rung = current_rung(ctx, contact)
    if contact.state is not ContactState.PENDING or rung is None or rung.kind not in kinds:
        return []
    return enter_rung(ctx, contact, contact.rung + 1, seat, code, now)


def send_failed(ctx: RoundContext, contact: ContactRound, seat: Seat | None, code: str,
                now: datetime) -> list[Effect]:
    """The current rung's text or call could not be delivered: nothing can come of it, so the
    flag no longer waits for that rung, and the next rung starts now. (A send of an earlier
    rung, still open, changes nothing.)"""
    rung = current_rung(ctx, contact)
    if contact.state is not ContactState.PENDING or rung is None or \
            rung.kind not in (RungKind.SMS, RungKind.VOICE):
        return []
    contact.open_until = contact.open_before
    return enter_rung(ctx, contact, contact.rung + 1, seat, code, now)


def start_clock(climb: Climb) -> list[Effect]:
    """The rung just entered stays open until its timeout. The next rung starts ``after`` from
    now when it has one (0: at once, alongside this one), else when this rung times out."""
    contact, now = climb.contact, climb.now
    timeout = climb.rung.timeout or DEFAULT_RUNG_TIMEOUT
    contact.open_before = contact.open_until
    contact.open_until = max(contact.open_until or now, now + timeout)
    after = _after_of_next(climb.ctx, contact, climb.seat)
    if after is not None and after <= timedelta(0):
        return enter_rung(climb.ctx, contact, contact.rung + 1, climb.seat, climb.code, now)
    return [rung_timer(climb.ctx, contact, now + (timeout if after is None else after))]


def _after_of_next(ctx: RoundContext, contact: ContactRound,
                   seat: Seat | None) -> timedelta | None:
    ladder = effective_ladder(ctx.tier(contact.tier))
    if contact.rung + 1 >= len(ladder):
        return None
    return ladder[_next_applying(ctx, contact, ladder, contact.rung + 1, seat)].after


def rung_timer(ctx: RoundContext, contact: ContactRound, due_at: datetime) -> ScheduleTimer:
    """The timer that moves ``contact`` on from its current rung (stale once it moved)."""
    return ScheduleTimer(
        key=f"{ctx.incident_id}:ringround:{contact.key}:rung:{contact.rung}:{contact.step}",
        due_at=due_at,
        kind=RUNG_TIMER,
        payload={"tier": contact.tier, "contact": contact.key, "rung": contact.rung,
                 "step": contact.step},
    )


def _applies(ctx: RoundContext, contact: ContactRound, rung: Rung, seat: Seat | None) -> bool:
    person = ctx.people.get(contact.key)
    tier = ctx.tier(contact.tier)
    if rung.kind is RungKind.CALLER:
        return seat is not None and can_use(person, Channel.PHONE)
    if rung.kind is RungKind.SENIOR:
        return can_use(person, Channel.PHONE) and bool(ctx.holders_of(tier.senior_role))
    if rung.kind in (RungKind.SMS, RungKind.VOICE):
        channel = Channel.SMS if rung.kind is RungKind.SMS else Channel.VOICE
        return (can_use(person, channel) and not contact.opted_out
                and approved_text(ctx, tier, person) is not None)
    return True  # the flag always applies


def approved_text(ctx: RoundContext, tier: Tier,
                  person: Person | None) -> tuple[str, str, str] | None:
    """(version label, text, language) of the tier's SMS message in the contact's language,
    falling back to English; None when no version is approved."""
    if tier.sms_message is None or person is None:
        return None
    for language in unique([person.language, "en"]):
        found = ctx.text_for(tier.sms_message, language)
        if found is not None:
            return found[0], found[1], language
    return None


# ---- rung actions -------------------------------------------------------------------------


def _caller(climb: Climb) -> list[Effect]:
    """The caller's clock starts now: when the list is sent, or later when the contact comes
    back to the caller after earlier rungs (then the holder is asked to call now)."""
    effects: list[Effect] = []
    if climb.seat is not None and climb.now > climb.seat.offered_at:
        effects += tell(climb.ctx, climb.contact, [climb.seat.holder], "ringround.call_now")
    return effects + start_clock(climb)


def _senior(climb: Climb) -> list[Effect]:
    holders = climb.ctx.holders_of(climb.ctx.tier(climb.contact.tier).senior_role)
    digest = hashlib.sha256(climb.contact.key.encode()).digest()
    climb.contact.senior = holders[int.from_bytes(digest[:4], "big") % len(holders)]
    notices = tell(climb.ctx, climb.contact, [climb.contact.senior], "ringround.senior")
    return [*notices, *start_clock(climb)]


def _automatic(climb: Climb) -> list[Effect]:
    tier = climb.ctx.tier(climb.contact.tier)
    found = approved_text(climb.ctx, tier, climb.person)
    assert found is not None  # checked by _applies
    assert climb.person is not None
    version, text, language = found
    voice = climb.rung.kind is RungKind.VOICE
    channel = OutboxChannel.VOICE if voice else OutboxChannel.SMS
    contact = climb.contact
    contact.sends += 1
    contact.send_key = outbox_key(climb.ctx.incident_id, contact.key, version, channel.value,
                                  contact.sends)
    if voice:
        contact.call_key = contact.send_key
    else:
        contact.text_key = contact.send_key
    body = personalise(text, confirm_code=climb.code, contact_name=climb.person.name,
                       caller_name=_caller_name(climb))
    send = Notify(
        key=contact.send_key, channel=channel, recipient=contact.key,
        body=f"{body}\n\n{VOICE_PROMPT}" if voice else body,
        purpose="ringround.voice" if voice else "ringround.sms", message_version=version,
        language=language, priority=contact.tier,
        valid_for=climb.rung.timeout or DEFAULT_RUNG_TIMEOUT,
        reply_code=None if voice else climb.code,
        data={"tier": contact.tier, "contact": contact.key, "attempt": contact.sends},
    )
    return [send, *start_clock(climb)]


def _flag(climb: Climb) -> list[Effect]:
    """Red flag, but not while a started rung is still open: then at its end, if still pending
    (a text that failed in minute 1 must not flag a contact the caller may yet reach)."""
    open_until = climb.contact.open_until
    if open_until is not None and climb.now < open_until:
        return [rung_timer(climb.ctx, climb.contact, open_until)]
    tier = climb.ctx.tier(climb.contact.tier)
    untexted = (tier.sms_message is not None and can_use(climb.person, Channel.SMS)
                and not climb.contact.opted_out
                and approved_text(climb.ctx, tier, climb.person) is None)
    why: dict[str, Fact] = {"untexted": tier.sms_message} if untexted and tier.sms_message else {}
    return raise_flag(climb.ctx, climb.contact, ContactState.FLAGGED,
                      {VARIANT: "unreached", **why})


_ACTIONS: dict[RungKind, Callable[[Climb], list[Effect]]] = {
    RungKind.CALLER: _caller,
    RungKind.SENIOR: _senior,
    RungKind.SMS: _automatic,
    RungKind.VOICE: _automatic,
    RungKind.FLAG: _flag,
}


def _caller_name(climb: Climb) -> str:
    if climb.seat is not None:
        return climb.ctx.name(climb.seat.holder)
    coordinators = climb.ctx.coordinators()
    return climb.ctx.name(coordinators[0]) if coordinators else ""


def raise_flag(ctx: RoundContext, contact: ContactRound, state: ContactState,
               facts: Facts) -> list[Effect]:
    """End the contact's ladder in ``state`` and tell the coordinator and the incident channel."""
    contact.state = state
    return tell(ctx, contact, [*ctx.coordinators(), INCIDENT_CHANNEL], "ringround.flag", facts)


# ---- what callers and contacts say --------------------------------------------------------


def outcome_changes_state(ctx: RoundContext, contact: ContactRound, result: Outcome) -> bool:
    """Whether recording ``result`` changes the contact (False: a repeat, nothing to do).
    Raises TransitionRefused when the outcome cannot be recorded in the contact's state."""
    target, allowed_from = _OUTCOMES[result]
    if contact.state is target:
        return False
    if contact.state not in allowed_from:
        raise TransitionRefused(f"record {result.value} for", contact.state.value,
                                f"contact {ctx.name(contact.key)}")
    return True


def apply_outcome(ctx: RoundContext, contact: ContactRound, result: Outcome, by: str,
                  now: datetime) -> list[Effect]:
    was = contact.state
    contact.last_outcome, contact.outcome_by, contact.outcome_at = result.value, by, now
    if result is Outcome.WRONG_NUMBER:  # texting a wrong number is pointless too: flag it
        return raise_flag(ctx, contact, _S.WRONG_NUMBER,
                          {VARIANT: "wrong_number", "by": ctx.name(by)})
    if result is Outcome.UNSAFE_TO_CALL:
        contact.state = _S.UNSAFE_TO_CALL
        return tell(ctx, contact, ctx.coordinators_or_channel(), "ringround.unsafe",
                    {"by": ctx.name(by)})
    target = _OUTCOMES[result][0]
    if target is None:
        return []  # voicemail, no answer: the caller may retry; the rung timer moves them on
    contact.state = target
    return _flag_cleared(ctx, contact, was)


def confirm(ctx: RoundContext, contact: ContactRound, via: str, now: datetime) -> list[Effect]:
    """The contact replied with the code or pressed 1 (``via`` is "sms" or "voice")."""
    if contact.state not in _CONFIRMABLE:
        return []
    was = contact.state
    contact.state = _S.CONFIRMED
    contact.last_outcome, contact.outcome_by, contact.outcome_at = "confirmed", via, now
    return _flag_cleared(ctx, contact, was)


def _flag_cleared(ctx: RoundContext, contact: ContactRound, was: ContactState) -> list[Effect]:
    if was is not _S.FLAGGED:
        return []
    return tell(ctx, contact, [*ctx.coordinators(), INCIDENT_CHANNEL], "ringround.flag_cleared",
                {"state": contact.state.value})


def opt_out(ctx: RoundContext, contact: ContactRound) -> list[Effect]:
    if contact.opted_out:
        return []
    contact.opted_out = True
    if contact.state is _S.PENDING:
        contact.state = _S.OPTED_OUT
    return tell(ctx, contact, ctx.coordinators_or_channel(), "ringround.opted_out")


def opt_in(ctx: RoundContext, contact: ContactRound, seat: Seat | None, code: str,
           now: datetime) -> list[Effect]:
    if not contact.opted_out:
        return []
    contact.opted_out = False
    effects = tell(ctx, contact, ctx.coordinators_or_channel(), "ringround.opted_in")
    if contact.state is _S.OPTED_OUT:  # back on the ladder, at the rung they left it
        contact.state = _S.PENDING
        effects += _resume_rung(ctx, contact, seat, code, now)
    return effects


def _resume_rung(ctx: RoundContext, contact: ContactRound, seat: Seat | None, code: str,
                 now: datetime) -> list[Effect]:
    """Back on the rung after an opt-in. What already went out is not sent again (a STOP →
    START cycle must not text them each time); a send held back while they were opted out
    goes now, and a waiting flag is weighed again. Otherwise the rung's clock starts again, so
    a timer that fired meanwhile is made good."""
    rung = current_rung(ctx, contact)
    assert rung is not None  # a contact back on the ladder has entered a rung
    withheld = contact.send_key is not None and contact.withheld == contact.send_key
    if (withheld and rung.kind in AUTOMATIC_RUNGS) or rung.kind is RungKind.FLAG:
        return enter_rung(ctx, contact, contact.rung, seat, code, now)
    contact.step, contact.rung_started = contact.step + 1, now
    return start_clock(Climb(ctx, contact, rung, seat, code, now))


def withhold(contact: ContactRound, send_key: str) -> list[Effect]:
    """The dispatcher held back the contact's current text or call (they had opted out)."""
    if contact.send_key == send_key:
        contact.withheld = send_key
    return []


def post_feedback(ctx: RoundContext, contact: ContactRound, by: str,
                  text: str) -> list[Effect]:
    """A caller's feedback (``by`` recorded the call) goes to the incident channel once (a
    repeat, e.g. a webhook retry, is dropped), with any phone number in it masked."""
    cleaned = _new_feedback(contact, text)
    if cleaned is None:
        return []
    return tell(ctx, contact, [INCIDENT_CHANNEL], "ringround.feedback",
                {VARIANT: "caller", "by": ctx.name(by), "text": cleaned})


def post_reply(ctx: RoundContext, contact: ContactRound, text: str) -> list[Effect]:
    """A contact's SMS feedback, folded with their earlier replies into one channel post that
    the dispatcher updates in place (docs/slack.md, "Folding"): eighty texts from one person
    are one message, not eighty posts ahead of everyone else's."""
    cleaned = _new_feedback(contact, text)
    if cleaned is None:
        return []
    contact.replies.append(cleaned)
    return tell(ctx, contact, [INCIDENT_CHANNEL], "ringround.feedback",
                {VARIANT: "replies", "replies": tuple(contact.replies)},
                {FOLD: f"reply:{contact.key}"})


def _new_feedback(contact: ContactRound, text: str) -> str | None:
    cleaned = mask_numbers(text.strip())
    if not cleaned:
        return None
    digest = hashlib.sha256(cleaned.encode()).hexdigest()[:16]
    if digest in contact.feedback_seen:
        return None
    contact.feedback_seen.append(digest)
    return cleaned


# ---- notices ------------------------------------------------------------------------------


def tell(ctx: RoundContext, contact: ContactRound, recipients: Sequence[str], purpose: str,
         facts: Facts | None = None,
         extra: Mapping[str, str | int] | None = None) -> list[Effect]:
    """One notice about ``contact`` (its name and tier, and ``facts``) to each recipient (a
    person's DM, or the incident channel). Each event bumps the contact's notice counter so its
    outbox keys never repeat."""
    contact.notices += 1
    topic = f"{purpose}:{contact.key}:{contact.notices}"
    data: dict[str, str | int] = {"tier": contact.tier, "contact": contact.key, **(extra or {})}
    about: Facts = {"name": ctx.name(contact.key), "tier": contact.tier, **(facts or {})}
    return [notice(ctx.incident_id, recipient, topic, purpose, about, data)
            for recipient in unique(recipients)]


def notice(incident_id: str, recipient: str, topic: str, purpose: str, facts: Facts,
           data: dict[str, str | int] | None = None) -> Notify:
    """A Slack notice to a person (DM) or to the incident channel; ``topic`` makes the key, and
    the service words it from ``purpose`` and ``facts``."""
    channel = (OutboxChannel.SLACK_CHANNEL if recipient == INCIDENT_CHANNEL
               else OutboxChannel.SLACK_DM)
    return Notify(key=outbox_key(incident_id, recipient, topic, channel.value), channel=channel,
                  recipient=recipient, body="", purpose=purpose, data=dict(data or {}),
                  facts=dict(facts))


# ---- small helpers ------------------------------------------------------------------------


def unique(items: Sequence[str] | list[str]) -> list[str]:
    """Items in their first order, without repeats or empty strings."""
    return list(dict.fromkeys(item for item in items if item))

"""The ring-round's people: callers, senior officers and the community contacts on their phones.

- Callers accept the list offered to them after 1-12 minutes (so some are late and the list
  moves to the backup caller; a few never answer). Whoever is told the list was taken back by
  its caller, or abandoned, leaves it. A caller phones the list's contacts 2-4 minutes each,
  only while the list is theirs (so no contact is called by two callers): reached about 60 %,
  voicemail or no answer 30 %, wrong number 5 %, declined or unsafe to call rarely; one more
  try for voicemail and no answer.
- A senior officer asked to try personally does, and reaches about half.
- Contacts reply to the automatic SMS with the code after 1-20 minutes (about 60 %, in any of
  the ways people type a code), with feedback (about 10 %; the first reply of the exercise
  reports a rumour), STOP (3 %), or not at all. A few numbers are dead: the transport fails
  them. An automatic call is confirmed with 1 about half the time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from incident_bot.domain.commands import AcceptCallList, RecordOutcome
from incident_bot.domain.directory import Person
from incident_bot.domain.incident_model import Incident
from incident_bot.domain.playbook import Playbook
from incident_bot.domain.ringround import ListStatus
from incident_bot.entrypoints.exercise.acting import Acting, pending
from incident_bot.entrypoints.exercise.runner import Delivery, Stage

RUMOUR = "Heard the mosque on Station Road is being closed down because of this. Is that true?"
SMS_FEEDBACK = (
    "People here are worried about the families. Is there anyone they can talk to?",
    "Will there be police near Friday prayers? Some of the elders are nervous.",
    "Who is this? How did you get my number?",
    "Passing it on to our committee tonight.",
)
CALL_FEEDBACK = (
    "Mood is anxious but calm; asked for the helpline number.",
    "Worried about young people being targeted on the way to school.",
    "Will pass the message on at the community centre this evening.",
    "Asked whether the searches are finished; told we will update.",
)
OUTCOMES: tuple[tuple[str, float], ...] = (
    ("reached", 0.60), ("voicemail", 0.15), ("no_answer", 0.15), ("wrong_number", 0.05),
    ("declined", 0.03), ("unsafe_to_call", 0.02),
)
RETRY_OUTCOMES = frozenset({"voicemail", "no_answer"})


@dataclass
class CallPlan:
    """One caller working through one list: first pass, then one retry pass."""

    caller: str
    list_id: str
    queue: list[str]
    retry: list[str] = field(default_factory=list)
    retrying: bool = False
    dropped: bool = False  # taken back by its caller, or abandoned, before they accepted

    def next_contact(self) -> str | None:
        if not self.queue and self.retry and not self.retrying:
            self.queue, self.retry, self.retrying = self.retry, [], True
        return self.queue.pop(0) if self.queue else None


class Community(Acting):
    def __init__(self, acting: Acting) -> None:
        super().__init__(acting.rng, acting.behaviour)
        self._lists_seen: set[str] = set()
        self._plans: dict[tuple[str, str], CallPlan] = {}  # (list, person) -> their plan
        self._rumour_told = False

    # ---- callers ----------------------------------------------------------------------------

    def on_call_list(self, stage: Stage, delivery: Delivery) -> None:
        """A list offered: to its caller the first time, to the backup if it moved."""
        list_id = str(delivery.notify.data.get("list", ""))
        holder, b = delivery.notify.recipient, self.behaviour
        moved = list_id in self._lists_seen
        self._lists_seen.add(list_id)
        if self.chance(b.backup_absent if moved else b.caller_absent):
            return  # does not see it in time: the bot moves the list on
        contacts = [c for c in str(delivery.notify.data.get("contacts", "")).split(",") if c]
        plan = CallPlan(holder, list_id, contacts)
        self._plans[(list_id, holder)] = plan
        stage.later(self.minutes(b.backup_accept if moved else b.accept), holder,
                    f"accept {list_id}", lambda: self._accept(stage, plan))

    def on_list_closed(self, stage: Stage, delivery: Delivery) -> None:
        """Told the list's caller accepted it after all, or that nobody accepted it in time and
        its contacts moved on: they leave it."""
        key = (str(delivery.notify.data.get("list", "")), delivery.notify.recipient)
        plan = self._plans.get(key)
        if plan is not None:
            plan.dropped = True

    def _accept(self, stage: Stage, plan: CallPlan) -> None:
        if plan.dropped:
            return
        command = AcceptCallList(plan.caller, plan.caller, plan.list_id)
        if self.do(stage, plan.caller, command,
                   f"accepts call list {plan.list_id} ({len(plan.queue)} contacts)"):
            self._next_call(stage, plan)

    def _next_call(self, stage: Stage, plan: CallPlan) -> None:
        contact = plan.next_contact()
        if contact is not None:
            stage.later(self.minutes(self.behaviour.call), plan.caller, f"call {contact}",
                        lambda: self._call(stage, plan, contact))

    def _call(self, stage: Stage, plan: CallPlan, contact: str) -> None:
        if not holds(stage.incident(), plan):
            return  # the list is no longer theirs: whoever holds it now calls
        if not pending(stage.incident(), contact):
            self._next_call(stage, plan)  # reached another way meanwhile: on to the next
            return
        outcome = self.weighted(OUTCOMES)
        feedback = ""
        if outcome == "reached" and self.chance(self.behaviour.call_feedback):
            feedback = self.rng.choice(CALL_FEEDBACK)
        if not self.do(stage, plan.caller, RecordOutcome(contact, outcome, plan.caller, feedback),
                       f"calls {stage.name(contact)}: {outcome.replace('_', ' ')}"):
            return  # the list is no longer theirs (taken back by its caller): they stop
        if outcome in RETRY_OUTCOMES:
            plan.retry.append(contact)
        self._next_call(stage, plan)

    def on_senior(self, stage: Stage, delivery: Delivery) -> None:
        senior, contact = delivery.notify.recipient, str(delivery.notify.data.get("contact"))
        stage.later(self.minutes((3, 10)), senior, f"senior call {contact}",
                    lambda: self._senior_call(stage, senior, contact))

    def _senior_call(self, stage: Stage, senior: str, contact: str) -> None:
        if not pending(stage.incident(), contact):
            return
        outcome = "reached" if self.chance(self.behaviour.senior_reach) else "no_answer"
        self.do(stage, senior, RecordOutcome(contact, outcome, senior),
                f"tries {stage.name(contact)} personally: {outcome.replace('_', ' ')}")

    # ---- contacts on their phones -----------------------------------------------------------

    def on_sms(self, stage: Stage, delivery: Delivery) -> None:
        b, notify = self.behaviour, delivery.notify
        phone, who = delivery.phone or "", notify.recipient
        if not self._rumour_told:
            self._rumour_told = True
            self._reply(stage, who, phone, RUMOUR, self.minutes((3, 10)))
            return
        draw, delay = self.rng.random(), self.minutes(b.sms_reply)
        if draw < b.sms_code:
            self._reply(stage, who, phone, self._code_reply(notify.reply_code or ""), delay)
        elif draw < b.sms_code + b.sms_stop:
            self._reply(stage, who, phone, "STOP", delay)
        elif draw < b.sms_code + b.sms_stop + b.sms_feedback:
            self._reply(stage, who, phone, self.rng.choice(SMS_FEEDBACK), delay)

    def _code_reply(self, code: str) -> str:
        return self.rng.choice((code, code.lower(), f"ok {code} thanks", " ".join(code),
                                f"{code}."))

    @staticmethod
    def _reply(stage: Stage, who: str, phone: str, text: str, delay: timedelta) -> None:
        def send() -> None:
            stage.note(f"{stage.name(who)} replies by SMS: {text!r}")
            stage.services.incidents.sms_inbound(phone, text)
            stage.changed()
        stage.later(delay, who, "sms reply", send)

    def on_voice(self, stage: Stage, delivery: Delivery) -> None:
        if delivery.outbox_id is None or not self.chance(self.behaviour.voice_confirm):
            return
        who, outbox_id = delivery.notify.recipient, delivery.outbox_id

        def press() -> None:
            stage.note(f"{stage.name(who)} answers the automated call and presses 1")
            stage.services.incidents.voice_digit(outbox_id, "1")
            stage.changed()
        stage.later(self.minutes((0.5, 2)), who, "press 1", press)


def holds(incident: Incident, plan: CallPlan) -> bool:
    """Whether the caller has the list accepted now (what their dashboard shows)."""
    return any(lst.id == plan.list_id and lst.status is ListStatus.ACCEPTED
               and lst.holder == plan.caller for lst in incident.ringround.lists_of(plan.caller))


def pick_dead_numbers(playbook: Playbook, people: Sequence[Person], share: float,
                      rng: random.Random) -> frozenset[str]:
    """A few community contacts' numbers are dead: at least one when there are ten or more."""
    tiers = {t.number for t in playbook.tiers if t.sms_message}
    candidates = sorted((p for p in people if p.tier in tiers and p.phone and not p.roles),
                        key=lambda p: p.key)
    count = round(len(candidates) * share) or (1 if len(candidates) >= 10 else 0)
    chosen = rng.sample(candidates, min(count, len(candidates)))
    return frozenset(p.phone for p in chosen if p.phone)

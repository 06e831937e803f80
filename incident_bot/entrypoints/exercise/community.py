"""The ring-round's people in the bot's exercise: callers, senior officers and the community
contacts on their phones, each acting on their fixed disposition (``people.py``).

- Callers accept the list offered to them after their own delay (so some are late and the list
  moves to the backup caller; an absent caller never takes it). Whoever is told the list was
  taken back by its caller, or abandoned, leaves it; the coordinator, told nobody accepted a
  list, calls it themselves after their own delay (as in the manual round). A caller works the
  list with the retry policy of ``calling.py``, only while the list is theirs (so no contact is
  called by two callers); each attempt's outcome and length are the contact's own.
- A senior officer asked to try personally does, 3-10 minutes later; the contact answers them as
  they would any caller (their next call attempt).
- Contacts react to the automatic SMS as their disposition says (the code, feedback, STOP, or
  nothing); the first SMS of the exercise also gets a rumour back. Dead numbers: the transport
  fails them. An automatic call is confirmed with 1 by those whose disposition says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from incident_bot.domain.commands import AcceptCallList, RecordOutcome
from incident_bot.domain.directory import Person
from incident_bot.domain.incident.model import Incident
from incident_bot.domain.ringround import ListStatus
from incident_bot.entrypoints.exercise.acting import Acting, to_call
from incident_bot.entrypoints.exercise.calling import CallSheet
from incident_bot.entrypoints.exercise.people import People
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


@dataclass
class CallPlan:
    """One caller working through one list."""

    caller: str
    list_id: str
    sheet: CallSheet = field(default_factory=CallSheet)
    dropped: bool = False  # taken back by its caller, or abandoned, before they accepted
    coordinator: bool = False  # the coordinator calling a list nobody accepted


class Community(Acting):
    def __init__(self, acting: Acting, people: People) -> None:
        super().__init__(acting.rng, acting.behaviour)
        self.people = people
        self._lists_seen: set[str] = set()
        self._plans: dict[tuple[str, str], CallPlan] = {}  # (list, person) -> their plan
        self._attempts: dict[str, int] = {}  # contact -> call attempts so far, by anyone
        self._rumour_told = False

    # ---- callers ----------------------------------------------------------------------------

    def on_call_list(self, stage: Stage, delivery: Delivery) -> None:
        """A list offered: to its caller the first time, to the backup if it moved."""
        list_id = str(delivery.notify.data.get("list", ""))
        holder = delivery.notify.recipient
        moved = list_id in self._lists_seen
        self._lists_seen.add(list_id)
        caller = self.people.caller(holder)
        if caller.backup_absent if moved else caller.absent:
            return  # does not see it in time: the bot moves the list on
        contacts = [c for c in str(delivery.notify.data.get("contacts", "")).split(",") if c]
        plan = CallPlan(holder, list_id)
        plan.sheet.add(contacts)
        self._plans[(list_id, holder)] = plan
        stage.later(caller.backup_accept if moved else caller.accept, holder,
                    f"accept {list_id}", lambda: self._accept(stage, plan))

    def on_list_closed(self, stage: Stage, delivery: Delivery) -> None:
        """Told the list's caller accepted it after all, or that nobody accepted it in time and
        its contacts moved on: they leave it."""
        key = (str(delivery.notify.data.get("list", "")), delivery.notify.recipient)
        plan = self._plans.get(key)
        if plan is not None:
            plan.dropped = True

    def on_list_abandoned(self, stage: Stage, delivery: Delivery) -> None:
        """Told nobody accepted a list: as in the manual round, the coordinator calls it
        themselves (a coordinator may record any contact's outcome)."""
        self.on_list_closed(stage, delivery)
        list_id, coordinator = str(delivery.notify.data.get("list", "")), delivery.notify.recipient
        if (list_id, coordinator) in self._plans:
            return
        contacts = [c for c in str(delivery.notify.data.get("contacts", "")).split(",") if c]
        plan = CallPlan(coordinator, list_id, coordinator=True)
        plan.sheet.add(contacts)
        self._plans[(list_id, coordinator)] = plan
        stage.later(self.people.caller(coordinator).backup_accept, coordinator,
                    f"take over {list_id}", lambda: self._next_call(stage, plan))

    def _accept(self, stage: Stage, plan: CallPlan) -> None:
        if plan.dropped:
            return
        command = AcceptCallList(plan.caller, plan.caller, plan.list_id)
        if self.do(stage, plan.caller, command,
                   f"accepts call list {plan.list_id} ({len(plan.sheet.contacts)} contacts)"):
            self._next_call(stage, plan)

    def _next_call(self, stage: Stage, plan: CallPlan) -> None:
        call = plan.sheet.next_call(stage.now, lambda key: to_call(stage.incident(), key))
        if call is not None:
            stage.at(call.at, plan.caller, f"call {call.contact}",
                     lambda: self._dial(stage, plan, call.contact))

    def _dial(self, stage: Stage, plan: CallPlan, contact: str) -> None:
        if not holds(stage.incident(), plan):
            return  # the list is no longer theirs: whoever holds it now calls
        if not to_call(stage.incident(), contact):
            self._next_call(stage, plan)  # reached another way meanwhile: on to the next
            return
        attempt = self._attempts.get(contact, 0)
        self._attempts[contact] = attempt + 1
        person = self.people.contact(contact)
        outcome = person.outcome(attempt)
        plan.sheet.record(contact, stage.now, outcome)
        stage.later(person.call_length(attempt), plan.caller, f"call {contact}",
                    lambda: self._hang_up(stage, plan, contact, outcome))

    def _hang_up(self, stage: Stage, plan: CallPlan, contact: str, outcome: str) -> None:
        if not holds(stage.incident(), plan):
            return
        if to_call(stage.incident(), contact):
            feedback = ""
            if outcome == "reached" and self.chance(self.behaviour.call_feedback):
                feedback = self.rng.choice(CALL_FEEDBACK)
            command = RecordOutcome(contact, outcome, plan.caller, feedback)
            if not self.do(stage, plan.caller, command,
                           f"calls {stage.name(contact)}: {outcome.replace('_', ' ')}") \
                    and not holds(stage.incident(), plan):
                return  # the list is no longer theirs (taken back by its caller): they stop
        self._next_call(stage, plan)

    def on_senior(self, stage: Stage, delivery: Delivery) -> None:
        senior, contact = delivery.notify.recipient, str(delivery.notify.data.get("contact"))
        stage.later(self.minutes((3, 10)), senior, f"senior call {contact}",
                    lambda: self._senior_call(stage, senior, contact))

    def _senior_call(self, stage: Stage, senior: str, contact: str) -> None:
        if not to_call(stage.incident(), contact) or not self.chance(self.behaviour.senior_tries):
            return
        attempt = self._attempts.get(contact, 0)  # the person answers as they would anyone
        self._attempts[contact] = attempt + 1
        outcome = self.people.contact(contact).outcome(attempt)
        self.do(stage, senior, RecordOutcome(contact, outcome, senior),
                f"tries {stage.name(contact)} personally: {outcome.replace('_', ' ')}")

    # ---- contacts on their phones -----------------------------------------------------------

    def on_sms(self, stage: Stage, delivery: Delivery) -> None:
        notify = delivery.notify
        phone, who = delivery.phone or "", notify.recipient
        if not self._rumour_told:  # besides their own reaction: the rumour of the exercise
            self._rumour_told = True
            self._reply(stage, who, phone, RUMOUR, self.minutes((3, 10)))
        person = self.people.contact(who)
        reaction, variant = person.sms_reaction, person.sms_variant
        if reaction == "code":
            self._reply(stage, who, phone, code_reply(notify.reply_code or "", variant),
                        person.sms_delay)
        elif reaction == "stop":
            self._reply(stage, who, phone, "STOP", person.sms_delay)
        elif reaction == "feedback":
            self._reply(stage, who, phone, SMS_FEEDBACK[variant % len(SMS_FEEDBACK)],
                        person.sms_delay)

    @staticmethod
    def _reply(stage: Stage, who: str, phone: str, text: str, delay: timedelta) -> None:
        def send() -> None:
            stage.note(f"{stage.name(who)} replies by SMS: {text!r}")
            stage.services.incidents.sms_inbound(phone, text)
            stage.changed()
        stage.later(delay, who, "sms reply", send)

    def on_voice(self, stage: Stage, delivery: Delivery) -> None:
        who = delivery.notify.recipient
        person = self.people.contact(who)
        if delivery.outbox_id is None or not person.presses_one:
            return
        outbox_id = delivery.outbox_id

        def press() -> None:
            stage.note(f"{stage.name(who)} answers the automated call and presses 1")
            stage.services.incidents.voice_digit(outbox_id, "1")
            stage.changed()
        stage.later(person.voice_delay, who, "press 1", press)


def code_reply(code: str, variant: int) -> str:
    """The code typed one of the ways people type a code."""
    ways = (code, code.lower(), f"ok {code} thanks", " ".join(code), f"{code}.")
    return ways[variant % len(ways)]


def holds(incident: Incident, plan: CallPlan) -> bool:
    """Whether the caller has the list accepted now (what their dashboard shows), or is the
    coordinator calling a list nobody accepted."""
    return plan.coordinator or any(lst.id == plan.list_id and lst.status is ListStatus.ACCEPTED
               and lst.holder == plan.caller for lst in incident.ringround.lists_of(plan.caller))


def dead_phones(directory: Sequence[Person], people: People) -> frozenset[str]:
    """The numbers the transport fails: those of the contacts whose number is dead."""
    return frozenset(p.phone for p in directory if p.key in people.dead and p.phone)

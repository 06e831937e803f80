"""The exercise's people, fixed per seed: who answers, who replies, whose number is dead.

Every community contact and every caller gets a disposition drawn from a generator of their own,
``random.Random(f"{seed}:{key}")``, always in the same order, so a person behaves the same way
whatever happens around them: the bot's exercise and the manual ring-round (``manual.py``) face
exactly the same people for a seed. Dead numbers come from ``random.Random(f"{seed}:dead")``.

The shares and delays are ``Behaviour``'s (``acting.py``); docs/exercise.md gives each value and
its source.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Playbook
from incident_bot.entrypoints.exercise.acting import Behaviour, Minutes

MAX_ATTEMPTS = 3  # call attempts per contact: the first and two retries (domain.md §6)
RETRY_AFTER = timedelta(minutes=15)  # a retry no sooner than this after the previous attempt
UNANSWERED = frozenset({"voicemail", "no_answer"})
FATES: tuple[tuple[str, float], ...] = (  # what an answered call comes to
    ("reached", 0.90), ("declined", 0.03), ("unsafe_to_call", 0.02), ("wrong_number", 0.05))
SMS_REACTIONS = ("code", "stop", "feedback", "nothing")


@dataclass(frozen=True)
class Attempt:
    """One call attempt to a contact: answered or not, and how long the caller spends on it."""

    answered: bool
    missed: str  # "voicemail" or "no_answer": what an unanswered attempt records
    length: timedelta


@dataclass(frozen=True)
class ContactDisposition:
    key: str
    dead: bool  # the number is dead: calls go unanswered, texts and voice calls fail
    fate: str  # what an answered call records: reached, declined, unsafe_to_call, wrong_number
    attempts: tuple[Attempt, ...]  # call attempt k (0-based)
    sms: str  # one of SMS_REACTIONS, as drawn
    sms_delay: timedelta
    sms_variant: int  # which way of typing the code, or which feedback text
    voice_presses: bool
    voice_delay: timedelta

    @property
    def willing(self) -> bool:
        """A live number, and a call they answer reaches them (not declined, unsafe or wrong)."""
        return not self.dead and self.fate == "reached"

    @property
    def reachable(self) -> bool:
        """Whether some channel of the bot's could reach them at all: willing, and they answer
        one of their call attempts, reply with the code or press 1. The denominator of the
        reach figures, the same in both modes."""
        answers = any(attempt.answered for attempt in self.attempts)
        return self.willing and (answers or self.sms_reaction == "code" or self.presses_one)

    def outcome(self, attempt: int) -> str:
        """What call attempt ``attempt`` (0-based) records."""
        call = self.attempts[min(attempt, len(self.attempts) - 1)]
        return self.fate if call.answered and not self.dead else call.missed

    def call_length(self, attempt: int) -> timedelta:
        return self.attempts[min(attempt, len(self.attempts) - 1)].length

    @property
    def sms_reaction(self) -> str:
        """What they do with the automatic text: only someone who would take the call (fate
        reached) replies with the code; a dead number never replies."""
        if self.dead:
            return "nothing"
        if self.sms == "code" and self.fate != "reached":
            return "nothing"
        return self.sms

    @property
    def presses_one(self) -> bool:
        return self.voice_presses and self.willing

    def floor(self, phone: bool, text: bool, voice: bool = False) -> timedelta | None:
        """The soonest they could be reached if texted, called and rung by the automatic call
        at once: their code reply, their press of 1, or the end of their first answered call
        attempt, attempt k (0-based) made no sooner than k retry gaps after the first (the
        retry policy); whichever is earliest (None: none would reach them)."""
        if not self.willing:
            return None
        times = [self.sms_delay] if text and self.sms_reaction == "code" else []
        if voice and self.presses_one:
            times.append(self.voice_delay)
        answered = next((k * RETRY_AFTER + a.length for k, a in enumerate(self.attempts)
                         if a.answered), None)
        if phone and answered is not None:
            times.append(answered)
        return min(times, default=None)


@dataclass(frozen=True)
class CallerDisposition:
    key: str
    absent: bool  # never takes a list offered to them as its caller
    accept: timedelta  # how long they take to accept a list (bot mode)
    backup_absent: bool  # never takes a list moved to them as backup
    backup_accept: timedelta


class People:
    """The fixed dispositions of one seed's people."""

    def __init__(self, seed: int, behaviour: Behaviour, dead: frozenset[str]) -> None:
        self.seed, self.behaviour, self.dead = seed, behaviour, dead
        self._contacts: dict[str, ContactDisposition] = {}
        self._callers: dict[str, CallerDisposition] = {}

    def contact(self, key: str) -> ContactDisposition:
        if key not in self._contacts:
            self._contacts[key] = draw_contact(self._rng(key), key, key in self.dead,
                                               self.behaviour)
        return self._contacts[key]

    def caller(self, key: str) -> CallerDisposition:
        if key not in self._callers:
            self._callers[key] = draw_caller(self._rng(key), key, self.behaviour)
        return self._callers[key]

    def _rng(self, key: str) -> random.Random:
        return random.Random(f"{self.seed}:{key}")  # noqa: S311 - a simulation, not secrecy


def people_for(playbook: Playbook, directory: Sequence[Person], seed: int,
               behaviour: Behaviour | None = None) -> People:
    """The people of an exercise of ``playbook`` with ``directory`` and ``seed``."""
    behaviour = behaviour or Behaviour()
    rng = random.Random(f"{seed}:dead")  # noqa: S311 - a simulation, not secrecy
    dead = pick_dead(playbook, directory, behaviour.dead_share, rng)
    return People(seed, behaviour, frozenset(dead))


def pick_dead(playbook: Playbook, directory: Iterable[Person], share: float,
              rng: random.Random) -> list[str]:
    """Keys of the community contacts whose numbers are dead: ``share`` of those with a number
    in a texted tier, at least one when there are ten or more."""
    tiers = {t.number for t in playbook.tiers if t.sms_message}
    candidates = sorted(p.key for p in directory if p.tier in tiers and p.phone and not p.roles)
    count = round(len(candidates) * share) or (1 if len(candidates) >= 10 else 0)
    return rng.sample(candidates, min(count, len(candidates)))


def draw_contact(rng: random.Random, key: str, dead: bool,
                 b: Behaviour) -> ContactDisposition:
    """Always the same draws in the same order, so the disposition is the person's own."""
    fate = rng.choices([f for f, _ in FATES], weights=[w for _, w in FATES])[0]
    attempts = tuple(Attempt(rng.random() < b.call_answer,
                             "voicemail" if rng.random() < 0.5 else "no_answer",
                             _minutes(rng, b.call)) for _ in range(MAX_ATTEMPTS))
    draw = rng.random()
    sms = ("code" if draw < b.sms_code else "stop" if draw < b.sms_code + b.sms_stop
           else "feedback" if draw < b.sms_code + b.sms_stop + b.sms_feedback else "nothing")
    return ContactDisposition(
        key=key, dead=dead, fate=fate, attempts=attempts, sms=sms,
        sms_delay=_minutes(rng, b.sms_reply), sms_variant=rng.randrange(1000),
        voice_presses=rng.random() < b.voice_confirm, voice_delay=_minutes(rng, (0.5, 2)))


def draw_caller(rng: random.Random, key: str, b: Behaviour) -> CallerDisposition:
    return CallerDisposition(key=key, absent=rng.random() < b.caller_absent,
                             accept=_minutes(rng, b.accept),
                             backup_absent=rng.random() < b.backup_absent,
                             backup_accept=_minutes(rng, b.backup_accept))


def _minutes(rng: random.Random, bounds: Minutes) -> timedelta:
    low, high = bounds
    return timedelta(seconds=round(rng.uniform(low, high) * 60))

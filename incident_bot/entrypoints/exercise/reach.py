"""How far and how fast a ring-round reached its people: one result type for the bot's exercise
and the manual ring-round (``manual.py``), and the figures the benchmark compares.

A contact is *reachable* when some channel the bot uses could reach them
(``people.ContactDisposition.reachable``): the denominator of ``time_to``. ``floor`` is the
physical limit: the same figure if every reachable contact were texted, called by a caller and
rung by the automatic call at the round's start.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from incident_bot.domain.incident.model import Incident
from incident_bot.domain.ladder import REACHED_STATES, can_use
from incident_bot.domain.playbook import Channel
from incident_bot.entrypoints.exercise.people import People


@dataclass(frozen=True)
class ContactReach:
    key: str
    tier: int
    reachable: bool
    reached_at: datetime | None  # reached by a caller or confirmed; None: never
    state: str  # the final state (a ContactState value; in manual mode also voicemail,
    # no_answer after the last retry, or not_called)
    floor: timedelta | None = None  # the soonest the person could be reached (people.py)


@dataclass(frozen=True)
class RoundReach:
    mode: Literal["bot", "manual"]
    started_at: datetime  # the tier-1 round's start
    contacts: tuple[ContactReach, ...]
    media_released_at: datetime | None = None

    def of(self, tiers: Iterable[int]) -> list[ContactReach]:
        wanted = set(tiers)
        return [c for c in self.contacts if c.tier in wanted]

    def time_to(self, fraction: float, tiers: Iterable[int]) -> timedelta | None:
        """From the start until ceil(fraction x reachable contacts of ``tiers``) are reached
        or confirmed; None if that never happened."""
        chosen = self.of(tiers)
        times = [c.reached_at - self.started_at for c in chosen if c.reached_at is not None]
        return _nth(times, _needed(fraction, chosen))

    def never_reached_share(self, tiers: Iterable[int]) -> float:
        """Share of ALL contacts of ``tiers`` not reached or confirmed at the end."""
        chosen = self.of(tiers)
        if not chosen:
            return 0.0
        return sum(1 for c in chosen if c.reached_at is None) / len(chosen)

    def floor(self, fraction: float, tiers: Iterable[int]) -> timedelta | None:
        """``time_to`` had every reachable contact been texted and called at the start."""
        chosen = self.of(tiers)
        times = [c.floor for c in chosen if c.reachable and c.floor is not None]
        return _nth(times, _needed(fraction, chosen))

    def counts(self, tiers: Iterable[int]) -> tuple[int, int, int]:
        """Contacts, reachable, reached or confirmed."""
        chosen = self.of(tiers)
        return (len(chosen), sum(c.reachable for c in chosen),
                sum(c.reached_at is not None for c in chosen))


def _needed(fraction: float, chosen: list[ContactReach]) -> int:
    reachable = sum(c.reachable for c in chosen)
    return math.ceil(round(fraction * reachable, 9))


def _nth(times: list[timedelta], needed: int) -> timedelta | None:
    if needed <= 0:
        return timedelta(0)
    ordered = sorted(times)
    return ordered[needed - 1] if len(ordered) >= needed else None


def bot_reach(incident: Incident, people: People) -> RoundReach:
    """The reach of a bot exercise from tier 1 on (tier 0, need to know, is updated before the
    round and is not part of it), from its stored incident; ``people`` are its dispositions."""
    rounds = {n: r for n, r in incident.ringround.tiers.items() if n >= 1}
    if not rounds:
        raise ValueError(f"incident {incident.id} started no ring-round from tier 1 on")
    first = min(rounds)
    contacts = tuple(
        ContactReach(c.key, c.tier, people.contact(c.key).reachable,
                     c.outcome_at if c.state in REACHED_STATES else None, c.state.value,
                     contact_floor(incident, people, c.key))
        for round_ in rounds.values() for c in round_.contacts.values())
    return RoundReach("bot", rounds[first].started_at, contacts, media_released_at(incident))


def contact_floor(incident: Incident, people: People, key: str) -> timedelta | None:
    person = incident.people.get(key)
    return people.contact(key).floor(can_use(person, Channel.PHONE), can_use(person, Channel.SMS),
                                     can_use(person, Channel.VOICE))


def media_released_at(incident: Incident) -> datetime | None:
    """When the media-hold step's statement was first released, if it was."""
    step = next((s for s in incident.playbook.briefing if s.media_hold), None)
    if step is None or step.message is None or step.message not in incident.messages.messages:
        return None
    released = [v.released_at for v in incident.messages.get(step.message).versions
                if v.released_at is not None]
    return min(released, default=None)

"""What every simulated person shares: the behaviour knobs, the one random generator, and how a
person acts on the bot (a command through the real service; a refusal is part of the exercise).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from incident_bot.domain.commands import Command
from incident_bot.domain.incident.model import Incident
from incident_bot.domain.ladder import ContactState
from incident_bot.entrypoints.exercise.runner import Stage
from incident_bot.errors import NotFoundError, RefusedError

Minutes = tuple[float, float]  # a uniform range of minutes


@dataclass(frozen=True)
class Behaviour:
    """How the simulated people behave: shares (0-1) and delays (minutes)."""

    approve: Minutes = (2, 12)
    brief: Minutes = (5, 20)  # a briefer completes an in-person step
    release: Minutes = (3, 10)  # a briefer releases a public statement
    retries: int = 6  # tries of a refused briefing action, 5 minutes apart
    override_after_e0: timedelta = timedelta(hours=1)  # the media-hold inject
    task_late: float = 0.15  # acknowledge after the 10 minutes allowed
    task_never: float = 0.15  # never acknowledge
    task_ack: Minutes = (1, 8)
    task_ack_late: Minutes = (11, 30)
    deputy_picks_up: float = 0.6  # a deputy told of an unacknowledged task takes it
    caller_absent: float = 0.10  # never accepts their list
    backup_absent: float = 0.05  # a backup caller who never accepts a list moved to them
    accept: Minutes = (1, 12)  # so about one list in six is late and moves to the backup
    backup_accept: Minutes = (1, 8)
    call: Minutes = (2, 4)
    call_answer: float = 0.70  # a live number answers a call attempt: first calls reach ~60 %
    call_feedback: float = 0.25  # of contacts reached, share with something to report
    senior_tries: float = 1.0  # a senior officer asked to try personally makes the call
    sms_code: float = 0.60
    sms_stop: float = 0.03
    sms_feedback: float = 0.10
    sms_reply: Minutes = (1, 20)
    voice_confirm: float = 0.5
    dead_share: float = 0.05  # of contacts with a number: their number is dead


class Acting:
    """Shared by the staff and the community: draws, delays, and acting on the bot."""

    def __init__(self, rng: random.Random, behaviour: Behaviour) -> None:
        self.rng, self.behaviour = rng, behaviour

    def minutes(self, bounds: Minutes) -> timedelta:
        low, high = bounds
        return timedelta(seconds=round(self.rng.uniform(low, high) * 60))

    def weighted(self, choices: tuple[tuple[str, float], ...]) -> str:
        return self.rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]

    def chance(self, share: float) -> bool:
        return self.rng.random() < share

    @staticmethod
    def do(stage: Stage, actor: str, command: Command, what: str, *, quiet: bool = False,
           quiet_refusal: bool = False) -> bool:
        """Run one command as ``actor``; a refusal is noted (the bot audits it too)."""
        try:
            stage.services.incidents.execute(stage.incident_id, command)
        except (RefusedError, NotFoundError) as refused:
            stage.refused += 1
            if not quiet_refusal:
                stage.note(f"REFUSED: {stage.name(actor)} {what}: {refused}")
            return False
        finally:
            stage.changed()
        if not quiet:
            stage.note(f"{stage.name(actor)} {what}")
        return True


CALLABLE = frozenset({ContactState.PENDING, ContactState.FLAGGED, ContactState.OPTED_OUT})


def to_call(incident: Incident, contact: str) -> bool:
    """Whether a caller should still phone a contact: not yet reached, confirmed or settled (an
    opt-out stops texts, not calls; a red flag is still worth a call)."""
    try:
        return incident.ringround.find(contact)[1].state in CALLABLE
    except NotFoundError:
        return False


def pending(incident: Incident, contact: str) -> bool:
    """Whether a contact is still on the ladder (what a caller sees on the dashboard)."""
    try:
        return incident.ringround.find(contact)[1].state is ContactState.PENDING
    except NotFoundError:
        return False

"""Send pacing as a generic cell-rate algorithm (GCRA), kept as one timestamp per channel.

The state is a *theoretical arrival time* (TAT): when the next send would be exactly on
schedule. Granting ``n`` sends moves it ``n / rate`` seconds on; sends are allowed while the
TAT is no more than ``burst`` seconds ahead of now. This is a token bucket of capacity
``rate * burst``, but its whole state is one timestamp, so it can live in a database row that
every replica updates under a row lock: the pace then holds for the pool, not per process.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Pacing:
    """Sends per second on each phone channel (None: unpaced) and how many seconds' worth of
    sends may go at once after a quiet spell (the largest burst)."""

    sms_per_second: float | None = None
    calls_per_second: float | None = None
    burst_seconds: float = 1.0


@dataclass(frozen=True)
class Grant:
    granted: int
    tat: datetime


def grant(tat: datetime | None, now: datetime, wanted: int, rate: float,
          burst_seconds: float) -> Grant:
    """How many of ``wanted`` sends may go now, and the TAT after them."""
    start = now if tat is None or tat < now else tat
    room = (now + timedelta(seconds=burst_seconds) - start).total_seconds()
    allowed = max(0, min(wanted, math.floor(room * rate + 1e-9)))
    return Grant(allowed, start + timedelta(seconds=allowed / rate))


def give_back(tat: datetime, now: datetime, unused: int, rate: float) -> datetime:
    """Return ``unused`` granted sends (fewer rows were waiting than were granted)."""
    return max(now, tat - timedelta(seconds=unused / rate))


PACE_KEY_LENGTH = 20  # the send_pace row's key column


def lane_key(lane: str, address: str) -> str:
    """The pace row of one lane of a Slack conversation (``chat:C0123…``, ``notice:C0123…``)."""
    return f"{lane}:{address}"[:PACE_KEY_LENGTH]


def fold_key(incident_id: str, fold: str) -> str:
    """The pace row of one fold (a contact's replies in one incident): a digest, as the pair
    is longer than a pace key."""
    digest = hashlib.sha256(f"{incident_id}|{fold}".encode()).hexdigest()
    return f"fold:{digest}"[:PACE_KEY_LENGTH]

"""Clocks: the real one, and a simulated one that runs N times faster for exercises."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class SimulatedClock:
    """Simulated time: starts at ``start`` and runs ``speed`` times faster than ``monotonic``.

    ``advance`` jumps forward instantly (the exercise skips quiet periods that way)."""

    start: datetime
    speed: float = 60.0
    monotonic: Callable[[], float] = time.monotonic
    _origin: float = field(init=False)
    _skipped: timedelta = field(init=False, default=timedelta(0))

    def __post_init__(self) -> None:
        self._origin = self.monotonic()

    def now(self) -> datetime:
        elapsed = (self.monotonic() - self._origin) * self.speed
        return self.start + self._skipped + timedelta(seconds=elapsed)

    def advance(self, by: timedelta) -> None:
        self._skipped += by

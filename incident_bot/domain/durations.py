"""Durations (``90s``, ``10m``, ``2h``, ``1h30m``, ISO-8601 ``PT10M``) and times relative to the
incident clocks (``T0+2h``, ``E0-30m``, ``E0``, or an absolute ISO-8601 UTC timestamp)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

_SHORT = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")
_ISO = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_RELATIVE = re.compile(r"^(?P<clock>T0|E0)\s*(?:(?P<sign>[+-])\s*(?P<dur>\S+))?$")


class DurationSyntaxError(ValueError):
    """Text is not a duration or relative time; the message says what is accepted."""


MAX_DURATION = timedelta(days=3653)  # ten years: beyond that, clock arithmetic overflows


def parse_duration(text: str | int) -> timedelta:
    """Parse ``90s``, ``10m``, ``2h``, ``1h30m``, ``1d`` or ISO-8601 ``PT10M``; a bare int is
    seconds. Durations longer than ten years (either way) are refused."""
    if isinstance(text, bool):
        raise DurationSyntaxError(f"{_shown(text)} is not a duration")
    if isinstance(text, int):
        return _bounded(text, lambda: timedelta(seconds=text))
    raw = str(text).strip()
    match = _SHORT.match(raw) or _ISO.match(raw.upper())
    if match is None or raw.upper() in {"P", "PT"} or not any(match.groupdict().values()):
        raise DurationSyntaxError(
            f"{_shown(text)} is not a duration: write e.g. 90s, 10m, 2h, 1h30m or PT10M"
        )
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return _bounded(text, lambda: timedelta(
        days=parts.get("d", 0), hours=parts.get("h", 0),
        minutes=parts.get("m", 0), seconds=parts.get("s", 0),
    ))


def _bounded(text: str | int, build: Callable[[], timedelta]) -> timedelta:
    try:
        value = build()
    except (OverflowError, ValueError):  # more days than timedelta holds, or infinity
        value = MAX_DURATION * 2
    if abs(value) > MAX_DURATION:
        raise DurationSyntaxError(f"{_shown(text)} is too long: a duration is at most ten years")
    return value


def _shown(text: object) -> str:
    shown = repr(text)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def format_duration(value: timedelta) -> str:
    """Render a duration the way playbook authors write it (``1h30m``, ``45s``)."""
    total = int(value.total_seconds())
    sign, total = ("-", -total) if total < 0 else ("", total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n)
    return sign + (text or "0s")


def median_duration(values: Iterable[timedelta]) -> timedelta | None:
    """The median (the mean of the middle two for an even count); None when there are none."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


class IncidentClock(StrEnum):
    """The incident clocks: T0 is the strike, E0 the moment the embargo lifts."""

    T0 = "T0"
    E0 = "E0"


@dataclass(frozen=True)
class RelativeTime:
    """A point in time: ``clock + offset``, or an absolute UTC instant when ``clock`` is None."""

    clock: IncidentClock | None
    offset: timedelta = timedelta(0)
    absolute: datetime | None = None

    def resolve(self, t0: datetime, e0: datetime) -> datetime:
        """The UTC instant this denotes for an incident with these clocks."""
        if self.clock is None:
            assert self.absolute is not None
            return self.absolute
        return (t0 if self.clock is IncidentClock.T0 else e0) + self.offset

    def __str__(self) -> str:
        if self.clock is None:
            assert self.absolute is not None
            return self.absolute.isoformat()
        if not self.offset:
            return self.clock.value
        sign = "-" if self.offset < timedelta(0) else "+"
        return f"{self.clock.value}{sign}{format_duration(abs(self.offset))}"


def parse_relative_time(text: str) -> RelativeTime:
    """Parse ``T0``, ``T0+2h``, ``E0-30m`` or an absolute ISO-8601 time with an offset."""
    raw = str(text).strip()
    match = _RELATIVE.match(raw)
    if match:
        offset = parse_duration(match["dur"]) if match["dur"] else timedelta(0)
        signed = -offset if match["sign"] == "-" else offset
        return RelativeTime(IncidentClock(match["clock"]), signed)
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        raise DurationSyntaxError(
            f"{_shown(text)} is not a time: write T0, T0+2h, E0-30m, or 2026-05-01T06:00:00+00:00"
        ) from None
    if instant.tzinfo is None:
        raise DurationSyntaxError(f"{_shown(text)} has no UTC offset: add +00:00 or Z")
    return RelativeTime(None, timedelta(0), instant)

"""The exercise transcript: notable events in simulated time, one line each, phones masked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Line:
    at: datetime
    text: str
    escalation: bool = False


@dataclass
class Transcript:
    """Notable events in simulated time; ``sink`` sees each line as it is written."""

    t0: datetime
    lines: list[Line] = field(default_factory=list)
    sink: Callable[[str], None] | None = None

    def note(self, at: datetime, text: str, escalation: bool = False) -> None:
        line = Line(at, text, escalation)
        self.lines.append(line)
        if self.sink is not None:
            self.sink(self.format(line))

    def format(self, line: Line) -> str:
        return f"{stamp(line.at, self.t0)}  {line.text}"

    def text(self) -> str:
        return "\n".join(self.format(line) for line in self.lines)


def stamp(at: datetime, t0: datetime) -> str:
    """``06:15 T0+0:45``: local wall time and the offset from the strike."""
    offset = int((at - t0).total_seconds() / 60)  # toward zero
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return f"{at.astimezone(UK):%H:%M:%S} T0{sign}{hours}:{minutes:02d}"



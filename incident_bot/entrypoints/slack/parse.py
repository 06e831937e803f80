"""Pure parsing of ``/incident`` text and button values: no Slack, no database."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from incident_bot.errors import IncidentBotError

SUBCOMMANDS = ("help", "start", "status", "brief", "ringround", "message", "task", "log",
               "override", "compromised", "standdown", "close")
INCIDENT_ID = re.compile(r"^inc-[0-9a-z-]+$")
RELATIVE = re.compile(r"^\+(\d+)([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class UsageError(IncidentBotError):
    """The command text could not be understood; the message says how to write it."""


@dataclass(frozen=True)
class Parsed:
    name: str
    words: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)  # key=value words
    incident_id: str | None = None  # an explicit incident=inc-… (or a bare inc-… word)

    def rest(self, start: int = 0) -> str:
        return " ".join(self.words[start:])


def parse_command(text: str) -> Parsed:
    """``start ct-arrests area=Northbridge`` → Parsed("start", ("ct-arrests",), {"area": …})."""
    try:
        tokens = shlex.split(text.strip())
    except ValueError:
        tokens = text.split()
    if not tokens:
        return Parsed("help")
    name = tokens[0].lower()
    if name not in SUBCOMMANDS:
        raise UsageError(f"unknown subcommand {name!r}: try `/incident help`")
    words: list[str] = []
    options: dict[str, str] = {}
    incident_id = None
    for token in tokens[1:]:
        key, sep, val = token.partition("=")
        if sep and re.fullmatch(r"[a-z0-9_]+", key.lower()):
            options[key.lower()] = val
        elif INCIDENT_ID.match(token) and incident_id is None and name != "start":
            incident_id = token
        else:
            words.append(token)
    incident_id = options.pop("incident", incident_id)
    return Parsed(name, tuple(words), options, incident_id)


def parse_time(raw: str, now: datetime) -> datetime:
    """``now``, ``+30m``/``+2h``/``+1d``, ``HH:MM`` (today, UTC) or ``YYYY-MM-DD HH:MM``."""
    text = raw.strip().lower()
    if text in ("", "now"):
        return now
    if match := RELATIVE.match(text):
        return now + timedelta(**{UNITS[match[2]]: int(match[1])})
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%H:%M"):
        try:
            parsed = datetime.strptime(text, pattern)  # noqa: DTZ007 - UTC is set below
        except ValueError:
            continue
        if pattern == "%H:%M":
            parsed = datetime.combine(now.date(), parsed.time())
        return parsed.replace(tzinfo=UTC)
    raise UsageError(f"can't read the time {raw!r}: use now, +30m, HH:MM or YYYY-MM-DD HH:MM")


def split_value(raw: str, parts: int) -> tuple[str, ...]:
    """A button value ``incident|a|b`` split into exactly ``parts`` pieces."""
    pieces = tuple(raw.split("|"))
    if len(pieces) != parts or not all(pieces):
        raise UsageError("this button is out of date")
    return pieces


HELP = """*`/incident` commands*
• `start [playbook] [area=…] [t0=HH:MM] [e0=+2h] [summary="…"]` — start (a form opens if \
anything is missing)
• `status` · `brief` · `brief done <step>` · `ringround`
• `message draft <id> <text>` · `message approve <id> <version>` · `message release <id>`
• `task add "<title>" owner=<role> due=+30m` · `task list` · `task mine`
• `log <decision> [because <rationale>]`
• `override <step> <reason>` · `compromised <reason>` · `standdown [reason]` · `close`
In an incident channel a command acts on that incident; elsewhere add `incident=inc-…` when \
more than one incident is open."""

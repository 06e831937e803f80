"""Template variables for an incident's key messages: built-ins from the incident parameters,
the playbook's defaults, and what the commander supplied at start (which wins)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from incident_bot.domain.personalise import marker_values
from incident_bot.domain.playbook import Playbook
from incident_bot.errors import RefusedError

# Shown in drafts until the commander or an approver fills them: visible, never silently wrong.
TO_CONFIRM = {
    "arrest_count": "[number arrested: to be confirmed]",
    "contact_point": "[contact point: to be confirmed]",
    "next_update": "[time of next update: to be confirmed]",
}


def settable(playbook: Playbook) -> list[str]:
    """The variables a commander may set at start: the playbook's and the incident facts."""
    return sorted({*playbook.variables, *TO_CONFIRM})


def refuse_unknown(playbook: Playbook, supplied: Mapping[str, str]) -> None:
    """Refuse a supplied variable the playbook does not have, or one without a value."""
    known = settable(playbook)
    unknown = sorted(set(supplied) - set(known))
    if unknown:
        raise RefusedError(f"playbook {playbook.id} has no variable {', '.join(unknown)}: its "
                           f"variables are {', '.join(known)}")
    empty = sorted(name for name, value in supplied.items() if not value.strip())
    if empty:
        raise RefusedError(f"variable {', '.join(empty)} has no value: give one "
                           "(name=\"…\") or leave it out for the playbook's")


def local_time(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def local_date(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%A %-d %B %Y")


def incident_variables(
    playbook: Playbook, *, area: str, t0: datetime, e0: datetime | None, summary: str,
    classification: str, supplied: Mapping[str, str], zone: ZoneInfo,
) -> dict[str, str]:
    """Everything a template may use, per-recipient values as markers for the domain to fill;
    times in the incident's time zone."""
    builtins = {
        "area": area,
        "incident_title": playbook.title,
        "t0_time": local_time(t0, zone),
        "t0_date": local_date(t0, zone),
        "e0_time": local_time(e0, zone) if e0 else "[embargo time: to be confirmed]",
        "summary": summary,
        "classification": classification,
        **TO_CONFIRM,
    }
    return {**builtins, **playbook.variables, **supplied, **marker_values()}

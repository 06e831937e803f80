"""Template variables for an incident's key messages: built-ins from the incident parameters,
the playbook's defaults, and what the commander supplied (which wins)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from incident_bot.domain.personalise import marker_values
from incident_bot.domain.playbook import Playbook

UK = ZoneInfo("Europe/London")

# Shown in drafts until the commander or an approver fills them: visible, never silently wrong.
TO_CONFIRM = {
    "arrest_count": "[number arrested: to be confirmed]",
    "contact_point": "[contact point: to be confirmed]",
    "next_update": "[time of next update: to be confirmed]",
}


def local_time(instant: datetime) -> str:
    return instant.astimezone(UK).strftime("%H:%M")


def local_date(instant: datetime) -> str:
    return instant.astimezone(UK).strftime("%A %-d %B %Y")


def incident_variables(
    playbook: Playbook, *, area: str, t0: datetime, e0: datetime | None, summary: str,
    classification: str, supplied: Mapping[str, str],
) -> dict[str, str]:
    """Everything a template may use, per-recipient values as markers for the domain to fill."""
    builtins = {
        "area": area,
        "incident_title": playbook.title,
        "t0_time": local_time(t0),
        "t0_date": local_date(t0),
        "e0_time": local_time(e0) if e0 else "[embargo time: to be confirmed]",
        "summary": summary,
        "classification": classification,
        **TO_CONFIRM,
    }
    return {**builtins, **playbook.variables, **supplied, **marker_values()}

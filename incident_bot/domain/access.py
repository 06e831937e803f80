"""Who may read an incident (domain.md §2, §4): the rule every read goes through. Standard
library only.

Reads are guarded like writes, from the playbook. While an incident is *confidential* — before
T0, and for good if it is stood down before T0 (an operation called off pre-strike stays a
secret) — only need-to-know role holders and the people admitted early see that it exists.
Once T0 has come, everyone holding a role in it sees it. Nobody else ever does: not a person
in the directory without a role in it, not a Slack user outside the directory.

Every read shows the same incident picture to everyone who may read it; what differs by role
is what a read picks out (the Home tab and ``task mine`` show one's own tasks and call lists).
"""

from __future__ import annotations

from enum import StrEnum

from incident_bot.domain.incident.model import Incident


class Read(StrEnum):
    """The reads people make (audited as ``read.<value>`` when refused)."""

    STATUS = "status"
    BRIEF = "brief"
    TASKS = "tasks"
    RINGROUND = "ringround"
    HOME = "home"
    COMMAND = "command"  # finding the incident a change is about, before it is authorised


def confidential(incident: Incident) -> bool:
    """Before T0, or stood down without ever having reached it."""
    return incident.confidential


def may_read(incident: Incident, person: str) -> bool:
    """Whether ``person`` may see that ``incident`` exists, and read it."""
    return incident.roles.is_visible(incident.playbook, person, confidential(incident))


def readers(incident: Incident) -> list[str]:
    """Everyone who may read ``incident`` now."""
    return incident.roles.visible_members(incident.playbook, confidential(incident))

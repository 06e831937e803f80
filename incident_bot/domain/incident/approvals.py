"""Asking approvers, and a red flag when a ring-round waits on approval. Standard library only.

Every version that needs approval is sent to its approvers, however it came to exist (version 1
rendered from the templates at start, a draft, a translation of an approved version): after
every start, command and timer, :func:`follow_up` sends the latest version of each key message,
while it is a draft, to every approver who holds a role that has not approved it and who may see
the incident now (need-to-know only before T0). Each gets one ``message.approval_needed``
notice, which Slack shows as a DM with the text and an Approve button. A version records whom it
was sent to: nobody is asked twice for it, and someone let in later (at T0, or given an approver
role) is asked then. Commands that make a version say how it came to be through :func:`ask`.

A tier's ring-round starts only once its script and SMS message are approved
(:func:`model.held_tiers`). When a tier's briefing step has opened and its round is
held, the coordinator and the incident channel get a red flag, once per message version, naming
who has not approved it: well before any rung is reached, since nobody in the tier is called.
"""

from __future__ import annotations

from incident_bot.domain import messages
from incident_bot.domain.effects import VARIANT, Effect, Fact, Facts
from incident_bot.domain.incident.model import (
    INCIDENT_CHANNEL,
    Incident,
    Status,
    held_tiers,
    tell,
)
from incident_bot.domain.messages import Version, VersionStatus
from incident_bot.domain.playbook import KeyMessage

APPROVAL_NEEDED = "message.approval_needed"
ROUND_HELD = "ringround.held"


def follow_up(incident: Incident) -> list[Effect]:
    """Ask for every waiting draft and flag every held ring-round not told about yet."""
    if incident.status is Status.CLOSED:
        return []
    return [*ask_waiting(incident), *flag_held_rounds(incident)]


# ---- asking -------------------------------------------------------------------------------


def ask(incident: Incident, message: KeyMessage, version: Version,
        facts: Facts) -> list[Effect]:
    """Send a request (worded from ``facts``) about a draft ``version`` to each approver who has
    not been sent it and may approve it now (visible in the incident, holding a role still to
    approve it)."""
    if version.status is not VersionStatus.DRAFT:
        return []
    pb, confidential = incident.playbook, incident.confidential
    people = [key for key in incident.roles.holders_of_any(messages.awaiting_roles(message,
                                                                                   version))
              if key not in version.asked and incident.roles.is_visible(pb, key, confidential)]
    version.asked += people
    return tell(incident, people, APPROVAL_NEEDED, facts,
                {"message": message.id, "version": version.number})


def ask_waiting(incident: Incident) -> list[Effect]:
    effects: list[Effect] = []
    for message in incident.playbook.messages:
        latest = incident.messages.get(message.id).latest
        if latest is not None:
            effects += ask(incident, message, latest, request(incident, message, latest))
    return effects


def request(incident: Incident, message: KeyMessage, version: Version) -> Facts:
    """The facts of a plain request to approve ``version`` (its wording is the service's)."""
    facts: dict[str, Fact] = {VARIANT: "request", "message": message.id,
                              "version": version.number, "title": message.title,
                              "languages": tuple(version.texts),
                              "awaiting": tuple(messages.awaiting_roles(message, version))}
    if version.drafted_by != messages.DRAFTED_FROM_TEMPLATES:
        facts["by"] = incident.name(version.drafted_by)
    return facts


# ---- flagging a held ring-round -----------------------------------------------------------


def flag_held_rounds(incident: Incident) -> list[Effect]:
    if incident.status is not Status.ACTIVE:
        return []
    waiting: dict[str, list[int]] = {}  # message id → held tiers that need it
    for number in held_tiers(incident):
        tier = incident.playbook.tier(number)
        for message_id in dict.fromkeys(m for m in (tier.script, tier.sms_message) if m):
            if messages.text_for(incident.messages, message_id, "en") is None:
                waiting.setdefault(message_id, []).append(number)
    effects: list[Effect] = []
    for message_id, tiers in waiting.items():
        effects += _flag(incident, incident.key_message(message_id), tiers)
    return effects


def _flag(incident: Incident, message: KeyMessage, tiers: list[int]) -> list[Effect]:
    latest = incident.messages.get(message.id).latest
    if latest is None or latest.round_flagged:
        return []
    latest.round_flagged = True
    numbers = ", ".join(str(n) for n in tiers)
    facts: dict[str, Fact] = {"tiers": tuple(str(n) for n in tiers), "message": message.id,
                              "title": message.title, "version": latest.number,
                              **_what_next(incident, message, latest)}
    recipients = [*incident.roles.holders_of(incident.playbook.coordinator), INCIDENT_CHANNEL]
    return tell(incident, recipients, ROUND_HELD, facts,
                {"message": message.id, "version": latest.number, "tiers": numbers})


def _what_next(incident: Incident, message: KeyMessage, version: Version) -> dict[str, Fact]:
    """A draft waits on its approver roles (and their holders' names, comma-separated, each);
    any other version must be drafted again."""
    if version.status is not VersionStatus.DRAFT:
        return {VARIANT: "redraft", "status": version.status.value}
    roles = messages.awaiting_roles(message, version)
    return {VARIANT: "awaiting", "awaiting": tuple(roles),
            "holders": tuple(", ".join(incident.name(k) for k in incident.roles.holders_of(role))
                             for role in roles)}

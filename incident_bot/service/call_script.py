"""What a ring-round voice call reads: the key message in the contact's language when the call
can speak it, else the English version of the message, personalised like the original."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from incident_bot.domain.incident.model import Incident, round_context
from incident_bot.domain.ladder import approved_text
from incident_bot.domain.personalise import personalise
from incident_bot.errors import NotFoundError


@dataclass(frozen=True)
class CallScript:
    text: str
    language: str  # our language code, e.g. "cy"


def english_version(incident: Incident, recipient: str, now: datetime) -> str | None:
    """The English version of the ``recipient`` contact's message, personalised like the
    original; None when they are not in the ring-round or no English text is approved."""
    ctx = round_context(incident, now)
    try:
        round_, contact = incident.ringround.find(recipient)
    except NotFoundError:
        return None
    person = ctx.people.get(contact.key)
    if person is None:
        return None
    found = approved_text(ctx, ctx.tier(contact.tier), replace(person, language="en"))
    if found is None:
        return None
    coordinators = ctx.coordinators()
    return personalise(found[1], confirm_code=round_.code, contact_name=person.name,
                       caller_name=ctx.name(coordinators[0]) if coordinators else "").strip()

"""People and contacts the partnership can reach. Standard library only.

A person may hold roles (and so receive tasks in Slack) and/or sit in a contact tier (and so be
phoned, texted or called in the ring-round). Phone numbers are stored in E.164 and never shown
unmasked in chat or logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from incident_bot.domain.playbook import Channel

# An international number as stored: +, a country code not starting with 0, at most 15 digits
# in all and at least 7 (Niue's numbers, +683 and four digits, are the shortest in use).
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# A person's channels that need their phone number: a caller, an SMS, an automatic call.
NUMBER_CHANNELS = frozenset({Channel.PHONE, Channel.SMS, Channel.VOICE})


@dataclass(frozen=True)
class Person:
    key: str  # stable identity used for upserts: the `id` column, else slug(name, organisation)
    name: str
    organisation: str = ""
    roles: tuple[str, ...] = ()
    tier: int | None = None
    slack_user_id: str | None = None
    phone: str | None = None  # E.164, e.g. +447700900123
    language: str = "en"
    channels: tuple[Channel, ...] = ()
    deputy: str | None = None  # key of this person's deputy
    verified_on: date | None = None

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


def person_key(name: str, organisation: str) -> str:
    """The default stable key: lower-case slug of name and organisation."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{name} {organisation}".lower()).strip("-")
    return slug or "unnamed"


def mask_phone(e164: str | None) -> str:
    """``+447700900123`` → ``+44 7700 ••••23``: enough to tell numbers apart, not to dial."""
    if not e164:
        return "(no number)"
    digits = e164.lstrip("+")
    if len(digits) < 6:
        return "••••"
    country = "44" if digits.startswith("44") else digits[: len(digits) - 10 or 1]
    rest = digits[len(country):]
    return f"+{country} {rest[:4]} {'•' * max(len(rest) - 6, 2)}{rest[-2:]}"

"""The bot carries OFFICIAL and OFFICIAL-SENSITIVE material only. Standard library only.

Text marked SECRET or TOP SECRET (the Government Security Classifications above OFFICIAL) must
never be typed into an incident: Slack, SMS and this database are not accredited for it. The
check looks for the marking as people write it, in capitals (``SECRET``, ``TOP SECRET``,
``UK SECRET``, ``SECRET//UK EYES ONLY``), or ``top secret`` in any case. The ordinary word
("keep the address secret") and words that contain it (``SECRETARY``) are not markings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from incident_bot.errors import RefusedError

_MARKING = re.compile(r"(?<![A-Za-z0-9_-])SECRET(?![A-Za-z0-9_])|\btop\s+secret\b",
                      re.IGNORECASE)
_CAPITALS = re.compile(r"(?<![A-Za-z0-9_-])SECRET(?![A-Za-z0-9_])")

# Free-text fields of commands: what a person types. Ids, keys and roles are checked elsewhere.
TEXT_FIELDS = frozenset({"summary", "area", "title", "decision", "rationale",
                         "options_rejected", "reason", "text", "texts", "feedback"})
# Commands whose text comes from outside the partnership (a member of the public's SMS reply):
# refusing it would lose the reply, and nobody here marked it.
EXTERNAL_COMMANDS = frozenset({"SmsReceived", "VoiceDigit", "DeliveryReport"})


class ClassificationRefused(RefusedError):
    """Text carries a marking above OFFICIAL-SENSITIVE."""

    def __init__(self, field: str, marking: str) -> None:
        self.field, self.marking = field, marking
        super().__init__(
            f"can't accept the {field}: it is marked {marking}. incident-bot carries OFFICIAL "
            "and OFFICIAL-SENSITIVE material only; share SECRET material through your "
            "accredited channel and record here only what is OFFICIAL-SENSITIVE")


def marking_in(text: str) -> str | None:
    """``SECRET`` or ``TOP SECRET`` when ``text`` carries that marking, else None."""
    for match in _MARKING.finditer(text):
        found = match.group()
        if " " in found or "\t" in found or "\n" in found:
            return "TOP SECRET"
        if _CAPITALS.fullmatch(found):
            before = text[:match.start()].rstrip()
            return "TOP SECRET" if before.upper().endswith("TOP") else "SECRET"
    return None


def refuse_above_official(texts: Mapping[str, str]) -> None:
    """Raise ClassificationRefused for the first field (name → text) that carries a marking."""
    for field, text in texts.items():
        marking = marking_in(text)
        if marking is not None:
            raise ClassificationRefused(field, marking)


def command_texts(command: Any) -> dict[str, str]:
    """The free-text fields of a command dataclass (a ``texts`` mapping per language)."""
    if not is_dataclass(command) or type(command).__name__ in EXTERNAL_COMMANDS:
        return {}
    found: dict[str, str] = {}
    for spec in fields(command):
        value = getattr(command, spec.name)
        if spec.name not in TEXT_FIELDS:
            continue
        if isinstance(value, str):
            found[spec.name.replace("_", " ")] = value
        elif isinstance(value, Mapping):
            found.update(_per_language(spec.name, value.items()))
    return found


def _per_language(name: str, items: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    return {f"{name} ({key})": value for key, value in items if isinstance(value, str)}

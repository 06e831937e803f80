"""JSON-safe encoding for the incident snapshot: the playbook, people and datetime helpers.

An incident carries a copy of its playbook so that editing the YAML during an incident never
changes a running response. The playbook model is a tree of frozen dataclasses; rather than a
hand-written encoder per class (which would silently drop a field someone adds later), the
encoder walks the values and the decoder follows the dataclasses' type hints, so a new field
with a default round-trips without touching this module.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from incident_bot.domain.directory import Person
from incident_bot.domain.durations import RelativeTime, parse_relative_time
from incident_bot.domain.playbook import Playbook

JSON = Any  # a JSON-safe value: dict, list, str, int, float, bool or None


# ---- datetimes ----------------------------------------------------------------------------


def utc(instant: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is a programming error (time zones matter)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: give an aware UTC datetime")
    return instant.astimezone(UTC)


def iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def hhmm(instant: datetime | None, zone: str) -> str:
    """A short time for notices, in the incident's time zone and naming it (``07:30 BST``)."""
    if instant is None:
        return "(not yet known)"
    return instant.astimezone(ZoneInfo(zone)).strftime("%H:%M %Z")


# ---- relative times -----------------------------------------------------------------------


def relative_to_text(value: RelativeTime) -> str:
    """``T0+2h`` as a playbook author writes it; sub-second offsets use the exact ISO form."""
    if value.clock is None or not value.offset.microseconds:
        return str(value)
    sign = "-" if value.offset < timedelta(0) else "+"
    seconds = abs(value.offset).total_seconds()
    return f"{value.clock.value}{sign}PT{seconds!r}S"


# ---- generic dataclass encoding -----------------------------------------------------------


def encode(value: object) -> JSON:  # noqa: PLR0911  (one branch per kind of value)
    """Any playbook or directory value as JSON-safe data."""
    if isinstance(value, RelativeTime):
        return relative_to_text(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def decode(kind: Any, data: JSON) -> Any:  # noqa: PLR0911  (one branch per kind of type)
    """Rebuild a value of type ``kind`` from :func:`encode`'s output."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return decode(options[0], data)
    if origin is tuple:
        item = typing.get_args(kind)[0]
        return tuple(decode(item, x) for x in data)
    if origin is dict:
        key_kind, value_kind = typing.get_args(kind)
        return {decode(key_kind, k): decode(value_kind, v) for k, v in data.items()}
    if kind is RelativeTime:
        return parse_relative_time(data)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _decode_dataclass(kind, data)
    return _decode_scalar(kind, data)


def _decode_scalar(kind: Any, data: JSON) -> Any:
    if kind is timedelta:
        return timedelta(seconds=data)
    if kind is datetime:
        return datetime.fromisoformat(data)
    if kind is date:
        return date.fromisoformat(data)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    return data


def _decode_dataclass(cls: type[Any], data: Mapping[str, JSON]) -> Any:
    hints = _hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{name: decode(hints[name], value) for name, value in data.items()
                  if name in known})


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


# ---- what the incident stores -------------------------------------------------------------


def flat_fields(record: Any) -> dict[str, Any]:
    """A flat dataclass's fields (scalars and lists of scalars, lists copied): what ``asdict``
    gives for such records, at a fraction of its cost (it deep-copies every value)."""
    return {f.name: (list(value) if isinstance(value, list) else value)
            for f in dataclasses.fields(record)
            for value in (getattr(record, f.name),)}


def playbook_to_dict(playbook: Playbook) -> dict[str, JSON]:
    encoded: dict[str, JSON] = encode(playbook)
    return encoded


def playbook_from_dict(data: Mapping[str, JSON]) -> Playbook:
    # Every load of an incident carries its playbook snapshot; decoding it is most of the cost
    # of a load, and playbooks are immutable, so equal snapshots share one decoded Playbook.
    return _decode_playbook(json.dumps(data, sort_keys=True))


@functools.lru_cache(maxsize=32)
def _decode_playbook(canonical: str) -> Playbook:
    playbook: Playbook = decode(Playbook, json.loads(canonical))
    return playbook


def person_to_dict(person: Person) -> dict[str, JSON]:
    encoded: dict[str, JSON] = encode(person)
    return encoded


def person_from_dict(data: Mapping[str, JSON]) -> Person:
    person: Person = decode(Person, data)
    return person


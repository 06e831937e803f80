"""Readers for single playbook values: each checks the type, records a located problem when
the value is wrong, and returns a fallback so reading can carry on and find further problems.
(An item with any problem is dropped by its builder, so fallbacks never reach a Playbook.)"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import TypeVar

from incident_bot.adapters.playbook.cursor import At, did_you_mean
from incident_bot.domain.durations import (
    DurationSyntaxError,
    IncidentClock,
    RelativeTime,
    parse_duration,
    parse_relative_time,
)

E = TypeVar("E", bound=StrEnum)

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
VARIABLE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")
_TYPE_NAMES = {bool: "true/false", int: "a number", float: "a number", str: "text",
               list: "a list", dict: "a mapping"}


def describe(value: object) -> str:
    """How a wrong value is named in a message: text is quoted, anything else by its kind."""
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def text(at: At, default: str = "") -> str:
    """Text: required unless a default is given (a missing required key is reported by the
    mapping check; an explicit empty value is reported here)."""
    if not at.given:
        if at.value is None:
            at.error("is empty: give some text")
        return default
    if not isinstance(at.value, str):
        at.error(f"must be text, not {describe(at.value)}")
        return default
    if not at.value.strip():
        at.error("is empty: give some text")
    return at.value.strip()


def optional_text(at: At) -> str | None:
    return text(at) if at.given else None


def identifier(at: At, *, code: bool = False) -> str:
    """An id (lower-case letters, digits, hyphens) or, with ``code``, a role code
    (lower_snake_case)."""
    value = text(at)
    pattern, rule, example = (
        (CODE_PATTERN, "lower-case letters, digits and underscores", "police_silver") if code
        else (ID_PATTERN, "lower-case letters, digits and hyphens", "brief-leader")
    )
    if value and not pattern.match(value):
        at.error(f"'{value}' is not a valid {'role code' if code else 'id'}: "
                 f"use {rule} (e.g. {example})")
    return value


def text_list(at: At, example: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    if not at.given:
        return ()
    if not at.is_list(example):
        return ()
    values: list[str] = []
    for index, item in enumerate(at.value):
        if isinstance(item, str) and item.strip():
            values.append(item.strip())
        else:
            at.element(index).error(f"every entry must be text, not {describe(item)}")
    if not values and not allow_empty:
        at.error(f"must list at least one entry, e.g. {example}")
    seen: set[str] = set()
    for index, item in enumerate(values):
        if item in seen:
            at.element(index).error(f"'{item}' is listed twice")
        seen.add(item)
    return tuple(values)


def integer(at: At, default: int, low: int, high: int | None = None, what: str = "") -> int:
    if not at.given:
        return default
    value = at.value
    if isinstance(value, bool) or not isinstance(value, int):
        at.error(f"must be a whole number, not {describe(value)}")
        return default
    if value < low or (high is not None and value > high):
        limits = f"at least {low}" if high is None else f"{low} to {high}"
        at.error(what or f"must be {limits}")
    return value


def boolean(at: At, default: bool = False) -> bool:
    if not at.given:
        return default
    if not isinstance(at.value, bool):
        at.error(f"must be true or false, not {at.value!r}")
        return default
    return at.value


def choice(at: At, enum: type[E], default: E) -> E:
    if not at.given:
        return default
    allowed = [member.value for member in enum]
    if not isinstance(at.value, str) or at.value not in allowed:
        hint = did_you_mean(str(at.value), allowed)
        at.error(f"{describe(at.value)} is not one of {', '.join(allowed)}{hint}")
        return default
    return enum(at.value)


def duration(at: At, default: timedelta) -> timedelta:
    return optional_duration(at) or default


def optional_duration(at: At) -> timedelta | None:
    """A positive duration such as ``90s``, ``10m``, ``2h``, ``1h30m`` or ``PT10M``."""
    value = optional_gap(at)
    if value is not None and value <= timedelta(0):
        at.error("must be longer than zero")
        return None
    return value


def optional_gap(at: At) -> timedelta | None:
    """A duration that may be zero (``0m``): how long after something else."""
    if not at.given:
        return None
    if isinstance(at.value, bool) or not isinstance(at.value, str | int):
        at.error(f"must be a duration such as 10m or 2h, not {describe(at.value)}")
        return None
    try:
        return parse_duration(at.value)
    except DurationSyntaxError as exc:
        at.error(str(exc))
        return None


def nullable_duration(at: At, default: timedelta) -> timedelta | None:
    """Like ``duration`` but an explicit ``null`` turns the feature off."""
    if at.value is None:
        return None
    return duration(at, default)


def moment(at: At) -> RelativeTime | None:
    """A time relative to the incident clocks: ``T0``, ``T0+2h``, ``E0-30m`` or ISO-8601."""
    if not at.given:
        return None
    if not isinstance(at.value, str):
        at.error(f"must be a time such as T0+2h or E0+30m, not {describe(at.value)}")
        return None
    try:
        return parse_relative_time(at.value)
    except DurationSyntaxError as exc:
        at.error(str(exc))
        return None


def required_moment(at: At) -> RelativeTime:
    value = moment(at)
    if value is None and at.value is None:
        at.error("is empty: give a time such as T0+2h or E0+30m")
    return value or RelativeTime(IncidentClock.T0)


def fraction(at: At) -> float | None:
    """A share: ``80%`` or ``0.8``."""
    if not at.given:
        return None
    value = at.value
    if isinstance(value, str) and (match := _PERCENT.match(value.strip())):
        share = float(match[1]) / 100
    elif isinstance(value, int | float) and not isinstance(value, bool):
        share = float(value)
    else:
        at.error(f"must be a percentage such as 80% or a fraction such as 0.8, not {value!r}")
        return None
    if not 0 <= share <= 1:
        at.error(f"{value!r} is not between 0% and 100% (write 80% or 0.8)")
        return None
    return share

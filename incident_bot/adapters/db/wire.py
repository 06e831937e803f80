"""Notify ↔ JSON for the outbox row (the whole effect is kept so the dispatcher can rebuild it)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from incident_bot.domain.effects import Notify, OutboxChannel


def notify_to_json(notify: Notify) -> dict[str, Any]:
    data = asdict(notify)
    if not notify.facts:  # a worded notice is stored as its text, as before facts existed
        del data["facts"]
    data["channel"] = notify.channel.value
    data["valid_for"] = notify.valid_for.total_seconds() if notify.valid_for else None
    return data


def notify_from_json(data: dict[str, Any]) -> Notify:
    values = dict(data)
    values["channel"] = OutboxChannel(values["channel"])
    seconds = values.get("valid_for")
    values["valid_for"] = timedelta(seconds=seconds) if seconds is not None else None
    return Notify(**values)

"""Exporting one incident: everything the database holds for it, as JSON-ready values.

Phone numbers are masked unless personal data is asked for; then the export is audited (who,
when, how many numbers) in the same unit of work, and the audit line holds no number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from incident_bot.domain.directory import Person, mask_phone
from incident_bot.service.ports import DecisionEntry, OutboxItem, UnitOfWork

EXPORT_ACTION = "incidents export"


def export_and_audit(uow_factory: Callable[[], UnitOfWork], incident_id: str,
                     include_personal_data: bool, now: datetime, actor: str) -> dict[str, Any]:
    """``export_incident`` in a unit of work of its own; with personal data, audited and
    committed. Raises NotFoundError for an unknown id."""
    with uow_factory() as uow:
        data = export_incident(uow, incident_id, include_personal_data)
        if include_personal_data:
            numbers = sum(1 for p in data["people"] if p["phone"])
            uow.audit.record(at=now, actor=actor, action=EXPORT_ACTION,
                             outcome="personal data included",
                             detail=f"{incident_id}: {numbers} phone numbers of "
                                    f"{len(data['people'])} people exported in full")
            uow.commit()
    return data


def export_incident(uow: UnitOfWork, incident_id: str,
                    include_personal_data: bool) -> dict[str, Any]:
    record = uow.incidents.get(incident_id)  # NotFoundError names a wrong id
    incident = record.incident
    people = [p for key in incident.people if (p := uow.directory.get(key)) is not None]
    return {
        "incident": {"id": record.id, "playbook_id": record.playbook_id,
                     "status": record.status, "version": record.version,
                     "created_at": record.created_at, "updated_at": record.updated_at},
        "personal_data_included": include_personal_data,
        "document": record.stored,
        "people": [_person(p, include_personal_data) for p in people],
        "decision_log": [_decision(e) for e in uow.decisions.entries(incident_id)],
        "outbox": [_outbox(uow, item) for item in uow.outbox.items(incident_id)],
        "timers": uow.timers.of_incident(incident_id),
        "audit": [dict(entry) for entry in uow.audit.entries()
                  if incident_id in entry["detail"]],
    }


def _person(person: Person, include_personal_data: bool) -> dict[str, Any]:
    values = dataclasses.asdict(person)
    values["channels"] = [c.value for c in person.channels]
    if person.phone and not include_personal_data:
        values["phone"] = mask_phone(person.phone)
    return values


def _decision(entry: DecisionEntry) -> dict[str, Any]:
    return dataclasses.asdict(entry)


def _outbox(uow: UnitOfWork, item: OutboxItem) -> dict[str, Any]:
    notify = item.notify
    return {
        "id": item.id, "key": item.key, "channel": notify.channel.value,
        "recipient": notify.recipient, "purpose": notify.purpose,
        "message_version": notify.message_version, "language": notify.language,
        "priority": notify.priority, "body": notify.body, "data": dict(notify.data),
        "status": item.status, "attempts": item.attempts, "provider_id": item.provider_id,
        "created_at": item.created_at, "next_attempt_at": item.next_attempt_at,
        "deliveries": [{"status": status, "error_code": code, "at": at}
                       for status, code, at in uow.outbox.history(item.id)],
    }

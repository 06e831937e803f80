"""SQLAlchemy implementations of the directory, incident, decision-log and audit ports.

Timers and the outbox (the two claimable queues) are in ``queues.py``. Every repository works
inside the session of the unit of work that made it: nothing here commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from incident_bot.adapters.db.tables import AuditRow, DecisionRow, IncidentRow, PersonRow
from incident_bot.domain.decision_log import GENESIS_HASH, entry_hash, hashed_fields
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import RecordDecision
from incident_bot.domain.incident.model import Incident
from incident_bot.domain.playbook import Channel
from incident_bot.errors import NotFoundError
from incident_bot.service.ports import AuditEntry, DecisionEntry, IncidentRecord, UpsertReport

MAX_DETAIL = 4000

# ---- directory ----------------------------------------------------------------------------------


def _person_values(person: Person) -> dict[str, Any]:
    return {
        "name": person.name, "organisation": person.organisation, "roles": list(person.roles),
        "tier": person.tier, "slack_user_id": person.slack_user_id, "phone": person.phone,
        "language": person.language, "channels": [c.value for c in person.channels],
        "deputy": person.deputy, "verified_on": person.verified_on,
    }


def _person(row: PersonRow) -> Person:
    return Person(
        key=row.key, name=row.name, organisation=row.organisation, roles=tuple(row.roles),
        tier=row.tier, slack_user_id=row.slack_user_id, phone=row.phone, language=row.language,
        channels=tuple(Channel(c) for c in row.channels), deputy=row.deputy,
        verified_on=row.verified_on,
    )


class SqlDirectory:
    def __init__(self, session: Session, now: datetime) -> None:
        self._session, self._now = session, now

    def upsert(self, people: Iterable[Person]) -> UpsertReport:
        """Insert new people, update changed ones (by key); counts each outcome."""
        added = updated = unchanged = 0
        for person in people:
            row = self._session.get(PersonRow, person.key)
            if row is None:
                self._session.add(PersonRow(key=person.key, updated_at=self._now,
                                            **_person_values(person)))
                added += 1
            elif _person(row) == person:
                unchanged += 1
            else:
                self._overwrite(row, person)
                updated += 1
        self._session.flush()
        return UpsertReport(added, updated, unchanged)

    def _overwrite(self, row: PersonRow, person: Person) -> None:
        for name, value in _person_values(person).items():
            setattr(row, name, value)
        row.updated_at = self._now

    def get(self, key: str) -> Person | None:
        row = self._session.get(PersonRow, key)
        return _person(row) if row else None

    def all(self) -> list[Person]:
        rows = self._session.scalars(select(PersonRow).order_by(PersonRow.key))
        return [_person(r) for r in rows]

    def by_slack_user(self, slack_user_id: str) -> Person | None:
        row = self._session.scalars(select(PersonRow).where(
            PersonRow.slack_user_id == slack_user_id).order_by(PersonRow.key)).first()
        return _person(row) if row else None

    def by_phone(self, e164: str) -> list[Person]:
        rows = self._session.scalars(
            select(PersonRow).where(PersonRow.phone == e164).order_by(PersonRow.key))
        return [_person(r) for r in rows]

    def erase(self, key: str) -> bool:
        """Delete the person's row (erasure on request); False when there was none."""
        row = self._session.get(PersonRow, key)
        if row is None:
            return False
        self._session.delete(row)
        self._session.flush()
        return True


# ---- incidents ----------------------------------------------------------------------------------


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON document (a JSON round trip: several times faster than deepcopy)."""
    copied: dict[str, Any] = json.loads(json.dumps(document))
    return copied


def _record(row: IncidentRow) -> IncidentRecord:
    # A copy: a caller editing the document in place must not edit the session's state.
    return IncidentRecord(row.id, row.playbook_id, row.status, _copy(row.document),
                          row.version, row.created_at, row.updated_at)


class SqlIncidents:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, incident: Incident, now: datetime) -> None:
        self._session.add(IncidentRow(id=incident.id, playbook_id=incident.playbook.id,
                                      status=incident.status.value,
                                      document=_copy(incident.to_dict()), version=1,
                                      created_at=now, updated_at=now))
        self._session.flush()

    def get_for_update(self, incident_id: str) -> IncidentRecord:
        """Load and lock the row until the transaction ends (``FOR UPDATE`` on PostgreSQL; on
        SQLite the transaction already holds the write lock)."""
        return _record(self._row(incident_id, lock=True))

    def get(self, incident_id: str) -> IncidentRecord:
        return _record(self._row(incident_id, lock=False))

    def version(self, incident_id: str) -> int:
        version = self._session.scalar(select(IncidentRow.version)
                                       .where(IncidentRow.id == incident_id))
        if version is None:
            raise NotFoundError(f"no incident {incident_id!r}")
        return int(version)

    def save(self, incident: Incident, now: datetime) -> None:
        row = self._row(incident.id, lock=False)
        row.status, row.updated_at = incident.status.value, now
        row.document = _copy(incident.to_dict())
        flag_modified(row, "document")  # written even when the caller edited a shared dict
        row.version += 1
        self._session.flush()

    def all(self, statuses: Sequence[str] | None = None) -> list[IncidentRecord]:
        query = select(IncidentRow).order_by(IncidentRow.created_at, IncidentRow.id)
        if statuses is not None:
            query = query.where(IncidentRow.status.in_(list(statuses)))
        return [_record(r) for r in self._session.scalars(query)]

    def versions(self, statuses: Sequence[str] | None = None) -> dict[str, int]:
        query = select(IncidentRow.id, IncidentRow.version).order_by(IncidentRow.created_at,
                                                                     IncidentRow.id)
        if statuses is not None:
            query = query.where(IncidentRow.status.in_(list(statuses)))
        return {str(row.id): int(row.version) for row in self._session.execute(query)}

    def _row(self, incident_id: str, lock: bool) -> IncidentRow:
        query = select(IncidentRow).where(IncidentRow.id == incident_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        row = self._session.scalars(query).first()
        if row is None:
            raise NotFoundError(f"no incident {incident_id!r}")
        return row


# ---- decision log -------------------------------------------------------------------------------


def _entry(row: DecisionRow) -> DecisionEntry:
    return DecisionEntry(
        row.incident_id, row.seq, row.kind, row.decision, row.rationale, row.decided_by,
        row.recorded_by, row.decided_at, row.recorded_at, row.options_rejected, row.refers_to,
        row.prev_hash, row.hash,
    )


class SqlDecisionLog:
    def __init__(self, session: Session) -> None:
        self._session = session

    def append(self, incident_id: str, entry: RecordDecision, now: datetime) -> DecisionEntry:
        """Number the entry last + 1 and chain it. The caller holds the incident's row lock, so
        two appends cannot take the same number (UNIQUE(incident_id, seq) would refuse it)."""
        last = self._last(incident_id)
        values: dict[str, Any] = {
            "incident_id": incident_id, "seq": last.seq + 1 if last else 1,
            "kind": entry.kind, "decision": entry.decision, "rationale": entry.rationale,
            "decided_by": entry.decided_by, "recorded_by": entry.recorded_by,
            "decided_at": entry.decided_at or now, "recorded_at": now,
            "options_rejected": entry.options_rejected, "refers_to": entry.refers_to,
        }
        prev_hash = last.hash if last else GENESIS_HASH
        row = DecisionRow(**values, prev_hash=prev_hash,
                          hash=entry_hash(prev_hash, hashed_fields(values)))
        self._session.add(row)
        self._session.flush()
        return _entry(row)

    def entries(self, incident_id: str) -> list[DecisionEntry]:
        rows = self._session.scalars(select(DecisionRow).where(
            DecisionRow.incident_id == incident_id).order_by(DecisionRow.seq))
        return [_entry(r) for r in rows]

    def _last(self, incident_id: str) -> DecisionRow | None:
        return self._session.scalars(
            select(DecisionRow).where(DecisionRow.incident_id == incident_id)
            .order_by(DecisionRow.seq.desc()).limit(1)).first()


# ---- audit --------------------------------------------------------------------------------------


class SqlAudit:
    """Refused actions and access to personal data. ``detail`` must not hold phone numbers."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, *, at: datetime, actor: str, action: str, outcome: str,
               detail: str = "") -> None:
        self._session.add(AuditRow(at=at, actor=actor, action=action, outcome=outcome,
                                   detail=detail[:MAX_DETAIL]))
        self._session.flush()

    def entries(self, since: datetime | None = None) -> list[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.at, AuditRow.id)
        if since is not None:
            query = query.where(AuditRow.at >= since)
        return [AuditEntry(at=r.at, actor=r.actor, action=r.action, outcome=r.outcome,
                           detail=r.detail) for r in self._session.scalars(query)]

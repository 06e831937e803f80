"""An in-memory unit of work for the service tests: every port of ``service/ports.py`` (and the
personal-data store) over plain Python state, behaving as the SQL repositories do.

One ``MemoryStore`` plays the database; ``MemoryUnitOfWork(store)`` is one transaction on it, so
a service under test takes ``lambda: MemoryUnitOfWork(store)`` as its unit-of-work factory.
``with uow:`` takes the store's lock (one transaction at a time, like SQLite's single writer)
and works on a private copy of the committed state; ``commit()`` publishes the copy; leaving the
block without committing drops it. Rows are immutable values replaced on every change, so the
copy is a handful of shallow dict copies.

What it keeps as the SQL store does (``tests/adapters/db`` runs the same contract tests on both):
ids in insertion order, the order of every query, versions, the unique keys of timers and the
outbox (a duplicate is skipped, not an error), leases and their expiry, the first provider id
winning, a status report kept over the sender's initial status, the decision log's numbering
and hash chain, the pace's grants, datetimes out in UTC, documents and payloads as JSON round
trips (a record is a copy), a duplicate incident, a decision for an unknown incident or a status
for an unknown delivery as a StoreError (the SQL constraints').

What it does not model: several transactions at once (there is no row lock, ``SKIP LOCKED`` or
lock timeout: a second transaction waits for the first to end, and one opened inside another in
the same thread is refused at once, where SQLite would wait until it timed out); other
processes and engines; migrations, column types and lengths; PostgreSQL's sequences (ids there
skip the values a skipped duplicate took); SQLite's case-insensitive ``LIKE`` (a scrub here
matches case-sensitively, as on PostgreSQL); rows changed behind the repositories' backs; and
the ``/metrics`` figures (``adapters/db/metrics.py`` reads an engine).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from incident_bot.adapters.db.wire import notify_from_json, notify_to_json
from incident_bot.domain.decision_log import GENESIS_HASH, entry_hash, hashed_fields
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import FOLD, Notify, RecordDecision, ScheduleTimer
from incident_bot.domain.incident.model import Incident
from incident_bot.errors import NotFoundError, StoreError
from incident_bot.service.pacing import give_back, grant
from incident_bot.service.personal_data import (
    ERASED,
    ErasedCounts,
    PersonalDataStore,
    json_forms,
    scrub_json,
    scrub_text,
)
from incident_bot.service.ports import (
    AuditEntry,
    AuditRepository,
    DecisionEntry,
    DecisionLogRepository,
    DirectoryRepository,
    DueTimer,
    IncidentRecord,
    IncidentRepository,
    OutboxItem,
    OutboxRepository,
    PaceRepository,
    TimerRepository,
    UpsertReport,
)

MAX_ERROR = 2000  # as the SQL store cuts last_error
MAX_DETAIL = 4000  # and an audit line's detail
UNSENT = ("pending", "sending")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StoreError(f"naive datetime {moment.isoformat()} refused: use aware UTC")
    return moment.astimezone(UTC)


def _json(value: Any) -> str:
    return json.dumps(value)


def _integrity(what: str) -> StoreError:
    return StoreError(f"database error (IntegrityError): {what}")


# ---- rows (immutable; a change replaces the row) ---------------------------------------------


@dataclass(frozen=True)
class _Incident:
    id: str
    playbook_id: str
    status: str
    document: str  # JSON text: every read decodes a copy
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class _Timer:
    id: int
    key: str
    incident_id: str
    kind: str
    payload: str  # JSON text
    due_at: datetime
    status: str = "pending"  # pending, leased, fired
    attempts: int = 0
    lease_until: datetime | None = None
    worker: str | None = None
    fired_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class _Outbox:
    id: int
    key: str
    incident_id: str
    channel: str
    recipient: str
    purpose: str
    body: str
    notify: str  # JSON text of the whole Notify
    next_attempt_at: datetime
    created_at: datetime
    priority: int
    status: str = "pending"
    attempts: int = 0
    lease_until: datetime | None = None
    worker: str | None = None
    provider_id: str | None = None
    provider_status: str | None = None
    error_code: str | None = None
    sent_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class _Event:
    id: int
    status: str
    error_code: str | None
    at: datetime


@dataclass(frozen=True)
class _Audit:
    id: int
    at: datetime
    actor: str
    action: str
    outcome: str
    detail: str


@dataclass
class _State:
    """The tables. Copying it copies the containers, never a row."""

    people: dict[str, Person] = field(default_factory=dict)
    incidents: dict[str, _Incident] = field(default_factory=dict)
    decisions: dict[str, tuple[DecisionEntry, ...]] = field(default_factory=dict)
    timers: dict[int, _Timer] = field(default_factory=dict)
    timer_keys: dict[str, int] = field(default_factory=dict)
    outbox: dict[int, _Outbox] = field(default_factory=dict)
    outbox_keys: dict[str, int] = field(default_factory=dict)
    events: dict[int, tuple[_Event, ...]] = field(default_factory=dict)  # by outbox id
    audit: list[_Audit] = field(default_factory=list)
    pace: dict[str, datetime] = field(default_factory=dict)  # channel → TAT
    last_id: dict[str, int] = field(default_factory=dict)  # table → last id handed out

    def copy(self) -> _State:
        return _State(dict(self.people), dict(self.incidents), dict(self.decisions),
                      dict(self.timers), dict(self.timer_keys), dict(self.outbox),
                      dict(self.outbox_keys), dict(self.events), list(self.audit),
                      dict(self.pace), dict(self.last_id))

    def new_id(self, table: str) -> int:
        self.last_id[table] = self.last_id.get(table, 0) + 1
        return self.last_id[table]


class MemoryStore:
    """The committed state, shared by every unit of work made on it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holder: int | None = None  # the thread whose transaction is open
        self.committed = _State()


# ---- directory ---------------------------------------------------------------------------------


class MemoryDirectory:
    def __init__(self, state: _State) -> None:
        self._state = state

    def upsert(self, people: Iterable[Person]) -> UpsertReport:
        added = updated = unchanged = 0
        for person in people:
            known = self._state.people.get(person.key)
            if known is None:
                added += 1
            elif known == person:
                unchanged += 1
                continue
            else:
                updated += 1
            self._state.people[person.key] = person
        return UpsertReport(added, updated, unchanged)

    def get(self, key: str) -> Person | None:
        return self._state.people.get(key)

    def all(self) -> list[Person]:
        return [self._state.people[key] for key in sorted(self._state.people)]

    def by_slack_user(self, slack_user_id: str) -> Person | None:
        return next((p for p in self.all() if p.slack_user_id == slack_user_id), None)

    def by_phone(self, e164: str) -> list[Person]:
        return [p for p in self.all() if p.phone == e164]

    def erase(self, key: str) -> bool:
        return self._state.people.pop(key, None) is not None


# ---- incidents ---------------------------------------------------------------------------------


def _record(row: _Incident) -> IncidentRecord:
    return IncidentRecord(row.id, row.playbook_id, row.status, json.loads(row.document),
                          row.version, row.created_at, row.updated_at)


class MemoryIncidents:
    def __init__(self, state: _State) -> None:
        self._state = state

    def add(self, incident: Incident, now: datetime) -> None:
        if incident.id in self._state.incidents:
            raise _integrity("duplicate key incident.id")
        now = _utc(now)
        self._state.incidents[incident.id] = _Incident(
            incident.id, incident.playbook.id, incident.status.value, _json(incident.to_dict()),
            1, now, now)

    def get_for_update(self, incident_id: str) -> IncidentRecord:
        """The transaction holds the whole store, so this is ``get``."""
        return _record(self._row(incident_id))

    def get(self, incident_id: str) -> IncidentRecord:
        return _record(self._row(incident_id))

    def version(self, incident_id: str) -> int:
        return self._row(incident_id).version

    def save(self, incident: Incident, now: datetime) -> None:
        row = self._row(incident.id)
        self._state.incidents[incident.id] = replace(
            row, status=incident.status.value, document=_json(incident.to_dict()),
            version=row.version + 1, updated_at=_utc(now))

    def all(self, statuses: Sequence[str] | None = None) -> list[IncidentRecord]:
        return [_record(row) for row in self._rows(statuses)]

    def versions(self, statuses: Sequence[str] | None = None) -> dict[str, int]:
        return {row.id: row.version for row in self._rows(statuses)}

    def _rows(self, statuses: Sequence[str] | None) -> list[_Incident]:
        rows = sorted(self._state.incidents.values(), key=lambda r: (r.created_at, r.id))
        return [r for r in rows if statuses is None or r.status in statuses]

    def _row(self, incident_id: str) -> _Incident:
        row = self._state.incidents.get(incident_id)
        if row is None:
            raise NotFoundError(f"no incident {incident_id!r}")
        return row


# ---- decision log ------------------------------------------------------------------------------


class MemoryDecisionLog:
    def __init__(self, state: _State) -> None:
        self._state = state

    def append(self, incident_id: str, entry: RecordDecision, now: datetime) -> DecisionEntry:
        if incident_id not in self._state.incidents:
            raise _integrity("decision_log.incident_id names no incident")
        log = self._state.decisions.get(incident_id, ())
        last = log[-1] if log else None
        values: dict[str, Any] = {
            "incident_id": incident_id, "seq": last.seq + 1 if last else 1,
            "kind": entry.kind, "decision": entry.decision, "rationale": entry.rationale,
            "decided_by": entry.decided_by, "recorded_by": entry.recorded_by,
            "decided_at": _utc(entry.decided_at or now), "recorded_at": _utc(now),
            "options_rejected": entry.options_rejected, "refers_to": entry.refers_to,
        }
        prev_hash = last.hash if last else GENESIS_HASH
        stored = DecisionEntry(**values, prev_hash=prev_hash,
                               hash=entry_hash(prev_hash, hashed_fields(values)))
        self._state.decisions[incident_id] = (*log, stored)
        return stored

    def entries(self, incident_id: str) -> list[DecisionEntry]:
        return list(self._state.decisions.get(incident_id, ()))


# ---- audit -------------------------------------------------------------------------------------


class MemoryAudit:
    def __init__(self, state: _State) -> None:
        self._state = state

    def record(self, *, at: datetime, actor: str, action: str, outcome: str,
               detail: str = "") -> None:
        self._state.audit.append(_Audit(self._state.new_id("audit"), _utc(at), actor, action,
                                        outcome, detail[:MAX_DETAIL]))

    def entries(self, since: datetime | None = None) -> list[AuditEntry]:
        rows = sorted(self._state.audit, key=lambda r: (r.at, r.id))
        return [AuditEntry(at=r.at, actor=r.actor, action=r.action, outcome=r.outcome,
                           detail=r.detail)
                for r in rows if since is None or r.at >= since]


# ---- the two claimable queues --------------------------------------------------------------------


def _claimable(status: str, due: datetime, lease_until: datetime | None, ready: str,
               leased: str, now: datetime) -> bool:
    """Ready and due, or leased by a worker whose lease has run out (``claims.claimable``)."""
    return ((status == ready and due <= now)
            or (status == leased and lease_until is not None and lease_until <= now))


def _due(row: _Timer) -> DueTimer:
    return DueTimer(row.id, row.key, row.incident_id, row.kind, json.loads(row.payload),
                    row.due_at, row.attempts)


def _timer_order(row: _Timer) -> tuple[datetime, int]:
    return row.due_at, row.id


class MemoryTimers:
    def __init__(self, state: _State) -> None:
        self._state = state

    def schedule(self, incident_id: str, timer: ScheduleTimer) -> bool:
        if timer.key in self._state.timer_keys:
            return False
        row = _Timer(self._state.new_id("timer"), timer.key, incident_id, timer.kind,
                     _json(dict(timer.payload)), _utc(timer.due_at))
        self._state.timers[row.id] = row
        self._state.timer_keys[row.key] = row.id
        return True

    def schedule_all(self, incident_id: str, timers: Sequence[ScheduleTimer]) -> None:
        for timer in timers:
            self.schedule(incident_id, timer)

    def claim_due(self, now: datetime, limit: int, lease_seconds: float,
                  worker: str) -> list[DueTimer]:
        if limit <= 0:
            return []
        now = _utc(now)
        due = sorted((r for r in self._state.timers.values()
                      if _claimable(r.status, r.due_at, r.lease_until, "pending", "leased",
                                    now)), key=_timer_order)[:limit]
        until = now + timedelta(seconds=lease_seconds)
        claimed = [replace(r, status="leased", worker=worker, attempts=r.attempts + 1,
                           lease_until=until) for r in due]
        self._state.timers.update((r.id, r) for r in claimed)
        return [_due(r) for r in claimed]

    def mark_fired(self, timer_id: int, now: datetime) -> None:
        self._set(timer_id, status="fired", fired_at=_utc(now), lease_until=None)

    def release(self, timer_id: int, error: str, retry_at: datetime) -> None:
        self._set(timer_id, status="pending", due_at=_utc(retry_at),
                  last_error=error[:MAX_ERROR], lease_until=None)

    def pending(self, incident_id: str | None = None) -> list[DueTimer]:
        rows = sorted((r for r in self._state.timers.values()
                       if r.status in ("pending", "leased")
                       and incident_id in (None, r.incident_id)), key=_timer_order)
        return [_due(r) for r in rows]

    def of_incident(self, incident_id: str) -> list[dict[str, Any]]:
        rows = sorted((r for r in self._state.timers.values() if r.incident_id == incident_id),
                      key=_timer_order)
        return [{"key": r.key, "kind": r.kind, "payload": json.loads(r.payload),
                 "due_at": r.due_at, "status": r.status, "attempts": r.attempts,
                 "fired_at": r.fired_at, "last_error": r.last_error} for r in rows]

    def _set(self, timer_id: int, **values: Any) -> None:
        row = self._state.timers.get(timer_id)
        if row is not None:  # an UPDATE of no row changes nothing
            self._state.timers[timer_id] = replace(row, **values)


def _item(row: _Outbox) -> OutboxItem:
    return OutboxItem(row.id, row.key, row.incident_id, notify_from_json(json.loads(row.notify)),
                      row.status, row.attempts, row.provider_id, row.next_attempt_at,
                      row.created_at)


def _outbox_order(row: _Outbox) -> tuple[int, datetime, int]:
    return row.priority, row.next_attempt_at, row.id


class MemoryOutbox:
    def __init__(self, state: _State) -> None:
        self._state = state

    def add(self, incident_id: str, notify: Notify, now: datetime) -> bool:
        if notify.key in self._state.outbox_keys:
            return False
        now = _utc(now)
        row = _Outbox(self._state.new_id("outbox"), notify.key, incident_id,
                      notify.channel.value, notify.recipient, notify.purpose, notify.body,
                      _json(notify_to_json(notify)), now, now, notify.priority)
        self._state.outbox[row.id] = row
        self._state.outbox_keys[row.key] = row.id
        return True

    def add_all(self, incident_id: str, notices: Sequence[Notify], now: datetime) -> None:
        for notify in notices:
            self.add(incident_id, notify, now)

    def claim(self, now: datetime, limit: int, lease_seconds: float, worker: str,
              channels: Collection[str] | None = None) -> list[OutboxItem]:
        if limit <= 0:
            return []
        now = _utc(now)
        sendable = sorted((r for r in self._state.outbox.values()
                           if (channels is None or r.channel in channels)
                           and _claimable(r.status, r.next_attempt_at, r.lease_until,
                                          "pending", "sending", now)),
                          key=_outbox_order)[:limit]
        until = now + timedelta(seconds=lease_seconds)
        claimed = [replace(r, status="sending", worker=worker, attempts=r.attempts + 1,
                           lease_until=until) for r in sendable]
        self._state.outbox.update((r.id, r) for r in claimed)
        return [_item(r) for r in claimed]

    def mark_sent(self, item_id: int, provider_id: str | None, status: str,
                  now: datetime) -> None:
        row = self._row(item_id)
        # A status callback that beat the sender here keeps its (later) status.
        self._put(replace(row, status="sent", provider_id=provider_id,
                          provider_status=row.provider_status or status, sent_at=_utc(now),
                          lease_until=None))
        self._event(item_id, status, None, now)

    def adopt_provider_id(self, item_id: int, provider_id: str) -> bool:
        row = self._state.outbox.get(item_id)
        if row is None:
            return False
        if row.provider_id is None:
            self._put(replace(row, provider_id=provider_id))
            return True
        return row.provider_id == provider_id

    def mark_retry(self, item_id: int, error: str, retry_at: datetime) -> None:
        self._set(item_id, status="pending", next_attempt_at=_utc(retry_at),
                  last_error=error[:MAX_ERROR], lease_until=None)

    def defer(self, item_id: int, until: datetime) -> None:
        row = self._state.outbox.get(item_id)
        if row is not None:
            self._put(replace(row, status="pending", next_attempt_at=_utc(until),
                              lease_until=None, attempts=row.attempts - 1))

    def mark_failed(self, item_id: int, error: str, now: datetime) -> None:
        self._set(item_id, status="failed", last_error=error[:MAX_ERROR], lease_until=None)
        self._event(item_id, "failed", None, now)

    def mark_cancelled(self, item_id: int, reason: str, now: datetime) -> None:
        self._set(item_id, status="cancelled", last_error=reason[:MAX_ERROR], lease_until=None)
        self._event(item_id, "cancelled", None, now)

    def by_provider_id(self, provider_id: str) -> OutboxItem | None:
        row = next((r for r in self._by_id() if r.provider_id == provider_id), None)
        return _item(row) if row else None

    def get(self, item_id: int) -> OutboxItem | None:
        row = self._state.outbox.get(item_id)
        return _item(row) if row else None

    def latest_to(self, recipient: str, channel: str) -> OutboxItem | None:
        row = next((r for r in reversed(self._by_id())
                    if r.recipient == recipient and r.channel == channel), None)
        return _item(row) if row else None

    def fold_post(self, incident_id: str, purpose: str, fold: str) -> str | None:
        return next((r.provider_id for r in self._fold_rows(incident_id, purpose, ("sent",), fold)
                     if r.provider_id), None)

    def fold_newest(self, incident_id: str, purpose: str, fold: str) -> int | None:
        rows = self._fold_rows(incident_id, purpose, UNSENT, fold)
        return max((r.id for r in rows), default=None)

    def record_status(self, item_id: int, status: str, error_code: str | None,
                      now: datetime) -> None:
        self._set(item_id, provider_status=status, error_code=error_code)
        self._event(item_id, status, error_code, now)

    def items(self, incident_id: str | None = None) -> list[OutboxItem]:
        return [_item(r) for r in self._by_id() if incident_id in (None, r.incident_id)]

    def history(self, item_id: int) -> list[tuple[str, str | None, datetime]]:
        return [(e.status, e.error_code, e.at) for e in self._state.events.get(item_id, ())]

    def counts_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._state.outbox.values():
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts

    def _fold_rows(self, incident_id: str, purpose: str, statuses: tuple[str, ...],
                   fold: str) -> list[_Outbox]:
        return [r for r in self._by_id()
                if r.incident_id == incident_id and r.purpose == purpose
                and r.status in statuses
                and (json.loads(r.notify).get("data") or {}).get(FOLD) == fold]

    def _by_id(self) -> list[_Outbox]:
        return [self._state.outbox[i] for i in sorted(self._state.outbox)]

    def _row(self, item_id: int) -> _Outbox:
        row = self._state.outbox.get(item_id)
        if row is None:  # the delivery event's foreign key would refuse it
            raise _integrity(f"no outbox row {item_id}")
        return row

    def _set(self, item_id: int, **values: Any) -> None:
        row = self._state.outbox.get(item_id)
        if row is not None:
            self._put(replace(row, **values))

    def _put(self, row: _Outbox) -> None:
        self._state.outbox[row.id] = row

    def _event(self, item_id: int, status: str, error_code: str | None, now: datetime) -> None:
        self._row(item_id)
        event = _Event(self._state.new_id("delivery_event"), status, error_code, _utc(now))
        self._state.events[item_id] = (*self._state.events.get(item_id, ()), event)


# ---- pace --------------------------------------------------------------------------------------


class MemoryPace:
    def __init__(self, state: _State) -> None:
        self._state = state

    def take(self, channel: str, wanted: int, rate: float, burst_seconds: float,
             now: datetime) -> int:
        now = _utc(now)
        granted = grant(self._state.pace.get(channel, now), now, wanted, rate, burst_seconds)
        self._state.pace[channel] = granted.tat
        return granted.granted

    def give_back(self, channel: str, unused: int, rate: float, now: datetime) -> None:
        if unused > 0:
            now = _utc(now)
            self._state.pace[channel] = give_back(self._state.pace.get(channel, now), now,
                                                  unused, rate)


# ---- personal data -----------------------------------------------------------------------------


class MemoryPersonalData:
    """``adapters/db/personal_data.py`` over the memory store's rows."""

    def __init__(self, state: _State) -> None:
        self._state = state

    def erase_deliveries_to(self, recipient: str) -> ErasedCounts:
        return self._erase([r for r in self._state.outbox.values() if r.recipient == recipient])

    def erase_deliveries_of(self, incident_ids: Sequence[str]) -> ErasedCounts:
        return self._erase([r for r in self._state.outbox.values()
                            if r.incident_id in incident_ids])

    def scrub_deliveries_mentioning(self, texts: Sequence[str]) -> int:
        if not texts:
            return 0
        forms = json_forms(texts)
        mentioning = [r for r in self._state.outbox.values()
                      if any(t in r.body for t in texts) or any(f in r.notify for f in forms)]
        for row in mentioning:
            self._state.outbox[row.id] = replace(
                row, body=scrub_text(row.body, texts),
                notify=_json(scrub_json(json.loads(row.notify), texts)))
        return len(mentioning)

    def scrub_audit_mentioning(self, texts: Sequence[str]) -> int:
        if not texts:
            return 0
        changed = 0
        for n, row in enumerate(self._state.audit):
            if any(t in row.detail for t in texts):
                self._state.audit[n] = replace(row, detail=scrub_text(row.detail, texts))
                changed += 1
        return changed

    def _erase(self, rows: list[_Outbox]) -> ErasedCounts:
        events = 0
        for row in rows:
            notify = {**json.loads(row.notify), "body": ERASED, "data": {}, "reply_code": None}
            erased = replace(row, body=ERASED, notify=_json(notify), provider_id=None,
                             provider_status=None, error_code=None,
                             last_error=ERASED if row.last_error else None)
            if erased.status in UNSENT:
                erased = replace(erased, status="cancelled", lease_until=None)
            self._state.outbox[row.id] = erased
            events += len(self._state.events.pop(row.id, ()))
        return ErasedCounts(deliveries=len(rows), delivery_events=events)


# ---- the unit of work ----------------------------------------------------------------------------


class MemoryUnitOfWork:
    """One transaction on ``store`` (see the module docstring). Like ``SqlUnitOfWork`` it may be
    entered again after it was left, and refuses ``commit()`` outside a ``with`` block."""

    directory: DirectoryRepository
    incidents: IncidentRepository
    decisions: DecisionLogRepository
    timers: TimerRepository
    outbox: OutboxRepository
    audit: AuditRepository
    pace: PaceRepository
    personal_data: PersonalDataStore

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._state: _State | None = None

    def __enter__(self) -> MemoryUnitOfWork:
        if self._state is not None:
            raise RuntimeError("this unit of work is already open")
        if self._store.holder == threading.get_ident():
            # On SQLite the inner transaction would wait for the outer one until it timed out.
            raise StoreError("database unavailable: a transaction is already open in this thread")
        self._store.lock.acquire()
        self._store.holder = threading.get_ident()
        self._begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._open()
        self._state = None  # what was not committed is dropped
        self._store.holder = None
        self._store.lock.release()

    def commit(self) -> None:
        self._store.committed = self._open()
        self._begin()

    def rollback(self) -> None:
        self._open()
        self._begin()

    def _begin(self) -> None:
        state = self._state = self._store.committed.copy()
        self.directory = MemoryDirectory(state)
        self.incidents = MemoryIncidents(state)
        self.decisions = MemoryDecisionLog(state)
        self.timers = MemoryTimers(state)
        self.outbox = MemoryOutbox(state)
        self.audit = MemoryAudit(state)
        self.pace = MemoryPace(state)
        self.personal_data = MemoryPersonalData(state)

    def _open(self) -> _State:
        if self._state is None:
            raise StoreError("the unit of work is not open: use it in a `with` block")
        return self._state

"""The two claimable queues: ``scheduled_action`` (timers) and ``outbox`` (deliveries).

Rows are added idempotently on their unique key (``INSERT ... ON CONFLICT DO NOTHING`` on both
dialects, so a duplicate neither raises nor spoils the transaction) and leased by ``claims.py``.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from incident_bot.adapters.db.claims import claimable, lease
from incident_bot.adapters.db.tables import DeliveryEventRow, OutboxRow, TimerRow
from incident_bot.adapters.db.wire import notify_from_json, notify_to_json
from incident_bot.domain.effects import FOLD, Notify, ScheduleTimer
from incident_bot.service.ports import DueTimer, OutboxItem

MAX_ERROR = 2000


def insert_unless_key_exists(session: Session, model: type[TimerRow] | type[OutboxRow],
                             values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT (key) DO NOTHING; True when the row was added."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(model).values(**values)
                 .on_conflict_do_nothing(index_elements=["key"]).returning(model.id))
    return session.execute(statement).first() is not None


def insert_all_unless_key_exists(session: Session, model: type[TimerRow] | type[OutboxRow],
                                 rows: list[dict[str, Any]]) -> None:
    """The same for many rows in one statement (a start or a tier round writes hundreds)."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(model).on_conflict_do_nothing(index_elements=["key"]), rows)


def _timer_row(incident_id: str, timer: ScheduleTimer) -> dict[str, Any]:
    return {"key": timer.key, "incident_id": incident_id, "kind": timer.kind,
            "payload": dict(timer.payload), "due_at": timer.due_at, "status": "pending",
            "attempts": 0}


def _outbox_row(incident_id: str, notify: Notify, now: datetime) -> dict[str, Any]:
    return {"key": notify.key, "incident_id": incident_id, "channel": notify.channel.value,
            "recipient": notify.recipient, "purpose": notify.purpose,
            "message_version": notify.message_version, "language": notify.language,
            "priority": notify.priority, "body": notify.body, "notify": notify_to_json(notify),
            "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}


# ---- timers -------------------------------------------------------------------------------------


def _due(row: TimerRow) -> DueTimer:
    return DueTimer(row.id, row.key, row.incident_id, row.kind, dict(row.payload), row.due_at,
                    row.attempts)


class SqlTimers:
    def __init__(self, session: Session) -> None:
        self._session = session

    def schedule(self, incident_id: str, timer: ScheduleTimer) -> bool:
        return insert_unless_key_exists(self._session, TimerRow, _timer_row(incident_id, timer))

    def schedule_all(self, incident_id: str, timers: Sequence[ScheduleTimer]) -> None:
        insert_all_unless_key_exists(self._session, TimerRow,
                                     [_timer_row(incident_id, t) for t in timers])

    def claim_due(self, now: datetime, limit: int, lease_seconds: float,
                  worker: str) -> list[DueTimer]:
        """Lease due timers, earliest first; commit at once, then fire them."""
        rows = lease(self._session, TimerRow,
                     where=claimable(TimerRow, "pending", TimerRow.due_at, "leased", now),
                     order_by=(TimerRow.due_at, TimerRow.id), leased="leased", now=now,
                     limit=limit, lease_seconds=lease_seconds, worker=worker)
        return [_due(r) for r in rows]

    def mark_fired(self, timer_id: int, now: datetime) -> None:
        self._set(timer_id, status="fired", fired_at=now, lease_until=None)

    def release(self, timer_id: int, error: str, retry_at: datetime) -> None:
        """Give a claimed timer back to be tried again at ``retry_at``."""
        self._set(timer_id, status="pending", due_at=retry_at, last_error=error[:MAX_ERROR],
                  lease_until=None)

    def pending(self, incident_id: str | None = None) -> list[DueTimer]:
        """Timers not yet fired (pending or leased), earliest first."""
        query = (select(TimerRow).where(TimerRow.status.in_(("pending", "leased")))
                 .order_by(TimerRow.due_at, TimerRow.id))
        if incident_id is not None:
            query = query.where(TimerRow.incident_id == incident_id)
        return [_due(r) for r in self._session.scalars(query)]

    def of_incident(self, incident_id: str) -> builtins.list[dict[str, Any]]:
        """Every timer of an incident, whatever its status, earliest first (for an export)."""
        rows = self._session.scalars(select(TimerRow).where(TimerRow.incident_id == incident_id)
                                     .order_by(TimerRow.due_at, TimerRow.id))
        return [{"key": r.key, "kind": r.kind, "payload": dict(r.payload), "due_at": r.due_at,
                 "status": r.status, "attempts": r.attempts, "fired_at": r.fired_at,
                 "last_error": r.last_error} for r in rows]

    def _set(self, timer_id: int, **values: Any) -> None:
        self._session.execute(update(TimerRow).where(TimerRow.id == timer_id).values(**values))


# ---- outbox -------------------------------------------------------------------------------------


def _item(row: OutboxRow) -> OutboxItem:
    return OutboxItem(row.id, row.key, row.incident_id, notify_from_json(row.notify), row.status,
                      row.attempts, row.provider_id, row.next_attempt_at, row.created_at)


OUTBOX_ORDER = (OutboxRow.priority, OutboxRow.next_attempt_at, OutboxRow.id)


class SqlOutbox:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, incident_id: str, notify: Notify, now: datetime) -> bool:
        return insert_unless_key_exists(self._session, OutboxRow,
                                        _outbox_row(incident_id, notify, now))

    def add_all(self, incident_id: str, notices: Sequence[Notify], now: datetime) -> None:
        insert_all_unless_key_exists(self._session, OutboxRow,
                                     [_outbox_row(incident_id, n, now) for n in notices])

    def claim(self, now: datetime, limit: int, lease_seconds: float, worker: str,
              channels: Collection[str] | None = None) -> builtins.list[OutboxItem]:
        """Lease sendable items: lowest priority number, then oldest attempt time, then id;
        only on ``channels`` when given."""
        where = claimable(OutboxRow, "pending", OutboxRow.next_attempt_at, "sending", now)
        if channels is not None:
            where = and_(where, OutboxRow.channel.in_(list(channels)))
        rows = lease(self._session, OutboxRow, where=where, order_by=OUTBOX_ORDER,
                     leased="sending", now=now, limit=limit, lease_seconds=lease_seconds,
                     worker=worker)
        return [_item(r) for r in rows]

    def mark_sent(self, item_id: int, provider_id: str | None, status: str,
                  now: datetime) -> None:
        # A status callback that beat the sender here keeps its (later) status.
        self._set(item_id, status="sent", provider_id=provider_id,
                  provider_status=func.coalesce(OutboxRow.provider_status, status),
                  sent_at=now, lease_until=None)
        self._event(item_id, status, None, now)

    def adopt_provider_id(self, item_id: int, provider_id: str) -> bool:
        """Record ``provider_id`` unless the row has one; True when the row now holds it."""
        self._session.execute(update(OutboxRow).where(
            OutboxRow.id == item_id, OutboxRow.provider_id.is_(None)).values(
            provider_id=provider_id))
        held = self._session.scalar(select(OutboxRow.provider_id).where(OutboxRow.id == item_id))
        return held == provider_id

    def mark_retry(self, item_id: int, error: str, retry_at: datetime) -> None:
        self._set(item_id, status="pending", next_attempt_at=retry_at,
                  last_error=error[:MAX_ERROR], lease_until=None)

    def defer(self, item_id: int, until: datetime) -> None:
        self._session.execute(update(OutboxRow).where(OutboxRow.id == item_id).values(
            status="pending", next_attempt_at=until, lease_until=None,
            attempts=OutboxRow.attempts - 1))

    def mark_failed(self, item_id: int, error: str, now: datetime) -> None:
        self._set(item_id, status="failed", last_error=error[:MAX_ERROR], lease_until=None)
        self._event(item_id, "failed", None, now)

    def mark_cancelled(self, item_id: int, reason: str, now: datetime) -> None:
        self._set(item_id, status="cancelled", last_error=reason[:MAX_ERROR], lease_until=None)
        self._event(item_id, "cancelled", None, now)

    def by_provider_id(self, provider_id: str) -> OutboxItem | None:
        row = self._session.scalars(select(OutboxRow).where(
            OutboxRow.provider_id == provider_id).order_by(OutboxRow.id)).first()
        return _item(row) if row else None

    def get(self, item_id: int) -> OutboxItem | None:
        row = self._session.get(OutboxRow, item_id)
        return _item(row) if row else None

    def latest_to(self, recipient: str, channel: str) -> OutboxItem | None:
        row = self._session.scalars(
            select(OutboxRow).where(OutboxRow.recipient == recipient,
                                    OutboxRow.channel == channel)
            .order_by(OutboxRow.id.desc()).limit(1)).first()
        return _item(row) if row else None

    def fold_post(self, incident_id: str, purpose: str, fold: str) -> str | None:
        rows = self._fold_rows(OutboxRow.provider_id, incident_id, purpose, ("sent",))
        return next((ts for ts, data in rows if data.get(FOLD) == fold and ts), None)

    def fold_newest(self, incident_id: str, purpose: str, fold: str) -> int | None:
        rows = self._fold_rows(OutboxRow.id, incident_id, purpose, ("pending", "sending"))
        return max((row_id for row_id, data in rows if data.get(FOLD) == fold), default=None)

    def _fold_rows(self, column: Any, incident_id: str, purpose: str,
                   statuses: tuple[str, ...]) -> builtins.list[tuple[Any, dict[str, Any]]]:
        rows = self._session.execute(
            select(column, OutboxRow.notify)
            .where(OutboxRow.incident_id == incident_id, OutboxRow.purpose == purpose,
                   OutboxRow.status.in_(statuses)).order_by(OutboxRow.id))
        return [(value, notify.get("data") or {}) for value, notify in rows]

    def record_status(self, item_id: int, status: str, error_code: str | None,
                      now: datetime) -> None:
        """Keep a provider's status report (and its place in the row's history)."""
        self._set(item_id, provider_status=status, error_code=error_code)
        self._event(item_id, status, error_code, now)

    def items(self, incident_id: str | None = None) -> builtins.list[OutboxItem]:
        query = select(OutboxRow).order_by(OutboxRow.id)
        if incident_id is not None:
            query = query.where(OutboxRow.incident_id == incident_id)
        return [_item(r) for r in self._session.scalars(query)]

    def history(self, item_id: int) -> builtins.list[tuple[str, str | None, datetime]]:
        """The statuses reported for an item, oldest first: (status, error_code, at)."""
        rows = self._session.scalars(select(DeliveryEventRow).where(
            DeliveryEventRow.outbox_id == item_id).order_by(DeliveryEventRow.id))
        return [(r.status, r.error_code, r.at) for r in rows]

    def counts_by_status(self) -> dict[str, int]:
        rows = self._session.execute(
            select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
        return {str(status): int(count) for status, count in rows}

    def _set(self, item_id: int, **values: Any) -> None:
        self._session.execute(update(OutboxRow).where(OutboxRow.id == item_id).values(**values))

    def _event(self, item_id: int, status: str, error_code: str | None, now: datetime) -> None:
        self._session.add(DeliveryEventRow(outbox_id=item_id, status=status,
                                           error_code=error_code, at=now))
        self._session.flush()

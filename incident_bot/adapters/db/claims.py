"""Leasing queue rows (due timers, sendable outbox items) to one worker at a time.

A claim marks rows ``leased``/``sending`` with ``lease_until = now + lease`` and the worker's
name; the caller commits it at once (its own short transaction) and does the work afterwards.
A worker that dies leaves its lease to expire, and the next claim takes the row again: that is
how a crash loses nothing. On PostgreSQL the candidate rows are selected ``FOR UPDATE SKIP
LOCKED``, so replicas claiming at once take different rows without waiting for each other; on
SQLite the transaction already holds the single write lock (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from incident_bot.adapters.db.tables import OutboxRow, TimerRow

Row = TypeVar("Row", TimerRow, OutboxRow)


def claimable(model: type[TimerRow] | type[OutboxRow], ready: str, due: InstrumentedAttribute[Any],
              leased: str, now: datetime) -> ColumnElement[bool]:
    """Ready and due, or leased by a worker whose lease has run out."""
    return or_(
        and_(model.status == ready, due <= now),
        and_(model.status == leased, model.lease_until <= now),
    )


def lease(session: Session, model: type[Row], *, where: ColumnElement[bool],
          order_by: Sequence[InstrumentedAttribute[Any]], leased: str, now: datetime,
          limit: int, lease_seconds: float, worker: str) -> list[Row]:
    """Lease up to ``limit`` rows matching ``where`` in ``order_by`` order; returns them."""
    if limit <= 0:
        return []
    candidates = list(session.scalars(
        select(model.id).where(where).order_by(*order_by).limit(limit)
        .with_for_update(skip_locked=True)))
    if not candidates:
        return []
    # The condition is repeated so a row that stopped being claimable is never taken over.
    claimed = list(session.scalars(
        update(model).where(model.id.in_(candidates), where)
        .values(status=leased, worker=worker, attempts=model.attempts + 1,
                lease_until=now + timedelta(seconds=lease_seconds))
        .returning(model.id)
        .execution_options(synchronize_session=False)))
    if not claimed:
        return []
    return list(session.scalars(
        select(model).where(model.id.in_(claimed)).order_by(*order_by)
        .execution_options(populate_existing=True)))

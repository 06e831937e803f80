"""Operational figures read straight from the database, for the ``/metrics`` endpoint.

Every figure is an aggregate over rows every replica shares, so any replica answers for the
whole pool. Nothing here holds a phone number or a message body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from incident_bot.adapters.db.tables import IncidentRow, OutboxRow, TimerRow

LATENESS_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Figures:
    incidents: dict[str, int] = field(default_factory=dict)  # by status
    deliveries: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, status)
    outbox_due: int = 0  # pending and due now: the send queue's depth
    timers: dict[str, int] = field(default_factory=dict)  # by status
    timers_overdue: int = 0  # pending and due more than a poll ago
    lateness: tuple[float, ...] = ()  # seconds, timers fired in the last LATENESS_WINDOW


def collect(engine: Engine, now: datetime, poll: timedelta = timedelta(seconds=2)) -> Figures:
    with engine.connect() as connection:
        incidents = dict(connection.execute(
            select(IncidentRow.status, func.count()).group_by(IncidentRow.status)).all())
        deliveries = {(channel, status): count for channel, status, count in connection.execute(
            select(OutboxRow.channel, OutboxRow.status, func.count())
            .group_by(OutboxRow.channel, OutboxRow.status)).all()}
        outbox_due = connection.execute(
            select(func.count()).select_from(OutboxRow)
            .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now)).scalar_one()
        timers = dict(connection.execute(
            select(TimerRow.status, func.count()).group_by(TimerRow.status)).all())
        overdue = connection.execute(
            select(func.count()).select_from(TimerRow)
            .where(TimerRow.status == "pending", TimerRow.due_at <= now - poll)).scalar_one()
        fired = connection.execute(
            select(TimerRow.due_at, TimerRow.fired_at)
            .where(TimerRow.fired_at.is_not(None), TimerRow.fired_at >= now - LATENESS_WINDOW)
        ).all()
    lateness = tuple(sorted(max(0.0, (f - d).total_seconds())
                            for d, f in fired if f is not None))
    return Figures(incidents, deliveries, outbox_due, timers, overdue, lateness)

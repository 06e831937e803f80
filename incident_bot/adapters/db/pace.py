"""The shared send pace: one ``send_pace`` row per channel, locked while it is updated
(``FOR UPDATE`` on PostgreSQL; SQLite's write transaction holds the whole database)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from incident_bot.adapters.db.tables import PaceRow
from incident_bot.service.pacing import give_back, grant


class SqlPace:
    def __init__(self, session: Session) -> None:
        self._session = session

    def take(self, channel: str, wanted: int, rate: float, burst_seconds: float,
             now: datetime) -> int:
        """Grant up to ``wanted`` sends on ``channel`` at ``rate`` a second across the pool."""
        row = self._row(channel, now)
        granted = grant(row.tat, now, wanted, rate, burst_seconds)
        row.tat = granted.tat
        self._session.flush()
        return granted.granted

    def give_back(self, channel: str, unused: int, rate: float, now: datetime) -> None:
        if unused > 0:
            row = self._row(channel, now)
            row.tat = give_back(row.tat, now, unused, rate)
            self._session.flush()

    def _row(self, channel: str, now: datetime) -> PaceRow:
        query = select(PaceRow).where(PaceRow.channel == channel).with_for_update()
        row = self._session.scalars(query).one_or_none()
        if row is None:
            # Two replicas may both try to create it: the loser's insert fails and its
            # transaction is retried by the dispatcher's next tick.
            row = PaceRow(channel=channel, tat=now)
            self._session.add(row)
            self._session.flush()
        return row

"""The timer poller: claims due ``scheduled_action`` rows and hands each back to the domain.

The database is the source of truth for timers; APScheduler only calls :meth:`fire_due` every
second or so. A timer that fell due while the process was down is claimed on the next poll and
the domain decides whether it still matters. A worker that dies mid-timer leaves a lease that
expires, and another poll claims the row again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from incident_bot.domain import incident as domain
from incident_bot.errors import IncidentBotError
from incident_bot.service.handlers import write_effects
from incident_bot.service.ports import Clock, DueTimer, UnitOfWork

log = logging.getLogger("incident_bot.timers")


class TimerPoller:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock, worker: str,
                 lease_seconds: float = 60.0, retry_after: timedelta = timedelta(seconds=30)):
        self._uow_factory = uow_factory
        self._clock = clock
        self._worker = worker
        self._lease_seconds = lease_seconds
        self._retry_after = retry_after

    def fire_due(self, limit: int = 100) -> int:
        """Fire every claimed due timer; returns how many fired."""
        with self._uow_factory() as uow:
            claimed = uow.timers.claim_due(self._clock.now(), limit, self._lease_seconds,
                                           self._worker)
            uow.commit()
        return sum(self._fire_one(timer) for timer in claimed)

    def _fire_one(self, timer: DueTimer) -> bool:
        try:
            self._apply(timer)
        except IncidentBotError as error:
            # A refused or failed timer must not stop the others; it is retried later and the
            # error is kept on the row for the coordinator to see.
            log.warning("timer.failed key=%s kind=%s error=%s", timer.key, timer.kind,
                        type(error).__name__)
            with self._uow_factory() as uow:
                uow.timers.release(timer.id, str(error), self._clock.now() + self._retry_after)
                uow.commit()
            return False
        return True

    def _apply(self, timer: DueTimer) -> None:
        now = self._clock.now()
        with self._uow_factory() as uow:
            record = uow.incidents.get_for_update(timer.incident_id)
            incident = domain.Incident.from_dict(record.document)
            effects = domain.on_timer(incident, timer.kind, dict(timer.payload), now)
            uow.incidents.save(timer.incident_id, incident.status, incident.to_dict(), now)
            write_effects(uow, timer.incident_id, effects, now)
            uow.timers.mark_fired(timer.id, now)
            uow.commit()
        log.debug("timer.fired key=%s kind=%s", timer.key, timer.kind)

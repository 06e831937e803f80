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
from incident_bot.service.ports import Clock, DueTimer, UnitOfWork
from incident_bot.service.use_cases import write_effects

log = logging.getLogger("incident_bot.timers")


class TimerPoller:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock, worker: str,
                 lease_seconds: float = 60.0, retry_after: timedelta = timedelta(seconds=30)):
        self._uow_factory = uow_factory
        self._clock = clock
        self._worker = worker
        self._lease_seconds = lease_seconds
        self._retry_after = retry_after

    def fire_due(self, limit: int = 500) -> int:
        """Fire every claimed due timer; returns how many fired. Timers of one incident are
        applied in one transaction: the incident is loaded and saved once per batch, not once
        per timer (a tier of thousands of contacts has thousands of rung timers)."""
        with self._uow_factory() as uow:
            claimed = uow.timers.claim_due(self._clock.now(), limit, self._lease_seconds,
                                           self._worker)
            uow.commit()
        by_incident: dict[str, list[DueTimer]] = {}
        for timer in claimed:
            by_incident.setdefault(timer.incident_id, []).append(timer)
        return sum(self._fire_group(incident_id, timers)
                   for incident_id, timers in by_incident.items())

    def _fire_group(self, incident_id: str, timers: list[DueTimer]) -> int:
        """One incident's due timers in one transaction. If any is refused (or the incident is
        gone) the transaction rolls back and each timer is retried in a transaction of its
        own, so one bad timer neither blocks nor half-applies the others; a lone refused
        timer is released to be retried later, its error kept on the row."""
        try:
            return self._apply(incident_id, timers)
        except IncidentBotError as error:
            if len(timers) > 1:
                return sum(self._fire_group(incident_id, [timer]) for timer in timers)
            self._release(timers, error)
            return 0

    def _apply(self, incident_id: str, timers: list[DueTimer]) -> int:
        now = self._clock.now()
        with self._uow_factory() as uow:
            record = uow.incidents.get_for_update(incident_id)
            incident = record.incident
            for timer in timers:
                # On error the transaction rolls back and this copy is dropped: no snapshot.
                effects = domain.on_timer(incident, timer.kind, dict(timer.payload), now,
                                          restore=False)
                write_effects(uow, incident_id, effects, now)
                uow.timers.mark_fired(timer.id, now)
                log.debug("timer.fired key=%s kind=%s", timer.key, timer.kind)
            uow.incidents.save(incident, now)
            uow.commit()
        return len(timers)

    def _release(self, timers: list[DueTimer], error: IncidentBotError) -> None:
        # A refused or failed timer must not stop the others; it is retried later and the
        # error is kept on the row for the coordinator to see.
        with self._uow_factory() as uow:
            for timer in timers:
                log.warning("timer.failed key=%s kind=%s error=%s", timer.key, timer.kind,
                            type(error).__name__)
                uow.timers.release(timer.id, str(error), self._clock.now() + self._retry_after)
            uow.commit()

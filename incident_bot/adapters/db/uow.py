"""The unit of work: one SQLAlchemy session, one transaction per ``with`` block."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from incident_bot.adapters.db.engine import as_store_error
from incident_bot.adapters.db.pace import SqlPace
from incident_bot.adapters.db.personal_data import SqlPersonalData
from incident_bot.adapters.db.queues import SqlOutbox, SqlTimers
from incident_bot.adapters.db.repositories import (
    SqlAudit,
    SqlDecisionLog,
    SqlDirectory,
    SqlIncidents,
)
from incident_bot.errors import StoreError
from incident_bot.service.personal_data import PersonalDataStore
from incident_bot.service.ports import (
    AuditRepository,
    DecisionLogRepository,
    DirectoryRepository,
    IncidentRepository,
    OutboxRepository,
    PaceRepository,
    TimerRepository,
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def _sqlite_writer(engine: Engine) -> threading.RLock | None:
    """SQLite has one writer at a time. Threads of one process (Slack listeners, the tick) take
    turns on this lock instead of polling SQLite's busy handler, which under a burst of dozens
    of writers can run past its timeout and drop work ("database is locked"). Other
    processes still wait on SQLite's busy timeout."""
    if engine.dialect.name != "sqlite":
        return None
    with _REGISTRY_LOCK:
        return _SQLITE_WRITERS.setdefault(engine, threading.RLock())


class SqlUnitOfWork:
    """``with uow:`` opens a session (the transaction begins at its first statement: on SQLite
    with ``BEGIN IMMEDIATE``); ``commit()`` commits; leaving the block without committing rolls
    back. Driver failures leave the block as StoreError. A unit of work may be entered again
    after it was left, for a new transaction."""

    directory: DirectoryRepository
    incidents: IncidentRepository
    decisions: DecisionLogRepository
    timers: TimerRepository
    outbox: OutboxRepository
    audit: AuditRepository
    pace: PaceRepository
    personal_data: PersonalDataStore

    def __init__(self, engine: Engine, now: Callable[[], datetime] = _utc_now) -> None:
        self._engine = engine
        self._writer: threading.RLock | None = None
        self._now = now  # stamps directory rows' updated_at
        self._session: Session | None = None

    def __enter__(self) -> SqlUnitOfWork:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open")
        self._writer = _sqlite_writer(self._engine)
        if self._writer is not None:
            self._writer.acquire()
        session = Session(self._engine, expire_on_commit=False, autoflush=True)
        self._session = session
        self.directory = SqlDirectory(session, self._now())
        self.incidents = SqlIncidents(session)
        self.decisions = SqlDecisionLog(session)
        self.timers = SqlTimers(session)
        self.outbox = SqlOutbox(session)
        self.audit = SqlAudit(session)
        self.pace = SqlPace(session)
        self.personal_data = SqlPersonalData(session)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        session, self._session = self._open(), None
        try:
            session.rollback()  # a no-op after commit()
        except DBAPIError as error:
            if exc is None:  # otherwise the original failure is the one worth seeing
                raise as_store_error(error) from None
        finally:
            session.close()
            if self._writer is not None:
                self._writer.release()
        if isinstance(exc, DBAPIError):
            raise as_store_error(exc) from None  # the driver's message may quote values

    def commit(self) -> None:
        self._open().commit()

    def rollback(self) -> None:
        self._open().rollback()

    def _open(self) -> Session:
        if self._session is None:
            raise StoreError("the unit of work is not open: use it in a `with` block")
        return self._session

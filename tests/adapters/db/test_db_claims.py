"""Concurrent workers: every due row is leased to exactly one of them.

Each worker is a thread with its own unit of work, looping claim-and-commit as the poller and
the dispatcher do. On SQLite (and the memory store) the workers queue for the single write lock
(BEGIN IMMEDIATE); on PostgreSQL they run at once and skip each other's locked rows (FOR UPDATE
SKIP LOCKED), which only the last test, on PostgreSQL alone, checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, event

from incident_bot.adapters.db import SqlUnitOfWork, make_engine
from incident_bot.domain.effects import Notify, OutboxChannel, ScheduleTimer

NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
ROWS = 120


def _run_workers(claim_batch: Callable[[str], list[str]], names: tuple[str, ...]) -> list[str]:
    claimed: dict[str, list[str]] = {name: [] for name in names}
    failures: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while batch := claim_batch(name):
                claimed[name].extend(batch)
        except BaseException as error:  # surfaced in the main thread below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return [key for name in names for key in claimed[name]]


def test_concurrent_pollers_lease_every_due_timer_exactly_once(any_uow_factory):
    with any_uow_factory() as uow:
        for n in range(ROWS):
            uow.timers.schedule("inc-1", ScheduleTimer(key=f"t{n}", due_at=NOW, kind="x"))
        uow.commit()

    def claim(worker: str) -> list[str]:
        with any_uow_factory() as uow:
            batch = uow.timers.claim_due(NOW, 7, 60, worker)
            uow.commit()
        return [t.key for t in batch]

    every = _run_workers(claim, ("a", "b", "c"))
    assert sorted(every) == sorted(f"t{n}" for n in range(ROWS))


def test_concurrent_dispatchers_lease_every_outbox_item_exactly_once(any_uow_factory):
    with any_uow_factory() as uow:
        for n in range(ROWS):
            uow.outbox.add("inc-1", Notify(key=f"o{n}", channel=OutboxChannel.SMS,
                                           recipient=f"p{n}", body="b", purpose="p",
                                           priority=n % 3), NOW)
        uow.commit()

    def claim(worker: str) -> list[str]:
        with any_uow_factory() as uow:
            batch = uow.outbox.claim(NOW, 5, 60, worker)
            uow.commit()
        return [i.key for i in batch]

    every = _run_workers(claim, ("a", "b", "c"))
    assert sorted(every) == sorted(f"o{n}" for n in range(ROWS))


def test_a_claim_waiting_for_an_open_claim_gets_only_the_other_rows(any_uow_factory):
    with any_uow_factory() as uow:
        for n in range(10):
            uow.timers.schedule("inc-1", ScheduleTimer(key=f"t{n}", due_at=NOW, kind="x"))
        uow.commit()
    second: list[str] = []
    with any_uow_factory() as first_uow:
        first = [t.key for t in first_uow.timers.claim_due(NOW, 4, 60, "a")]
        other = threading.Thread(target=lambda: second.extend(_claim_all(any_uow_factory, "b")))
        other.start()  # SQLite and memory: it waits for our lock; PostgreSQL: it skips our rows
        first_uow.commit()
    other.join()
    assert (len(first), sorted(first + second)) == (4, sorted(f"t{n}" for n in range(10)))


def _claim_all(uow_factory, worker: str) -> list[str]:
    with uow_factory() as uow:
        batch = uow.timers.claim_due(NOW, 100, 60, worker)
        uow.commit()
    return [t.key for t in batch]


@pytest.fixture
def impatient_engine(database_url: str, engine: Engine):
    """A second engine whose lock waits give up after 5 s, so a missing SKIP LOCKED fails the
    test instead of hanging it."""
    impatient = make_engine(database_url)

    @event.listens_for(impatient, "connect")
    def _lock_timeout(dbapi_connection, _record) -> None:
        dbapi_connection.execute("SET lock_timeout = '5s'")
        dbapi_connection.commit()

    yield impatient
    impatient.dispose()


@pytest.mark.backends("postgres")
def test_on_postgres_a_claim_skips_rows_held_by_an_open_claim_without_waiting(
        uow_factory, impatient_engine):
    with uow_factory() as uow:
        for n in range(10):
            uow.timers.schedule("inc-1", ScheduleTimer(key=f"t{n}", due_at=NOW, kind="x"))
        uow.commit()
    with uow_factory() as first_uow:
        first = [t.key for t in first_uow.timers.claim_due(NOW, 4, 60, "a")]
        second = _claim_all(lambda: SqlUnitOfWork(impatient_engine), "b")
    assert (first, sorted(second)) == (
        ["t0", "t1", "t2", "t3"], sorted(f"t{n}" for n in range(4, 10)))

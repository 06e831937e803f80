"""Timers at scale (issue "Benchmarks" §4).

10,000 pending ``scheduled_action`` rows fall due evenly over one minute of real time, on the
real poller driven by APScheduler (every ``INCIDENT_BOT_TICK_SECONDS``, 0.25 s by default, as
``serve``) with the system clock. Lateness is the time
from a timer's due time to the moment its batch was applied (the ``fired_at`` the poller
records). The timers are ring-round alerts for a tier that never started, so the domain's work
per timer is small and the figure measures the timer machinery: claim, load, apply, save.

Recovery: 10,000 timers already overdue (as after an outage), a fresh process (new engine,
new services) works through them; the figure is the time from start-up to the last one fired.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bench.common import drill_settings, percentile
from incident_bot.adapters.db.tables import TimerRow
from incident_bot.bootstrap import Services, bootstrap
from incident_bot.domain.commands import ApproveMessage
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import ScheduleTimer
from incident_bot.domain.playbook import Channel
from incident_bot.domain.ringround import RED_TIMER
from incident_bot.service.clock import SystemClock
from incident_bot.service.use_cases import StartRequest

INCIDENTS = 10


def _people() -> list[Person]:
    commander = Person(key="cmd", name="Commander", roles=("commander",), slack_user_id="U0CMD",
                       channels=(Channel.SLACK,))
    return [commander, *[Person(key=f"c{n}", name=f"Contact {n}", tier=1,
                                phone=f"+4477009{n:05d}", language="en",
                                channels=(Channel.SMS, Channel.VOICE)) for n in range(10)]]


def _services(url: str) -> Services:
    return bootstrap(drill_settings(url), clock=SystemClock(), worker="bench")


def _incidents(services: Services) -> list[str]:
    with services.uow_factory() as uow:
        uow.directory.upsert(_people())
        uow.commit()
    now = datetime.now(UTC)
    ids = []
    for n in range(INCIDENTS):
        incident_id = services.incidents.start_incident(StartRequest(
            playbook_id="restart-drill", area="Benchtown", t0=now, started_by="cmd"),
            incident_id=f"bench-{n}")
        services.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
        ids.append(incident_id)
    services.tick()
    return ids


def _schedule(services: Services, incident_ids: list[str], dues: list[datetime]) -> None:
    with services.uow_factory() as uow:
        for n, due in enumerate(dues):
            incident_id = incident_ids[n % len(incident_ids)]
            uow.timers.schedule(incident_id, ScheduleTimer(f"bench:{n}", due, RED_TIMER,
                                                           {"tier": 9}))
        uow.commit()


def _bench_rows(services: Services) -> list[TimerRow]:
    with services.engine.connect() as connection:
        rows = connection.execute(select(TimerRow.due_at, TimerRow.fired_at)
                                  .where(TimerRow.key.like("bench:%"))).all()
    return list(rows)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def lateness(url: str, count: int = 10_000, window: float = 60.0,
             interval: float | None = None) -> dict[str, float]:
    services = _services(url)
    interval = interval or services.settings.tick_seconds
    ids = _incidents(services)
    first = datetime.now(UTC) + timedelta(seconds=5)
    _schedule(services, ids, [first + timedelta(seconds=window * n / count)
                              for n in range(count)])
    scheduler = services.scheduler(interval_seconds=interval)
    scheduler.start()
    deadline = time.monotonic() + window + 120
    try:
        while time.monotonic() < deadline:
            time.sleep(1.0)  # a benchmark waiting on real time, not a test
            if all(row.fired_at is not None for row in _bench_rows(services)):
                break
    finally:
        scheduler.shutdown(wait=True)
    rows = _bench_rows(services)
    late = [(_aware(r.fired_at) - _aware(r.due_at)).total_seconds()
            for r in rows if r.fired_at is not None]
    services.engine.dispose()
    return {"timers": count, "fired": len(late), "p50": percentile(late, 50),
            "p99": percentile(late, 99), "max": max(late, default=float("nan")),
            "interval": interval}


def recovery(url: str, count: int = 10_000) -> dict[str, float]:
    services = _services(url)
    ids = _incidents(services)
    overdue = datetime.now(UTC) - timedelta(minutes=10)
    _schedule(services, ids, [overdue + timedelta(milliseconds=n) for n in range(count)])
    services.engine.dispose()
    started = time.perf_counter()
    restarted = _services(url)  # the new process: new engine, migrations checked, playbooks read
    ready = time.perf_counter()
    while any(row.fired_at is None for row in _bench_rows(restarted)):
        restarted.tick()
    done = time.perf_counter()
    restarted.engine.dispose()
    return {"timers": count, "startup_s": ready - started, "drain_s": done - ready,
            "total_s": done - started}

"""APScheduler 3.11 drives the poller and the dispatcher; it holds no timers of its own.

Timers live in the database (``scheduled_action``). The scheduler has an in-memory job store and
one interval job, so nothing is pickled and a restart loses nothing: the next tick claims
whatever fell due meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

TICK_JOB_ID = "incident-bot-tick"


def build_scheduler(
    tick: Callable[[], object], interval_seconds: float = 1.0
) -> BackgroundScheduler:
    """A stopped scheduler with one job calling ``tick`` every ``interval_seconds``."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    scheduler.add_job(tick, "interval", seconds=interval_seconds, id=TICK_JOB_ID,
                      replace_existing=True)
    return scheduler

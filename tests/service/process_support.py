"""What the restart and replica tests share: the worker process (``restart_worker.py``), the clock
file it reads, the restart drill started on the test's database, and the bounded waits for the
workers to send or to settle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from incident_bot.adapters.db import SqlUnitOfWork
from incident_bot.domain.commands import ApproveMessage
from incident_bot.service.use_cases import StartRequest
from tests.drill import DRILL, Harness, drill_people, make_harness
from tests.fakes import T0

WORKER = Path(__file__).with_name("restart_worker.py")
WAIT_SECONDS = 60.0  # a wall-clock bound on waiting for the worker, never a pause for time


class Worker:
    def __init__(self, url: str, tmp: Path) -> None:
        self.args = [sys.executable, str(WORKER), url, str(DRILL / "playbooks"),
                     str(DRILL / "templates"), str(tmp / "clock"), str(tmp / "sent.jsonl"),
                     str(tmp / "stop")]
        self.env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        self.process: subprocess.Popen[bytes] | None = None
        self.stderr = tmp / "worker.err"

    def start(self) -> None:
        with self.stderr.open("ab") as err:
            self.process = subprocess.Popen(self.args, env=self.env, stderr=err)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, tmp: Path) -> None:
        (tmp / "stop").touch()
        assert self.process is not None
        self.process.wait(timeout=WAIT_SECONDS)


@dataclass
class Drill:
    """The restart drill started (and its SMS approved) on the test's database, at T0."""

    uow_factory: Callable[[], SqlUnitOfWork]
    harness: Harness
    clock_file: Path
    incident_id: str


def start_drill(engine: Engine, contacts: int, tmp: Path) -> Drill:
    """``contacts`` people, half in tier 1 and half in tier 2; the clock file at T0."""
    uow_factory = lambda: SqlUnitOfWork(engine)  # noqa: E731
    harness = make_harness(uow_factory, drill_people(tier1=contacts // 2, tier2=contacts // 2))
    clock_file = tmp / "clock"
    set_clock(clock_file, T0)
    incident_id = harness.incidents.start_incident(StartRequest(
        playbook_id="restart-drill", area="Northbridge", t0=T0, started_by="cmd"))
    harness.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
    return Drill(uow_factory, harness, clock_file, incident_id)


def set_clock(clock_file: Path, now: datetime) -> None:
    """Atomically, so the worker never reads a half-written file."""
    partial = clock_file.with_suffix(".tmp")
    partial.write_text(str(now.timestamp()))
    os.replace(partial, clock_file)


def settled(uow_factory: Callable[[], SqlUnitOfWork], now: datetime) -> bool:
    with uow_factory() as uow:
        timers_due = [t for t in uow.timers.pending() if t.due_at <= now]
        unsent = [i for i in uow.outbox.items()
                  if i.status in ("pending", "sending") and i.next_attempt_at <= now]
    return not timers_due and not unsent


def wait_until_settled(uow_factory: Callable[[], SqlUnitOfWork], now: datetime,
                       workers: list[Worker], seconds: float = WAIT_SECONDS,
                       what: str = "the worker") -> None:
    """Until nothing is due at ``now``; every worker must stay alive meanwhile."""
    deadline = time.monotonic() + seconds
    while not settled(uow_factory, now):
        for worker in workers:
            assert worker.process is not None
            assert worker.process.poll() is None, worker.stderr.read_text()
        assert time.monotonic() < deadline, f"{what} did not catch up"
        time.sleep(0.02)


def sends_so_far(tmp: Path) -> int:
    log = tmp / "sent.jsonl"
    return len(log.read_text().splitlines()) if log.exists() else 0


def wait_for_sends(tmp: Path, sends: int) -> None:
    """Until ``sends`` more sends have happened (bounded: then the caller goes on anyway)."""
    target = sends_so_far(tmp) + sends
    deadline = time.monotonic() + WAIT_SECONDS
    while sends_so_far(tmp) < target and time.monotonic() < deadline:
        time.sleep(0.001)

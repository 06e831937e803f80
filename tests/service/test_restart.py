"""Crash and restart with a real OS process: SIGKILL the worker while timers are pending and
deliveries are in flight, start it again, and check that nothing was lost or sent twice.

The worker (``restart_worker.py``) runs the real poller and dispatcher against the test's
database; its clock is a file this test moves forward, and its transports append every send to
a log file (synced before the send "returns", like a provider that accepted the message)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from incident_bot.adapters.db import SqlUnitOfWork
from incident_bot.domain.commands import ApproveMessage
from incident_bot.service.handlers import StartRequest
from tests.service.conftest import DRILL, T0, drill_people, make_harness

WORKER = Path(__file__).with_name("restart_worker.py")
CONTACTS = 200
STEP = timedelta(minutes=2)
STEPS = 50  # 100 simulated minutes: past every rung, amber and red timer of the drill
# (step, sends to wait for): kill during the first SMS burst, the voice-call burst at +15/+20
# minutes, and at a random quiet moment.
KILL_POINTS = ((0, 20), (8, 10), (10, 5))
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


def _set_clock(clock_file: Path, now) -> None:
    """Atomically, so the worker never reads a half-written file."""
    partial = clock_file.with_suffix(".tmp")
    partial.write_text(str(now.timestamp()))
    os.replace(partial, clock_file)


def _settled(uow_factory, now) -> bool:
    with uow_factory() as uow:
        timers_due = [t for t in uow.timers.pending() if t.due_at <= now]
        unsent = [i for i in uow.outbox.items()
                  if i.status in ("pending", "sending") and i.next_attempt_at <= now]
    return not timers_due and not unsent


def _wait_until_settled(uow_factory, now, worker: Worker) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not _settled(uow_factory, now):
        assert worker.process is not None
        assert worker.process.poll() is None, worker.stderr.read_text()
        assert time.monotonic() < deadline, "the worker did not catch up"
        time.sleep(0.02)


def _sends_so_far(tmp: Path) -> int:
    log = tmp / "sent.jsonl"
    return len(log.read_text().splitlines()) if log.exists() else 0


def _kill_after_sends(worker: Worker, tmp: Path, sends: int, uow_factory) -> int:
    """SIGKILL once ``sends`` more sends have happened; returns how many rows were leased
    (claimed for sending, not yet recorded) at that moment."""
    target = _sends_so_far(tmp) + sends
    deadline = time.monotonic() + WAIT_SECONDS
    while _sends_so_far(tmp) < target and time.monotonic() < deadline:
        time.sleep(0.001)
    worker.kill()
    with uow_factory() as uow:
        return sum(1 for i in uow.outbox.items() if i.status == "sending")


@pytest.mark.slow
def test_a_killed_worker_loses_no_timer_and_sends_nothing_twice(database_url, engine, tmp_path):
    uow_factory = lambda: SqlUnitOfWork(engine)  # noqa: E731
    harness = make_harness(uow_factory, drill_people(tier1=CONTACTS // 2, tier2=CONTACTS // 2))
    clock_file = tmp_path / "clock"
    _set_clock(clock_file, T0)
    incident_id = harness.incidents.start_incident(StartRequest(
        playbook_id="restart-drill", area="Northbridge", t0=T0, started_by="cmd"))
    harness.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))

    rng = random.Random(20261123)
    kill_points = dict(KILL_POINTS) | {rng.randrange(12, STEPS): 0}
    worker = Worker(database_url, tmp_path)
    now, kills, in_flight = T0, 0, 0
    worker.start()
    for step in range(STEPS + 1):
        now = T0 + step * STEP
        _set_clock(clock_file, now)
        if step in kill_points:
            in_flight += _kill_after_sends(worker, tmp_path, kill_points[step], uow_factory)
            kills += 1
            # the dead worker's leases run out on the simulated clock, then a new one resumes
            now += timedelta(seconds=61)
            _set_clock(clock_file, now)
            worker.start()
        _wait_until_settled(uow_factory, now, worker)
    worker.stop(tmp_path)

    sends = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    by_key = Counter(s["key"] for s in sends)
    with uow_factory() as uow:
        timers = uow.timers.pending(incident_id)
        outbox = uow.outbox.items(incident_id)
    view = harness.incidents.view(incident_id)

    print(f"restart test: {kills} kills, {in_flight} deliveries leased when killed, "
          f"{len(sends)} sends, {len(outbox)} outbox rows")
    assert kills == len(KILL_POINTS) + 1
    assert in_flight > 0  # the kills really did land mid-delivery
    assert [k for k, n in by_key.items() if n > 1] == []  # no delivery twice
    assert {s["key"] for s in sends} == {i.key for i in outbox if i.status == "sent"}
    assert [t.key for t in timers if t.due_at <= now] == []  # every due timer fired
    assert sum(t.total for t in view.tiers) == CONTACTS
    assert all(t.pending == 0 for t in view.tiers)  # every contact terminal
    sms_per_phone = Counter(s["to"] for s in sends if s["kind"] == "sms")
    assert len(sms_per_phone) == CONTACTS
    assert set(sms_per_phone.values()) == {1}

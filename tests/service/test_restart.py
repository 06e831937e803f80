"""Crash and restart with a real OS process: SIGKILL the worker while timers are pending and
deliveries are in flight, start it again, and check that nothing was lost or sent twice.

The worker (``restart_worker.py``) runs the real poller and dispatcher against the test's
database; its clock is a file this test moves forward, and its transports append every send to
a log file (synced before the send "returns", like a provider that accepted the message)."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fakes import T0
from tests.service.process_support import (
    Worker,
    set_clock,
    start_drill,
    wait_for_sends,
    wait_until_settled,
)

CONTACTS = 200
STEP = timedelta(minutes=2)
STEPS = 50  # 100 simulated minutes: past every rung, amber and red timer of the drill
# (step, sends to wait for): kill during the first SMS burst, the voice-call burst at +15/+20
# minutes, and at a random quiet moment.
KILL_POINTS = ((0, 20), (8, 10), (10, 5))


def _kill_after_sends(worker: Worker, tmp: Path, sends: int, uow_factory) -> int:
    """SIGKILL once ``sends`` more sends have happened; returns how many rows were leased
    (claimed for sending, not yet recorded) at that moment."""
    wait_for_sends(tmp, sends)
    worker.kill()
    with uow_factory() as uow:
        return sum(1 for i in uow.outbox.items() if i.status == "sending")


@pytest.mark.slow
def test_a_killed_worker_loses_no_timer_and_sends_nothing_twice(database_url, engine, tmp_path):
    drill = start_drill(engine, CONTACTS, tmp_path)
    uow_factory, harness, clock_file = drill.uow_factory, drill.harness, drill.clock_file
    incident_id = drill.incident_id

    rng = random.Random(20261123)
    kill_points = dict(KILL_POINTS) | {rng.randrange(12, STEPS): 0}
    worker = Worker(database_url, tmp_path)
    now, kills, in_flight = T0, 0, 0
    worker.start()
    for step in range(STEPS + 1):
        now = T0 + step * STEP
        set_clock(clock_file, now)
        if step in kill_points:
            in_flight += _kill_after_sends(worker, tmp_path, kill_points[step], uow_factory)
            kills += 1
            # the dead worker's leases run out on the simulated clock, then a new one resumes
            now += timedelta(seconds=61)
            set_clock(clock_file, now)
            worker.start()
        wait_until_settled(uow_factory, now, [worker])
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

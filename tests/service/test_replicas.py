"""Several bot processes on one PostgreSQL database share the timers and the outbox: claims
are ``FOR UPDATE SKIP LOCKED`` with leases, so any replica may take any row, no row is taken
by two, and the rows of a replica that dies are taken over when its leases run out.

Three worker processes (the same script as the restart test: the real poller and dispatcher,
a clock read from a file, transports appending every send to a log) run a 500-contact
ring-round; one is SIGKILLed mid-run and never restarted.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.fakes import T0
from tests.service.process_support import (
    WAIT_SECONDS,
    Worker,
    set_clock,
    start_drill,
    wait_for_sends,
    wait_until_settled,
)

CONTACTS = 500
REPLICAS = 3
STEP = timedelta(minutes=2)
STEPS = 50  # 100 simulated minutes: past every rung of the drill
KILL_AT_STEP, KILL_AFTER_SENDS = 8, 40  # in the voice-call burst


def _wait_until_only_the_dead_hold_leases(engine, dead: str, now) -> None:
    busy = text("""
        SELECT (SELECT count(*) FROM outbox
                WHERE (status = 'sending' AND worker <> :dead)
                   OR (status = 'pending' AND next_attempt_at <= :now))
             + (SELECT count(*) FROM scheduled_action
                WHERE (status = 'leased' AND worker <> :dead)
                   OR (status = 'pending' AND due_at <= :now))""")
    deadline = time.monotonic() + WAIT_SECONDS * 3
    while True:
        with engine.connect() as connection:
            if connection.execute(busy, {"dead": dead, "now": now}).scalar_one() == 0:
                return
        assert time.monotonic() < deadline, "the surviving replicas did not finish their work"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.backends("postgres")
def test_three_replicas_share_the_work_and_survive_losing_one(database_url, engine, tmp_path):
    drill = start_drill(engine, CONTACTS, tmp_path)
    uow_factory, harness, clock_file = drill.uow_factory, drill.harness, drill.clock_file
    incident_id = drill.incident_id

    replicas = []
    for n in range(REPLICAS):
        worker = Worker(database_url, tmp_path)
        worker.stderr = tmp_path / f"replica-{n}.err"
        worker.start()
        replicas.append(worker)
    alive, killed_pid, now = list(replicas), None, T0
    for step in range(STEPS + 1):
        now = T0 + step * STEP
        set_clock(clock_file, now)
        if step == KILL_AT_STEP:
            wait_for_sends(tmp_path, KILL_AFTER_SENDS)
            victim = alive.pop(0)
            assert victim.process is not None
            killed_pid = victim.process.pid
            victim.kill()
            # Only the dead replica's leases may run out: the survivors finish what they hold
            # first (in real time a send takes seconds and a lease a minute).
            _wait_until_only_the_dead_hold_leases(engine, f"worker-{killed_pid}", now)
            now += timedelta(seconds=61)  # its leases run out on the simulated clock
            set_clock(clock_file, now)
        wait_until_settled(uow_factory, now, alive, WAIT_SECONDS * 3, "the replicas")
    for worker in alive:
        worker.stop(tmp_path)

    sends = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    by_key = Counter(s["key"] for s in sends)
    by_replica = Counter(s["pid"] for s in sends)
    with uow_factory() as uow:
        timers = uow.timers.pending(incident_id)
        outbox = uow.outbox.items(incident_id)
    view = harness.incidents.view(incident_id)
    print(f"replicas test: {len(sends)} sends by replica {dict(by_replica)}, killed {killed_pid}")

    assert [k for k, n in by_key.items() if n > 1] == []  # nothing sent twice
    assert {s["key"] for s in sends} == {i.key for i in outbox if i.status == "sent"}
    assert [t.key for t in timers if t.due_at <= now] == []  # every due timer fired
    assert all(t.pending == 0 for t in view.tiers)  # every contact terminal
    assert sum(t.total for t in view.tiers) == CONTACTS
    assert len(by_replica) == REPLICAS  # every replica did part of the work
    survivors = {w.process.pid for w in alive if w.process is not None}
    late = [s for s in sends[len(sends) // 2:] if s["pid"] not in survivors]
    assert late == []  # after the kill only the survivors send

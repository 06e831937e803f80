"""Several bot processes on one PostgreSQL database share the timers and the outbox: claims
are ``FOR UPDATE SKIP LOCKED`` with leases, so any replica may take any row, no row is taken
by two, and the rows of a replica that dies are taken over when its leases run out.

Three worker processes (the same script as the restart test: the real poller and dispatcher,
a clock read from a file, transports appending every send to a log) run a 1,000-contact
ring-round; one is SIGKILLed mid-run and never restarted.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from incident_bot.adapters.db import SqlUnitOfWork
from incident_bot.domain.commands import ApproveMessage
from incident_bot.service.handlers import StartRequest
from tests.service.conftest import T0, drill_people, make_harness
from tests.service.test_restart import WAIT_SECONDS, Worker, _sends_so_far, _set_clock, _settled

CONTACTS = 1_000
REPLICAS = 3
STEP = timedelta(minutes=2)
STEPS = 50  # 100 simulated minutes: past every rung of the drill
KILL_AT_STEP, KILL_AFTER_SENDS = 8, 40  # in the voice-call burst


def _wait_until_settled(uow_factory, now, workers: list[Worker]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS * 3
    while not _settled(uow_factory, now):
        for worker in workers:
            assert worker.process is not None
            assert worker.process.poll() is None, worker.stderr.read_text()
        assert time.monotonic() < deadline, "the replicas did not catch up"
        time.sleep(0.02)


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
    uow_factory = lambda: SqlUnitOfWork(engine)  # noqa: E731
    harness = make_harness(uow_factory, drill_people(tier1=CONTACTS // 2, tier2=CONTACTS // 2))
    clock_file = tmp_path / "clock"
    _set_clock(clock_file, T0)
    incident_id = harness.incidents.start_incident(StartRequest(
        playbook_id="restart-drill", area="Northbridge", t0=T0, started_by="cmd"))
    harness.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))

    replicas = []
    for n in range(REPLICAS):
        worker = Worker(database_url, tmp_path)
        worker.stderr = tmp_path / f"replica-{n}.err"
        worker.start()
        replicas.append(worker)
    alive, killed_pid, now = list(replicas), None, T0
    for step in range(STEPS + 1):
        now = T0 + step * STEP
        _set_clock(clock_file, now)
        if step == KILL_AT_STEP:
            target = _sends_so_far(tmp_path) + KILL_AFTER_SENDS
            deadline = time.monotonic() + WAIT_SECONDS
            while _sends_so_far(tmp_path) < target and time.monotonic() < deadline:
                time.sleep(0.001)
            victim = alive.pop(0)
            assert victim.process is not None
            killed_pid = victim.process.pid
            victim.kill()
            # Only the dead replica's leases may run out: the survivors finish what they hold
            # first (in real time a send takes seconds and a lease a minute).
            _wait_until_only_the_dead_hold_leases(engine, f"worker-{killed_pid}", now)
            now += timedelta(seconds=61)  # its leases run out on the simulated clock
            _set_clock(clock_file, now)
        _wait_until_settled(uow_factory, now, alive)
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

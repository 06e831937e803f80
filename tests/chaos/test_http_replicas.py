"""Three bot processes (``bot_process.py``, the real HTTP app) on one PostgreSQL database, with
the fake Slack and fake Twilio in this process, run one ring-round while one of them is
SIGKILLed part-way through.

All three share PUBLIC_BASE_URL (as behind a load balancer): the fake Twilio signs every webhook
over that public URL and posts it to one replica's real loopback address, round-robin over the
replicas still alive, several at once. The commander starts the ring-round with signed Slack
commands to the first replica.

Checked: every contact in a terminal state, every timer that fell due fired, the decision log's
chain verifies, no number got one message version twice on one channel from two outbox rows
(a row resent across the kill is the unavoidable window: counted, at most one per kill), and the
pool kept the shared send pace: in no simulated second did the fake accept more texts (or
calls) than TWILIO_SEND_RATE (TWILIO_CALL_RATE) allows, though three processes were sending.

``CHAOS_REPLICA_CONTACTS``: 300 by default (CI), 1000 for the full run.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest

from incident_bot.adapters.db import SqlUnitOfWork
from incident_bot.testing.fake_slack import FakeSlack
from tests.chaos.harness import (
    PUBLIC,
    T0,
    Bot,
    Chaos,
    People,
    Rates,
    RoutedTwilio,
    SimClock,
    bot_env,
    check_run,
    env_int,
    iter_windows,
    people,
    per_second,
    report,
    start_ringround,
    tier_codes,
)
from tests.twilio.conftest import ACCOUNT_SID, AUTH_TOKEN

CONTACTS = env_int("CHAOS_REPLICA_CONTACTS", 300)
REPLICAS = 3
SEED = env_int("CHAOS_SEED", 20261123) + 1
RATES = Rates(sms=20, voice=5)  # per simulated second, for the whole pool
END = T0 + timedelta(hours=3)


@pytest.mark.slow
@pytest.mark.backends("postgres")
def test_three_replicas_share_the_work_and_the_pace_and_survive_losing_one(
        database_url, engine, tmp_path):
    began = time.monotonic()
    directory = people(CONTACTS)
    with SqlUnitOfWork(engine) as uow:
        uow.directory.upsert(directory)
        uow.commit()
    clock = SimClock(tmp_path / "clock")
    rng = random.Random(SEED)
    kill_after = [rng.randrange(CONTACTS // 4, CONTACTS)]  # during the texts
    with FakeSlack() as slack, RoutedTwilio(ACCOUNT_SID, AUTH_TOKEN, clock=clock.read,
                                            seed=SEED, public_base_url=PUBLIC) as twilio:
        env = bot_env(database_url, slack, twilio, TWILIO_SEND_RATE=str(RATES.sms),
                      TWILIO_CALL_RATE=str(RATES.voice))
        bots = [Bot(f"replica-{n}", env, clock, tmp_path) for n in range(REPLICAS)]
        chaos = Chaos(bots, clock, engine, twilio, RATES, kill_after, respawn=False, rng=rng)
        try:
            for bot in bots:
                bot.start()
            chaos.incident_id = start_ringround(bots[0], slack, engine)
            answers = People(twilio, tier_codes(engine, chaos.incident_id, directory), SEED,
                             targets=chaos.urls, threads=6)
            chaos.run(answers, END)
        finally:
            for bot in bots:
                bot.stop()

    result = check_run(chaos, CONTACTS)
    texts, calls = per_second(twilio.messages), per_second(twilio.calls)
    print(report("replicas", chaos, answers, result, time.monotonic() - began)
          + f"; busiest simulated second: {max(texts.values())} texts (rate {RATES.sms:g}), "
          f"{max(calls.values())} calls (rate {RATES.voice:g}); webhooks per replica "
          f"{sorted(answers.by_target.values())}")
    assert chaos.kills == 1
    result.assert_clean(CONTACTS, chaos.kills)
    assert len(result.by_worker) >= REPLICAS  # every process sent (the restarted none: pids)
    assert len(answers.by_target) == REPLICAS  # the webhooks went to every replica
    assert max(texts.values()) <= RATES.sms * RATES.burst
    assert max(calls.values()) <= RATES.voice * RATES.burst
    assert max(iter_windows(texts, 10)) <= RATES.sms * (10 + RATES.burst)

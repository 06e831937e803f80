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

``CHAOS_REPLICA_CONTACTS``: 200 by default (CI), 1000 for the full run.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.chaos.harness import T0, Rates, env_int, iter_windows, per_second, run_chaos

CONTACTS = env_int("CHAOS_REPLICA_CONTACTS", 200)
REPLICAS = 3
SEED = env_int("CHAOS_SEED", 20261123) + 1
RATES = Rates(sms=20, voice=5)  # per simulated second, for the whole pool
END = T0 + timedelta(hours=3)


@pytest.mark.slow
@pytest.mark.backends("postgres")
def test_three_replicas_share_the_work_and_the_pace_and_survive_losing_one(
        database_url, engine, tmp_path):
    run = run_chaos(
        database_url, engine, tmp_path, contacts=CONTACTS, seed=SEED, rates=RATES, end=END,
        bots=[f"replica-{n}" for n in range(REPLICAS)], respawn=False, threads=6,
        kill_after=lambda rng: [rng.randrange(CONTACTS // 4, CONTACTS)])  # during the texts

    result, answers = run.result, run.answers
    texts, calls = per_second(run.twilio.messages), per_second(run.twilio.calls)
    print(run.report("replicas")
          + f"; busiest simulated second: {max(texts.values())} texts (rate {RATES.sms:g}), "
          f"{max(calls.values())} calls (rate {RATES.voice:g}); webhooks per replica "
          f"{sorted(answers.by_target.values())}")
    assert run.chaos.kills == 1
    result.assert_clean(CONTACTS, run.chaos.kills)
    assert len(result.by_worker) >= REPLICAS  # every process sent (the restarted none: pids)
    assert len(answers.by_target) == REPLICAS  # the webhooks went to every replica
    assert max(texts.values()) <= RATES.sms * RATES.burst
    assert max(calls.values()) <= RATES.voice * RATES.burst
    assert max(iter_windows(texts, 10)) <= RATES.sms * (10 + RATES.burst)

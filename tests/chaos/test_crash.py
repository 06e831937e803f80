"""Crash the real HTTP bot over and over during a ring-round and check that nothing was lost.

The bot is ``bot_process.py``: ``serve --http`` as shipped (Bolt app, Twilio webhooks and the
tick on waitress) with a clock file this test moves. The fake Slack and fake Twilio run in this
process. A commander starts the ``twilio-drill`` ring-round with signed ``/incident start`` and
``/incident message approve`` commands; the fake Twilio then plays the contacts (signed status
callbacks, replies with the code, STOP, calls answered with 1 or failing; see ``People``) while
the test SIGKILLs the bot at seeded random moments (after the n-th text or call the fake
accepted) and starts it again, ``CHAOS_KILLS`` times: 5 kills among 200 contacts by default,
``CHAOS_KILLS=20 CHAOS_CONTACTS=500`` for the full run (docs/reliability.md).

Afterwards every contact is in a terminal state, no timer that fell due is left, the decision
log's hash chain verifies, and no number got one message version twice on one channel from two
outbox rows. One row sent twice (Twilio accepted it, the bot died before recording it, and the
re-check before the resend missed it) is the unavoidable window: counted and printed, at most
one per kill.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident_bot.testing.fake_twilio import Faults
from tests.chaos.harness import T0, Rates, env_int, run_chaos

CONTACTS = env_int("CHAOS_CONTACTS", 200)
KILLS = env_int("CHAOS_KILLS", 5)
SEED = env_int("CHAOS_SEED", 20261123)
RATES = Rates(sms=25, voice=10)  # per simulated second (the bot's TWILIO_SEND/CALL_RATE)
END = T0 + timedelta(hours=3)  # past every rung of both tiers, with 20 kills' downtime


@pytest.mark.slow
def test_a_bot_killed_again_and_again_loses_nothing_and_sends_nothing_twice(
        database_url, engine, tmp_path):
    run = run_chaos(
        database_url, engine, tmp_path, contacts=CONTACTS, seed=SEED, rates=RATES, end=END,
        bots=["bot"], respawn=True, faults=Faults(rate_429=0.02),
        kill_after=lambda rng: sorted(rng.sample(range(1, CONTACTS * 13 // 10), KILLS)))

    print(run.report("crash"))
    assert run.chaos.kills == KILLS
    run.result.assert_clean(CONTACTS, run.chaos.kills)

"""Against the manual baseline (issue "Benchmarks" §6): the reference CT exercise.

The reference exercise is ``ct-arrests-and-searches`` on the bundled sample directory with a
fixed seed and T0, run as fast as possible. From the incident it leaves behind we take, for
tiers 1 and 2, the time from the start of the tier-1 round until every contact of both tiers
is reached or confirmed (or, for those who never are, in another final state), and compare it
with a manual ring-round by the same number of callers, one call after another at 3 minutes a
call, starting at the same moment. The simulated people are those of exercise mode (late
callers, voicemail, dead numbers, replies by text): see docs/exercise.md.
"""

from __future__ import annotations

import math
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import ROOT
from incident_bot.adapters.db import SqlUnitOfWork, make_engine
from incident_bot.domain.incident_model import Incident
from incident_bot.domain.ladder import ContactState
from incident_bot.entrypoints.exercise import (
    ExerciseConfig,
    database_file,
    database_url,
    exercise_settings,
    prepare,
    run_exercise,
)
from incident_bot.settings import load_settings

SEED = 1
T0 = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
MANUAL_CALL = timedelta(minutes=3)
SAMPLE = ROOT / "incident_bot" / "data" / "sample_directory.csv"
REACHED = {ContactState.REACHED, ContactState.CONFIRMED}


def run() -> dict[str, float | str]:
    with tempfile.TemporaryDirectory(prefix="incident-bot-bench-") as scratch:
        settings = load_settings({}, ROOT)
        config = ExerciseConfig("ct-arrests-and-searches", T0, seed=SEED)
        database = database_file(Path(scratch), config.incident_id)
        prepared = prepare(exercise_settings(settings, database), config, SAMPLE, database)
        wall = time.perf_counter()
        result = run_exercise(prepared, config)
        wall = time.perf_counter() - wall
        engine = make_engine(database_url(database))
        with SqlUnitOfWork(engine) as uow:
            incident = Incident.from_dict(uow.incidents.get(result.incident_id).document)
        engine.dispose()
    rounds = [incident.ringround.tiers[n] for n in (1, 2) if n in incident.ringround.tiers]
    contacts = [c for r in rounds for c in r.contacts.values()]
    callers = {lst.caller for r in rounds for lst in r.lists}
    start = min(r.started_at for r in rounds)
    reached = [c for c in contacts if c.state in REACHED and c.outcome_at]
    last_reached = max(c.outcome_at for c in reached if c.outcome_at) - start
    last_final = max((c.outcome_at or start) for c in contacts) - start
    manual = math.ceil(len(contacts) / max(1, len(callers))) * MANUAL_CALL
    by_manual_end = [c for c in reached if c.outcome_at and c.outcome_at - start <= manual]
    by_fallback = [c for c in contacts if c.state is ContactState.CONFIRMED]
    return {
        "reached_by_manual_end": len(by_manual_end), "confirmed_by_sms_or_voice": len(by_fallback),
        "contacts": len(contacts), "callers": len(callers), "reached_or_confirmed": len(reached),
        "bot_all_reached_min": last_reached.total_seconds() / 60,
        "bot_all_final_min": last_final.total_seconds() / 60,
        "manual_min": manual.total_seconds() / 60,
        "ratio": manual / last_final if last_final else float("nan"),
        "exercise_wall_s": wall, "seed": SEED, "t0": T0.isoformat(),
    }

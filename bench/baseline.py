"""Against the manual baseline (issue #17, bench §6): the bot and a manual ring-round with the
same people, on 20 seeds.

For each seed the reference exercise (``ct-arrests-and-searches`` on the bundled sample
directory, fixed T0) runs twice over the same simulated people (``exercise/people.py``): once
with the bot, as fast as possible, and once as a manual ring-round (``exercise/manual.py``:
printed lists, the coordinator's phone, the same callers and retry policy, no automatic SMS or
voice) that opens tier 1 at the moment the bot's tier 1 opened. From each we take, for tiers 1
and 2 (``exercise/reach.py``): the time from the tier-1 round's start to 80 %, 95 % and 100 %
of the reachable contacts reached or confirmed, the share of all contacts never reached, and
the time from E0 to the media statement's release; and the physical floor, the same time had
every reachable contact been texted, called and rung at once (the people's own reply time).

The bot's run is also checked: every contact ends in a final state, tier 2 opens only after
tier 1's step is complete (or its gate is overridden or times out), and the media statement is
released only after the tier-1 step, by override, or at the gate's timeout.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import ROOT
from incident_bot.adapters.db import SqlUnitOfWork, make_engine
from incident_bot.domain.briefing import OpenedBy
from incident_bot.domain.incident.model import Incident
from incident_bot.entrypoints.exercise import (
    ExerciseConfig,
    database_file,
    database_url,
    exercise_settings,
    prepare,
    run_exercise,
)
from incident_bot.entrypoints.exercise.manual import manual_round
from incident_bot.entrypoints.exercise.reach import RoundReach
from incident_bot.entrypoints.exercise.runner import every_contact_final
from incident_bot.settings import load_settings

PLAYBOOK = "ct-arrests-and-searches"
SEEDS = tuple(range(1, 21))
T0 = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
SAMPLE = ROOT / "incident_bot" / "data" / "sample_directory.csv"
TIERS = (1, 2)
FRACTIONS = (0.8, 0.95, 1.0)


@dataclass(frozen=True)
class ModeFigures:
    """One mode's figures for one seed, in minutes (``math.inf``: never)."""

    to: dict[float, float]  # fraction -> minutes from the tier-1 start
    never_reached: float  # share of all tier 1-2 contacts
    reachable_missed: int  # reachable contacts never reached
    media_from_e0: float
    floor_95: float

    @classmethod
    def of(cls, reach: RoundReach, e0: datetime) -> ModeFigures:
        released = reach.media_released_at
        return cls(to={f: _minutes(reach.time_to(f, TIERS)) for f in FRACTIONS},
                   never_reached=reach.never_reached_share(TIERS),
                   reachable_missed=sum(1 for c in reach.of(TIERS)
                                        if c.reachable and c.reached_at is None),
                   media_from_e0=_minutes(released - e0 if released else None),
                   floor_95=_minutes(reach.floor(0.95, TIERS)))


@dataclass(frozen=True)
class SeedRun:
    seed: int
    bot: ModeFigures
    manual: ModeFigures
    contacts: int
    reachable: int
    all_final: bool
    order_kept: bool
    wall_s: float


def run(seeds: tuple[int, ...] = SEEDS) -> list[SeedRun]:
    return [run_seed(seed) for seed in seeds]


def run_seed(seed: int) -> SeedRun:
    with tempfile.TemporaryDirectory(prefix="incident-bot-bench-") as scratch:
        settings = load_settings({}, ROOT)
        config = ExerciseConfig(PLAYBOOK, T0, seed=seed)
        database = database_file(Path(scratch), config.incident_id)
        prepared = prepare(exercise_settings(settings, database), config, SAMPLE, database)
        wall = time.perf_counter()
        result = run_exercise(prepared, config)
        wall = time.perf_counter() - wall
        engine = make_engine(database_url(database))
        with SqlUnitOfWork(engine) as uow:
            incident = uow.incidents.get(result.incident_id).incident
        engine.dispose()
    if result.reach is None:
        raise RuntimeError(f"seed {seed}: the exercise started no ring-round")
    e0 = config.resolved(prepared.playbook).e0(prepared.playbook)
    manual = manual_round(prepared.playbook, prepared.people, seed, result.reach.started_at,
                          e0=e0)
    contacts, reachable, _ = result.reach.counts(TIERS)
    return SeedRun(seed, ModeFigures.of(result.reach, e0), ModeFigures.of(manual.reach, e0),
                   contacts, reachable, every_contact_final(incident), order_kept(incident),
                   wall)


def order_kept(incident: Incident) -> bool:
    """Tier 2 started no earlier than tier 1's step completed (or its own gate opened another
    allowed way), and the media statement's step opened after the tier-1 step or by an allowed
    override or timeout."""
    steps = incident.briefing.steps
    tier1, tier2, media = steps.get("tier-1"), steps.get("tier-2"), steps.get("media")
    if tier1 is None or tier2 is None or media is None:
        return False
    return _after(tier2.opened_at, tier2.opened_by, tier1.completed_at) and \
        _after(media.opened_at, media.opened_by, tier1.completed_at)


def _after(opened_at: datetime | None, how: OpenedBy | None, done: datetime | None) -> bool:
    if opened_at is None:
        return True  # never opened: nothing went early
    if how is not OpenedBy.GATE:
        return True  # an override or the gate's timeout: allowed by the playbook
    return done is not None and opened_at >= done


def _minutes(span: timedelta | None) -> float:
    return math.inf if span is None else span.total_seconds() / 60


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """Median (min, max), with "never" for a time not reached."""
    return f"{_text(median(values))} ({_text(min(values))}–{_text(max(values))})"


def _text(value: float) -> str:
    return "never" if math.isinf(value) else f"{value:.1f}"

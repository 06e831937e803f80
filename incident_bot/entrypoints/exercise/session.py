"""Setting an exercise up and running it: a fresh SQLite database of its own (never the
production one; kept afterwards so the incident can be reported, exported and verified), the
directory imported, the playbook loaded, the simulated people cast, the loop run.

``run_exercise`` is the API the CLI and the tests use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine, event

from incident_bot.adapters.directory_import import ImportReport, import_directory
from incident_bot.bootstrap import Services, bootstrap
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Playbook
from incident_bot.entrypoints.exercise.acting import Behaviour
from incident_bot.entrypoints.exercise.live import describe
from incident_bot.entrypoints.exercise.participants import Cast
from incident_bot.entrypoints.exercise.reach import RoundReach, bot_reach
from incident_bot.entrypoints.exercise.runner import (
    ExerciseConfig,
    ExerciseResult,
    ExerciseTransport,
    Runner,
    Stage,
    SteppedClock,
)
from incident_bot.entrypoints.exercise.transcript import UK, Transcript
from incident_bot.errors import ConfigError, NotFoundError
from incident_bot.service.directory import seed_directory
from incident_bot.settings import Settings

SAMPLE_DIRECTORY = Path(__file__).parents[2] / "data" / "sample_directory.csv"


@dataclass(frozen=True)
class Prepared:
    services: Services
    playbook: Playbook
    people: list[Person]
    imported: ImportReport
    clock: SteppedClock
    transport: ExerciseTransport


def database_file(database_dir: Path, incident_id: str) -> Path:
    """Where an exercise keeps its database: one file per run, named after its incident."""
    return database_dir / f"{incident_id}.sqlite3"


def database_url(database: Path) -> str:
    return f"sqlite:///{database.as_posix()}"


def exercise_settings(settings: Settings, database: Path,
                      playbook: str | Path | None = None) -> Settings:
    """The same settings on the SQLite file ``database``; a playbook given as a file is loaded
    from that file alone."""
    update: dict[str, object] = {"database_url": SecretStr(database_url(database))}
    if playbook is not None and _is_file(playbook):
        update["playbooks_dir"] = Path(playbook)
    return settings.model_copy(update=update)


def playbook_id_of(playbook: str | Path, loaded: dict[str, Playbook]) -> str:
    """PLAYBOOK is an id, or a path to a playbook file (whose id is its file name)."""
    if _is_file(playbook):
        wanted = Path(playbook).stem
        if wanted in loaded:
            return wanted
    elif str(playbook) in loaded:
        return str(playbook)
    known = ", ".join(sorted(loaded)) or "none loaded"
    raise NotFoundError(f"no playbook {str(playbook)!r} (known: {known})")


def _is_file(playbook: str | Path) -> bool:
    return Path(playbook).suffix in (".yaml", ".yml") and Path(playbook).is_file()


def without_fsync(engine: Engine) -> None:
    """The exercise database holds a rehearsal, not a real incident: waiting for the disk on
    every commit (as production must) would only slow the exercise down. Runs after the
    engine's own connect hook, which asks for full durability."""
    def relax(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")
    event.listen(engine, "connect", relax)


def prepare(settings: Settings, config: ExerciseConfig, directory: Path,
            database: Path) -> Prepared:
    """Bootstrap on a fresh database file (``settings`` must point at it: see
    ``exercise_settings``) and import the directory (rejected rows are reported, the good ones
    imported)."""
    if database.exists():
        raise ConfigError(f"{database} exists: an exercise needs a fresh database")
    database.parent.mkdir(parents=True, exist_ok=True)
    clock = SteppedClock(config.start_at)
    transport = ExerciseTransport()
    services = bootstrap(settings, clock=clock, chat=transport, sms=transport, voice=transport,
                         worker="exercise")
    without_fsync(services.engine)
    try:
        loaded = services.playbooks.playbooks
        playbook = loaded[playbook_id_of(config.playbook_id, loaded)]
        roles = {role.code for pb in loaded.values() for role in pb.roles}
        imported, people = seed_directory(
            services.uow_factory, lambda repo: import_directory(directory, roles, repo))
    except BaseException:
        services.engine.dispose()
        raise
    return Prepared(services, playbook, people, imported, clock, transport)


def run_exercise(
    prepared: Prepared,
    config: ExerciseConfig,
    *,
    sink: Callable[[str], None] | None = None,
    on_step: Callable[[Stage, bool], None] | None = None,
    on_end: Callable[[Stage], None] | None = None,
    behaviour: Behaviour | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> ExerciseResult:
    """Run the whole exercise; ``sink`` receives transcript lines as they happen."""
    config = config.resolved(prepared.playbook)
    cast = Cast(prepared.playbook, prepared.people, config, behaviour)
    prepared.transport.dead = cast.dead_numbers
    people = {p.key: p for p in prepared.people}
    runner = Runner(prepared.services, config, prepared.clock, prepared.transport, cast,
                    Transcript(config.t0, sink=sink), people, describe, on_step=on_step,
                    on_end=on_end, sleep=sleep, monotonic=monotonic)
    try:
        result = runner.run()
        return replace(result, reach=_reach(prepared, config, cast) if result.after_action
                       else None)
    finally:
        prepared.services.engine.dispose()


def _reach(prepared: Prepared, config: ExerciseConfig, cast: Cast) -> RoundReach | None:
    incident = prepared.services.incidents.incident(config.incident_id)
    return bot_reach(incident, cast.fixed) if any(n >= 1 for n in incident.ringround.tiers) \
        else None


def default_t0(today: datetime) -> datetime:
    """Tomorrow at 05:00 UK time: when strikes usually happen, and a day on which the
    directory's verification dates are judged."""
    local = today.astimezone(UK) + timedelta(days=1)
    strike = local.replace(hour=5, minute=0, second=0, microsecond=0)
    return strike.astimezone(UTC)

"""Shared by the exercise tests: a small directory for the small test playbook, a helper that
runs an exercise through the API, and read access to the exercise's database afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from incident_bot.adapters.db import SqlUnitOfWork, make_engine
from incident_bot.domain.incident.model import Incident
from incident_bot.entrypoints.exercise import (
    Behaviour,
    ExerciseConfig,
    ExerciseResult,
    database_file,
    database_url,
    exercise_settings,
    prepare,
    run_exercise,
)
from incident_bot.service.ports import DecisionEntry, OutboxItem
from incident_bot.settings import Settings, load_settings

ROOT = Path(__file__).parents[2]
GOOD = ROOT / "tests" / "data" / "good_playbooks"
SMALL_PLAYBOOK = GOOD / "small-ct.yaml"
T0 = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)

HEADER = "id,name,organisation,roles,tier,slack_user_id,phone,language,channels,deputy,verified_on"
STAFF = [  # key, name, role, language, deputy
    ("sc-01", "Supt Test Commander", "bcu_commander", "en", "sc-02"),
    ("sc-02", "Insp Test Silver", "police_silver", "en", "sc-01"),
    ("sc-03", "Test Chief Executive", "council_chief_exec", "en", ""),
    ("sc-04", "Test Comms Lead", "police_comms", "en", ""),
    ("sc-05", "Test Engagement Lead", "engagement_lead", "ur", "sc-02"),
    ("sc-06", "Test Caller One", "caller", "en", ""),
    ("sc-07", "Test Caller Two", "caller", "pl", ""),
]
CONTACTS = [  # number, name, organisation, language, channels, verified on
    (11, "Contact Eleven", "Testtown Mosque Committee", "ur", "phone;sms;voice", "2026-09-01"),
    (12, "Contact Twelve", "Testtown Polish Association", "pl", "phone;sms;voice", "2026-09-01"),
    (13, "Contact Thirteen", "Testtown Residents Forum", "en", "phone;sms;voice", "2024-01-15"),
    (14, "Contact Fourteen", "Testtown Youth Trust", "bn", "phone;sms;voice", "2026-09-01"),
    (15, "Contact Fifteen", "Testtown Interfaith", "en", "sms;voice", "2026-09-01"),
    (16, "Contact Sixteen", "Testtown Traders", "en", "phone;sms;voice", "2026-09-01"),
    (17, "Contact Seventeen", "Testtown Food Bank", "ur", "phone;sms;voice", "2026-09-01"),
    (18, "Contact Eighteen", "Testtown Gurdwara", "pa", "phone;sms;voice", "2026-09-01"),
    (19, "Contact Nineteen", "Testtown College", "en", "phone;email", "2026-09-01"),
    (20, "Contact Twenty", "Testtown Women's Forum", "ur", "phone;sms;voice", ""),
]
SMALL_DIRECTORY = "\n".join([
    HEADER,
    *(f"{key},{name},Testtown,{role},,U0{key[3:].upper()}AB,07700 9002{key[3:]},{lang},"
      f"slack;phone,{deputy},2026-10-01" for key, name, role, lang, deputy in STAFF),
    *(f"sc-{n},{name},{org},,1,,07700 9002{n},{lang},{channels},,{verified}"
      for n, name, org, lang, channels, verified in CONTACTS),
]) + "\n"
TIER_1_CONTACTS = 10


def write_directory(folder: Path, text: str = SMALL_DIRECTORY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "directory.csv"
    path.write_text(text, encoding="utf-8")
    return path


def settings_for(base: Path, playbooks: Path = GOOD) -> Settings:
    return load_settings({"INCIDENT_BOT_PLAYBOOKS": str(playbooks),
                          "INCIDENT_BOT_TEMPLATES": str(GOOD / "templates")}, base)


@dataclass(frozen=True)
class Ran:
    result: ExerciseResult
    database_url: str
    configured_database: Path

    def blanked(self, text: str) -> str:
        """``text`` with the run's own incident id and the SMS codes derived from it blanked:
        all that may differ between two runs of one seed."""
        with self.records() as (incident, _, _):
            codes = [r.code for r in incident.ringround.tiers.values()]
        text = text.replace(self.result.incident_id, "<incident>")
        for code in codes:
            spaced = r"\s?".join(map(re.escape, code))
            text = re.sub(spaced, "<code>", text, flags=re.IGNORECASE)
        return text

    @contextmanager
    def records(self) -> Iterator[tuple[Incident, list[OutboxItem], list[DecisionEntry]]]:
        """The incident, its outbox rows and its decision log, as the database holds them."""
        engine = make_engine(self.database_url)
        try:
            with SqlUnitOfWork(engine) as uow:
                incident_id = self.result.incident_id
                yield (uow.incidents.get(incident_id).incident,
                       uow.outbox.items(incident_id), uow.decisions.entries(incident_id))
        finally:
            engine.dispose()


def run_small(folder: Path, seed: int = 3, behaviour: Behaviour | None = None,
              pace: tuple[Callable[[float], None], Callable[[], float]] | None = None,
              hooks: dict[str, Any] | None = None, directory: str = SMALL_DIRECTORY,
              playbooks: Path = GOOD, **config: object) -> Ran:
    """Run the small exercise in ``folder``; ``pace`` is (sleep, monotonic) for pacing,
    ``hooks`` the live view's ``on_step`` and ``on_end``."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = settings_for(folder, playbooks)
    exercise = ExerciseConfig("small-ct", T0, seed=seed, **config)  # type: ignore[arg-type]
    database = database_file(folder / "db", exercise.incident_id)
    prepared = prepare(exercise_settings(settings, database), exercise,
                       write_directory(folder, directory), database)
    extra: dict[str, Any] = {"sleep": pace[0], "monotonic": pace[1]} if pace else {}
    result = run_exercise(prepared, exercise, behaviour=behaviour, **extra, **(hooks or {}))
    configured = Path(settings.database_url.get_secret_value().removeprefix("sqlite:///"))
    return Ran(result, database_url(database), configured)

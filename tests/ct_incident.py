"""The shipped ct-arrests-and-searches playbook with the bundled sample directory and the real
templates, as the end-to-end tests set it up: loaded, its people in the directory, and an
incident started by the BCU commander."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incident_bot.adapters.directory_import import parse_directory
from incident_bot.adapters.playbook_loader import load_playbooks
from incident_bot.adapters.templates import TemplateStore
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Playbook
from incident_bot.service.ports import UnitOfWork
from incident_bot.service.use_cases import IncidentService, StartRequest
from tests.fakes import FakeClock

ROOT = Path(__file__).parents[1]
PLAYBOOK = "ct-arrests-and-searches"
SAMPLE_DIRECTORY = ROOT / "incident_bot" / "data" / "sample_directory.csv"
TEMPLATES = ROOT / "message_templates"
T0 = datetime(2026, 5, 1, 5, 30, tzinfo=UTC)
E0 = T0 + timedelta(hours=1)


@dataclass
class CtSetup:
    playbooks: dict[str, Playbook]
    playbook: Playbook
    people: list[Person]

    @property
    def commander(self) -> str:
        return next(p.key for p in self.people if "bcu_commander" in p.roles)


def sample_people(playbook: Playbook) -> list[Person]:
    """The bundled sample directory, for the roles of ``playbook``."""
    return parse_directory(SAMPLE_DIRECTORY, {r.code for r in playbook.roles}).people


def seed_ct(uow_factory: Callable[[], UnitOfWork],
            playbooks: Mapping[str, Playbook] | None = None) -> CtSetup:
    """The CT playbook (from ``playbooks``, else loaded from the repository) and the sample
    directory's people, stored in the database."""
    if playbooks is None:
        playbooks = load_playbooks([ROOT / "playbooks"], TEMPLATES).playbooks
    playbook = playbooks[PLAYBOOK]
    people = sample_people(playbook)
    with uow_factory() as uow:
        uow.directory.upsert(people)
        uow.commit()
    return CtSetup(dict(playbooks), playbook, people)


def ct_service(uow_factory: Callable[[], UnitOfWork],
               clock: FakeClock) -> tuple[IncidentService, CtSetup]:
    """``seed_ct``, and the incident service on it with the real templates."""
    ct = seed_ct(uow_factory)
    return IncidentService(uow_factory, clock, ct.playbooks, TemplateStore(TEMPLATES),
                           zone="Europe/London"), ct


def start_ct(incidents: IncidentService, ct: CtSetup, incident_id: str) -> str:
    """The CT incident at T0/E0 with three arrests, started by the BCU commander."""
    return incidents.start_incident(StartRequest(
        playbook_id=ct.playbook.id, area="Northbridge", t0=T0, e0=E0, started_by=ct.commander,
        variables={"arrest_count": "3"}), incident_id=incident_id)

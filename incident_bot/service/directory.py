"""The directory's use cases that write: import people from a file, list them (an audited
read of personal data).

Reading a file is the adapters' job, so the caller passes the reading in as ``load``: it
upserts into the directory it is given and returns its report. Each function opens one unit
of work and commits once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from incident_bot.domain.directory import Person
from incident_bot.service.ports import DirectoryRepository, UnitOfWork


class LoadReport(Protocol):
    @property
    def imported(self) -> bool: ...
    def summary(self) -> str: ...


Report = TypeVar("Report", bound=LoadReport)


def import_people(uow_factory: Callable[[], UnitOfWork],
                  load: Callable[[DirectoryRepository], Report], *, source: str,
                  now: datetime, actor: str) -> Report:
    """Run ``load`` on the directory and record who imported ``source`` (a file name)."""
    with uow_factory() as uow:
        report = load(uow.directory)
        uow.audit.record(at=now, actor=actor, action="directory.import",
                         outcome="imported" if report.imported else "refused",
                         detail=f"{source}: {report.summary()}")
        uow.commit()
    return report


def seed_directory(uow_factory: Callable[[], UnitOfWork],
                   load: Callable[[DirectoryRepository], Report]) -> tuple[Report, list[Person]]:
    """Run ``load`` on the directory (no audit line: an exercise's own fresh database) and
    return its report and everyone now in the directory."""
    with uow_factory() as uow:
        report = load(uow.directory)
        people = uow.directory.all()
        uow.commit()
    return report, people


def list_people(uow_factory: Callable[[], UnitOfWork], *, tier: int | None, role: str | None,
                now: datetime, actor: str) -> list[Person]:
    """Everyone in the directory; the read is audited with the filter the caller shows."""
    with uow_factory() as uow:
        people = uow.directory.all()
        uow.audit.record(at=now, actor=actor, action="directory.list", outcome="viewed",
                         detail=f"tier={tier} role={role}")
        uow.commit()
    return people

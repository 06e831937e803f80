"""`incident-bot directory ...` commands: import people and contacts, list them, erase one.

Phone numbers are only ever shown masked (``+44 7700 ••••23``).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from incident_bot.adapters.db import SqlUnitOfWork
from incident_bot.adapters.directory_import import ImportReport, import_directory
from incident_bot.adapters.playbook_loader import load_playbooks
from incident_bot.bootstrap import database
from incident_bot.domain.directory import Person
from incident_bot.entrypoints.cli import _common
from incident_bot.entrypoints.tables import (
    Column,
    Listing,
    print_json,
    print_listings,
    print_note,
)
from incident_bot.errors import ConfigError
from incident_bot.service.directory import import_people, list_people
from incident_bot.service.personal_data import erase_and_commit

app = typer.Typer(help="Import, list and erase the people and contacts the bot can reach.",
                  no_args_is_help=True)

PlaybooksOpt = Annotated[Path | None, typer.Option(
    "--playbooks", help="Playbooks directory whose roles are allowed "
    "(default: the configured one).")]


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A CSV (or YAML) file of people and contacts.")],
    strict: Annotated[bool, typer.Option(
        "--strict", help="Import nothing if any row is rejected.")] = False,
    playbooks: PlaybooksOpt = None,
) -> None:
    """Add or update people from FILE (upsert by key); print every rejected row.

    Good rows are imported even when others are rejected; the exit code is then 1 so scripts
    notice. With --strict a file with any rejected row imports nothing.
    """
    with _common.exits_on_error():
        settings = _common.settings()
        roles = known_roles(playbooks or settings.playbooks_dir)
        with _database() as uow_factory:
            report = import_people(
                uow_factory, lambda directory: import_directory(file, roles, directory, strict),
                source=file.name, now=datetime.now(UTC), actor=f"cli:{_user()}")
    _print_import(report)
    if report.rejected:
        raise typer.Exit(1)


@app.command("list")
def list_(
    tier: Annotated[int | None, typer.Option("--tier", help="Only contacts in this tier.")] = None,
    role: Annotated[str | None, typer.Option("--role", help="Only holders of this role.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print a JSON array (every field, whole) instead of a table.")] = False,
) -> None:
    """Show the directory as a table (phone numbers masked)."""
    with _common.exits_on_error(), _database() as uow_factory:
        people = list_people(uow_factory, tier=tier, role=role, now=datetime.now(UTC),
                             actor=f"cli:{_user()}")
    shown = select_people(people, tier, role)
    if as_json:
        print_json([_listed(person) for person in shown])
        return
    if not people:
        _common.console.print("The directory is empty: import a file with "
                              "'incident-bot directory import FILE'.", markup=False)
        return
    print_listings(directory_listing(shown))
    print_note(f"{len(shown)} of {len(people)} people")


@app.command()
def erase(
    key: Annotated[str, typer.Argument(help="The person's key (see 'directory list').")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase one person's personal data everywhere (a data-protection request).

    Removes their directory row (and clears them as anyone's deputy), their name, number and
    Slack id from every incident, open or closed, and the text of every message to them
    (unsent ones are cancelled). The decision log is kept. The audit line names them only by a
    hash of their key."""
    if not yes:
        typer.confirm(f"Erase '{key}' and their personal data everywhere?", abort=True)
    with _common.exits_on_error(), _database() as uow_factory:
        report = erase_and_commit(uow_factory, key, datetime.now(UTC), f"cli:{_user()}")
    typer.echo(f"erased '{key}'" + (f"; no longer the deputy of {report.deputy_of} person(s)"
                                     if report.deputy_of else ""))
    typer.echo(f"incidents changed {report.incidents}, deliveries erased {report.deliveries}, "
               f"delivery events deleted {report.delivery_events}, other mentions erased "
               f"{report.mentions}; decision logs kept")


def known_roles(playbooks_dir: Path) -> set[str]:
    """The role codes of every playbook that loads from ``playbooks_dir``."""
    result = load_playbooks([playbooks_dir], None)
    if not result.playbooks:
        raise ConfigError(f"no playbook loads from {playbooks_dir}, so roles can't be checked: "
                          f"run 'incident-bot playbooks validate {playbooks_dir}'")
    if result.failed:
        _common.err_console.print(
            f"warning: {len(result.failed)} playbook file(s) in {playbooks_dir} did not load; "
            "their roles are not known", markup=False, highlight=False)
    return {role.code for playbook in result.playbooks.values() for role in playbook.roles}


def select_people(people: list[Person], tier: int | None, role: str | None) -> list[Person]:
    return [p for p in people
            if (tier is None or p.tier == tier) and (role is None or role in p.roles)]


DIRECTORY_COLUMNS = (
    Column("key", whole=True), Column("name", drop=1), Column("organisation", drop=6),
    Column("roles", drop=2), Column("tier", whole=True, drop=3), Column("channels", drop=5),
    Column("lang", whole=True, drop=7), Column("phone", whole=True, drop=4),
    Column("slack", whole=True, drop=8), Column("deputy", whole=True, drop=9),
    Column("verified", whole=True, drop=10))


def directory_listing(people: list[Person]) -> Listing:
    listing = Listing("Directory", DIRECTORY_COLUMNS)
    for person in people:
        listing.add(person.key, person.name, person.organisation, ", ".join(person.roles),
                    person.tier, ", ".join(c.value for c in person.channels), person.language,
                    person.masked_phone if person.phone else "", person.slack_user_id,
                    person.deputy, person.verified_on)
    return listing


def _listed(person: Person) -> dict[str, Any]:
    """A person as ``list --json`` prints them: the phone number masked, as in the table."""
    return {"key": person.key, "name": person.name, "organisation": person.organisation,
            "roles": list(person.roles), "tier": person.tier,
            "channels": [c.value for c in person.channels], "language": person.language,
            "phone": person.masked_phone if person.phone else None,
            "slack_user_id": person.slack_user_id, "deputy": person.deputy,
            "verified_on": person.verified_on.isoformat() if person.verified_on else None}


def _print_import(report: ImportReport) -> None:
    for problem in report.problems:
        typer.echo(str(problem))
    if not report.imported:
        typer.echo(f"--strict: nothing imported because {report.rejected} row(s) were rejected")
    typer.echo(report.summary())


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


@contextmanager
def _database() -> Iterator[Callable[[], SqlUnitOfWork]]:
    """Units of work on the configured database, migrated first so a fresh machine works."""
    with database(_common.settings(), migrate=True) as uow_factory:
        yield uow_factory

"""`incident-bot incidents list` and `incident-bot incidents export INCIDENT`.

An export is JSON of everything the database holds for one incident: its stored document, its
decision log, its outbox rows with their delivery records, its timers, the audit entries that
name it, and the directory records of the people in it. Phone numbers are masked unless
``--include-personal-data`` is given; that export is itself audited (who, when, how many
numbers), and neither the audit entry nor the log line contains a number.
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from incident_bot.adapters.db import SqlUnitOfWork
from incident_bot.bootstrap import database
from incident_bot.entrypoints.cli._common import exits_on_error, settings, write_output
from incident_bot.entrypoints.tables import Column, Listing, print_json, print_listings
from incident_bot.service.exports import export_and_audit
from incident_bot.service.ports import IncidentRecord

log = logging.getLogger("incident_bot.cli.incidents")
app = typer.Typer(help="Incidents in the database: list them, export one as JSON.",
                  no_args_is_help=True)


@contextmanager
def _unit_of_work() -> Iterator[SqlUnitOfWork]:
    """A transaction on the configured database, which must already be at the newest schema."""
    with database(settings(), migrate=False) as uow_factory, uow_factory() as uow:
        yield uow


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


# ---- list -----------------------------------------------------------------------------------


JsonOpt = Annotated[bool, typer.Option(
    "--json", help="Print a JSON array (every field, whole) instead of a table.")]
INCIDENT_COLUMNS = (Column("id", whole=True), Column("status", whole=True),
                    Column("playbook", whole=True, drop=2), Column("area", drop=4),
                    Column("T0 (UTC)", drop=3), Column("created (UTC)", whole=True, drop=5),
                    Column("updated (UTC)", whole=True, drop=1))


@app.command("list")
def list_incidents(as_json: JsonOpt = False) -> None:
    """Every incident, oldest first: id, status, playbook, area, T0, started, last change."""
    with exits_on_error(), _unit_of_work() as uow:
        records = uow.incidents.all()
    if as_json:
        print_json([_listed(record) for record in records])
        return
    listing = Listing(f"Incidents ({len(records)})", INCIDENT_COLUMNS)
    for record in records:
        params = record.incident.params
        listing.add(record.id, record.status, record.playbook_id, params.area,
                    params.t0.isoformat(), _stamp(record.created_at), _stamp(record.updated_at))
    print_listings(listing)


def _listed(record: IncidentRecord) -> dict[str, Any]:
    params = record.incident.params
    return {"id": record.id, "status": record.status, "playbook_id": record.playbook_id,
            "area": params.area, "t0": params.t0.isoformat(),
            "created_at": record.created_at.isoformat(),
            "updated_at": record.updated_at.isoformat()}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# ---- export ---------------------------------------------------------------------------------


@app.command("export")
def export(
    incident: Annotated[str, typer.Argument(help="The incident id.")],
    include_personal_data: Annotated[bool, typer.Option(
        "--include-personal-data",
        help="Include full phone numbers (the export is audited).")] = False,
    output: Annotated[Path | None, typer.Option(
        "--output", help="Write to this file instead of standard output.")] = None,
) -> None:
    """JSON of everything the incident holds; phone numbers masked unless asked for."""
    actor = f"cli:{_user()}"
    with exits_on_error(), database(settings(), migrate=False) as uow_factory:
        data = export_and_audit(uow_factory, incident, include_personal_data,
                                datetime.now(UTC), actor)
    log.info("incident.exported incident=%s personal_data=%s actor=%s", incident,
             include_personal_data, actor)
    text = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    write_output(text, output)


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"can't export a {type(value).__name__}")

"""`incident-bot log ...`: read and verify an incident's decision log.

Both commands only read: they refuse a database whose schema is not the newest rather than
migrate it (a log kept as evidence is checked as it is)."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.markup import escape

from incident_bot.bootstrap import database
from incident_bot.domain.decision_log import verify_chain
from incident_bot.entrypoints.cli._common import console, err_console, exits_on_error, settings
from incident_bot.entrypoints.tables import Column, Listing, print_listings
from incident_bot.service.ports import DecisionEntry

app = typer.Typer(help="The decision log.", no_args_is_help=True)


def _entries(incident_id: str) -> list[DecisionEntry]:
    with database(settings(), migrate=False) as uow_factory, uow_factory() as uow:
        uow.incidents.get(incident_id)  # NotFoundError names a wrong id
        return uow.decisions.entries(incident_id)


@app.command("verify")
def verify(incident: str) -> None:
    """Check numbering and the hash chain; exit 1 naming the first bad entry."""
    with exits_on_error():
        check = verify_chain(_entries(incident))
    if not check.ok:
        err_console.print(f"[red]decision log of {escape(incident)} FAILED at entry "
                          f"{check.first_bad_seq}:[/red] {escape(check.reason)}")
        raise typer.Exit(1)
    console.print(f"decision log of {escape(incident)}: {check.entries} entries, chain intact")


@app.command("show")
def show(incident: str) -> None:
    """Print the decision log, oldest entry first (times in UTC)."""
    with exits_on_error():
        entries = _entries(incident)
    table = Listing(f"decision log of {incident}", LOG_COLUMNS)
    for entry in entries:
        table.add(*_cells(entry))
    print_listings(table)


LOG_COLUMNS = (
    Column("#", whole=True), Column("decided (UTC)", whole=True, drop=2),
    Column("recorded (UTC)", whole=True, drop=6), Column("kind", whole=True, drop=3),
    Column("decision"), Column("rationale", drop=4), Column("options rejected", drop=7),
    Column("decided by", drop=1), Column("recorded by", drop=8), Column("refers to", drop=5))


def _cells(entry: DecisionEntry) -> list[str]:
    return [str(entry.seq), _when(entry.decided_at), _when(entry.recorded_at), entry.kind,
            entry.decision, entry.rationale, entry.options_rejected, entry.decided_by,
            entry.recorded_by, "" if entry.refers_to is None else str(entry.refers_to)]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")

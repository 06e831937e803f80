"""`incident-bot db ...`: database migrations."""

from __future__ import annotations

import typer

from incident_bot.adapters.db import head_revision
from incident_bot.bootstrap import migrate_database, schema_revision
from incident_bot.entrypoints.cli._common import console, exits_on_error, settings

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply every pending migration (safe to run again, and from several replicas at once)."""
    with exits_on_error():
        migrate_database(settings())
        head = head_revision()
    console.print(f"database schema is at {head} (the newest)")


@app.command("current")
def current_command() -> None:
    """Show the database's schema revision and whether it is the newest."""
    with exits_on_error():
        revision = schema_revision(settings())
        head = head_revision()
    if revision is None:
        console.print("empty database: run `incident-bot db upgrade`")
    elif revision == head:
        console.print(f"{revision} (the newest)")
    else:
        console.print(f"{revision}; the newest is {head}: run `incident-bot db upgrade`")

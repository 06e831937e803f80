"""`incident-bot purge --closed-before DATE`: the retention policy for incident personal data.

For every incident closed before DATE (00:00 UTC), the people in the incident document lose
their names, numbers and Slack ids, and every message of the incident loses its text and its
provider details. Decision logs are kept whole; one audit line records the counts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

import typer

from incident_bot.entrypoints.cli import _common
from incident_bot.entrypoints.cli.directory import _database, _user
from incident_bot.service.personal_data import purge_and_commit


def purge(
    closed_before: Annotated[str, typer.Option(
        "--closed-before", metavar="DATE",
        help="Purge incidents closed before this date (YYYY-MM-DD, midnight UTC).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the personal data of incidents closed before DATE (the decision log is kept)."""
    with _common.exits_on_error():
        cutoff = _midnight_utc(closed_before)
        if not yes:
            typer.confirm(f"Purge personal data of incidents closed before {cutoff:%Y-%m-%d}?",
                          abort=True)
        with _database() as uow_factory:
            report = purge_and_commit(uow_factory, cutoff, datetime.now(UTC), f"cli:{_user()}")
    typer.echo(report.summary())


def _midnight_utc(text: str) -> datetime:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"'{text[:40]}' is not a date: write YYYY-MM-DD",
                                 param_hint="--closed-before") from None
    if day > datetime.now(UTC).date():
        raise typer.BadParameter("the date is in the future: write today's date or earlier",
                                 param_hint="--closed-before")
    return datetime.combine(day, time(0), tzinfo=UTC)

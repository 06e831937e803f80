"""The ``incident-bot`` command line. Each sub-command group lives in its own module and is
registered here; modules do nothing at import beyond defining their Typer app."""

from __future__ import annotations

import typer

from incident_bot.entrypoints.cli import (
    db,
    directory,
    exercise,
    incidents,
    log,
    playbooks,
    templates,
)
from incident_bot.entrypoints.cli.purge import purge
from incident_bot.entrypoints.cli.report import report
from incident_bot.entrypoints.cli.serve import serve

app = typer.Typer(
    name="incident-bot",
    help="Runs the local consequence-management response to a counter-terrorism operation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(playbooks.app, name="playbooks")
app.add_typer(directory.app, name="directory")
app.add_typer(db.app, name="db")
app.add_typer(templates.app, name="templates")
app.add_typer(log.app, name="log")
app.add_typer(incidents.app, name="incidents")
app.command("exercise")(exercise.exercise)
app.command("run")(exercise.run)
app.command("purge")(purge)
app.command("serve")(serve)
app.command("report")(report)


def main() -> None:
    app()

"""The ``incident-bot`` command line. Each sub-command group lives in its own module and is
registered here; modules do nothing at import beyond defining their Typer app."""

from __future__ import annotations

import typer

from incident_bot.entrypoints.cli import db, directory, exercise, log, playbooks, templates

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
app.command("exercise")(exercise.exercise)
app.command("run")(exercise.run)


def main() -> None:
    app()

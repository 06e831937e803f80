"""`incident-bot report INCIDENT`: the after-action report of an incident, as Markdown or as a
self-contained HTML page, on standard output or into a file.

It only reads: a database whose schema is not the newest is refused rather than migrated."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from incident_bot.adapters.report_render import to_html, to_markdown
from incident_bot.bootstrap import database
from incident_bot.entrypoints.cli._common import exits_on_error, settings, write_output
from incident_bot.service.reports.after_action import (
    AfterActionReport,
    after_action_report,
    load_records,
)


class Format(StrEnum):
    MD = "md"
    HTML = "html"


def build(incident_id: str, as_of: datetime) -> AfterActionReport:
    with database(settings(), migrate=False) as uow_factory, uow_factory() as uow:
        records = load_records(uow, incident_id)  # NotFoundError names a wrong id
    return after_action_report(records, as_of)


def render(report: AfterActionReport, form: Format) -> str:
    return to_html(report) if form is Format.HTML else to_markdown(report)


def report(
    incident: Annotated[str, typer.Argument(help="The incident id.")],
    form: Annotated[Format, typer.Option("--format", help="md or html.")] = Format.MD,
    output: Annotated[Path | None, typer.Option(
        "--output", help="Write to this file instead of standard output.")] = None,
) -> None:
    """The after-action report of INCIDENT: timeline, decision log (with its hash-chain check),
    briefing planned against actual, ring-round per tier, messages, tasks, escalations."""
    with exits_on_error():
        text = render(build(incident, datetime.now(UTC)), form)
    write_output(text, output)

"""`incident-bot playbooks ...` commands: check playbook files, and show one as tables."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from incident_bot.adapters.playbook_loader import LoadResult, load_playbooks
from incident_bot.domain.durations import RelativeTime, format_duration
from incident_bot.domain.playbook import Gate, Playbook, TaskDef, Tier
from incident_bot.entrypoints.cli import _common
from incident_bot.entrypoints.tables import Column, Listing, print_listings
from incident_bot.errors import ConfigError, Problem

app = typer.Typer(help="Check playbook files and show what a playbook contains.",
                  no_args_is_help=True)

PathsArg = Annotated[list[Path] | None, typer.Argument(
    help="Playbook files or directories (default: the configured playbooks directory).")]
TemplatesOpt = Annotated[Path | None, typer.Option(
    "--templates", help="Message templates directory (default: the configured one).")]
NoTemplatesOpt = Annotated[bool, typer.Option(
    "--no-templates", help="Skip the template checks.")]
DirOpt = Annotated[Path | None, typer.Option(
    "--dir", help="Playbooks directory (default: the configured one).")]


@app.command()
def validate(paths: PathsArg = None, templates: TemplatesOpt = None,
             no_templates: NoTemplatesOpt = False) -> None:
    """Check playbooks strictly; print every problem as file:line: key.path: message.

    Exits 1 if any playbook has an error; warnings alone exit 0.
    """
    with _common.exits_on_error():
        targets = paths or [_common.settings().playbooks_dir]
        templates_dir = None if no_templates else _templates_dir(templates)
        result = load_playbooks(targets, templates_dir)
    if not result.files:
        _common.err_console.print(f"no playbook files (*.yaml, *.yml) in {_names(targets)}",
                                  markup=False, highlight=False)
        raise typer.Exit(1)
    _print_report(result)
    if result.errors:
        raise typer.Exit(1)


@app.command()
def show(playbook_id: Annotated[str, typer.Argument(help="The playbook's id.")],
         directory: DirOpt = None) -> None:
    """Show a playbook: roles, tiers and ladders, the briefing order, messages and tasks."""
    with _common.exits_on_error():
        folder = directory or _common.settings().playbooks_dir
        result = load_playbooks([folder], None)
    playbook = result.playbooks.get(playbook_id)
    if playbook is None:
        _explain_missing(playbook_id, folder, result)
        raise typer.Exit(1)
    print_listings(*playbook_listings(playbook))


def _templates_dir(option: Path | None) -> Path:
    folder = option or _common.settings().templates_dir
    if not folder.is_dir():
        raise ConfigError(f"templates directory {folder} does not exist: "
                          "pass --templates DIR or --no-templates")
    return folder


def _names(paths: list[Path]) -> str:
    return ", ".join(str(p) for p in paths)


def _print_report(result: LoadResult) -> None:
    by_file: dict[str, list[Problem]] = defaultdict(list)
    for problem in result.problems:
        by_file[problem.file].append(problem)
    loaded = {p.source: p for p in result.playbooks.values()}
    for path in result.files:
        problems = by_file[str(path)]
        for problem in problems:
            typer.echo(str(problem))
        typer.echo(_file_summary(path, problems, loaded.get(str(path))))
    typer.echo(f"{len(result.playbooks)} of {len(result.files)} playbook file(s) loaded; "
               f"{_count(len(result.errors), 'error')}, "
               f"{_count(len(result.warnings), 'warning')}")


def _file_summary(path: Path, problems: list[Problem], playbook: Playbook | None) -> str:
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    if playbook is None:
        return f"FAILED {path}: {_count(errors, 'error')}, {_count(warnings, 'warning')}"
    contents = (f"{_count(len(playbook.roles), 'role')}, {_count(len(playbook.tiers), 'tier')}, "
                f"{_count(len(playbook.briefing), 'briefing step')}, "
                f"{_count(len(playbook.messages), 'message')}, "
                f"{_count(len(playbook.tasks), 'task')}")
    status = f"OK ({_count(warnings, 'warning')})" if warnings else "OK"
    return f"{status} {path}: {playbook.id}: {contents}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _explain_missing(playbook_id: str, folder: Path, result: LoadResult) -> None:
    broken = [problems for path, problems in result.failed.items() if path.stem == playbook_id]
    if broken:
        for problem in broken[0]:
            typer.echo(str(problem))
        message = f"playbook '{playbook_id}' does not load: fix the problems above"
    else:
        available = ", ".join(sorted(result.playbooks)) or "none"
        message = f"no playbook '{playbook_id}' in {folder}; available: {available}"
    _common.err_console.print(message, markup=False, highlight=False)


def playbook_listings(playbook: Playbook) -> list[Listing]:
    """The tables ``show`` prints, in reading order."""
    return [_summary_table(playbook), _roles_table(playbook), _tiers_table(playbook),
            _briefing_table(playbook), _messages_table(playbook), _tasks_table(playbook)]


def _summary_table(playbook: Playbook) -> Listing:
    table = Listing(f"{playbook.title} ({playbook.id})", (Column("", whole=True), Column("")),
                    show_header=False)
    for name, value in (
        ("classification", playbook.classification.value),
        ("started by", ", ".join(playbook.started_by)),
        ("coordinator", playbook.coordinator),
        ("E0 by default", playbook.e0_default or "given at start"),
        ("SMS budget", f"{playbook.sms_segment_budget} segments"),
        ("file", playbook.source),
    ):
        table.add(name, value)
    return table


def _roles_table(playbook: Playbook) -> Listing:
    table = Listing("Roles", (Column("code", whole=True), Column("title", drop=1),
                              Column("level", whole=True, drop=3),
                              Column("deputy", whole=True, drop=2),
                              Column("need to know", drop=4)))
    for role in playbook.roles:
        table.add(role.code, role.title, role.level.value, role.deputy or "-",
             "yes" if role.need_to_know else "")
    return table


def _tiers_table(playbook: Playbook) -> Listing:
    table = Listing("Ring-round tiers", (
        Column("tier", whole=True), Column("title", drop=1), Column("callers / backup / senior"),
        Column("per caller", drop=5), Column("target", drop=4), Column("deadline", drop=3),
        Column("amber / red", drop=6), Column("ladder", drop=2)))
    for tier in playbook.tiers:
        people = " / ".join(r or "-" for r in (tier.caller_role, tier.backup_role,
                                               tier.senior_role))
        table.add(tier.number, tier.title, people, tier.fan_out, _percent(tier.coverage_target),
             tier.deadline or "-", f"{format_duration(tier.amber_after)} / "
             f"{format_duration(tier.red_after)}", describe_ladder(tier))
    return table


def describe_ladder(tier: Tier) -> str:
    rungs = [rung.kind.value + (f" {format_duration(rung.timeout)}" if rung.timeout else "")
             for rung in tier.ladder]
    return " → ".join(rungs) or "-"


def _briefing_table(playbook: Playbook) -> Listing:
    table = Listing("Briefing order", (
        Column("#", whole=True), Column("step"), Column("audience", drop=3),
        Column("briefed by"), Column("message", drop=4), Column("opens when", drop=2),
        Column("due", drop=1)))
    for number, step in enumerate(playbook.briefing, start=1):
        title = f"{step.id}: {step.title}" + (" [MEDIA HOLD]" if step.media_hold else "")
        table.add(number, title, step.audience.describe(), step.briefed_by,
             step.message or "-", describe_gate(step.gate), step.due or "-")
    return table


def describe_gate(gate: Gate) -> str:
    """The gate in words: ``after tier-1, tier 1 at 80%; or at E0+90m; or override by ...``."""
    waits = [f"after {', '.join(gate.after)}"] if gate.after else []
    if gate.coverage_tiers and gate.coverage is not None:
        tiers = ", ".join(f"tier {t}" for t in gate.coverage_tiers)
        waits.append(f"{tiers} at {_percent(gate.coverage)}")
    parts = [" and ".join(waits) if waits else "at E0"]
    if gate.timeout:
        parts.append(f"or at {gate.timeout}")
    if gate.override_by:
        parts.append(f"or override by {', '.join(gate.override_by)}")
    return "; ".join(parts)


def _messages_table(playbook: Playbook) -> Listing:
    table = Listing("Key messages", (
        Column("id", whole=True), Column("channels", drop=3), Column("languages", drop=2),
        Column("approvers"), Column("embargo", drop=1)))
    for message in playbook.messages:
        table.add(message.id, ", ".join(c.value for c in message.channels),
             ", ".join(message.languages), ", ".join(message.approvers), message.embargo or "-")
    return table


def _tasks_table(playbook: Playbook) -> Listing:
    table = Listing("Tasks by due time", (
        Column("due", drop=2), Column("task"), Column("owner"), Column("depends on", drop=3),
        Column("phase", drop=1)))
    for task in sorted(playbook.tasks, key=lambda t: _due_order(t, playbook)):
        table.add(task.due, f"{task.id}: {task.title}", task.owner,
             ", ".join(task.depends_on) or "-", task.phase or "-")
    return table


_SAMPLE_T0 = datetime(2000, 1, 1, tzinfo=UTC)


def _due_order(task: TaskDef, playbook: Playbook) -> tuple[int, datetime]:
    """Sort on a sample timeline where E0 is the playbook's default (or T0 itself)."""
    if task.due.clock is None:
        return (1, task.due.resolve(_SAMPLE_T0, _SAMPLE_T0))
    e0 = (playbook.e0_default or RelativeTime(None, timedelta(0), _SAMPLE_T0))
    e0_at = e0.resolve(_SAMPLE_T0, _SAMPLE_T0)
    return (0, task.due.resolve(_SAMPLE_T0, e0_at))


def _percent(share: float) -> str:
    return f"{share:.0%}"

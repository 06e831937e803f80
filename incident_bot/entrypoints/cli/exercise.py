"""`incident-bot exercise PLAYBOOK` and `incident-bot run`: rehearse a playbook offline.

An exercise runs on a fresh SQLite database of its own, ``var/exercise/<incident>.sqlite3``
(never the configured one), with the directory imported from a file (the bundled fictional
sample by default), a simulated clock and simulated people; it prints the readiness report and
writes it, with the transcript, to the report directory. The database stays, so ``report``,
``incidents export`` and ``log verify`` work on the exercise's incident afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from incident_bot.adapters import report_render
from incident_bot.adapters.directory_import import parse_directory
from incident_bot.adapters.playbook_loader import load_playbooks
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Playbook
from incident_bot.entrypoints.cli import _common
from incident_bot.entrypoints.exercise.live import LiveView
from incident_bot.entrypoints.exercise.manual import ManualResult, manual_round
from incident_bot.entrypoints.exercise.reach_report import (
    compare_lines,
    compare_listing,
    compare_markdown,
    manual_lines,
    media_line,
    readiness_listing,
)
from incident_bot.entrypoints.exercise.report import to_markdown, to_rich
from incident_bot.entrypoints.exercise.runner import ExerciseConfig, ExerciseResult
from incident_bot.entrypoints.exercise.session import (
    SAMPLE_DIRECTORY,
    Prepared,
    database_file,
    database_url,
    default_t0,
    exercise_settings,
    playbook_id_of,
    prepare,
    run_exercise,
)
from incident_bot.entrypoints.exercise.transcript import UK
from incident_bot.entrypoints.tables import print_listings
from incident_bot.errors import ConfigError
from incident_bot.settings import Settings

DEFAULT_PLAYBOOK = "ct-arrests-and-searches"
DEFAULT_SPEED = 600.0  # the CT playbook's response in about a minute
DEFAULT_REPORT_DIR = Path("var") / "reports"
DEFAULT_DATABASE_DIR = Path("var") / "exercise"

SpeedOpt = Annotated[float, typer.Option(
    "--speed", min=0, help="Simulated seconds per real second (0: as fast as possible).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Same seed, same exercise and report.")]
ReportDirOpt = Annotated[Path, typer.Option(
    "--report-dir", help="Where readiness-<incident>.md and the transcript are written.")]
NoLiveOpt = Annotated[bool, typer.Option(
    "--no-live", help="Print a plain transcript instead of the live view.")]
DatabaseDirOpt = Annotated[Path, typer.Option(
    "--database-dir", help="Where the exercise's database <incident>.sqlite3 is kept.")]


@dataclass(frozen=True)
class Options:
    playbook: str
    speed: float = DEFAULT_SPEED
    seed: int = 1
    directory: Path = SAMPLE_DIRECTORY
    area: str = "Northbridge"
    report_dir: Path = DEFAULT_REPORT_DIR
    live: bool = True
    t0: datetime | None = None
    database_dir: Path = DEFAULT_DATABASE_DIR
    mode: str = "bot"  # "bot", "manual" (the manual ring-round alone) or "compare" (both)


def exercise(
    playbook: Annotated[str, typer.Argument(help="A playbook id, or a playbook file.")],
    speed: SpeedOpt = DEFAULT_SPEED,
    seed: SeedOpt = 1,
    directory: Annotated[Path, typer.Option(
        "--directory", help="People and contacts (CSV or YAML); default: the bundled "
        "fictional sample.")] = SAMPLE_DIRECTORY,
    area: Annotated[str, typer.Option("--area", help="The area named in messages.")] =
        "Northbridge",
    report_dir: ReportDirOpt = DEFAULT_REPORT_DIR,
    no_live: NoLiveOpt = False,
    t0: Annotated[str | None, typer.Option(
        "--t0", help="Simulated strike time, ISO 8601 with offset (default: tomorrow "
        "05:00 UK time).")] = None,
    database_dir: DatabaseDirOpt = DEFAULT_DATABASE_DIR,
    manual: Annotated[bool, typer.Option(
        "--manual", help="Simulate a manual ring-round instead (printed lists, phones, no bot) "
        "with the same people and seed.")] = False,
    compare: Annotated[bool, typer.Option(
        "--compare", help="Run the bot and the manual ring-round with the same people and "
        "seed and compare their reach per tier.")] = False,
) -> None:
    """Rehearse PLAYBOOK with simulated people on a database of its own; print the readiness
    report."""
    with _common.exits_on_error():
        if manual and compare:
            raise ConfigError("--manual and --compare: choose one (--compare runs both)")
        mode = "compare" if compare else "manual" if manual else "bot"
        options = Options(playbook, speed, seed, directory, area, report_dir, not no_live,
                          parse_t0(t0), database_dir, mode)
        if mode == "manual":
            manual_report(_common.settings(), options, _common.console)
        else:
            run_and_report(_common.settings(), options, _common.console)


def run(
    speed: SpeedOpt = DEFAULT_SPEED,
    seed: SeedOpt = 1,
    report_dir: ReportDirOpt = DEFAULT_REPORT_DIR,
    no_live: NoLiveOpt = False,
) -> None:
    """Run the bot: serve Slack when it is configured, else the offline exercise of the CT
    playbook."""
    console = _common.console
    with _common.exits_on_error():
        settings = _common.settings()
    if settings.slack_configured:
        from incident_bot.entrypoints.cli.serve import serve  # noqa: PLC0415 - Slack mode only

        http = settings.slack_app_token is None
        serve(http=http, host="127.0.0.1", port=3000, threads=8)
        return
    with _common.exits_on_error():
        for line in connect_hint(settings):
            console.print(line, markup=False, highlight=False)
        run_and_report(settings, Options(DEFAULT_PLAYBOOK, speed, seed,
                                         report_dir=report_dir, live=not no_live), console)


def connect_hint(settings: Settings) -> list[str]:
    """What ``run`` prints before the exercise, when Slack is not configured."""
    return [
        "Slack: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET "
        "(HTTP) in the environment or .env; SMS and voice: set TWILIO_ACCOUNT_SID, "
        "TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (see README, Configuration).",
        "Until then: an offline exercise of the counter-terrorism playbook with fictional "
        "people, a simulated clock and no messages sent.",
    ]


def parse_t0(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--t0 {text!r} is not an ISO 8601 time") from None
    if instant.tzinfo is None:
        raise ConfigError(f"--t0 {text!r} has no UTC offset: add +00:00 or Z")
    return instant.astimezone(UTC)


def exercise_config(options: Options) -> ExerciseConfig:
    return ExerciseConfig(
        playbook_id=Path(options.playbook).stem if options.playbook.endswith((".yaml", ".yml"))
        else options.playbook,
        t0=options.t0 or default_t0(datetime.now(UTC)), seed=options.seed, area=options.area,
        speed=options.speed)


def run_and_report(settings: Settings, options: Options, console: Console) -> ExerciseResult:
    config = exercise_config(options)
    database = database_file(options.database_dir, config.incident_id)
    prepared = prepare(exercise_settings(settings, database, options.playbook), config,
                       options.directory, database)
    say = _plain(console)
    say(f"Exercise {config.incident_id}: playbook {prepared.playbook.id}, directory "
        f"{options.directory.name} ({prepared.imported.summary()}), seed {config.seed}; "
        "times are UK time (Europe/London)")
    for problem in prepared.imported.problems:
        say(str(problem))
    result = _run(prepared, config, console, options.live and console.is_terminal)
    files = write_files(result, options.report_dir, config.seed)
    _print_result(console, result, files)
    for line in afterwards(result.incident_id, database):
        say(line)
    if options.mode == "compare":
        manual = compare_report(prepared.playbook, prepared.people, config, result, console)
        if manual is not None and result.reach is not None:  # beside the readiness report
            e0 = config.resolved(prepared.playbook).e0(prepared.playbook)
            with files[0].open("a", encoding="utf-8") as report:
                report.write("\n" + compare_markdown(manual.reach, result.reach, e0))
    return result


def manual_report(settings: Settings, options: Options, console: Console) -> ManualResult:
    """The manual ring-round alone: no database, no bot; the round starts at E0."""
    playbook, people = load_manual(settings, options)
    config = exercise_config(options)
    e0 = config.e0(playbook)
    result = manual_round(playbook, people, config.seed, e0, e0=e0)
    say = _plain(console)
    say(f"Manual ring-round: playbook {playbook.id}, directory {options.directory.name}, seed "
        f"{config.seed}; printed lists and phones, no SMS, voice or bot; times from the tier-1 "
        "round's start (E0)")
    for line in manual_lines(result.lines, result.reach.started_at):
        say(line)
    console.print()
    print_listings(readiness_listing(result.reach, "Ring-round reach (manual)"))
    say(f"Media statement released: {media_line(result.reach, e0)}")
    return result


def load_manual(settings: Settings, options: Options) -> tuple[Playbook, list[Person]]:
    """The playbook and the directory, read without a database."""
    path = Path(options.playbook)
    source = path if path.suffix in (".yaml", ".yml") and path.is_file() \
        else settings.playbooks_dir
    loaded = load_playbooks([source], settings.templates_dir).playbooks
    playbook = loaded[playbook_id_of(options.playbook, loaded)]
    roles = {role.code for pb in loaded.values() for role in pb.roles}
    return playbook, parse_directory(options.directory, roles).people


def compare_report(playbook: Playbook, people: list[Person], config: ExerciseConfig,
                   result: ExerciseResult, console: Console) -> ManualResult | None:
    """The manual ring-round with the same people and seed, from the bot's tier-1 start."""
    say = _plain(console)
    if result.reach is None:
        say("No ring-round was started: nothing to compare.")
        return None
    resolved = config.resolved(playbook)
    e0 = resolved.e0(playbook)
    manual = manual_round(playbook, people, config.seed, result.reach.started_at, e0=e0)
    console.print()
    print_listings(compare_listing(manual.reach, result.reach))
    for line in compare_lines(manual.reach, result.reach, e0):
        say(line)
    return manual


def afterwards(incident_id: str, database: Path) -> list[str]:
    """How to look at the exercise's incident with the other commands once it has ended."""
    url = database_url(database)
    return [
        f"Database kept: {database}. To look at the exercise afterwards, point the other "
        "commands at it:",
        f"  DATABASE_URL={url} incident-bot report {incident_id}",
        f"  DATABASE_URL={url} incident-bot incidents export {incident_id}",
        f"  DATABASE_URL={url} incident-bot log verify {incident_id}",
    ]


def _plain(console: Console) -> Callable[[str], None]:
    return lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)


def _run(prepared: Prepared, config: ExerciseConfig, console: Console,
         live: bool) -> ExerciseResult:
    if live:
        with LiveView(console, config.speed) as view:
            return run_exercise(prepared, config, on_step=view.on_step, on_end=view.finish)
    return run_exercise(prepared, config,
                        sink=lambda line: console.print(line, markup=False, highlight=False))


def write_files(result: ExerciseResult, report_dir: Path, seed: int) -> list[Path]:
    report_dir.mkdir(parents=True, exist_ok=True)
    report = report_dir / f"readiness-{result.incident_id}.md"
    report.write_text(to_markdown(result.report, seed=seed, ended_because=result.ended_because,
                                  after_action=result.after_action), encoding="utf-8")
    transcript = report_dir / f"transcript-{result.incident_id}.txt"
    transcript.write_text(result.transcript.text() + "\n", encoding="utf-8")
    return [report, transcript, *write_after_action(result, report_dir)]


def write_after_action(result: ExerciseResult, report_dir: Path) -> list[Path]:
    """The after-action report, as Markdown and as HTML, beside the readiness report."""
    if result.after_action is None:
        return []
    stem = report_dir / f"after-action-{result.incident_id}"
    markdown, page = stem.with_suffix(".md"), stem.with_suffix(".html")
    markdown.write_text(report_render.to_markdown(result.after_action), encoding="utf-8")
    page.write_text(report_render.to_html(result.after_action), encoding="utf-8")
    return [markdown, page]


def _print_result(console: Console, result: ExerciseResult, files: list[Path]) -> None:
    console.print()
    console.print(f"Exercise ended at {result.ended_at.astimezone(UK):%H:%M} UK time: "
                  f"{result.ended_because}; {result.actions} actions by the simulated people, "
                  f"{result.refused} refused by the bot.", markup=False, highlight=False)
    console.print(to_rich(result.report, result.after_action))
    for path in files:
        console.print(f"Written: {path}", markup=False, highlight=False)

"""`incident-bot exercise` and `incident-bot run` through Typer's CliRunner at --speed 0."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incident_bot.entrypoints.cli import app
from incident_bot.entrypoints.exercise import SAMPLE_DIRECTORY
from incident_bot.entrypoints.exercise.report import STEP_HEADERS, TIER_HEADERS
from tests.entrypoints.exercise_support import (
    GOOD,
    ROOT,
    SMALL_PLAYBOOK,
    TIER_1_CONTACTS,
    write_directory,
)

T0 = "2026-11-24T05:00:00+00:00"


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the exercise keeps its database under ./var/exercise
    configured = tmp_path / "configured.db"

    def run(*args: str | Path, playbooks: Path = GOOD, templates: Path = GOOD / "templates",
            database_url: str = f"sqlite:///{configured}", columns: int = 200):
        env = {"COLUMNS": str(columns), "DATABASE_URL": database_url,
               "INCIDENT_BOT_PLAYBOOKS": str(playbooks), "INCIDENT_BOT_TEMPLATES": str(templates)}
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    run.configured = configured  # type: ignore[attr-defined]
    return run


def small(invoke, tmp_path: Path, playbook: str | Path = SMALL_PLAYBOOK, *extra: str):
    return invoke("exercise", playbook, "--speed", "0", "--no-live", "--t0", T0,
                  "--directory", write_directory(tmp_path), "--report-dir", tmp_path / "reports",
                  *extra)


def tier_rows(markdown: str) -> dict[int, list[int]]:
    """Coverage table rows: tier -> [reached, pending, failed, opted out, flagged, total]."""
    section = markdown.split("## Ring-round coverage", 1)[1].split("##", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if re.match(r"\| \d ", line)]
    return {int(r[0]): [int(c) for c in r[1:7]] for r in rows}


def test_an_exercise_of_a_playbook_file_exits_zero(invoke, tmp_path):
    result = small(invoke, tmp_path)
    assert result.exit_code == 0, result.output


def test_an_exercise_writes_the_readiness_report_named_after_the_incident(invoke, tmp_path):
    small(invoke, tmp_path)
    assert [p.name for p in (tmp_path / "reports").glob("readiness-ex-*.md")] != []


def test_the_written_report_covers_every_tier_1_contact_of_the_directory(invoke, tmp_path):
    small(invoke, tmp_path)
    markdown = next((tmp_path / "reports").glob("readiness-*.md")).read_text(encoding="utf-8")
    reached, pending, failed, opted, flagged, total = tier_rows(markdown)[1]
    assert reached + pending + failed + opted + flagged == total == TIER_1_CONTACTS


def test_an_exercise_prints_a_plain_transcript_when_not_live(invoke, tmp_path):
    output = small(invoke, tmp_path).output
    assert "03:45:00 T0-1:15  Supt Test Commander starts the incident" in output


def test_an_exercise_can_name_the_playbook_by_id(invoke, tmp_path):
    assert small(invoke, tmp_path, "small-ct").exit_code == 0


def test_an_unknown_playbook_exits_one_naming_the_known_ones(invoke, tmp_path):
    result = small(invoke, tmp_path, "no-such-playbook")
    assert (result.exit_code, "known: small-ct" in result.output) == (1, True)


def test_the_same_seed_through_the_cli_writes_the_same_report(invoke, tmp_path):
    small(invoke, tmp_path / "a", SMALL_PLAYBOOK, "--seed", "9")
    small(invoke, tmp_path / "b", SMALL_PLAYBOOK, "--seed", "9")
    first, second = ((tmp_path / d / "reports").glob("readiness-*.md") for d in "ab")
    assert without_id(next(first).read_text(encoding="utf-8")) == without_id(
        next(second).read_text(encoding="utf-8"))


def without_id(text: str) -> str:
    return re.sub(r"ex-[0-9a-f]{8}", "<incident>", text)


def test_an_exercise_never_creates_the_configured_database(invoke, tmp_path):
    small(invoke, tmp_path)
    assert not invoke.configured.exists()


# ---- afterwards: the exercise's incident stays to be looked at -------------------------------


def printed_database_url(output: str) -> tuple[str, str]:
    """The DATABASE_URL and incident id of the commands the exercise prints at its end."""
    match = re.search(r"DATABASE_URL=(\S+) incident-bot log verify (\S+)", output)
    assert match is not None, output[-1500:]
    return match[1], match[2]


def test_the_exercise_database_stays_under_var_exercise_named_after_its_incident(invoke,
                                                                                 tmp_path):
    url, incident = printed_database_url(small(invoke, tmp_path).output)
    assert (url, (tmp_path / "var" / "exercise" / f"{incident}.sqlite3").is_file()) == (
        f"sqlite:///var/exercise/{incident}.sqlite3", True)


@pytest.mark.parametrize(("command", "expected"), [
    (("log", "verify"), "chain intact"),
    (("report",), "# After-action report"),
    (("incidents", "export"), '"playbook_id": "small-ct"'),
])
def test_the_printed_commands_work_on_the_exercise_incident_afterwards(invoke, tmp_path,
                                                                      command, expected):
    url, incident = printed_database_url(small(invoke, tmp_path).output)
    after = invoke(*command, incident, database_url=url)
    assert (after.exit_code, expected in after.output) == (0, True), after.output


def test_two_runs_of_the_same_seed_keep_two_incidents_and_two_reports(invoke, tmp_path):
    ids = [printed_database_url(small(invoke, tmp_path, SMALL_PLAYBOOK, "--seed", "9").output)[1]
           for _ in range(2)]
    reports = sorted(p.name for p in (tmp_path / "reports").glob("readiness-*.md"))
    assert (len(set(ids)), reports) == (2, sorted(f"readiness-{i}.md" for i in ids))


# ---- one set of figures, in one time zone ---------------------------------------------------


def test_the_console_summary_has_the_after_action_reports_own_figures(invoke, tmp_path):
    output = small(invoke, tmp_path).output
    markdown = next((tmp_path / "reports").glob("after-action-*.md")).read_text(encoding="utf-8")
    page = next((tmp_path / "reports").glob("after-action-*.html")).read_text(encoding="utf-8")
    tasks = re.search(r"- (Tasks: .+)", markdown)[1]
    escalations = re.search(r"- (Escalations fired: \d+)", markdown)[1]
    assert (tasks in output, escalations in output, tasks.removeprefix("Tasks: ") in page) == (
        True, True, True)


def test_the_console_gives_every_time_in_uk_time_and_says_so(invoke, tmp_path):
    summer = "2026-07-01T04:00:00+00:00"  # 05:00 BST: UK time is UTC+1
    output = invoke("exercise", SMALL_PLAYBOOK, "--speed", "0", "--no-live", "--t0", summer,
                    "--directory", write_directory(tmp_path),
                    "--report-dir", tmp_path / "reports").output
    markdown = next((tmp_path / "reports").glob("readiness-*.md")).read_text(encoding="utf-8")
    ended = re.search(r"\(UK time\); report at (\d\d:\d\d)", markdown)[1]
    assert ("times are UK time" in output.splitlines()[0],
            f"Exercise ended at {ended} UK time" in output) == (True, True)


def test_the_readiness_tables_keep_their_headers_and_ids_whole_at_80_columns(invoke, tmp_path):
    output = invoke("exercise", SMALL_PLAYBOOK, "--speed", "0", "--no-live", "--t0", T0,
                    "--directory", write_directory(tmp_path),
                    "--report-dir", tmp_path / "reports", columns=80).output
    tables = output.split("Time to brief", 1)[1].split("Database kept", 1)[0]
    words = {w for h in (*STEP_HEADERS, *TIER_HEADERS) for w in h.split()}
    shown = set(re.findall(r"[\w()]+", tables))
    left_out = re.findall(r"Not shown at 80 columns: (.+)", tables)
    missing = {w for w in words - shown if not any(w in note for note in left_out)}
    assert missing == set()
    assert max(len(line) for line in tables.splitlines()) <= 80
    assert "…" not in tables


# ---- `run`: the first impression, on the full bundled sample (the one slow test) -----------


def sample_tier_counts() -> Counter:
    with SAMPLE_DIRECTORY.open(encoding="utf-8", newline="") as handle:
        return Counter(int(row["tier"]) for row in csv.DictReader(handle) if row["tier"])


def test_run_without_slack_exercises_the_ct_playbook_on_the_sample_to_the_end(invoke, tmp_path):
    result = invoke("run", "--speed", "0", "--no-live", "--report-dir", tmp_path / "reports",
                    playbooks=ROOT / "playbooks", templates=ROOT / "message_templates")
    assert result.exit_code == 0, result.output[-2000:]
    lines = result.output.splitlines()
    markdown = next((tmp_path / "reports").glob("readiness-*.md")).read_text(encoding="utf-8")
    counts = sample_tier_counts()
    assert lines[0].startswith("Slack: set SLACK_BOT_TOKEN")
    assert "every contact reached a final state" in result.output
    assert {tier: row[5] for tier, row in tier_rows(markdown).items()} == {
        tier: counts[tier] for tier in (0, 1, 2, 3)}
    assert all(row[1] == 0 for row in tier_rows(markdown).values())  # nobody pending
    assert not invoke.configured.exists()

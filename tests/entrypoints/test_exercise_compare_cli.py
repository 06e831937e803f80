"""`incident-bot exercise --manual` and `--compare` through Typer's CliRunner."""

from __future__ import annotations

import re
from pathlib import Path

from tests.entrypoints.exercise_support import ROOT
from tests.entrypoints.test_exercise_cli import T0, invoke, small  # noqa: F401 - the fixture

CT = ROOT / "playbooks" / "ct-arrests-and-searches.yaml"
TEMPLATES = ROOT / "message_templates"


def manual(invoke, tmp_path: Path, *extra: str):  # noqa: F811 - the fixture
    return invoke("exercise", CT, "--manual", "--t0", T0, *extra, playbooks=CT,
                  templates=TEMPLATES)


def reach_rows(output: str) -> dict[str, list[str]]:
    """Rows of a plain (piped) reach table: label -> cells."""
    return {cells[0]: cells[1:] for line in output.splitlines()
            if (cells := line.split("\t")) and re.fullmatch(r"\d|1-2", cells[0])}


def test_manual_mode_prints_the_round_and_the_reach_per_tier_without_a_database(
        invoke, tmp_path):  # noqa: F811 - the fixture
    result = manual(invoke, tmp_path)
    assert result.exit_code == 0, result.output
    assert "no SMS, voice or bot" in result.output
    assert re.search(r"\+0:0\d:\d\d  the coordinator phones .+: list t1-1", result.output)
    rows = reach_rows(result.output)
    assert sorted(rows) == ["1", "1-2", "2", "3"]
    contacts, reachable, reached = (int(c) for c in rows["1-2"][:3])
    assert (contacts, reachable >= reached) == (20, True)
    assert not (tmp_path / "var").exists()


def test_manual_mode_prints_the_same_for_the_same_seed(invoke, tmp_path):  # noqa: F811
    assert manual(invoke, tmp_path, "--seed", "4").output == \
        manual(invoke, tmp_path, "--seed", "4").output


def test_manual_and_compare_together_are_refused(invoke, tmp_path):  # noqa: F811
    result = manual(invoke, tmp_path, "--compare")
    assert result.exit_code == 1
    assert "choose one" in result.output


def test_compare_prints_manual_and_bot_side_by_side_and_the_ratios(invoke, tmp_path):  # noqa: F811
    result = small(invoke, tmp_path, "small-ct", "--compare")
    assert result.exit_code == 0, result.output
    assert "Tier\tContacts\tReachable\tReached\tNever reached\tTo 80%" in result.output
    reached = reach_rows(result.output)["1"][2]
    assert re.fullmatch(r"\d+ / \d+", reached)
    assert re.search(r"Time to 95%: manual (never|[\d.]+ min), bot (never|[\d.]+ min), "
                     r"manual/bot (-|[\d.]+); floor [\d.]+ min", result.output)
    assert "Media statement released: E0+" in result.output
    readiness = next((tmp_path / "reports").glob("readiness-*.md")).read_text(encoding="utf-8")
    section = readiness.split("## Ring-round reach: manual / bot, same people and seed", 1)[1]
    assert re.search(r"^\| 1 \| \d+ \| \d+ \| \d+ / \d+ \|", section, re.MULTILINE)
    assert "- Time to 95%: manual " in section

"""`incident-bot playbooks validate` and `show`, through Typer's CliRunner."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from incident_bot.entrypoints.cli import app

DATA = Path(__file__).parent.parent / "data"
BROKEN = DATA / "broken_playbooks"
GOOD = DATA / "good_playbooks"
TEMPLATES = GOOD / "templates"
SMALL = GOOD / "small-ct.yaml"
WIDE = {"COLUMNS": "250"}


def run(*args: str | Path, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env={**WIDE, **(env or {})})


def test_validate_exits_0_for_a_valid_playbook():
    result = run("playbooks", "validate", SMALL, "--templates", TEMPLATES)
    assert result.exit_code == 0, result.output


def test_validate_prints_an_ok_summary_for_a_valid_playbook():
    result = run("playbooks", "validate", SMALL, "--templates", TEMPLATES)
    assert f"OK {SMALL}: small-ct: 6 roles, 2 tiers, 3 briefing steps, 3 messages, 3 tasks" \
        in result.output.splitlines()


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN.glob("*.yaml")))
def test_validate_exits_1_for_each_broken_playbook(name: str):
    result = run("playbooks", "validate", BROKEN / name, "--templates", TEMPLATES)
    assert result.exit_code == 1, result.output


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN.glob("*.yaml")))
def test_validate_prints_one_located_line_and_a_failed_summary(name: str):
    lines = run("playbooks", "validate", BROKEN / name, "--templates", TEMPLATES).stdout
    assert [line.split(":")[0] for line in lines.splitlines()[:2]] == [
        str(BROKEN / name), f"FAILED {BROKEN / name}"
    ]


def test_one_run_over_broken_and_valid_fails_but_still_loads_the_valid_one():
    broken = list(BROKEN.glob("*.yaml"))
    result = run("playbooks", "validate", BROKEN, SMALL, "--templates", TEMPLATES)
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        1, f"1 of {len(broken) + 1} playbook file(s) loaded; {len(broken)} errors, 0 warnings",
    )


def test_one_run_over_broken_and_valid_reports_the_valid_one_ok():
    result = run("playbooks", "validate", BROKEN, SMALL, "--templates", TEMPLATES)
    assert any(line.startswith(f"OK {SMALL}") for line in result.output.splitlines())


def test_validate_defaults_to_the_configured_directories():
    env = {"INCIDENT_BOT_PLAYBOOKS": str(GOOD), "INCIDENT_BOT_TEMPLATES": str(TEMPLATES)}
    result = run("playbooks", "validate", env=env)
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        0, "1 of 1 playbook file(s) loaded; 0 errors, 0 warnings",
    )


def test_validate_can_skip_template_checks():
    result = run("playbooks", "validate", BROKEN / "missing-template-language.yaml",
                 "--no-templates")
    assert result.exit_code == 0, result.output


def test_validate_refuses_a_missing_templates_directory(tmp_path: Path):
    result = run("playbooks", "validate", SMALL, "--templates", tmp_path / "absent")
    assert (result.exit_code, "does not exist" in result.output) == (1, True)


def test_validate_with_no_playbook_files_exits_1(tmp_path: Path):
    result = run("playbooks", "validate", tmp_path, "--no-templates")
    assert (result.exit_code, f"no playbook files (*.yaml, *.yml) in {tmp_path}") == (
        1, result.output.strip(),
    )


def show(*args: str) -> str:
    result = run("playbooks", "show", *args, "--dir", GOOD)
    assert result.exit_code == 0, result.output
    return result.output


def test_show_lists_roles_with_level_and_deputy():
    rows = [line.split("\t")[:4] for line in show("small-ct").splitlines()]
    assert ["engagement_lead", "Community engagement lead", "tactical", "police_silver"] in rows


def test_show_draws_each_tier_ladder():
    assert "caller 15m → senior 15m → sms 15m → voice 15m → flag" in show("small-ct")


def test_show_describes_the_media_hold_gate():
    assert ("after tier-1 and tier 1 at 80%; or at E0+1h30m; or override by bcu_commander"
            in show("small-ct"))


def test_show_sorts_tasks_by_due_time():
    output = show("small-ct")
    positions = [output.index(f"{task}: ") for task in
                 ("draft-statement", "approve-statement", "release-statement")]
    assert positions == sorted(positions)


def test_show_prints_brackets_in_titles_literally(tmp_path: Path):
    text = SMALL.read_text("utf-8").replace("Ring-round caller", "Caller [volunteer]")
    (tmp_path / "small-ct.yaml").write_text(text, "utf-8")
    result = run("playbooks", "show", "small-ct", "--dir", tmp_path)
    assert "Caller [volunteer]" in result.output


def test_show_an_unknown_id_lists_what_is_available():
    result = run("playbooks", "show", "nothing-here", "--dir", GOOD)
    assert (result.exit_code, result.output.strip()) == (
        1, f"no playbook 'nothing-here' in {GOOD}; available: small-ct",
    )


def test_show_a_broken_playbook_prints_its_problems():
    result = run("playbooks", "show", "unknown-role", "--dir", BROKEN)
    assert (result.exit_code, result.output.splitlines()[0].split(":")[:2]) == (
        1, [str(BROKEN / "unknown-role.yaml"), "12"],
    )

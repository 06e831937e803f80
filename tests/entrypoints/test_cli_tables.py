"""Tables on the command line keep every id, key and role code whole, whatever the terminal's
width, and in a pipe; the list commands print JSON with ``--json``. Through the real command:
in a pseudo-terminal of a given width, and piped."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from incident_bot.adapters.directory_import import parse_directory
from incident_bot.adapters.playbook_loader import load_playbooks
from incident_bot.domain.directory import Person
from tests.domain.builders import stored_incident
from tests.entrypoints.terminal import ROOT, in_terminal, piped

PLAYBOOKS = ROOT / "playbooks"
SAMPLE = ROOT / "incident_bot" / "data" / "sample_directory.csv"
PLAYBOOK = "ct-arrests-and-searches"
NOW = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
INCIDENTS = {"inc-3f9a1c7e": "Northbridge town centre and the Eastfield estate",
             "inc-0b41d2aa": "Southmoor", "inc-77e0c9d1": "Westgate ward"}


def words(output: str) -> set[str]:
    """Everything shown that an id or code could be: runs of letters, digits, _ and -."""
    return set(re.findall(r"[\w-]+", output))


def widest_line(output: str) -> int:
    return max(len(line) for line in output.splitlines())


@pytest.fixture
def env(database_url: str, uow_factory) -> dict[str, str]:
    """A database holding three incidents and the sample directory."""
    with uow_factory() as uow:
        for incident_id, area in INCIDENTS.items():
            uow.incidents.add(stored_incident(incident_id, area), NOW)
        uow.directory.upsert(sample_people())
        uow.commit()
    return {"DATABASE_URL": database_url, "INCIDENT_BOT_PLAYBOOKS": str(PLAYBOOKS)}


def sample_people() -> list[Person]:
    return parse_directory(SAMPLE, role_codes()).people


def sample_keys() -> set[str]:
    return {person.key for person in sample_people()}


def role_codes() -> set[str]:
    return {r.code for r in load_playbooks([PLAYBOOKS], None).playbooks[PLAYBOOK].roles}


# ---- incidents list -------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 40])
def test_incidents_list_in_a_narrow_terminal_shows_every_id_whole(env, tmp_path, columns):
    output = in_terminal(columns, env, "incidents", "list", cwd=tmp_path)
    assert (set(INCIDENTS) <= words(output), "…" in output, widest_line(output) <= columns) == (
        True, False, True)


def test_incidents_list_in_a_pipe_is_one_tab_separated_line_per_incident(env, tmp_path):
    lines = piped(env, "incidents", "list", cwd=tmp_path).stdout.splitlines()
    assert (lines[0].split("\t")[:2], sorted(line.split("\t")[0] for line in lines[1:])) == (
        ["id", "status"], sorted(INCIDENTS))


def test_incidents_list_json_holds_every_id_and_area_whole(env, tmp_path):
    listed = json.loads(piped(env, "incidents", "list", "--json", cwd=tmp_path).stdout)
    assert {item["id"]: item["area"] for item in listed} == INCIDENTS


# ---- directory list -------------------------------------------------------------------------


def test_directory_list_at_80_columns_keeps_keys_and_role_codes_whole(env, tmp_path):
    output = in_terminal(80, env, "directory", "list", cwd=tmp_path)
    assert (sample_keys() - words(output), "…" in output, widest_line(output) <= 80) == (
        set(), False, True)
    held = {code for person in sample_people() for code in person.roles}
    assert held - words(output) == set()


def test_directory_list_names_the_columns_a_narrow_terminal_leaves_out(env, tmp_path):
    output = in_terminal(80, env, "directory", "list", cwd=tmp_path)
    assert "Not shown at 80 columns: organisation" in output.replace("\n", " ")


def test_directory_list_at_16_columns_still_has_the_key_column_whole(env, tmp_path):
    output = in_terminal(16, env, "directory", "list", cwd=tmp_path)
    rows = {line.strip("│ ") for line in output.splitlines() if line.startswith("│")}
    assert (rows, widest_line(output) <= 16) == (sample_keys(), True)


def test_directory_list_too_narrow_for_its_keys_prints_each_person_as_lines(env, tmp_path):
    output = in_terminal(12, env, "directory", "list", cwd=tmp_path)
    assert (sample_keys() - words(output), "name:" in output, "…" in output,
            widest_line(output) <= 12) == (set(), True, False, True)


def test_directory_list_in_a_pipe_has_every_column_whole_and_the_count_on_stderr(env, tmp_path):
    result = piped(env, "directory", "list", cwd=tmp_path)
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert (rows[0], {row[0] for row in rows[1:]}, result.stderr) == (
        ["key", "name", "organisation", "roles", "tier", "channels", "lang", "phone", "slack",
         "deputy", "verified"], sample_keys(), "67 of 67 people\n")


def test_directory_list_json_has_every_person_with_the_phone_number_masked(env, tmp_path):
    listed = json.loads(piped(env, "directory", "list", "--json", cwd=tmp_path).stdout)
    assert ({p["key"] for p in listed}, {p["phone"][-7:-2] for p in listed if p["phone"]}) == (
        sample_keys(), {" ••••"})


# ---- playbooks show -------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 60])
def test_playbooks_show_in_a_narrow_terminal_keeps_every_role_code_whole(tmp_path, columns):
    output = in_terminal(columns, {"INCIDENT_BOT_PLAYBOOKS": str(PLAYBOOKS)},
                         "playbooks", "show", PLAYBOOK, cwd=tmp_path)
    assert (role_codes() - words(output), "…" in output, widest_line(output) <= columns) == (
        set(), False, True)

"""`incident-bot directory import`, `list` and `erase`, through Typer's CliRunner on SQLite."""

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incident_bot.adapters.db import SqlUnitOfWork, make_engine, upgrade
from incident_bot.adapters.directory_import import normalise_phone
from incident_bot.entrypoints.cli import app
from incident_bot.service.personal_data import person_hash

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data" / "directory"
GOOD, MIXED = DATA / "good.csv", DATA / "mixed.csv"
SAMPLE = ROOT / "incident_bot" / "data" / "sample_directory.csv"
SHIPPED_PLAYBOOKS = ROOT / "playbooks"
SMALL_PLAYBOOKS = ROOT / "tests" / "data" / "good_playbooks"  # roles include caller, bcu_commander


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'bot.db'}"


@pytest.fixture
def run(tmp_path: Path, database_url: str):
    def invoke(*args: str | Path, playbooks: Path = SMALL_PLAYBOOKS):
        env = {"COLUMNS": "250", "DATABASE_URL": database_url,
               "INCIDENT_BOT_PLAYBOOKS": str(playbooks),
               "INCIDENT_BOT_TEMPLATES": str(tmp_path)}
        return CliRunner().invoke(app, [str(a) for a in args], env=env)
    return invoke


def people_in(database_url: str):
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with SqlUnitOfWork(engine) as uow:
            return uow.directory.all()
    finally:
        engine.dispose()


def sample_numbers() -> list[str]:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        return [normalise_phone(row["phone"]) for row in csv.DictReader(handle)]


# ---- import -------------------------------------------------------------------------------------


def test_import_of_a_good_file_on_a_fresh_database_adds_everyone(run):
    result = run("directory", "import", GOOD)
    assert (result.exit_code, result.stdout.splitlines()[-1]) == \
        (0, "added 3, updated 0, unchanged 0, rejected 0")


def test_importing_the_same_file_again_reports_everyone_unchanged(run):
    run("directory", "import", GOOD)
    result = run("directory", "import", GOOD)
    assert (result.exit_code, result.stdout.splitlines()[-1]) == \
        (0, "added 0, updated 0, unchanged 3, rejected 0")


def test_importing_the_same_file_again_leaves_the_stored_people_as_they_were(run, database_url):
    run("directory", "import", GOOD)
    before = people_in(database_url)
    run("directory", "import", GOOD)
    assert people_in(database_url) == before


def test_import_with_bad_rows_imports_the_good_ones_and_exits_1(run, database_url):
    result = run("directory", "import", MIXED)
    assert (result.exit_code, result.stdout.splitlines()[-1],
            sorted(p.key for p in people_in(database_url))) == \
        (1, "added 2, updated 0, unchanged 0, rejected 3", ["m-01", "m-03"])


def test_import_prints_each_rejected_row_as_file_line_column_reason(run):
    lines = run("directory", "import", MIXED).stdout.splitlines()
    assert [line.split(": ")[:2] for line in lines[:3]] == [
        [f"{MIXED}:3", "phone"], [f"{MIXED}:5", "roles"], [f"{MIXED}:6", "tier"]]


def test_import_never_prints_a_rejected_phone_number_in_full(run):
    assert "90030" not in run("directory", "import", MIXED).stdout


def with_verified_on(tmp_path: Path, verified_on: str) -> Path:
    """good.csv with Testa Gold's verified_on replaced."""
    path = tmp_path / "verified.csv"
    path.write_text(GOOD.read_text("utf-8").replace("t-02,2026-09-01", f"t-02,{verified_on}", 1),
                    "utf-8")
    return path


def test_an_impossible_date_is_echoed_as_typed_so_the_mistake_can_be_seen(run, tmp_path):
    result = run("directory", "import", with_verified_on(tmp_path, "2026-13-01"))
    assert (result.exit_code, result.stdout.splitlines()[0]) == (
        1, f"{tmp_path / 'verified.csv'}:2: verified_on: '2026-13-01' is not a date: "
           "write YYYY-MM-DD")


def test_a_phone_number_in_the_date_column_is_still_masked(run, tmp_path):
    output = run("directory", "import", with_verified_on(tmp_path, "07700 900301")).stdout
    assert ("900301" in output, "'077•• ••••01' is not a date" in output) == (False, True)


def test_strict_import_with_a_bad_row_imports_nothing(run, database_url):
    result = run("directory", "import", MIXED, "--strict")
    assert (result.exit_code, result.stdout.splitlines()[-1], people_in(database_url)) == \
        (1, "added 0, updated 0, unchanged 0, rejected 3", [])


def test_import_of_a_file_with_missing_columns_names_them_and_exits_1(run, database_url):
    result = run("directory", "import", DATA / "missing-columns.csv")
    assert (result.exit_code, "slack_user_id, deputy, verified_on" in result.stderr,
            people_in(database_url)) == (1, True, [])


def test_import_without_any_loadable_playbook_explains_and_exits_1(run, tmp_path):
    result = run("directory", "import", GOOD, playbooks=tmp_path / "nowhere")
    assert (result.exit_code, "no playbook loads from" in result.stderr) == (1, True)


def test_the_sample_directory_imports_cleanly_against_the_shipped_playbooks(run):
    result = run("directory", "import", SAMPLE, "--strict", playbooks=SHIPPED_PLAYBOOKS)
    assert (result.exit_code, result.stdout.splitlines()) == \
        (0, ["added 67, updated 0, unchanged 0, rejected 0"])


# ---- list ---------------------------------------------------------------------------------------


def test_list_shows_phone_numbers_masked(run):
    run("directory", "import", GOOD)
    assert "+44 7700 ••••01" in run("directory", "list").stdout


def test_list_never_shows_the_full_number_of_anyone_in_the_sample(run):
    run("directory", "import", SAMPLE, playbooks=SHIPPED_PLAYBOOKS)
    output = run("directory", "list").stdout.replace(" ", "")
    shown = [n for n in sample_numbers() if n in output or n.replace("+44", "0") in output]
    assert (shown, "67 of 67 people" in run("directory", "list").stderr) == ([], True)


def test_list_by_tier_shows_only_that_tier(run):
    run("directory", "import", GOOD)
    output = run("directory", "list", "--tier", "1").stdout
    assert ("Ada Keyperson" in output, "Testa Gold" in output) == (True, False)


def test_list_by_role_shows_only_its_holders(run):
    run("directory", "import", GOOD)
    output = run("directory", "list", "--role", "caller").stdout
    assert ("Testa Silver" in output, "Testa Gold" in output) == (True, False)


def test_list_of_an_empty_directory_says_how_to_import(run):
    result = run("directory", "list")
    assert (result.exit_code, "directory import FILE" in result.stdout) == (0, True)


# ---- erase --------------------------------------------------------------------------------------


def test_erase_removes_the_person(run, database_url):
    run("directory", "import", GOOD)
    result = run("directory", "erase", "t-03", "--yes")
    assert (result.exit_code, [p.key for p in people_in(database_url)]) == (0, ["t-01", "t-02"])


def test_erase_clears_the_person_as_anyones_deputy(run, database_url):
    run("directory", "import", GOOD)
    run("directory", "erase", "t-02", "--yes")
    (gold,) = [p for p in people_in(database_url) if p.key == "t-01"]
    assert gold.deputy is None


def test_erase_of_an_unknown_key_exits_1(run):
    result = run("directory", "erase", "nobody", "--yes")
    assert (result.exit_code, "no person with key 'nobody'" in result.stderr) == (1, True)


def test_erase_asks_first_and_answering_no_keeps_the_person(run, database_url):
    run("directory", "import", GOOD)
    runner_result = CliRunner().invoke(
        app, ["directory", "erase", "t-03"], input="n\n",
        env={"DATABASE_URL": database_url, "INCIDENT_BOT_PLAYBOOKS": str(SMALL_PLAYBOOKS)})
    assert (runner_result.exit_code, len(people_in(database_url))) == (1, 3)


def audit_entries(database_url: str):
    engine = make_engine(database_url)
    try:
        with SqlUnitOfWork(engine) as uow:
            return [(e["action"], e["outcome"], e["detail"]) for e in uow.audit.entries()]
    finally:
        engine.dispose()


def test_erase_is_recorded_in_the_audit_log(run, database_url):
    run("directory", "import", GOOD)
    run("directory", "erase", "t-03", "--yes")
    [(_, _, detail)] = [e for e in audit_entries(database_url) if e[0] == "directory.erase"]
    assert detail.startswith(f"person {person_hash('t-03')}: ")  # a hash, never the key


def test_listing_the_directory_is_recorded_in_the_audit_log(run, database_url):
    run("directory", "list", "--tier", "1")
    assert audit_entries(database_url) == [("directory.list", "viewed", "tier=1 role=None")]

"""Reading directory files (CSV and YAML) into people, and importing them by key."""

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest

from incident_bot.adapters import directory_import
from incident_bot.adapters.directory_import import (
    import_directory,
    mask_typed_number,
    normalise_phone,
    parse_directory,
)
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Channel
from incident_bot.errors import DirectoryImportError
from incident_bot.service.ports import UpsertReport

DATA = Path(__file__).parent.parent / "data" / "directory"
SAMPLE = Path(__file__).parents[2] / "incident_bot" / "data" / "sample_directory.csv"
ROLES = {"bcu_commander", "police_silver", "caller", "engagement_lead"}
CT_ROLES = {  # the fixed role vocabulary of the CT playbook
    "bcu_commander", "investigation_owner", "council_chief_exec", "council_leader",
    "police_silver", "council_tactical_lead", "police_comms", "council_comms", "engagement_lead",
    "emergency_planning", "neighbourhood_inspector", "housing_lead", "schools_lead",
    "streetscene_lead", "contact_centre_lead", "caller", "elected_member",
}
HEADER = "id,name,organisation,roles,tier,slack_user_id,phone,language,channels,deputy,verified_on"
GOOD_ROW = "k-1,Kim Keyperson,Testtown Forum,,1,,07700 900123,ur,phone;sms,,2026-09-01"


class RecordingDirectory:
    """An in-memory DirectoryRepository that records every upsert."""

    def __init__(self, people: Iterable[Person] = ()) -> None:
        self.people = {p.key: p for p in people}
        self.upserts: list[list[Person]] = []

    def upsert(self, people: Iterable[Person]) -> UpsertReport:
        batch = list(people)
        self.upserts.append(batch)
        added = sum(p.key not in self.people for p in batch)
        unchanged = sum(self.people.get(p.key) == p for p in batch)
        self.people.update((p.key, p) for p in batch)
        return UpsertReport(added, len(batch) - added - unchanged, unchanged)

    def get(self, key: str) -> Person | None:
        return self.people.get(key)

    def all(self) -> list[Person]:
        return sorted(self.people.values(), key=lambda p: p.key)

    def by_slack_user(self, slack_user_id: str) -> Person | None:
        return next((p for p in self.people.values() if p.slack_user_id == slack_user_id), None)

    def by_phone(self, e164: str) -> list[Person]:
        return [p for p in self.people.values() if p.phone == e164]

    def erase(self, key: str) -> bool:
        return self.people.pop(key, None) is not None


def write(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def one_row(tmp_path: Path, row: str, roles: set[str] = ROLES):
    return parse_directory(write(tmp_path, row), roles)


def located_errors(result) -> list[tuple[int | None, str]]:
    return [(p.line, p.path) for p in result.errors]


def row_with(**cells: str) -> str:
    values = dict(zip(HEADER.split(","), GOOD_ROW.split(","), strict=True)) | cells
    return ",".join(values.values())


# ---- a good row ---------------------------------------------------------------------------------


def test_a_good_row_becomes_a_person_with_every_field(tmp_path):
    row = "k-1,Kim Keyperson,Testtown Police,caller;bcu_commander,0,U0KIM0001,07700 900123,PL," \
          "slack;sms,,2026-09-01"
    (person,) = one_row(tmp_path, row).people
    assert person == Person(
        key="k-1", name="Kim Keyperson", organisation="Testtown Police",
        roles=("caller", "bcu_commander"), tier=0, slack_user_id="U0KIM0001",
        phone="+447700900123", language="pl", channels=(Channel.SLACK, Channel.SMS),
        deputy=None, verified_on=date(2026, 9, 1))


def test_without_an_id_the_key_is_the_slug_of_name_and_organisation(tmp_path):
    (person,) = one_row(tmp_path, row_with(id="")).people
    assert person.key == "kim-keyperson-testtown-forum"


def test_an_empty_tier_language_and_date_take_their_defaults(tmp_path):
    (person,) = one_row(tmp_path, row_with(tier="", language="", verified_on="")).people
    assert (person.tier, person.language, person.verified_on) == (None, "en", None)


def test_header_names_are_read_whatever_their_case_and_spacing(tmp_path):
    header = HEADER.replace("slack_user_id", "Slack User ID").replace("name,", "Name,", 1)
    path = write(tmp_path, row_with(slack_user_id="U0KIM0001", channels="slack"), header=header)
    (person,) = parse_directory(path, ROLES).people
    assert (person.name, person.slack_user_id) == ("Kim Keyperson", "U0KIM0001")


# ---- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [
    "07700 900123", "07700900123", "+44 7700 900123", "+447700900123", "0044 7700 900123",
    "(07700) 900 123", "07700-900-123", "+44 (0)7700 900123", " 07700 900 123 ",
])
def test_uk_numbers_in_any_usual_format_become_e164(typed: str):
    assert normalise_phone(typed) == "+447700900123"


def test_an_international_number_keeps_its_country_code():
    assert normalise_phone("+48 22 123 45 67") == "+48221234567"


def test_a_uk_landline_number_is_accepted():
    assert normalise_phone("020 7946 0123") == "+442079460123"


@pytest.mark.parametrize("typed", ["07700 90012", "07700 9001234", "12345", "0800 FLOWERS",
                                   "07700 900123 ext 4", "+44"])
def test_a_number_that_is_not_a_valid_phone_number_is_refused(typed: str):
    with pytest.raises(ValueError, match=r"\S"):
        normalise_phone(typed)


def test_an_invalid_phone_number_rejects_its_row_naming_line_and_column(tmp_path):
    result = parse_directory(write(tmp_path, GOOD_ROW, row_with(id="k-2", phone="07700 90012")),
                             ROLES)
    assert located_errors(result) == [(3, "phone")]


def test_the_message_for_an_invalid_phone_number_masks_the_number(tmp_path):
    (problem,) = one_row(tmp_path, row_with(phone="07700 90045")).problems
    assert ("90045" not in problem.message, "077•• •••45" in problem.message) == (True, True)


def test_masking_a_typed_number_keeps_only_its_first_three_and_last_two_digits():
    assert mask_typed_number("+44 7700 900123") == "+44 7••• ••••23"


def test_a_phone_channel_without_a_phone_number_rejects_the_row(tmp_path):
    result = one_row(tmp_path, row_with(phone="", channels="phone;voice"))
    assert located_errors(result) == [(2, "phone")]


# ---- the other fields ---------------------------------------------------------------------------


def test_an_unknown_role_rejects_the_row_naming_the_role(tmp_path):
    (problem,) = one_row(tmp_path, row_with(roles="caller;police_gold")).problems
    assert (problem.line, problem.path, "'police_gold'" in problem.message) == (2, "roles", True)


def test_an_unknown_role_close_to_a_known_one_is_suggested(tmp_path):
    (problem,) = one_row(tmp_path, row_with(roles="caler")).problems
    assert "did you mean 'caller'?" in problem.message


@pytest.mark.parametrize("tier", ["5", "-1", "one", "1.0"])
def test_a_tier_outside_0_to_4_rejects_the_row(tmp_path, tier: str):
    assert located_errors(one_row(tmp_path, row_with(tier=tier))) == [(2, "tier")]


@pytest.mark.parametrize("language", ["english", "e1", "u"])
def test_a_language_that_is_not_a_code_rejects_the_row(tmp_path, language: str):
    assert located_errors(one_row(tmp_path, row_with(language=language))) == [(2, "language")]


def test_an_unknown_channel_rejects_the_row(tmp_path):
    assert located_errors(one_row(tmp_path, row_with(channels="sms;pager"))) == [(2, "channels")]


def test_the_slack_channel_without_a_slack_user_id_rejects_the_row(tmp_path):
    result = one_row(tmp_path, row_with(channels="slack;sms"))
    assert located_errors(result) == [(2, "slack_user_id")]


@pytest.mark.parametrize("slack_user_id", ["@kim", "u0kim0001", "C0CHANNEL1"])
def test_a_malformed_slack_user_id_rejects_the_row(tmp_path, slack_user_id: str):
    result = one_row(tmp_path, row_with(slack_user_id=slack_user_id))
    assert located_errors(result) == [(2, "slack_user_id")]


@pytest.mark.parametrize("verified_on", ["01/09/2026", "2026-13-01", "20260901", "last year"])
def test_a_verified_on_that_is_not_an_iso_date_rejects_the_row(tmp_path, verified_on: str):
    result = one_row(tmp_path, row_with(verified_on=verified_on))
    assert located_errors(result) == [(2, "verified_on")]


def test_a_name_is_required(tmp_path):
    assert located_errors(one_row(tmp_path, row_with(name=""))) == [(2, "name")]


def test_a_tier_contact_with_no_channels_is_a_warning_not_a_rejection(tmp_path):
    result = one_row(tmp_path, row_with(channels=""))
    assert ([p.severity for p in result.problems], len(result.people)) == (["warning"], 1)


# ---- deputies -----------------------------------------------------------------------------------


def test_a_deputy_given_by_name_is_stored_as_their_key(tmp_path):
    path = write(tmp_path, GOOD_ROW, row_with(id="k-2", name="Dee Deputy"),
                 row_with(id="k-3", name="Pat Principal", deputy="dee  DEPUTY"))
    people = {p.key: p for p in parse_directory(path, ROLES).people}
    assert people["k-3"].deputy == "k-2"


def test_a_deputy_given_by_id_is_stored_as_that_id(tmp_path):
    path = write(tmp_path, row_with(deputy="k-2"), row_with(id="k-2", name="Dee Deputy"))
    assert parse_directory(path, ROLES).people[0].deputy == "k-2"


def test_a_deputy_already_in_the_directory_is_found(tmp_path):
    existing = [Person(key="old-1", name="Olive Oldhand")]
    result = parse_directory(write(tmp_path, row_with(deputy="Olive Oldhand")), ROLES, existing)
    assert result.people[0].deputy == "old-1"


def test_an_unknown_deputy_is_a_warning_and_left_empty(tmp_path):
    result = one_row(tmp_path, row_with(deputy="Nobody Known"))
    (problem,) = result.problems
    assert (problem.severity, problem.path, result.people[0].deputy) == \
        ("warning", "deputy", None)


# ---- across rows --------------------------------------------------------------------------------


def test_a_duplicate_key_rejects_the_second_row_and_keeps_the_first(tmp_path):
    result = parse_directory(write(tmp_path, GOOD_ROW, row_with(name="Kim Other")), ROLES)
    assert (located_errors(result), [p.name for p in result.people]) == \
        ([(3, "id")], ["Kim Keyperson"])


def test_a_slack_user_id_given_twice_rejects_the_second_row(tmp_path):
    path = write(tmp_path, row_with(slack_user_id="U0KIM0001"),
                 row_with(id="k-2", slack_user_id="U0KIM0001"))
    assert located_errors(parse_directory(path, ROLES)) == [(3, "slack_user_id")]


def test_a_slack_user_id_held_by_someone_else_in_the_directory_rejects_the_row(tmp_path):
    existing = [Person(key="old-1", name="Olive Oldhand", slack_user_id="U0KIM0001")]
    result = parse_directory(write(tmp_path, row_with(slack_user_id="U0KIM0001")), ROLES,
                             existing)
    assert located_errors(result) == [(2, "slack_user_id")]


def test_every_bad_row_is_reported_on_its_own_line(tmp_path):
    result = parse_directory(DATA / "mixed.csv", ROLES)
    assert located_errors(result) == [(3, "phone"), (5, "roles"), (6, "tier")]


def test_a_quoted_cell_over_two_lines_keeps_later_line_numbers_right(tmp_path):
    path = write(tmp_path, row_with(organisation='"Testtown Forum, ""North""\nbranch"'),
                 row_with(id="k-2", tier="9"))
    assert located_errors(parse_directory(path, ROLES)) == [(2, "organisation"), (4, "tier")]


def test_blank_lines_are_skipped_and_do_not_shift_line_numbers(tmp_path):
    path = write(tmp_path, "", GOOD_ROW, ",,,,,,,,,,", row_with(id="k-2", tier="9"))
    assert located_errors(parse_directory(path, ROLES)) == [(5, "tier")]


def test_a_row_with_more_cells_than_columns_is_rejected(tmp_path):
    assert located_errors(one_row(tmp_path, GOOD_ROW + ",surplus")) == [(2, "row")]


def test_an_extra_column_is_a_warning_and_is_not_stored(tmp_path):
    path = write(tmp_path, GOOD_ROW + ",private", header=HEADER + ",Faith")
    result = parse_directory(path, ROLES)
    assert [(p.line, p.path, p.severity) for p in result.problems] == [(1, "faith", "warning")]


# ---- the whole file -----------------------------------------------------------------------------


def test_missing_columns_are_named_with_the_header_line():
    with pytest.raises(DirectoryImportError) as raised:
        parse_directory(DATA / "missing-columns.csv", ROLES)
    (problem,) = raised.value.problems
    assert (problem.line, problem.message.split(" (")[0]) == \
        (1, "missing required column(s): slack_user_id, deputy, verified_on")


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "empty.csv").write_text("\n\n", encoding="utf-8")
    with pytest.raises(DirectoryImportError, match="the file is empty"):
        parse_directory(tmp_path / "empty.csv", ROLES)


def test_a_utf8_file_with_a_byte_order_mark_reads_its_first_column():
    (person,) = parse_directory(DATA / "bom.csv", ROLES).people
    assert person.key == "b-01"


def test_a_file_that_is_not_utf8_is_refused_on_the_line_of_the_bad_byte():
    with pytest.raises(DirectoryImportError) as raised:
        parse_directory(DATA / "not-utf8.csv", ROLES)
    (problem,) = raised.value.problems
    assert (problem.line, "not UTF-8" in problem.message) == (3, True)


def test_a_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(directory_import, "MAX_BYTES", 100)
    with pytest.raises(DirectoryImportError, match="over the limit of 100 bytes"):
        parse_directory(write(tmp_path, GOOD_ROW), ROLES)


def test_a_file_over_the_row_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(directory_import, "MAX_ROWS", 2)
    rows = [row_with(id=f"k-{n}") for n in range(3)]
    with pytest.raises(DirectoryImportError, match="more than 2 rows"):
        parse_directory(write(tmp_path, *rows), ROLES)


# ---- YAML ---------------------------------------------------------------------------------------


def test_a_yaml_directory_reads_lists_and_semicolon_words_alike():
    people = {p.key: p for p in parse_directory(DATA / "people.yaml", ROLES).people}
    assert (people["y-01"].roles, people["y-02"].channels) == \
        (("bcu_commander", "caller"), (Channel.PHONE, Channel.SMS, Channel.VOICE))


def test_a_yaml_problem_is_located_on_the_line_of_its_field():
    result = parse_directory(DATA / "people.yaml", ROLES)
    assert located_errors(result) == [(24, "phone")]


def test_a_yaml_phone_number_written_without_quotes_is_rejected(tmp_path):
    (tmp_path / "d.yaml").write_text("- name: Kim\n  phone: +447700900123\n  channels: sms\n",
                                     encoding="utf-8")
    (problem,) = parse_directory(tmp_path / "d.yaml", ROLES).problems
    assert (problem.line, problem.path, "quotes" in problem.message) == (2, "phone", True)


def test_a_yaml_file_that_is_not_a_list_is_refused(tmp_path):
    (tmp_path / "d.yaml").write_text("name: Kim\n", encoding="utf-8")
    with pytest.raises(DirectoryImportError, match="must be a list of people"):
        parse_directory(tmp_path / "d.yaml", ROLES)


def test_an_unknown_yaml_field_is_a_warning(tmp_path):
    (tmp_path / "d.yaml").write_text("- name: Kim\n  faith: x\n", encoding="utf-8")
    (problem,) = parse_directory(tmp_path / "d.yaml", ROLES).problems
    assert (problem.line, problem.path, problem.severity) == (2, "faith", "warning")


def test_a_yaml_syntax_error_is_a_located_import_error(tmp_path):
    (tmp_path / "d.yaml").write_text("- name: [Kim\n", encoding="utf-8")
    with pytest.raises(DirectoryImportError, match="YAML syntax error"):
        parse_directory(tmp_path / "d.yaml", ROLES)


# ---- importing ----------------------------------------------------------------------------------


def test_a_file_with_good_and_bad_rows_imports_the_good_ones():
    repo = RecordingDirectory()
    report = import_directory(DATA / "mixed.csv", ROLES, repo)
    assert (sorted(repo.people), report.added, report.rejected) == (["m-01", "m-03"], 2, 3)


def test_strict_imports_nothing_from_a_file_with_a_bad_row():
    repo = RecordingDirectory()
    report = import_directory(DATA / "mixed.csv", ROLES, repo, strict=True)
    assert (repo.upserts, report.imported, report.rejected) == ([], False, 3)


def test_strict_imports_a_file_without_bad_rows():
    repo = RecordingDirectory()
    report = import_directory(DATA / "good.csv", ROLES, repo, strict=True)
    assert (report.added, report.imported) == (3, True)


def test_reimporting_the_same_file_reports_everyone_unchanged():
    repo = RecordingDirectory()
    import_directory(DATA / "good.csv", ROLES, repo)
    again = import_directory(DATA / "good.csv", ROLES, repo)
    assert again.summary() == "added 0, updated 0, unchanged 3, rejected 0"


def test_reimporting_the_same_file_leaves_the_directory_as_it_was():
    repo = RecordingDirectory()
    import_directory(DATA / "good.csv", ROLES, repo)
    before = repo.all()
    import_directory(DATA / "good.csv", ROLES, repo)
    assert repo.all() == before


def test_a_changed_row_is_reported_as_updated(tmp_path):
    repo = RecordingDirectory()
    import_directory(write(tmp_path, GOOD_ROW), ROLES, repo)
    report = import_directory(write(tmp_path, row_with(tier="2")), ROLES, repo)
    assert (report.updated, repo.people["k-1"].tier) == (1, 2)


def test_an_unreadable_file_imports_nothing():
    repo = RecordingDirectory()
    with pytest.raises(DirectoryImportError):
        import_directory(DATA / "missing-columns.csv", ROLES, repo)
    assert repo.upserts == []


# ---- the bundled sample -------------------------------------------------------------------------


def test_the_sample_directory_parses_with_no_problems_against_the_ct_roles():
    assert parse_directory(SAMPLE, CT_ROLES).problems == []


def test_the_sample_directory_has_two_holders_for_every_ct_role():
    people = parse_directory(SAMPLE, CT_ROLES).people
    assert {role: min(sum(role in p.roles for p in people), 2) for role in CT_ROLES} == \
        dict.fromkeys(CT_ROLES, 2)


def test_the_sample_directory_uses_only_ofcom_drama_mobile_numbers():
    people = parse_directory(SAMPLE, CT_ROLES).people
    assert all(p.phone and p.phone.startswith("+447700900") for p in people)


def test_the_sample_directory_has_contacts_in_every_tier():
    people = parse_directory(SAMPLE, CT_ROLES).people
    assert {p.tier for p in people} == {None, 0, 1, 2, 3, 4}


def test_the_sample_directory_has_some_contacts_not_verified_for_over_a_year():
    people = parse_directory(SAMPLE, CT_ROLES).people
    stale = [p for p in people if p.verified_on and p.verified_on < date(2025, 11, 1)]
    assert len(stale) >= 3


def test_a_yaml_entry_that_is_not_a_mapping_is_one_rejected_row(tmp_path):
    (tmp_path / "d.yaml").write_text("- just a name\n- name: Kim\n", encoding="utf-8")
    result = parse_directory(tmp_path / "d.yaml", ROLES)
    assert (located_errors(result), result.rejected, len(result.people)) == ([(1, "row")], 1, 1)


def test_a_yaml_entry_without_a_name_is_rejected_once(tmp_path):
    (tmp_path / "d.yaml").write_text("- organisation: Forum\n", encoding="utf-8")
    assert located_errors(parse_directory(tmp_path / "d.yaml", ROLES)) == [(1, "name")]


def test_a_name_with_a_non_breaking_space_is_accepted(tmp_path):
    (person,) = one_row(tmp_path, row_with(name="Kim\u00a0Keyperson")).people
    assert person.name == "Kim\u00a0Keyperson"


def test_a_yaml_phone_given_as_a_list_is_reported_once(tmp_path):
    (tmp_path / "d.yaml").write_text("- name: Kim\n  phone: [a, b]\n  channels: sms\n",
                                     encoding="utf-8")
    assert located_errors(parse_directory(tmp_path / "d.yaml", ROLES)) == [(2, "phone")]


def test_a_row_shifted_by_an_unquoted_comma_never_echoes_its_phone_number(tmp_path):
    row = "k-1,Kim Keyperson,Testtown Forum, North,,1,,07700 900123,ur,phone;sms,,2026-09-01"
    problems = one_row(tmp_path, row).problems
    assert (len(problems) > 1, [p for p in problems if "900123" in p.message]) == (True, [])


def test_a_duplicate_of_a_rejected_row_is_still_reported_as_a_duplicate(tmp_path):
    path = write(tmp_path, row_with(tier="9"), row_with(name="Kim Other"))
    assert located_errors(parse_directory(path, ROLES)) == [(2, "tier"), (3, "id")]

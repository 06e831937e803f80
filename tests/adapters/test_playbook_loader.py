"""load_playbook / load_playbooks: the valid fixture becomes the domain model, with lines, and
LoadResult keeps loaded playbooks and problems apart."""

from datetime import timedelta
from pathlib import Path

import pytest
from test_playbook_loader_support import write_playbook

from incident_bot.adapters.playbook_loader import load_playbook, load_playbooks, playbook_files
from incident_bot.domain.durations import IncidentClock, RelativeTime
from incident_bot.domain.playbook import Channel, Classification, Level, RungKind
from incident_bot.errors import PlaybookError

GOOD = Path(__file__).parent.parent / "data" / "good_playbooks"
SMALL = GOOD / "small-ct.yaml"


@pytest.fixture(scope="module")
def small():
    return load_playbook(SMALL)


def test_header_fields_are_read(small):
    assert (small.id, small.classification, small.started_by, small.coordinator) == (
        "small-ct", Classification.OFFICIAL_SENSITIVE, ("bcu_commander", "police_silver"),
        "engagement_lead",
    )


def test_e0_default_is_a_relative_time(small):
    assert small.e0_default == RelativeTime(IncidentClock.T0, timedelta(hours=2))


def test_variables_are_kept_as_text(small):
    assert small.variables == {"partnership_name": "Testtown Partnership",
                               "helpline": "0300 123 4567"}


def test_source_is_the_file_it_came_from(small):
    assert small.source == str(SMALL)


def test_roles_carry_level_deputy_need_to_know_and_line(small):
    role = small.role("bcu_commander")
    assert (role.level, role.deputy, role.need_to_know, role.line) == (
        Level.STRATEGIC, "police_silver", True, 16,
    )


def test_tier_ladder_is_read_in_order(small):
    ladder = small.tier(1).ladder
    assert [r.kind for r in ladder] == [RungKind.CALLER, RungKind.SENIOR, RungKind.SMS,
                                        RungKind.VOICE, RungKind.FLAG]
    assert ladder[-1].timeout is None


def test_tier_percentages_and_roles_are_read(small):
    tier = small.tier(1)
    assert (tier.coverage_target, tier.caller_role, tier.senior_role, tier.fan_out) == (
        0.8, "caller", "police_silver", 5,
    )


def test_tier_without_optional_keys_gets_defaults(small):
    tier = small.tier(4)
    assert (tier.fan_out, tier.accept_within, tier.ladder) == (6, timedelta(minutes=10), ())


def test_gate_is_read_with_coverage_timeout_and_override(small):
    gate = small.step("media").gate
    assert (gate.after, gate.coverage_tiers, gate.coverage, str(gate.timeout),
            gate.override_by) == (("tier-1",), (1,), 0.8, "E0+1h30m", ("bcu_commander",))


def test_an_empty_gate_opens_at_e0(small):
    assert small.step("strategic").gate.after == ()


def test_message_languages_default_to_english(small):
    assert small.message("public-holding-statement").languages == ("en",)


def test_message_channels_are_enums(small):
    assert small.message("ring-round-sms").channels == (Channel.SMS, Channel.VOICE)


def test_task_reminder_can_be_turned_off_with_null(small):
    assert small.task("approve-statement").remind_before is None


def test_task_without_reminder_key_gets_the_default(small):
    assert small.task("draft-statement").remind_before == timedelta(minutes=15)


def test_task_escalation_is_read(small):
    steps = small.task("approve-statement").escalation
    assert [(s.after_overdue, s.to_role) for s in steps] == [
        (timedelta(minutes=30), "police_silver"), (timedelta(hours=2), "council_chief_exec"),
    ]


def test_every_item_has_its_line(small):
    assert (small.tier(1).line, small.step("media").line, small.task("draft-statement").line) \
        == (50, 88, 126)


def test_load_playbook_raises_with_every_problem(tmp_path: Path):
    path = write_playbook(tmp_path, "colour: red\nshape: round\n")
    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)
    assert [p.path for p in caught.value.problems] == ["colour", "shape"]


def test_a_directory_means_its_yaml_and_yml_files_in_name_order(tmp_path: Path):
    for name in ("b.yml", "a.yaml", "notes.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
    assert [p.name for p in playbook_files([tmp_path])] == ["a.yaml", "b.yml"]


def test_one_broken_playbook_does_not_stop_another(tmp_path: Path):
    write_playbook(tmp_path, "colour: red\n", playbook_id="broken")
    write_playbook(tmp_path, playbook_id="fine")
    result = load_playbooks([tmp_path])
    assert (list(result.playbooks), [p.name for p in result.failed]) == (["fine"], ["broken.yaml"])


def test_the_same_id_in_two_files_fails_the_second(tmp_path: Path):
    write_playbook(tmp_path, playbook_id="twin")
    (tmp_path / "twin.yml").write_text((tmp_path / "twin.yaml").read_text("utf-8"), "utf-8")
    result = load_playbooks([tmp_path])
    assert [str(p) for p in result.failed[tmp_path / "twin.yml"]] == [
        f"{tmp_path / 'twin.yml'}:?: id: playbook id 'twin' is already loaded from "
        f"{tmp_path / 'twin.yaml'}"
    ]


def test_a_missing_path_is_a_failed_file(tmp_path: Path):
    result = load_playbooks([tmp_path / "absent.yaml"])
    assert list(result.failed) == [tmp_path / "absent.yaml"]


def test_warnings_do_not_fail_a_playbook_and_errors_do(tmp_path: Path):
    write_playbook(tmp_path, "colour: red\n")
    result = load_playbooks([tmp_path])
    assert (len(result.errors), len(result.warnings), result.playbooks) == (1, 0, {})


def test_the_worked_example_in_the_authoring_guide_loads(tmp_path: Path):
    guide = (Path(__file__).parents[2] / "docs" / "playbooks.md").read_text("utf-8")
    after_marker = guide.split("<!-- worked-example: ct-arrests-example -->", 1)[1]
    example = after_marker.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "ct-arrests-example.yaml").write_text(example, "utf-8")
    assert load_playbook(tmp_path / "ct-arrests-example.yaml").id == "ct-arrests-example"

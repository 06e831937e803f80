"""Strict shape checks: required and unknown keys, types, enums, durations, percentages."""

from pathlib import Path

import pytest
from test_playbook_loader_support import BASE, BASE_LINES, case, problems_in, write_playbook

from incident_bot.adapters.playbook_loader import load_playbooks
from incident_bot.domain.playbook import TwoPersonApproval

N = BASE_LINES  # the line of the last line of the base playbook


def test_a_list_at_the_top_is_not_a_playbook(tmp_path: Path):
    assert problems_in(tmp_path, "- a\n", base="")[0].startswith(
        "1: <root>: must be a mapping with keys id, title,"
    )


def test_an_unknown_top_level_key_suggests_the_close_one(tmp_path: Path):
    assert problems_in(tmp_path, "brefing: []\n")[0].startswith(
        f"{N + 1}: brefing: unknown key 'brefing' (did you mean 'briefing'?); allowed keys: id,"
    )


def test_percent_and_fraction_mean_the_same(tmp_path: Path):
    write_playbook(tmp_path, "tiers:\n  - {tier: 2, title: M, coverage_target: 65%}\n", "a")
    write_playbook(tmp_path, "tiers:\n  - {tier: 2, title: M, coverage_target: 0.65}\n", "b")
    loaded = load_playbooks([tmp_path]).playbooks
    assert loaded["a"].tier(2).coverage_target == loaded["b"].tier(2).coverage_target == 0.65


def test_two_person_approval_defaults_to_public_messages_and_may_cover_all(tmp_path: Path):
    write_playbook(tmp_path, "", "a")
    write_playbook(tmp_path, "two_person_approval: all\n", "b")
    loaded = load_playbooks([tmp_path]).playbooks
    assert (loaded["a"].two_person_approval, loaded["b"].two_person_approval) == (
        TwoPersonApproval.PUBLIC, TwoPersonApproval.ALL)


def test_several_problems_are_all_reported_in_line_order(tmp_path: Path):
    extra = """\
    tasks:
      - {id: a, title: A, owner: nobody, due: E0}
      - {id: b, title: B, owner: bcu_commander, due: soon}
    colour: red
    """
    assert [p.split(":")[0] for p in problems_in(tmp_path, extra)] == [
        str(N + 2), str(N + 3), str(N + 4)
    ]


def test_an_odd_id_is_not_used_as_a_label(tmp_path: Path):
    extra = '  - {code: "a b", title: Caller, level: delivery}\n'
    assert problems_in(tmp_path, extra)[0].startswith(f"{N + 1}: roles[#3].code: 'a b' is not")


# Each row: a playbook (``extra`` added to ``base``) and exactly the problems it must get.
PROBLEMS = [
    case(
        "an_empty_file_says_what_a_playbook_needs",
        "",
        [
            "1: <root>: the file is empty: a playbook needs at least id, title, classification, "
            "started_by, coordinator, roles",
        ],
        base="",
    ),
    case(
        "a_missing_required_key_is_named",
        "",
        ["1: <root>: missing required key 'title'"],
        base=BASE.replace("title: Test playbook\n", ""),
    ),
    case(
        "a_role_level_outside_the_enum_lists_the_choices",
        "  - {code: caller, title: Caller, level: operational}\n",
        [
            f"{N + 1}: roles[caller].level: 'operational' is not one of strategic, tactical, "
            "delivery",
        ],
    ),
    case(
        "a_role_code_must_be_lower_snake_case",
        "  - {code: PoliceGold, title: Gold, level: strategic}\n",
        [
            f"{N + 1}: roles[PoliceGold].code: 'PoliceGold' is not a valid role code: use "
            "lower-case "
            "letters, digits and underscores (e.g. police_silver)",
        ],
    ),
    case(
        "an_id_must_be_lower_case_with_hyphens",
        "phases:\n  - {id: Pre_Brief, title: Pre-brief}\n",
        [
            f"{N + 2}: phases[Pre_Brief].id: 'Pre_Brief' is not a valid id: use lower-case "
            "letters, "
            "digits and hyphens (e.g. brief-leader)",
        ],
    ),
    case(
        "started_by_must_name_someone",
        "",
        ["4: started_by: must list at least one entry, e.g. [bcu_commander]"],
        base=BASE.replace("started_by: [bcu_commander]", "started_by: []"),
    ),
    case(
        "started_by_must_be_a_list",
        "",
        ["4: started_by: must be a list, e.g. [bcu_commander]"],
        base=BASE.replace("started_by: [bcu_commander]", "started_by: bcu_commander"),
    ),
    case(
        "a_role_listed_twice_is_an_error",
        "",
        ["4: started_by: 'bcu_commander' is listed twice"],
        base=BASE.replace("started_by: [bcu_commander]",
                          "started_by: [bcu_commander, bcu_commander]"),
    ),
    case(
        "an_unknown_two_person_approval_lists_the_choices",
        "two_person_approval: media\n",
        [f"{N + 1}: two_person_approval: 'media' is not one of public, all, off"],
    ),
    case(
        "an_unknown_classification_lists_the_allowed_markings",
        "",
        ["3: classification: 'RESTRICTED' is not one of OFFICIAL, OFFICIAL-SENSITIVE"],
        base=BASE.replace("classification: OFFICIAL", "classification: RESTRICTED"),
    ),
    case(
        "top_secret_in_any_case_is_refused",
        "",
        [
            "3: classification: top secret material must never go through incident-bot: it is for "
            "OFFICIAL and OFFICIAL-SENSITIVE information only",
        ],
        base=BASE.replace("classification: OFFICIAL", "classification: top secret"),
    ),
    case(
        "e0_default_must_be_relative_to_t0",
        "e0_default: E0+1h\n",
        [
            f"{N + 1}: e0_default: 'E0+1h' must be relative to T0 (e.g. T0+2h): it is what defines "
            "E0",
        ],
    ),
    case(
        "a_tier_percentage_over_one_without_a_sign_is_refused",
        "tiers:\n  - {tier: 2, title: Members, coverage_target: 80}\n",
        [f"{N + 2}: tiers[2].coverage_target: 80 is not between 0% and 100% (write 80% or 0.8)"],
    ),
    case(
        "a_percentage_over_a_hundred_is_refused",
        "tiers:\n  - {tier: 2, title: Members, coverage_target: 120%}\n",
        [
            f"{N + 2}: tiers[2].coverage_target: '120%' is not between 0% and 100% (write 80% or "
            "0.8)",
        ],
    ),
    case(
        "a_percentage_as_words_is_refused",
        "tiers:\n  - {tier: 2, title: Members, coverage_target: most}\n",
        [
            f"{N + 2}: tiers[2].coverage_target: must be a percentage such as 80% or a fraction "
            "such as 0.8, not 'most'",
        ],
    ),
    case(
        "a_zero_duration_is_refused",
        "tiers:\n  - {tier: 2, title: Members, accept_within: 0m}\n",
        [f"{N + 2}: tiers[2].accept_within: must be longer than zero"],
    ),
    case(
        "a_relative_time_with_a_bad_clock_is_refused",
        "phases:\n  - {id: strike, title: Strike, starts: X0+1h}\n",
        [
            f"{N + 2}: phases[strike].starts: 'X0+1h' is not a time: write T0, T0+2h, E0-30m, or "
            "2026-05-01T06:00:00+00:00",
        ],
    ),
    case(
        "an_absolute_time_needs_an_offset",
        "phases:\n  - {id: strike, title: Strike, starts: '2026-05-01T06:00:00'}\n",
        [
            f"{N + 2}: phases[strike].starts: '2026-05-01T06:00:00' has no UTC offset: add +00:00 "
            "or Z",
        ],
    ),
    case(
        "an_absolute_time_with_an_offset_is_accepted",
        "phases:\n  - {id: strike, title: Strike, starts: 2026-05-01T06:00:00+00:00}\n",
        [],
    ),
    case(
        "a_boolean_must_be_true_or_false",
        "  - {code: caller, title: Caller, level: delivery, need_to_know: yes}\n",
        [f"{N + 1}: roles[caller].need_to_know: must be true or false, not 'yes'"],
    ),
    case(
        "an_item_that_is_not_a_mapping_is_refused",
        "  - bcu_deputy\n",
        [f"{N + 1}: roles[#3]: each role must be a mapping of keys, not 'bcu_deputy'"],
    ),
    case(
        "a_title_must_not_be_empty",
        "  - {code: caller, title: '  ', level: delivery}\n",
        [f"{N + 1}: roles[caller].title: is empty: give some text"],
    ),
    case(
        "a_variable_name_must_be_lower_snake_case",
        "variables:\n  Help-Line: '0300'\n",
        [
            f"{N + 2}: variables.Help-Line: 'Help-Line' is not a valid variable name: "
            "use lower_snake_case",
        ],
    ),
    case(
        "a_variable_value_must_be_a_single_value",
        "variables:\n  helpline: [a, b]\n",
        [f"{N + 2}: variables.helpline: must be a sample value (text), not a list"],
    ),
    case(
        "an_unknown_channel_is_refused",
        """\
    messages:
      - id: m
        title: M
        template: m
        audiences: {public: true}
        channels: [web, fax]
        approvers: [bcu_commander]
    """,
        [
            f"{N + 6}: messages[m].channels: 'fax' is not one of slack, phone, sms, voice, email, "
            "web",
        ],
    ),
    case(
        "a_message_must_include_english",
        """\
    messages:
      - id: m
        title: M
        template: m
        audiences: {public: true}
        channels: [web]
        approvers: [bcu_commander]
        languages: [ur, pl]
    """,
        [
            f"{N + 8}: messages[m].languages: must include en: translations follow the English "
            "version",
        ],
    ),
    case(
        "an_audience_must_name_someone",
        """\
    briefing:
      - {id: s, title: S, audience: {public: false}, briefed_by: bcu_commander}
    """,
        [f"{N + 2}: briefing[s].audience: names nobody: give roles, tiers or public: true"],
    ),
    case(
        "a_broken_item_still_counts_as_defined_so_errors_do_not_cascade",
        """\
      - {code: caller, title: Caller, level: operational}
    tasks:
      - {id: call, title: Call, owner: caller, due: E0}
    """,
        [
            f"{N + 1}: roles[caller].level: 'operational' is not one of strategic, tactical, "
            "delivery",
        ],
    ),
    case(
        "a_problem_about_text_with_a_newline_stays_on_one_line",
        '  - {code: caller, title: Caller, level: "two\\nlines"}\n',
        [
            f"{N + 1}: roles[caller].level: 'two\\nlines' is not one of strategic, tactical, "
            "delivery",
        ],
    ),
]


@pytest.mark.parametrize(("extra", "base", "expected"), PROBLEMS)
def test_a_playbook_gets_exactly_its_problems(tmp_path: Path, extra: str, base: str,
                                              expected: list[str]):
    assert problems_in(tmp_path, extra, base=base) == expected

"""Checks across sections: references exist, no circles, deadlines in order, ladders and gates
that can work."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_playbook_loader_support import BASE, BASE_LINES, case, problems_in

from incident_bot.adapters.playbook.checks import definitely_before, find_cycles
from incident_bot.domain.durations import parse_relative_time

N = BASE_LINES

MESSAGES = """\
messages:
  - {id: script, title: S, template: script, audiences: {tiers: [1]}, channels: [phone],
     approvers: [bcu_commander]}
  - {id: text, title: T, template: text, audiences: {tiers: [1]}, channels: [sms],
     approvers: [bcu_commander]}
  - {id: note, title: N, template: note, audiences: {public: true}, channels: [web],
     approvers: [bcu_commander]}
"""
M = N + MESSAGES.count("\n")


def tier_problems(tmp_path: Path, tier: str, base: str = BASE) -> list[str]:
    """Problems of the base playbook plus MESSAGES and one tier (starting on line M + 2)."""
    return problems_in(tmp_path, MESSAGES + "tiers:\n" + tier, base=base)


def step(step_id: str, **keys: str) -> str:
    extra = "".join(f", {k}: {v}" for k, v in keys.items())
    return (f"  - {{id: {step_id}, title: {step_id}, audience: {{roles: [police_silver]}}, "
            f"briefed_by: bcu_commander{extra}}}\n")


def task(task_id: str, due: str, **keys: str) -> str:
    extra = "".join(f", {k}: {v}" for k, v in keys.items())
    return f"  - {{id: {task_id}, title: {task_id}, owner: bcu_commander, due: {due}{extra}}}\n"


def test_definitely_before_compares_offsets_on_the_same_clock():
    assert definitely_before(parse_relative_time("E0+10m"), parse_relative_time("E0+1h"))


def test_definitely_before_is_false_for_equal_times():
    assert not definitely_before(parse_relative_time("T0+1h"), parse_relative_time("T0+60m"))


def test_definitely_before_cannot_order_e0_against_t0():
    assert not definitely_before(parse_relative_time("E0"), parse_relative_time("T0+5h"))


def test_definitely_before_compares_absolute_times():
    early = parse_relative_time(datetime(2026, 5, 1, 6, tzinfo=UTC).isoformat())
    late = parse_relative_time((datetime(2026, 5, 1, 6, tzinfo=UTC) + timedelta(hours=1))
                               .isoformat())
    assert definitely_before(early, late)


def test_find_cycles_reports_a_three_step_circle_once():
    assert find_cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c", "a"]]


def test_find_cycles_ignores_unknown_ids():
    assert find_cycles({"a": ["zzz"]}) == []


# Each row: a playbook (``extra`` added to ``base``; for TIER_PROBLEMS, one tier added to
# ``base`` and MESSAGES) and exactly the problems it must get.
TIER_PROBLEMS = [
    case(
        "a_ladder_rung_needs_a_timeout",
        "  - {tier: 1, title: T, callers: police_silver, script: script,\n"
        "     ladder: [{rung: caller}]}\n",
        [
            f"{M + 3}: tiers[1].ladder[#1]: a caller rung needs a timeout (e.g. timeout: 15m) "
            "before the next rung is tried",
        ],
    ),
    case(
        "the_flag_rung_takes_no_timeout",
        "  - {tier: 1, title: T, ladder: [{rung: flag, timeout: 10m}]}\n",
        [f"{M + 2}: tiers[1].ladder[#1].timeout: flag is the last rung and takes no timeout"],
    ),
    case(
        "a_senior_rung_needs_a_senior_role",
        "  - {tier: 1, title: T, ladder: [{rung: senior, timeout: 15m}, {rung: flag}]}\n",
        [f"{M + 2}: tiers[1].ladder[#1].rung: a senior rung needs senior: <role>"],
    ),
    case(
        "an_sms_rung_needs_an_sms_message",
        "  - {tier: 1, title: T, ladder: [{rung: sms, timeout: 15m}]}\n",
        [f"{M + 2}: tiers[1].ladder[#1].rung: an sms rung needs sms_message: <message id>"],
    ),
    case(
        "the_sms_message_must_be_sent_by_sms",
        "  - {tier: 1, title: T, sms_message: note}\n",
        [
            f"{M + 2}: tiers[1].sms_message: message 'note' is sent by SMS here, but its channels "
            "do not include sms",
        ],
    ),
    case(
        "callers_need_a_script",
        "  - {tier: 1, title: T, callers: bcu_commander}\n",
        [f"{M + 2}: tiers[1].callers: callers need a script to read: add script: <message id>"],
    ),
    case(
        "red_must_come_after_amber",
        "  - {tier: 1, title: T, amber_after: 1h, red_after: 30m}\n",
        [
            f"{M + 2}: tiers[1].red_after: red_after must be later than amber_after (30m is not "
            "after 1h)",
        ],
    ),
    case(
        "a_duplicate_tier_number_is_refused",
        "  - {tier: 1, title: T}\n  - {tier: 1, title: U}\n",
        [f"{M + 3}: tiers[1].tier: duplicate tier 1 (first defined on line {M + 2})"],
    ),
    case(
        "after_on_the_first_rung_has_nothing_to_run_alongside",
        "  - {tier: 1, title: T, callers: police_silver, script: script,\n"
        "     ladder: [{rung: caller, timeout: 15m, after: 0m}, {rung: flag}]}\n",
        [
            f"{M + 3}: tiers[1].ladder[#1].after: the first rung has nothing before it to run "
            "alongside: remove after",
        ],
    ),
    case(
        "the_flag_takes_no_after",
        "  - {tier: 1, title: T, callers: police_silver, script: script,\n"
        "     ladder: [{rung: caller, timeout: 15m}, {rung: flag, after: 5m}]}\n",
        [
            f"{M + 3}: tiers[1].ladder[#2].after: flag takes no after: it comes when every rung "
            "started has ended",
        ],
    ),
    case(
        "after_longer_than_the_rung_before_would_wait_for_its_end",
        "  - {tier: 1, title: T, callers: police_silver, script: script, sms_message: text,\n"
        "     ladder: [{rung: caller, timeout: 15m}, {rung: sms, timeout: 15m, after: 20m}]}\n",
        [
            f"{M + 3}: tiers[1].ladder[#2].after: after 20m is longer than the timeout of the "
            "rung before it (15m): it would start when that rung ends anyway; drop after or "
            "shorten it",
        ],
    ),
    case(
        "a_negative_after_is_refused",
        "  - {tier: 1, title: T, callers: police_silver, script: script, sms_message: text,\n"
        "     ladder: [{rung: caller, timeout: 15m}, {rung: sms, timeout: 15m, after: -5m}]}\n",
        [
            f"{M + 3}: tiers[1].ladder[#2].after: '-5m' is not a duration: write e.g. 90s, 10m, "
            "2h, 1h30m or PT10M",
        ],
    ),
    case(
        "tier_1_is_not_texted_before_a_personal_call",
        "  - {tier: 1, title: T, callers: police_silver, script: script, sms_message: text,\n"
        "     ladder: [{rung: sms, timeout: 15m}, {rung: caller, timeout: 15m, after: 0m}]}\n",
        [
            f"{M + 3}: tiers[1].ladder[#1].rung: tier 1 (top-tier key individuals) gets a "
            "personal call attempt before or alongside any automatic message: move this sms "
            "rung after the first caller or senior rung ({rung: sms, after: 0m} right after the "
            "caller is the fastest allowed)",
        ],
    ),
    case(
        "tier_1_may_be_texted_alongside_the_caller",
        "  - {tier: 1, title: T, callers: police_silver, script: script, sms_message: text,\n"
        "     ladder: [{rung: caller, timeout: 15m}, {rung: sms, timeout: 15m, after: 0m},\n"
        "              {rung: voice, timeout: 15m}, {rung: flag}]}\n",
        [],
    ),
    case(
        "tier_3_may_be_texted_first",
        "  - {tier: 1, title: O}\n"
        "  - {tier: 3, title: T, callers: police_silver, script: script, sms_message: text,\n"
        "     ladder: [{rung: sms, timeout: 15m}, {rung: caller, timeout: 15m, after: 0m}]}\n",
        [],
    ),
    case(
        "a_valid_tier_ladder_passes",
        "  - {tier: 1, title: T, callers: police_silver, senior: bcu_commander, "
        "script: script, sms_message: text,\n     ladder: [{rung: caller, timeout: 15m}, "
        "{rung: senior, timeout: 15m}, {rung: sms, timeout: 15m}, "
        "{rung: voice, timeout: 15m}, {rung: flag}]}\n",
        [],
    ),
]


PROBLEMS = [
    case(
        "an_unknown_deputy_is_refused",
        "  - {code: caller, title: Caller, level: delivery, deputy: cller_backup}\n",
        [f"{N + 1}: roles[caller].deputy: unknown role 'cller_backup': define it under roles"],
    ),
    case(
        "a_role_cannot_be_its_own_deputy",
        "  - {code: caller, title: Caller, level: delivery, deputy: caller}\n",
        [f"{N + 1}: roles[caller].deputy: a role cannot be its own deputy"],
    ),
    case(
        "an_unknown_role_suggests_a_close_one",
        "tasks:\n  - {id: a, title: A, owner: police_silvr, due: E0}\n",
        [
            f"{N + 2}: tasks[a].owner: unknown role 'police_silvr' (did you mean "
            "'police_silver'?): "
            "define it under roles",
        ],
    ),
    case(
        "an_unknown_coordinator_is_refused",
        "",
        ["5: coordinator: unknown role 'engagement_lead': define it under roles"],
        base=BASE.replace("coordinator: bcu_commander", "coordinator: engagement_lead"),
    ),
    case(
        "an_unknown_approver_is_located_on_its_own_line",
        """\
    messages:
      - id: m
        title: M
        template: m
        audiences: {public: true}
        channels: [web]
        approvers:
          - bcu_commander
          - council_comms
    """,
        [f"{N + 9}: messages[m].approvers: unknown role 'council_comms': define it under roles"],
    ),
    case(
        "a_tier_audience_must_be_a_defined_tier",
        "briefing:\n  - {id: s, title: S, audience: {tiers: [3]}, briefed_by: bcu_commander}\n",
        [
            f"{N + 2}: briefing[s].audience.tiers: tier 3 is not defined under tiers (tiers run "
            "from 0 (need to know) to 4 (the public))",
        ],
    ),
    case(
        "steps_waiting_for_each_other_in_a_circle_are_refused",
        "briefing:\n" + step("a", gate="{after: [b]}") + step("b", gate="{after: [a]}"),
        [
            f"{N + 3}: briefing[b].gate.after: briefing steps wait for each other in a circle: "
            "a → b → a",
        ],
    ),
    case(
        "a_step_cannot_wait_for_itself",
        "briefing:\n" + step("a", gate="{after: [a]}"),
        [f"{N + 2}: briefing[a].gate.after: 'a' cannot wait for itself"],
    ),
    case(
        "a_step_due_before_the_step_it_comes_after_is_refused",
        "briefing:\n" + step("a", due="E0+1h") + step("b", due="E0+30m",
                                                       gate="{after: [a]}"),
        [f"{N + 3}: briefing[b].due: due E0+30m is before step 'a' it comes after (due E0+1h)"],
    ),
    case(
        "a_gate_coverage_tier_must_be_defined",
        "briefing:\n" + step("a", gate="{coverage: {tiers: [2], at_least: 80%}}"),
        [
            f"{N + 2}: briefing[a].gate.coverage.tiers: tier 2 is not defined under tiers (tiers "
            "run from 0 (need to know) to 4 (the public))",
        ],
    ),
    case(
        "a_gate_coverage_needs_both_tiers_and_a_share",
        "briefing:\n" + step("a", gate="{coverage: {at_least: 80%}}"),
        [f"{N + 2}: briefing[a].gate.coverage: missing required key 'tiers'"],
    ),
    case(
        "an_unknown_gate_override_role_is_refused",
        "briefing:\n" + step("a", gate="{override_by: [gold]}"),
        [f"{N + 2}: briefing[a].gate.override_by: unknown role 'gold': define it under roles"],
    ),
    case(
        "a_media_hold_must_wait_for_something",
        "briefing:\n" + step("a", media_hold="true", gate="{timeout: E0+90m}"),
        [
            f"{N + 2}: briefing[a].media_hold: a media hold must wait for something: give "
            "gate.after or gate.coverage",
        ],
    ),
    case(
        "completing_at_coverage_needs_a_tier_audience",
        "briefing:\n" + step("a", complete_at_coverage="80%"),
        [
            f"{N + 2}: briefing[a].complete_at_coverage: only a step whose audience has tiers can "
            "complete at a coverage",
        ],
    ),
    case(
        "a_task_waiting_for_itself_is_refused",
        "tasks:\n" + task("a", "E0", depends_on="[a]"),
        [f"{N + 2}: tasks[a].depends_on: 'a' cannot wait for itself"],
    ),
    case(
        "an_unknown_dependency_is_refused",
        "tasks:\n" + task("a", "E0", depends_on="[draft]"),
        [f"{N + 2}: tasks[a].depends_on: unknown task 'draft': define it under tasks"],
    ),
    case(
        "a_t0_task_depending_on_a_later_e0_task_is_refused",
        "tasks:\n" + task("a", "E0+2h") + task("b", "T0+1h", depends_on="[a]"),
        [f"{N + 3}: tasks[b].due: due T0+1h is before task 'a' it depends on (due E0+2h)"],
    ),
    case(
        "an_e0_task_depending_on_a_t0_task_is_not_judged",
        "tasks:\n" + task("a", "T0+3h") + task("b", "E0+1h", depends_on="[a]"),
        [],
    ),
    case(
        "an_unknown_task_phase_is_refused",
        "tasks:\n" + task("a", "E0", phase="strike"),
        [f"{N + 2}: tasks[a].phase: unknown phase 'strike': define it under phases"],
    ),
    case(
        "a_task_done_by_an_unknown_briefing_step_is_refused",
        "briefing:\n" + step("members") + "tasks:\n" + task("a", "E0", done_by_step="member"),
        [f"{N + 4}: tasks[a].done_by_step: unknown briefing step 'member' (did you mean "
         "'members'?)"],
    ),
    case(
        "a_task_done_by_a_briefing_step_it_names_is_accepted",
        "briefing:\n" + step("members") + "tasks:\n" + task("a", "E0", done_by_step="members"),
        [],
    ),
    case(
        "task_escalation_must_be_in_time_order",
        "tasks:\n" + task("a", "E0", escalation="[{after: 2h, to: bcu_commander}, "
                                           "{after: 30m, to: police_silver}]"),
        [
            f"{N + 2}: tasks[a].escalation[#2].after: escalation steps must come in order of time "
            "overdue",
        ],
    ),
    case(
        "an_unknown_escalation_role_is_refused",
        "tasks:\n" + task("a", "E0", escalation="[{after: 30m, to: gold}]"),
        [f"{N + 2}: tasks[a].escalation[#1].to: unknown role 'gold': define it under roles"],
    ),
]


@pytest.mark.parametrize(("extra", "base", "expected"), PROBLEMS)
def test_a_playbook_gets_exactly_its_problems(tmp_path: Path, extra: str, base: str,
                                              expected: list[str]):
    assert problems_in(tmp_path, extra, base=base) == expected


@pytest.mark.parametrize(("tier", "base", "expected"), TIER_PROBLEMS)
def test_a_tier_gets_exactly_its_problems(tmp_path: Path, tier: str, base: str,
                                          expected: list[str]):
    assert tier_problems(tmp_path, tier, base=base) == expected

"""Each deliberately broken playbook in tests/data/broken_playbooks gives exactly one located
error, and none of them stops the valid playbook beside them loading."""

from pathlib import Path

import pytest

from incident_bot.adapters.playbook_loader import load_playbook, load_playbooks
from incident_bot.errors import PlaybookError

DATA = Path(__file__).parent.parent / "data"
BROKEN = DATA / "broken_playbooks"
GOOD = DATA / "good_playbooks"
TEMPLATES = GOOD / "templates"

# file → "line: key.path: message" ({templates} is the templates directory)
EXPECTED = {
    "unknown-key.yaml": "12: roles[police_silver].colour: unknown key 'colour'; "
    "allowed keys: code, title, level, deputy, need_to_know",
    "wrong-type.yaml": "12: tiers[2].fan_out: must be a whole number, not 'six'",
    "bad-duration.yaml": "14: tasks[brief-leader].ack_within: '10 minutes' is not a duration: "
    "write e.g. 90s, 10m, 2h, 1h30m or PT10M",
    "unknown-role.yaml": "12: tasks[brief-leader].owner: unknown role 'council_leader': "
    "define it under roles",
    "unknown-message.yaml": "14: briefing[media].message: unknown message "
    "'public-holding-statment' (did you mean 'public-holding-statement'?): "
    "define it under messages",
    "missing-template-language.yaml": "12: messages[public-holding-statement].template: "
    "message 'public-holding-statement' has no 'ur' version of template "
    "'public-holding-statement': expected {templates}/public-holding-statement.ur.j2",
    "dependency-cycle.yaml": "19: tasks[approve-statement].depends_on: tasks depend on each "
    "other in a circle: draft-statement → approve-statement → draft-statement",
    "step-after-unknown.yaml": "14: briefing[strategic].gate.after: unknown briefing step "
    "'tier-1': define it under briefing",
    "flag-rung-not-last.yaml": "15: tiers[3].ladder[#1].rung: flag ends the ladder: "
    "it must be the last rung",
    "media-hold-without-release.yaml": "18: briefing[media].media_hold: a media hold needs "
    "gate.timeout or gate.override_by, so the public statement cannot be held for ever",
    "tier-out-of-range.yaml": "10: tiers[5].tier: tier 5 is out of range: tiers run from 0 "
    "(need to know) to 4 (the public)",
    "duplicate-task-id.yaml": "14: tasks[brief-leader].id: duplicate task id 'brief-leader' "
    "(first defined on line 10)",
    "secret-classification.yaml": "4: classification: SECRET material must never go through "
    "incident-bot: it is for OFFICIAL and OFFICIAL-SENSITIVE information only",
    "yaml-syntax-error.yaml": "6: <root>: YAML syntax error (column 12): expected ',' or ']', "
    "but got ':'",
    "nesting-bomb.yaml": "4: <root>: nested more than 50 levels deep (column 57)",
    "alias-anchor.yaml": "11: <root>: anchor '&title' is not allowed: write values out",
    "not-utf8.yaml": "9: <root>: the file is not UTF-8 text (byte 0xe9): save it as UTF-8",
    "id-not-matching-file.yaml": "2: id: id 'some-other-id' does not match the file name "
    "'id-not-matching-file': rename one so they match",
    "task-due-before-dependency.yaml": "17: tasks[approve-statement].due: due T0+1h is before "
    "task 'draft-statement' it depends on (due T0+2h)",
    "e0-before-t0.yaml": "9: e0_default: 'T0-30m' is before T0: the embargo cannot lift "
    "before the strike",
    "public-tier-with-callers.yaml": "12: tiers[4].callers: tier 4 is the public: a broadcast, "
    "not a cascade, so it has no callers, backup, senior or ladder",
}


def expected_line(name: str) -> str:
    return f"{BROKEN / name}:" + EXPECTED[name].format(templates=TEMPLATES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_playbook_gives_exactly_its_one_located_error(name: str):
    with pytest.raises(PlaybookError) as caught:
        load_playbook(BROKEN / name, TEMPLATES)
    assert [str(p) for p in caught.value.problems] == [expected_line(name)]


def test_every_broken_fixture_has_an_expectation():
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


def test_at_least_fourteen_broken_fixtures():
    assert len(EXPECTED) >= 14


def test_broken_playbooks_do_not_stop_the_valid_one_loading():
    result = load_playbooks([BROKEN, GOOD / "small-ct.yaml"], TEMPLATES)
    assert list(result.playbooks) == ["small-ct"]
    assert sorted(path.name for path in result.failed) == sorted(EXPECTED)


def test_loading_them_together_reports_each_files_error_once():
    result = load_playbooks([BROKEN, GOOD / "small-ct.yaml"], TEMPLATES)
    assert sorted(str(p) for p in result.problems) == sorted(map(expected_line, EXPECTED))

"""The after-action report an exercise writes, against the events its database recorded, and
the same seed giving the same reports."""

from __future__ import annotations

from collections import Counter

import pytest
from typer.testing import CliRunner

from incident_bot.adapters.report_render import to_html
from incident_bot.adapters.report_render import to_markdown as after_action_markdown
from incident_bot.domain.ladder import ContactState
from incident_bot.entrypoints.cli import app
from incident_bot.entrypoints.exercise.report import to_markdown as readiness_markdown
from tests.entrypoints.exercise_support import GOOD, SMALL_PLAYBOOK, run_small, write_directory

S = ContactState


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    return run_small(tmp_path_factory.mktemp("aar-exercise"), seed=5)


def test_an_exercise_result_carries_the_after_action_report(ran):
    assert ran.result.after_action.summary.incident_id == ran.result.incident_id


def test_exercise_tier_counts_equal_the_contact_states_in_its_database(ran):
    report = ran.result.after_action
    with ran.records() as (incident, _, _):
        for number, round_ in incident.ringround.tiers.items():
            states = Counter(c.state for c in round_.contacts.values())
            tier = report.tier(number)
            assert (tier.total, tier.reached, tier.confirmed, tier.opted_out, tier.flagged,
                    tier.unsafe) == (sum(states.values()), states[S.REACHED],
                                     states[S.CONFIRMED], states[S.OPTED_OUT],
                                     states[S.FLAGGED], states[S.UNSAFE_TO_CALL])


def test_exercise_step_times_equal_the_briefing_in_its_database(ran):
    with ran.records() as (incident, _, _):
        recorded = {s.id: (s.opened_at, s.completed_at) for s in incident.briefing.steps.values()}
    steps = ran.result.after_action.steps
    assert {s.id: (s.opened_at, s.completed_at) for s in steps} == recorded


def test_exercise_decision_log_matches_its_database_and_its_chain_holds(ran):
    with ran.records() as (_, _, decisions):
        seqs = [e.seq for e in decisions]
    log = ran.result.after_action.decision_log
    assert ([e.seq for e in log.entries], log.chain.ok) == (seqs, True)


def test_exercise_sms_deliveries_equal_the_outbox_rows_with_a_version(ran):
    with ran.records() as (incident, outbox, _):
        rows = [(i.notify.message_version, incident.name(i.notify.recipient)) for i in outbox
                if i.notify.message_version and i.notify.channel.value == "sms"]
    report = ran.result.after_action
    assert [(d.version, d.recipient) for d in report.deliveries if d.channel == "sms"] == rows


def test_the_same_seed_gives_identical_readiness_and_after_action_reports(ran, tmp_path):
    again = run_small(tmp_path, seed=5)
    for render in (lambda r: readiness_markdown(r.report),
                   lambda r: after_action_markdown(r.after_action),
                   lambda r: to_html(r.after_action)):
        assert again.blanked(render(again.result)) == ran.blanked(render(ran.result))


def test_the_exercise_command_writes_the_after_action_report_beside_readiness(tmp_path,
                                                                             monkeypatch):
    monkeypatch.chdir(tmp_path)  # the exercise keeps its database under ./var/exercise
    env = {"COLUMNS": "200", "DATABASE_URL": f"sqlite:///{tmp_path / 'configured.db'}",
           "INCIDENT_BOT_PLAYBOOKS": str(GOOD), "INCIDENT_BOT_TEMPLATES": str(GOOD / "templates")}
    result = CliRunner().invoke(app, [
        "exercise", str(SMALL_PLAYBOOK), "--speed", "0", "--no-live",
        "--t0", "2026-11-24T05:00:00+00:00", "--directory", str(write_directory(tmp_path)),
        "--report-dir", str(tmp_path / "reports")], env=env)
    assert result.exit_code == 0, result.output
    names = sorted(p.name.split("-ex-")[0] for p in (tmp_path / "reports").iterdir())
    assert names == ["after-action", "after-action", "readiness", "transcript"]
    written = next((tmp_path / "reports").glob("after-action-*.md")).read_text(encoding="utf-8")
    assert written.startswith("# After-action report: ")

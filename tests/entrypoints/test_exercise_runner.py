"""An exercise through the API on the small test playbook: the report against what the database
recorded, determinism, and the simulated people's behaviours that matter."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import timedelta

import pytest
from rich.console import Console

from incident_bot.domain.ladder import ContactState
from incident_bot.entrypoints.exercise import Behaviour
from incident_bot.entrypoints.exercise.live import LiveView
from incident_bot.entrypoints.exercise.report import to_markdown
from tests.entrypoints.exercise_support import T0, TIER_1_CONTACTS, Ran, run_small

# Nobody accepts a call list and senior officers reach nobody: every contact gets the SMS.
ALL_TO_SMS = {"caller_absent": 1.0, "backup_absent": 1.0, "senior_tries": 0.0}


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Ran:
    return run_small(tmp_path_factory.mktemp("exercise"), seed=3)


def contact_states(incident) -> Counter:
    return Counter(c.state for r in incident.ringround.tiers.values()
                   for c in r.contacts.values())


# ---- the run --------------------------------------------------------------------------------


def test_the_run_ends_with_every_contact_in_a_final_state(ran):
    with ran.records() as (incident, _, _):
        states = contact_states(incident)
    assert (sum(states.values()), states[ContactState.PENDING]) == (TIER_1_CONTACTS, 0)


def test_the_run_says_it_ended_because_every_contact_is_final(ran):
    assert ran.result.ended_because.startswith("every contact reached a final state")


def test_the_exercise_never_touches_the_configured_database(ran):
    assert not ran.configured_database.exists()


def test_the_run_stops_at_the_simulated_cap(tmp_path):
    capped = run_small(tmp_path, cap_after_t0=timedelta(hours=1))
    assert (capped.result.ended_at, capped.result.ended_because) == (
        T0 + timedelta(hours=1), "the simulated time cap was reached")


# ---- the report against the database --------------------------------------------------------


def test_report_coverage_matches_the_contact_states_in_the_database(ran):
    with ran.records() as (incident, _, _):
        states = contact_states(incident)
    tier = ran.result.report.tiers[0]
    s = ContactState
    assert (tier.reached, tier.failed, tier.opted_out, tier.flagged, tier.total) == (
        states[s.REACHED] + states[s.CONFIRMED],
        states[s.DECLINED] + states[s.UNSAFE_TO_CALL] + states[s.WRONG_NUMBER],
        states[s.OPTED_OUT], states[s.FLAGGED], sum(states.values()))


def test_report_counts_every_automatic_sms_in_the_outbox(ran):
    with ran.records() as (_, outbox, _):
        sent = [row for row in outbox if row.notify.purpose == "ringround.sms"]
    assert ran.result.report.escalation("ringround.sms") == len(sent) > 0


def test_report_delivery_counts_add_up_to_the_outbox_rows(ran):
    with ran.records() as (_, outbox, _):
        rows = Counter(f"{row.notify.channel.value}.{row.status}" for row in outbox)
    assert {c.kind: c.count for c in ran.result.report.deliveries} == dict(rows)


def test_report_decision_counts_match_the_decision_log(ran):
    with ran.records() as (_, _, decisions):
        kinds = Counter(entry.kind for entry in decisions)
    assert {c.kind: c.count for c in ran.result.report.decisions} == dict(kinds)


def test_report_step_times_match_the_briefing_in_the_database(ran):
    with ran.records() as (incident, _, _):
        recorded = {s.id: (s.opened_at, s.completed_at) for s in incident.briefing.steps.values()}
    assert {s.id: (s.opened_at, s.completed_at) for s in ran.result.report.steps} == recorded


def test_report_task_counts_match_the_tasks_in_the_database(ran):
    with ran.records() as (incident, _, _):
        done = sum(1 for t in incident.tasks.tasks.values() if t.state.value == "done")
    tasks = ran.result.report.tasks
    assert (tasks.done, tasks.total) == (done, len(incident.tasks.tasks))


# ---- determinism ----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_transcript_and_report(ran, tmp_path):
    again = run_small(tmp_path, seed=3)
    assert [again.blanked(again.result.transcript.text()),
            again.blanked(to_markdown(again.result.report))] == [
        ran.blanked(ran.result.transcript.text()), ran.blanked(to_markdown(ran.result.report))]


def test_a_different_seed_gives_a_different_transcript(ran, tmp_path):
    other = run_small(tmp_path, seed=4).result
    assert other.transcript.text() != ran.result.transcript.text()


def test_two_runs_of_the_same_seed_get_two_incident_ids(ran, tmp_path):
    assert run_small(tmp_path, seed=3).result.incident_id != ran.result.incident_id


def test_the_transcript_never_shows_a_full_phone_number(ran):
    assert re.search(r"7700\s?900\s?2\d\d", ran.result.transcript.text()) is None


# ---- behaviours -----------------------------------------------------------------------------


def test_an_approver_refused_before_t0_approves_just_after_it(ran):
    lines = ran.result.transcript.lines
    refused = [ln for ln in lines if "REFUSED: Test Comms Lead approves ring-round-sms" in ln.text]
    approved = [ln for ln in lines if ln.text == "Test Comms Lead approves ring-round-sms v1"]
    assert refused[0].at < T0 <= approved[0].at


def test_the_first_sms_reply_reports_a_rumour_to_the_incident_channel(tmp_path):
    ran = run_small(tmp_path, behaviour=Behaviour(**ALL_TO_SMS))
    with ran.records() as (_, outbox, _):
        feedback = [row.notify.body for row in outbox
                    if row.notify.purpose == "ringround.feedback" and row.notify.recipient ==
                    "incident"]
    assert any("mosque" in body for body in feedback)


def test_contacts_replying_stop_are_counted_as_opted_out(tmp_path):
    ran = run_small(tmp_path, behaviour=Behaviour(**ALL_TO_SMS, sms_code=0, sms_stop=1.0))
    with ran.records() as (incident, _, _):
        opted = contact_states(incident)[ContactState.OPTED_OUT]
    assert ran.result.report.tiers[0].opted_out == opted > 0


def test_nothing_is_sent_to_a_contact_after_they_reply_stop(tmp_path):
    ran = run_small(tmp_path, behaviour=Behaviour(**ALL_TO_SMS, sms_code=0, sms_stop=1.0))
    with ran.records() as (_, outbox, _):
        stopped = {row.notify.data["contact"]: row.created_at for row in outbox
                   if row.notify.purpose == "ringround.opted_out"}
        later = [row for row in outbox if row.notify.recipient in stopped
                 and row.created_at > stopped[row.notify.recipient]]
    assert (len(stopped) > 0, later) == (True, [])


def test_dead_numbers_fail_and_are_reported_as_number_gaps(tmp_path):
    ran = run_small(tmp_path, behaviour=Behaviour(**ALL_TO_SMS, dead_share=0.3))
    with ran.records() as (incident, outbox, _):
        failed = {incident.name(row.notify.recipient) for row in outbox if row.status == "failed"}
    gaps = {g.subject.split(" (")[0] for g in ran.result.report.gaps_in("numbers")
            if "failed permanently" in g.detail}
    assert gaps == failed != set()


def test_the_commander_overrides_a_media_hold_still_held_an_hour_after_e0(tmp_path):
    nobody_confirms = Behaviour(**ALL_TO_SMS, sms_code=0, sms_feedback=0, voice_confirm=0)
    ran = run_small(tmp_path, behaviour=nobody_confirms)
    with ran.records() as (_, _, decisions):
        overrides = [entry for entry in decisions if entry.kind == "override"]
    media = next(s for s in ran.result.report.steps if s.id == "media")
    assert (len(overrides), media.opened_by) == (1, "override")


def test_pacing_sleeps_the_simulated_time_divided_by_the_speed(tmp_path):
    real = [0.0]  # a fake real clock that only sleeping moves

    def sleep(seconds: float) -> None:
        real[0] += seconds

    ran = run_small(tmp_path, pace=(sleep, lambda: real[0]), speed=3600,
                    cap_after_t0=timedelta(hours=1))
    simulated = (ran.result.ended_at - ran.result.started_at).total_seconds()
    assert real[0] == pytest.approx(simulated / 3600, abs=0.01)


def test_at_speed_zero_the_run_never_sleeps(tmp_path):
    slept: list[float] = []
    run_small(tmp_path, pace=(slept.append, lambda: 0.0), cap_after_t0=timedelta(hours=1))
    assert slept == []


def test_the_live_view_draws_the_briefing_coverage_tasks_and_escalations(tmp_path):
    console = Console(file=io.StringIO(), force_terminal=True, width=160)
    with LiveView(console, speed=0, fps=1000, reload_every=0) as view:
        run_small(tmp_path, hooks={"on_step": view.on_step, "on_end": view.finish})
    drawn = console.file.getvalue()
    assert all(part in drawn for part in ("Briefing order", "Ring-round coverage", "Tasks:",
                                          "Last escalations", "Simulated time"))

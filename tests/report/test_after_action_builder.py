"""The after-action report's numbers against what the incident recorded (never constants)."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from incident_bot.domain.incident import read_model
from incident_bot.domain.ladder import ContactState
from incident_bot.domain.tasks import TaskState
from incident_bot.service.reports.after_action import after_action_report
from incident_bot.service.reports.readiness import ESCALATIONS, event_id

S = ContactState
E164 = re.compile(r"\+\d{10,15}")


@pytest.fixture(scope="module")
def built(world):
    records = world.records()
    return records, after_action_report(records, world.clock.now())


def test_each_tiers_counts_equal_its_contacts_states(built):
    records, report = built
    for number, round_ in records.incident.ringround.tiers.items():
        states = Counter(c.state for c in round_.contacts.values())
        tier = report.tier(number)
        assert (tier.total, tier.reached, tier.confirmed, tier.failed, tier.opted_out,
                tier.unsafe, tier.flagged, tier.pending) == (
            sum(states.values()), states[S.REACHED], states[S.CONFIRMED],
            states[S.DECLINED] + states[S.WRONG_NUMBER], states[S.OPTED_OUT],
            states[S.UNSAFE_TO_CALL], states[S.FLAGGED], states[S.PENDING]), number


def test_voicemail_and_no_answer_count_unreached_contacts_whose_last_outcome_it_was(built):
    records, report = built
    for number, round_ in records.incident.ringround.tiers.items():
        unreached = [c.last_outcome for c in round_.contacts.values()
                     if c.state not in (S.REACHED, S.CONFIRMED)]
        tier = report.tier(number)
        assert (tier.voicemail, tier.no_answer) == (unreached.count("voicemail"),
                                                   unreached.count("no_answer"))


def test_the_response_was_varied_enough_to_exercise_every_count(built):
    _, report = built
    totals = Counter()
    for tier in report.tiers:
        totals.update({"confirmed": tier.confirmed, "voicemail": tier.voicemail,
                       "failed": tier.failed, "unsafe": tier.unsafe, "flagged": tier.flagged})
    assert all(totals[k] > 0 for k in ("confirmed", "voicemail", "failed", "unsafe", "flagged"))


def test_worst_time_to_reach_is_the_latest_reach_after_the_tier_started(built):
    records, report = built
    for number, round_ in records.incident.ringround.tiers.items():
        waits = [c.outcome_at - round_.started_at for c in round_.contacts.values()
                 if c.state in (S.REACHED, S.CONFIRMED)]
        assert report.tier(number).worst_to_reach == max(waits), number


def test_the_coverage_curve_ends_at_the_share_reached(built):
    _, report = built
    for tier in report.tiers:
        assert tier.curve[-1].fraction == pytest.approx(tier.fraction), tier.number


def test_step_times_equal_the_views_opened_and_completed_times(built, world):
    records, report = built
    view = read_model.step_views(records.incident, world.clock.now())
    assert [(s.id, s.planned_at, s.opened_at, s.completed_at) for s in report.steps] == [
        (v.id, v.planned_at, v.opened_at, v.completed_at) for v in view]


def test_a_step_completed_after_its_plan_is_late_by_the_difference(built):
    _, report = built
    late = [s for s in report.steps if s.late_by]
    assert late != []
    assert all(s.late_by == s.completed_at - s.planned_at for s in late)


def test_task_outcomes_follow_the_tasks_states_and_due_times(built):
    records, report = built
    expected = Counter()
    for task in records.incident.tasks.tasks.values():
        if task.state is not TaskState.DONE:
            expected["not done"] += 1
        else:
            expected["late" if task.due and task.acted_at > task.due else "on time"] += 1
    tally = report.task_tally
    assert (tally.on_time, tally.late, tally.not_done) == (
        expected["on time"], expected["late"], expected["not done"])
    assert min(expected.values()) > 0


def test_the_decision_log_is_complete_and_its_chain_intact(built):
    records, report = built
    assert [e.seq for e in report.decision_log.entries] == [e.seq for e in records.decisions]
    assert (report.decision_log.chain.ok, report.decision_log.chain.entries) == (
        True, len(records.decisions))


def test_a_changed_decision_breaks_the_chain_in_the_report(built, world):
    records, _ = built
    changed = dataclasses.replace(records.decisions[0], decision="something else")
    tampered = dataclasses.replace(records, decisions=(changed, *records.decisions[1:]))
    log = after_action_report(tampered, world.clock.now()).decision_log
    assert (log.chain.ok, log.chain.first_bad_seq) == (False, 1)
    assert "BROKEN at entry 1" in log.verdict


def test_the_timeline_is_in_time_order_and_has_every_step_opening(built):
    records, report = built
    times = [e.at for e in report.timeline]
    assert times == sorted(times)
    opened = [e for e in report.timeline if e.kind == "step opened"]
    assert len(opened) == sum(1 for s in records.incident.briefing.steps.values()
                              if s.opened_at is not None)


def test_the_timeline_has_one_event_per_escalation_and_per_decision(built):
    records, report = built
    escalations = {event_id(i) for i in records.outbox if i.notify.purpose in ESCALATIONS}
    kinds = Counter(e.kind for e in report.timeline)
    assert (kinds["escalation"], kinds["decision"]) == (len(escalations),
                                                       len(records.decisions))
    assert sum(c.count for c in report.escalations) == len(escalations)


def test_every_message_version_delivery_is_listed_by_name(built):
    records, report = built
    carried = [i for i in records.outbox if i.notify.message_version]
    assert [(d.version, d.channel) for d in report.deliveries] == [
        (i.notify.message_version, i.notify.channel.value) for i in carried]
    names = {p.name for p in records.incident.people.values()} | {"incident channel"}
    assert {d.recipient for d in report.deliveries} <= names


def test_sms_deliveries_name_the_contacts_the_sms_went_to(built, world):
    _, report = built
    texted = {world.incidents.incident(world.incident_id).name(s.notify.recipient)
              for s in world.sms.sent}
    assert {d.recipient for d in report.deliveries if d.channel == "sms"} == texted != set()


def test_no_phone_number_is_anywhere_in_the_report(built, world):
    _, report = built
    text = repr(report)
    assert E164.search(text) is None
    assert not any(p.phone and p.phone in text for p in world.people)

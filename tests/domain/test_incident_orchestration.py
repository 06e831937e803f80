"""The incident routes ring-round and task commands and timers, and feeds them role holders,
approved texts and clocks; people log decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import (
    E0,
    MIN,
    T0,
    approve,
    approve_all,
    at_e0,
    decisions,
    notices,
    reach,
    run,
    timers,
)

from incident_bot.domain.commands import (
    AcceptCallList,
    AckTask,
    AddTask,
    CannotDoTask,
    CompleteStep,
    CompleteTask,
    DeliveryReport,
    DraftMessage,
    LogDecision,
    MarkCompromised,
    SetE0,
    SmsReceived,
    StandDown,
    VoiceDigit,
)
from incident_bot.domain.effects import Notify
from incident_bot.domain.incident import Incident, on_timer
from incident_bot.domain.ladder import ContactState
from incident_bot.domain.tasks import TaskState
from incident_bot.errors import NotAuthorised, RefusedError


def tier_one_started(incident: Incident) -> list[Notify]:
    """Complete the strategic step; the tier-1 round starts. Returns its SMS sends."""
    effects = run(incident, E0, CompleteStep("strategic", "gold"))
    return [e for e in effects if isinstance(e, Notify) and e.purpose == "ringround.sms"]


def fire_rung_timers(incident: Incident, effects: list, now) -> list:
    fired = []
    for timer in timers(effects, "ringround.rung"):
        fired += on_timer(incident, timer.kind, timer.payload, now)
    return fired


def sms_after_callers(incident: Incident) -> list[Notify]:
    """Let the caller rung time out so tier-1 contacts get their SMS."""
    effects = run(incident, E0, CompleteStep("strategic", "gold"))
    effects += run(incident, E0, AcceptCallList("cal1", "cal1"), AcceptCallList("cal2", "cal2"))
    sent = fire_rung_timers(incident, effects, E0 + 15 * MIN)
    return [e for e in sent if isinstance(e, Notify) and e.purpose == "ringround.sms"]


# ---- ring-round ---------------------------------------------------------------------------


def test_call_lists_go_to_the_holders_of_the_tiers_caller_role(briefing_open: Incident):
    tier_one_started(briefing_open)
    callers = {lst.caller for lst in briefing_open.ringround.tiers[1].lists}
    assert callers == {"cal1", "cal2"}


def test_accepting_a_call_list_is_routed_to_the_ring_round(briefing_open: Incident):
    tier_one_started(briefing_open)
    run(briefing_open, E0, AcceptCallList("cal1", "cal1"))
    assert {lst.status.value for lst in briefing_open.ringround.lists_of("cal1")} == {"accepted"}


def test_the_sms_carries_the_current_approved_version_in_the_contacts_language(
        briefing_open: Incident):
    sent = {n.recipient: n.message_version for n in sms_after_callers(briefing_open)}
    assert sent["k2"] == "ring-round-sms@v1/ur"


def test_a_contact_whose_language_went_stale_gets_the_english_of_the_new_version(
        briefing_open: Incident):
    run(briefing_open, E0, DraftMessage("ring-round-sms", {"en": "Second"}, "pcomms"))
    approve(briefing_open, "ring-round-sms", E0, version=2)
    sent = {n.recipient: n.message_version for n in sms_after_callers(briefing_open)}
    assert sent["k2"] == "ring-round-sms@v2/en"


def test_a_tier_round_waits_for_its_messages_to_be_approved():
    incident = at_e0(approved=False)
    effects = run(incident, E0, CompleteStep("strategic", "gold"))
    assert 1 not in incident.ringround.tiers
    assert not [e for e in effects if isinstance(e, Notify) and e.channel.value in ("sms", "voice")]


def test_approving_the_waiting_messages_starts_the_round():
    incident = at_e0(approved=False)
    run(incident, E0, CompleteStep("strategic", "gold"))
    approve_all(incident, E0 + MIN)
    assert 1 in incident.ringround.tiers


def test_an_sms_confirmation_counts_towards_coverage(briefing_open: Incident):
    sms_after_callers(briefing_open)
    code = briefing_open.ringround.tiers[1].code
    run(briefing_open, E0 + 16 * MIN, SmsReceived("k1", code))
    assert briefing_open.ringround.tiers[1].contacts["k1"].state is ContactState.CONFIRMED


def test_a_voice_digit_is_routed_to_the_ring_round(briefing_open: Incident):
    tier_one_started(briefing_open)
    run(briefing_open, E0, VoiceDigit("k1", "1"))
    assert briefing_open.ringround.tiers[1].contacts["k1"].state is ContactState.CONFIRMED


def test_a_failed_delivery_moves_the_contact_on(briefing_open: Incident):
    [first, *_] = sms_after_callers(briefing_open)
    run(briefing_open, E0 + 16 * MIN, DeliveryReport(first.key, "undelivered", "30003"))
    contact = briefing_open.ringround.tiers[1].contacts[first.recipient]
    assert contact.state is ContactState.FLAGGED


def test_sms_replies_feed_coverage_into_the_media_gate(briefing_open: Incident):
    sms_after_callers(briefing_open)
    code = briefing_open.ringround.tiers[1].code
    run(briefing_open, E0 + 16 * MIN, *(SmsReceived(k, code) for k in ("k1", "k2", "k3")))
    assert briefing_open.briefing.steps["media"].status.value == "open"


def test_ring_round_timers_are_routed_to_the_ring_round(briefing_open: Incident):
    assert sms_after_callers(briefing_open) != []


def test_after_stand_down_ring_round_timers_send_nothing(briefing_open: Incident):
    effects = run(briefing_open, E0, CompleteStep("strategic", "gold"),
                  AcceptCallList("cal1", "cal1"))
    run(briefing_open, E0 + MIN, StandDown("gold", "Over"))
    assert fire_rung_timers(briefing_open, effects, E0 + 15 * MIN) == []


def test_callers_may_still_record_outcomes_after_stand_down(briefing_open: Incident):
    tier_one_started(briefing_open)
    run(briefing_open, E0 + MIN, StandDown("gold", "Over"))
    reach(briefing_open, E0 + 2 * MIN, "k1")
    assert briefing_open.ringround.tiers[1].contacts["k1"].state is ContactState.REACHED


def test_the_tier_deadline_alerts_tactical_leads_when_short(briefing_open: Incident):
    effects = run(briefing_open, E0, CompleteStep("strategic", "gold"))
    [deadline] = timers(effects, "ringround.deadline")
    alerted = on_timer(briefing_open, deadline.kind, deadline.payload, deadline.due_at)
    recipients = {n.recipient for n in alerted if isinstance(n, Notify)}
    assert {"silver", "pcomms", "eng"} <= recipients


# ---- tasks --------------------------------------------------------------------------------


def test_acknowledging_a_task_is_routed_to_the_tasks(active: Incident):
    run(active, T0, AckTask("approve-statement", "pcomms"))
    assert active.tasks.get("approve-statement").state is TaskState.ACKNOWLEDGED


def test_completing_a_task_is_routed_to_the_tasks(active: Incident):
    run(active, T0, CompleteTask("approve-statement", "pcomms"))
    assert active.tasks.get("approve-statement").state is TaskState.DONE


def test_giving_a_task_up_is_routed_to_the_tasks(active: Incident):
    run(active, T0, CannotDoTask("approve-statement", "Off sick", "pcomms"))
    assert active.tasks.get("approve-statement").state is TaskState.CANNOT_DO


def test_a_strategic_or_tactical_lead_adds_a_task(active: Incident):
    run(active, T0, AddTask("Check for protests", "police_silver", T0 + timedelta(hours=2),
                            "pcomms"))
    assert [t.title for t in active.tasks.tasks.values()][-1] == "Check for protests"


def test_a_caller_may_not_add_tasks(active: Incident):
    with pytest.raises(NotAuthorised, match="add a task"):
        run(active, T0, AddTask("Anything", "police_silver", E0, "cal1"))


def test_a_task_for_an_unknown_role_is_refused(active: Incident):
    with pytest.raises(RefusedError, match="unknown role 'ghost'"):
        run(active, T0, AddTask("Anything", "ghost", E0, "gold"))


def test_task_timers_are_routed_to_the_tasks(active: Incident):
    task = active.tasks.get("approve-statement")
    payload = {"task": task.id, "at": task.due.isoformat()}
    effects = on_timer(active, "task.due", payload, task.due)
    assert [n.recipient for n in notices(effects, "task.overdue")] == ["pcomms"]


def test_a_timer_of_an_unknown_kind_does_nothing(active: Incident):
    assert on_timer(active, "mystery.kind", {}, T0 + MIN) == []


# ---- the decision log ---------------------------------------------------------------------


def test_any_role_holder_logs_a_decision(active: Incident):
    effects = run(active, T0, LogDecision("Open a rest centre", "Cordon overnight", "eng",
                                          options_rejected="Hotel"))
    [entry] = decisions(effects, "decision")
    assert (entry.decided_by, entry.recorded_by, entry.options_rejected) == ("eng", "eng",
                                                                             "Hotel")


def test_a_decision_may_be_recorded_as_made_earlier(active: Incident):
    effects = run(active, T0 + 10 * MIN, LogDecision("Patrols", "Tension", "silver",
                                                     decided_at=T0))
    assert decisions(effects)[0].decided_at == T0


def test_a_correction_refers_to_the_entry_it_corrects(active: Incident):
    effects = run(active, T0, LogDecision("Correction: 2 arrests", "Typo", "gold", refers_to=4))
    assert decisions(effects)[0].refers_to == 4


def test_someone_holding_no_role_may_not_log_decisions(active: Incident):
    with pytest.raises(NotAuthorised, match="record a decision: you hold no role in this incident"):
        run(active, T0, LogDecision("Something", "Why", "k1"))


def test_an_empty_decision_is_refused(active: Incident):
    with pytest.raises(RefusedError, match="empty decision"):
        run(active, T0, LogDecision("  ", "Why", "gold"))


def test_compromise_notifies_the_incident_channel(briefing_open: Incident):
    effects = run(briefing_open, E0, MarkCompromised("Leak", "gold"))
    assert [n.recipient for n in notices(effects, "incident.compromised")] == ["incident"]


def test_moving_e0_moves_a_started_tiers_coverage_deadline(briefing_open: Incident):
    run(briefing_open, E0, CompleteStep("strategic", "gold"))
    effects = run(briefing_open, E0 + MIN, SetE0(E0 + 30 * MIN, "gold", "Searches overran"))
    [deadline] = timers(effects, "ringround.deadline")
    assert deadline.due_at == E0 + 30 * MIN + timedelta(hours=1)


def test_the_old_coverage_deadline_does_nothing_after_e0_moved(briefing_open: Incident):
    first = timers(run(briefing_open, E0, CompleteStep("strategic", "gold")), "ringround.deadline")
    run(briefing_open, E0 + MIN, SetE0(E0 + 30 * MIN, "gold"))
    [old] = first
    assert on_timer(briefing_open, old.kind, old.payload, old.due_at) == []

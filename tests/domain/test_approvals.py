"""Approvers are asked for every version that needs approval, however it came to exist, only
once they may see the incident; a ring-round held on an unapproved message is a red flag."""

from __future__ import annotations

from builders import (
    BEFORE_T0,
    E0,
    MIN,
    T0,
    active_incident,
    approve,
    notices,
    run,
    said,
    start,
    started,
)

from incident_bot.domain.commands import (
    ApproveMessage,
    AssignRole,
    CompleteStep,
    DraftMessage,
    LogDecision,
)
from incident_bot.domain.incident import Incident, on_timer

ASKED = "message.approval_needed"
HELD = "ringround.held"


def asked(effects: list, message_id: str | None = None) -> set[tuple[str, str, int]]:
    return {(n.recipient, str(n.data["message"]), int(n.data["version"]))
            for n in notices(effects, ASKED)
            if message_id is None or n.data["message"] == message_id}


# ---- asking -------------------------------------------------------------------------------


def test_starting_after_t0_asks_every_approver_for_each_version_one():
    _, effects = start(T0)
    assert asked(effects) == {
        ("pcomms", "public-holding-statement", 1), ("sio", "public-holding-statement", 1),
        ("ccomms", "member-briefing", 1), ("pcomms", "member-briefing", 1),
        ("pcomms", "ring-round-script", 1), ("ccomms", "ring-round-script", 1),
        ("pcomms", "ring-round-sms", 1), ("ccomms", "ring-round-sms", 1)}


def test_an_approval_request_says_where_version_one_came_from_and_who_must_approve():
    _, effects = start(T0)
    (body,) = {said(n) for n in notices(effects, ASKED)
               if n.data["message"] == "ring-round-sms" and n.recipient == "pcomms"}
    assert body == ("Please approve ring-round-sms v1 (SMS), drafted from the templates when "
                    "the incident started (en, ur, pl): awaiting approval by police_comms, "
                    "council_comms.")


def test_before_t0_only_approvers_who_need_to_know_are_asked():
    _, effects = start(BEFORE_T0)
    assert asked(effects) == {("sio", "public-holding-statement", 1)}


def test_at_t0_the_approvers_let_in_are_asked_for_what_still_awaits_them():
    incident = started()
    effects = on_timer(incident, "incident.t0", {"at": T0.isoformat()}, T0)
    assert asked(effects, "public-holding-statement") == {("pcomms", "public-holding-statement",
                                                           1)}
    assert asked(effects, "member-briefing") == {("ccomms", "member-briefing", 1),
                                                 ("pcomms", "member-briefing", 1)}


def test_nobody_is_asked_twice_for_the_same_version():
    incident, first = start(T0)
    effects = run(incident, T0 + MIN, LogDecision("Hold the line", "Calm", "gold"))
    assert asked(first)
    assert notices(effects, ASKED) == []


def test_someone_given_an_approver_role_is_asked_for_versions_still_awaiting_that_role(
        active: Incident):
    run(active, T0 + MIN, ApproveMessage("member-briefing", 1, "ccomms"))
    effects = run(active, T0 + MIN, AssignRole("council_comms", "cal1", "gold"))
    assert ("cal1", "member-briefing", 1) not in asked(effects)  # council_comms approved it
    assert ("cal1", "ring-round-sms", 1) in asked(effects)


def test_an_approver_who_has_approved_is_not_asked_again_when_someone_else_is(
        active: Incident):
    run(active, T0 + MIN, ApproveMessage("member-briefing", 1, "ccomms"))
    effects = run(active, T0 + MIN, AssignRole("police_comms", "cal2", "gold"))
    assert asked(effects, "member-briefing") == {("cal2", "member-briefing", 1)}


def test_a_draft_before_t0_is_not_sent_to_approvers_outside_need_to_know():
    incident = started()
    effects = run(incident, BEFORE_T0, DraftMessage("public-holding-statement",
                                                    {"en": "Arrests made."}, "sio"))
    assert asked(effects) == {("sio", "public-holding-statement", 2)}


# ---- a ring-round held on approval --------------------------------------------------------


def sms_half_approved() -> Incident:
    """At E0, every message approved but ring-round-sms, which only police_comms approved."""
    incident = active_incident()
    for message_id in ("public-holding-statement", "member-briefing", "ring-round-script"):
        approve(incident, message_id, T0 + MIN)
    run(incident, T0 + MIN, ApproveMessage("ring-round-sms", 1, "pcomms"))
    on_timer(incident, "briefing.e0", {"at": E0.isoformat()}, E0)
    return incident


def test_a_tier_held_on_its_sms_message_flags_the_coordinator_naming_who_has_not_approved():
    incident = sms_half_approved()
    effects = run(incident, E0, CompleteStep("strategic", "gold"))
    assert {n.recipient for n in notices(effects, HELD)} == {"eng", "incident"}
    (body,) = {said(n) for n in notices(effects, HELD)}
    assert body == ("Red flag: ring-round tier 1 can't start: ring-round-sms (SMS) has no "
                    "approved version, so nobody in it is called or texted yet. "
                    "ring-round-sms v1 is awaiting approval by council_comms (Ccomms).")
    assert 1 not in incident.ringround.tiers


def test_a_held_round_is_flagged_once_per_message_version():
    incident = sms_half_approved()
    run(incident, E0, CompleteStep("strategic", "gold"))
    again = run(incident, E0 + MIN, LogDecision("Wait for comms", "Approval", "gold"))
    assert notices(again, HELD) == []
    redrafted = run(incident, E0 + MIN, DraftMessage("ring-round-sms", {"en": "Two"}, "pcomms"))
    assert {n.data["version"] for n in notices(redrafted, HELD)} == {2}
    approve(incident, "ring-round-sms", E0 + MIN, version=2)
    assert 1 in incident.ringround.tiers

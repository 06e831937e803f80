"""The two-person rule: an author of a version of a key message is never its only approver."""

from __future__ import annotations

from dataclasses import replace

import pytest
from builders import BEFORE_T0, T0, drafts, people, playbook, run, started

from incident_bot.domain.commands import AddTranslation, ApproveMessage, DraftMessage
from incident_bot.domain.incident import Incident
from incident_bot.domain.messages import (
    Approver,
    MessageBook,
    VersionStatus,
    add_translation,
    authors,
    draft,
    from_drafts,
)
from incident_bot.domain.messages import approve as approve_version
from incident_bot.domain.playbook import TwoPersonApproval
from incident_bot.errors import RefusedError

STATEMENT_ID = "public-holding-statement"
PB = playbook()
STATEMENT = PB.message(STATEMENT_ID)
BOTH = ("police_comms", "investigation_owner")
OTHERS = (Approver("pc", "Pat", BOTH), Approver("sam", "Sam Jones", ("police_comms",)),
          Approver("jo", "Jo Bloggs", ("investigation_owner",)))


def book() -> MessageBook:
    return from_drafts(PB, drafts(PB), BEFORE_T0)


def drafted_by_pat() -> MessageBook:
    b = book()
    draft(b, STATEMENT, {"en": "Second"}, "pc", T0)
    return b


def pat_approves(b: MessageBook, roles: tuple[str, ...] = BOTH) -> None:
    approve_version(b, STATEMENT, 2, roles, "pc", T0, two_person=True, approvers=OTHERS)


def test_the_author_may_not_be_the_only_approver():
    b = drafted_by_pat()
    with pytest.raises(RefusedError, match="two-person rule"):
        pat_approves(b)
    assert b.get(STATEMENT_ID).version(2).approvals == []


def test_the_refusal_names_who_else_may_approve():
    with pytest.raises(RefusedError, match=r"you drafted or translated it, .* ask Sam Jones or "
                                           r"Jo Bloggs to approve it$"):
        pat_approves(drafted_by_pat())


def test_the_refusal_names_only_holders_of_a_role_still_to_approve():
    b = drafted_by_pat()
    pat_approves(b, ("police_comms",))  # not complete yet: allowed
    with pytest.raises(RefusedError, match=r"ask Jo Bloggs to approve it$"):
        pat_approves(b, ("investigation_owner",))


def test_with_nobody_else_the_refusal_says_a_role_must_be_given_to_someone():
    with pytest.raises(RefusedError, match="nobody else holds police_comms or "
                                           "investigation_owner: give one of those roles"):
        approve_version(drafted_by_pat(), STATEMENT, 2, BOTH, "pc", T0, two_person=True,
                        approvers=OTHERS[:1])


def test_a_second_person_completes_the_approval():
    b = drafted_by_pat()
    approve_version(b, STATEMENT, 2, ("investigation_owner",), "jo", T0, two_person=True,
                    approvers=OTHERS)
    pat_approves(b, ("police_comms",))
    assert b.get(STATEMENT_ID).version(2).status is VersionStatus.APPROVED


def test_the_authors_are_the_drafter_and_whoever_added_a_translation():
    b = book()
    script = PB.message("ring-round-script")
    version = draft(b, script, {"en": "Second"}, "pc", T0)
    add_translation(b, script, 2, "ur", "Urdu second", "tr", T0)
    assert authors(version) == {"pc", "tr"}


def test_version_one_from_the_templates_has_no_author():
    assert authors(book().get(STATEMENT_ID).version(1)) == set()


def test_version_one_from_the_templates_may_be_approved_by_one_person():
    b = book()
    approve_version(b, STATEMENT, 1, BOTH, "pc", T0, two_person=True, approvers=OTHERS)
    assert b.get(STATEMENT_ID).version(1).status is VersionStatus.APPROVED


def test_without_the_rule_the_author_may_approve_alone():
    b = drafted_by_pat()
    assert approve_version(b, STATEMENT, 2, BOTH, "pc", T0).complete


# ---- in the incident: which messages the playbook puts under the rule ----------------------


def with_comms_holding_both(rule: TwoPersonApproval = TwoPersonApproval.PUBLIC) -> Incident:
    """``pcomms`` also holds investigation_owner and council_comms: every approver role."""
    who = [replace(p, roles=(*p.roles, "investigation_owner", "council_comms"))
           if p.key == "pcomms" else p for p in people()]
    return started(pb=playbook(two_person_approval=rule), who=who)


def draft_and_approve(incident: Incident, message_id: str) -> None:
    run(incident, T0, DraftMessage(message_id, {"en": "New words"}, "pcomms"),
        ApproveMessage(message_id, 2, "pcomms"))


def status(incident: Incident, message_id: str) -> VersionStatus:
    return incident.messages.get(message_id).version(2).status


def test_by_default_a_public_message_needs_a_second_person():
    incident = with_comms_holding_both()
    with pytest.raises(RefusedError, match=r"ask Sio to approve it$"):
        draft_and_approve(incident, STATEMENT_ID)


def test_by_default_a_message_not_for_the_public_may_be_approved_by_its_author():
    incident = with_comms_holding_both()
    draft_and_approve(incident, "member-briefing")
    assert status(incident, "member-briefing") is VersionStatus.APPROVED


def test_the_playbook_may_put_every_message_under_the_rule():
    incident = with_comms_holding_both(TwoPersonApproval.ALL)
    with pytest.raises(RefusedError, match=r"ask Ccomms to approve it$"):
        draft_and_approve(incident, "member-briefing")


def test_the_playbook_may_turn_the_rule_off():
    incident = with_comms_holding_both(TwoPersonApproval.OFF)
    draft_and_approve(incident, STATEMENT_ID)
    assert status(incident, STATEMENT_ID) is VersionStatus.APPROVED


def test_a_translator_counts_as_an_author_of_the_version():
    incident = with_comms_holding_both(TwoPersonApproval.ALL)
    run(incident, T0, DraftMessage("ring-round-sms", {"en": "Two"}, "ccomms"),
        AddTranslation("ring-round-sms", 2, "pl", "Dwa", "pcomms"),
        ApproveMessage("ring-round-sms", 2, "ccomms"))  # council_comms only: not complete
    with pytest.raises(RefusedError, match="you drafted or translated it"):
        run(incident, T0, ApproveMessage("ring-round-sms", 2, "pcomms"))


def test_another_person_approving_first_lets_the_author_complete_it():
    incident = with_comms_holding_both()
    run(incident, T0, DraftMessage(STATEMENT_ID, {"en": "New"}, "pcomms"),
        ApproveMessage(STATEMENT_ID, 2, "sio"), ApproveMessage(STATEMENT_ID, 2, "pcomms"))
    assert status(incident, STATEMENT_ID) is VersionStatus.APPROVED

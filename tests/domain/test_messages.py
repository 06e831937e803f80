"""Key messages: versions, approval, translations, embargo, release and withdrawal."""

from __future__ import annotations

import pytest
from builders import (
    BEFORE_T0,
    E0,
    MIN,
    T0,
    approve,
    decisions,
    drafts,
    notices,
    playbook,
    run,
    said,
)

from incident_bot.domain.briefing import Clocks
from incident_bot.domain.commands import (
    AddTranslation,
    ApproveMessage,
    CompleteStep,
    DraftMessage,
    OverrideStep,
    ReleaseMessage,
    WithdrawMessage,
)
from incident_bot.domain.incident import Incident
from incident_bot.domain.messages import (
    MessageBook,
    VersionStatus,
    add_translation,
    draft,
    embargo_lifted,
    from_drafts,
    label,
    release,
    release_blocker,
    text_for,
)
from incident_bot.domain.messages import approve as approve_version
from incident_bot.errors import NotAuthorised, RefusedError, TransitionRefused

PB = playbook()
SCRIPT = PB.message("ring-round-script")
STATEMENT = PB.message("public-holding-statement")
BOTH = ("police_comms", "council_comms")


def book() -> MessageBook:
    return from_drafts(PB, drafts(PB), BEFORE_T0)


def approved_book() -> MessageBook:
    b = book()
    approve_version(b, SCRIPT, 1, BOTH, "pc", T0)
    return b


# ---- versions -----------------------------------------------------------------------------


def test_version_one_is_drafted_from_the_templates_in_every_language():
    assert book().get("ring-round-script").versions[0].texts == {
        "en": "ring-round-script en v1 text", "ur": "ring-round-script ur v1 text",
        "pl": "ring-round-script pl v1 text"}


def test_a_draft_is_the_next_version():
    b = book()
    assert draft(b, SCRIPT, {"en": "Second"}, "pc", T0).number == 2


def test_earlier_versions_never_change_when_a_new_one_is_drafted():
    b = book()
    draft(b, SCRIPT, {"en": "Second"}, "pc", T0)
    assert b.get(SCRIPT.id).versions[0].texts["en"] == "ring-round-script en v1 text"


def test_a_draft_needs_english():
    with pytest.raises(RefusedError, match="without English"):
        draft(book(), SCRIPT, {"ur": "..."}, "pc", T0)


def test_a_draft_in_a_language_the_message_does_not_have_is_refused():
    with pytest.raises(RefusedError, match="in de: its languages are en, ur, pl"):
        draft(book(), SCRIPT, {"en": "Hi", "de": "Hallo"}, "pc", T0)


def test_the_label_names_message_version_and_language():
    assert label("ring-round-sms", 3, "ur") == "ring-round-sms@v3/ur"


# ---- approval -----------------------------------------------------------------------------


def test_a_version_is_not_approved_until_every_approver_role_approves():
    b = book()
    approve_version(b, SCRIPT, 1, ["police_comms"], "pc", T0)
    assert b.get(SCRIPT.id).version(1).status is VersionStatus.DRAFT


def test_a_version_is_approved_when_every_approver_role_approved():
    assert approved_book().get(SCRIPT.id).version(1).status is VersionStatus.APPROVED


def test_each_approval_records_role_person_and_time():
    b = book()
    approve_version(b, SCRIPT, 1, ["police_comms"], "pc", T0)
    [approval] = b.get(SCRIPT.id).version(1).approvals
    assert (approval.role, approval.by, approval.at) == ("police_comms", "pc", T0)


def test_someone_holding_no_approver_role_may_not_approve():
    with pytest.raises(NotAuthorised, match="approve message ring-round-script v1"):
        approve_version(book(), SCRIPT, 1, ["caller"], "cal1", T0)


def test_approving_a_later_version_supersedes_the_earlier_one():
    b = approved_book()
    draft(b, SCRIPT, {"en": "Second"}, "pc", T0)
    result = approve_version(b, SCRIPT, 2, BOTH, "pc", T0 + MIN)
    assert result.superseded == (1,)
    assert b.get(SCRIPT.id).version(1).status is VersionStatus.SUPERSEDED


def test_a_superseded_version_cannot_be_approved():
    b = book()
    draft(b, SCRIPT, {"en": "Second"}, "pc", T0)
    approve_version(b, SCRIPT, 2, BOTH, "pc", T0)
    with pytest.raises(TransitionRefused, match="can't approve message ring-round-script v1 "
                                                "while it is superseded"):
        approve_version(b, SCRIPT, 1, BOTH, "pc", T0)


def test_approving_again_changes_nothing():
    assert not approve_version(approved_book(), SCRIPT, 1, BOTH, "pc", T0).changed


def test_approving_a_version_that_does_not_exist_is_refused():
    with pytest.raises(RefusedError, match="has no version 7"):
        approve_version(book(), SCRIPT, 7, BOTH, "pc", T0)


# ---- texts and translations ---------------------------------------------------------------


def test_the_current_approved_text_is_used_in_the_contacts_language():
    assert text_for(approved_book(), SCRIPT.id, "ur") == (
        "ring-round-script@v1/ur", "ring-round-script ur v1 text")


def test_a_draft_is_never_used():
    assert text_for(book(), SCRIPT.id, "en") is None


def test_a_stale_translation_is_never_used():
    b = approved_book()
    draft(b, SCRIPT, {"en": "Second"}, "pc", T0)
    approve_version(b, SCRIPT, 2, BOTH, "pc", T0)
    assert text_for(b, SCRIPT.id, "ur") is None


def test_a_translation_added_to_the_new_version_is_used():
    b = approved_book()
    draft(b, SCRIPT, {"en": "Second"}, "pc", T0)
    add_translation(b, SCRIPT, 2, "ur", "Urdu second", "pc", T0)
    approve_version(b, SCRIPT, 2, BOTH, "pc", T0)
    assert text_for(b, SCRIPT.id, "ur") == ("ring-round-script@v2/ur", "Urdu second")


def test_translating_an_older_version_is_refused_as_stale():
    b = book()
    draft(b, SCRIPT, {"en": "Second"}, "pc", T0)
    with pytest.raises(RefusedError, match="v2 exists, so a translation of v1 would be stale"):
        add_translation(b, SCRIPT, 1, "ur", "late", "pc", T0)


def test_translating_an_approved_version_makes_a_new_draft_and_the_approved_one_stays():
    b = approved_book()
    draft(b, SCRIPT, {"en": "Second"}, "pc", T0)
    approve_version(b, SCRIPT, 2, BOTH, "pc", T0)

    added = add_translation(b, SCRIPT, 2, "ur", "Urdu second", "tr", T0)

    assert added is not None
    assert added.number == 3
    assert (added.status, added.texts, added.drafted_by) == (
        VersionStatus.DRAFT, {"en": "Second", "ur": "Urdu second"}, "tr")
    assert b.get(SCRIPT.id).version(2).texts == {"en": "Second"}  # what was approved
    assert text_for(b, SCRIPT.id, "ur") is None  # unapproved words never go out
    assert text_for(b, SCRIPT.id, "en") == ("ring-round-script@v2/en", "Second")
    approve_version(b, SCRIPT, 3, BOTH, "pc", T0)
    assert text_for(b, SCRIPT.id, "ur") == ("ring-round-script@v3/ur", "Urdu second")


def test_a_released_version_is_never_changed_by_a_translation():
    b = approved_book()
    draft(b, SCRIPT, {"en": "Second"}, "pc", T0)
    approve_version(b, SCRIPT, 2, BOTH, "pc", T0)
    release(b, SCRIPT, "pc", T0)

    added = add_translation(b, SCRIPT, 2, "pl", "Drugi", "tr", T0)

    assert added is not None
    assert added.number == 3
    assert b.get(SCRIPT.id).version(2).texts == {"en": "Second"}


def test_a_versions_text_can_never_be_replaced():
    with pytest.raises(RefusedError, match="versions never change"):
        add_translation(book(), SCRIPT, 1, "ur", "different", "pc", T0)


def test_a_withdrawn_message_is_never_used(briefing_open: Incident):
    run(briefing_open, E0, WithdrawMessage("ring-round-sms", "Wrong helpline", "pcomms"))
    assert text_for(briefing_open.messages, "ring-round-sms", "en") is None


# ---- embargo and release rules ------------------------------------------------------------


def test_an_embargoed_message_is_not_releasable_before_its_embargo():
    assert not embargo_lifted(STATEMENT, Clocks(T0, E0), E0 - MIN, compromised=False)


def test_an_embargo_on_an_unknown_e0_holds():
    assert not embargo_lifted(STATEMENT, Clocks(T0, None), E0, compromised=False)


def test_a_compromised_timeline_lifts_the_embargo():
    assert embargo_lifted(STATEMENT, Clocks(T0, E0), T0, compromised=True)


def test_a_message_without_an_approved_version_is_not_releasable():
    blocker = release_blocker(book(), STATEMENT, {}, True, None, "UTC")
    assert blocker == ("can't release public-holding-statement: it has no approved version "
                       "(v1 is draft)")


# ---- in the incident ----------------------------------------------------------------------


def test_release_is_refused_while_the_media_step_is_held(briefing_open: Incident):
    run(briefing_open, E0, DraftMessage("public-holding-statement", {"en": "v2"}, "pcomms"))
    approve(briefing_open, "public-holding-statement", E0, version=2)
    with pytest.raises(RefusedError, match=r"^can't release public-holding-statement v2 while "
                                           r"briefing step media is held$"):
        run(briefing_open, E0, ReleaseMessage("public-holding-statement", "pcomms"))


def test_release_is_refused_before_the_embargo(active: Incident):
    approve(active, "public-holding-statement", T0)
    run(active, T0, OverrideStep("media", "Early", "gold"))
    with pytest.raises(RefusedError, match="before its embargo \\(06:00 UTC\\)"):
        run(active, T0, ReleaseMessage("public-holding-statement", "pcomms"))


def test_release_once_the_media_step_is_open_is_logged(briefing_open: Incident):
    run(briefing_open, E0, OverrideStep("media", "On the radio", "gold"))
    effects = run(briefing_open, E0, ReleaseMessage("public-holding-statement", "pcomms"))
    assert decisions(effects, "release")[0].decision == (
        "Released public-holding-statement v1 (en)")


def test_a_release_announces_the_version_label(briefing_open: Incident):
    run(briefing_open, E0, OverrideStep("media", "On the radio", "gold"))
    effects = run(briefing_open, E0, ReleaseMessage("public-holding-statement", "pcomms"))
    [released] = notices(effects, "message.released")
    assert released.message_version == "public-holding-statement@v1/en"


def test_releasing_a_released_version_again_does_nothing(briefing_open: Incident):
    run(briefing_open, E0, OverrideStep("media", "On the radio", "gold"))
    run(briefing_open, E0, ReleaseMessage("public-holding-statement", "pcomms"))
    assert run(briefing_open, E0, ReleaseMessage("public-holding-statement", "pcomms")) == []


def test_a_message_for_an_open_step_is_releasable(briefing_open: Incident):
    run(briefing_open, E0, CompleteStep("strategic", "gold"))
    effects = run(briefing_open, E0, ReleaseMessage("member-briefing", "ccomms"))
    assert len(decisions(effects, "release")) == 1


def test_only_approvers_briefers_or_commanders_release(briefing_open: Incident):
    with pytest.raises(NotAuthorised, match="release message public-holding-statement"):
        run(briefing_open, E0, ReleaseMessage("public-holding-statement", "cal1"))


def test_a_draft_by_an_approver_asks_the_approvers(briefing_open: Incident):
    effects = run(briefing_open, E0, DraftMessage("member-briefing", {"en": "New"}, "ccomms"))
    assert {n.recipient for n in notices(effects, "message.approval_needed")} == {
        "ccomms", "pcomms"}


def test_someone_who_is_not_an_approver_may_not_draft(briefing_open: Incident):
    with pytest.raises(NotAuthorised, match="draft message member-briefing"):
        run(briefing_open, E0, DraftMessage("member-briefing", {"en": "New"}, "cal1"))


def test_the_commander_does_not_stand_in_for_an_approver(briefing_open: Incident):
    run(briefing_open, E0, DraftMessage("member-briefing", {"en": "New"}, "ccomms"))
    with pytest.raises(NotAuthorised, match="approve message member-briefing v2"):
        run(briefing_open, E0, ApproveMessage("member-briefing", 2, "gold"))


def test_withdrawal_needs_a_reason(briefing_open: Incident):
    with pytest.raises(RefusedError, match="without a reason"):
        run(briefing_open, E0, WithdrawMessage("member-briefing", " ", "ccomms"))


def test_withdrawal_is_logged(briefing_open: Incident):
    effects = run(briefing_open, E0, WithdrawMessage("member-briefing", "Wrong date", "ccomms"))
    assert decisions(effects, "withdraw")[0].rationale == "Wrong date"


def test_an_added_translation_is_announced_with_its_label(briefing_open: Incident):
    run(briefing_open, E0, DraftMessage("ring-round-sms", {"en": "Two"}, "pcomms"))
    effects = run(briefing_open, E0, AddTranslation("ring-round-sms", 2, "pl", "Dwa", "ccomms"))
    assert "ring-round-sms@v2/pl" in said(notices(effects, "message.translated")[0])


def test_translating_an_approved_version_asks_its_approvers_to_approve_the_new_one(
        briefing_open: Incident):
    run(briefing_open, E0, DraftMessage("ring-round-sms", {"en": "Two"}, "pcomms"))
    approve(briefing_open, "ring-round-sms", E0, version=2)

    effects = run(briefing_open, E0, AddTranslation("ring-round-sms", 2, "pl", "Dwa", "ccomms"))

    (asked,) = {said(n) for n in notices(effects, "message.approval_needed")}
    assert "ring-round-sms@v3/pl added by" in asked
    assert "v2 was approved" in asked
    assert {n.recipient for n in notices(effects, "message.approval_needed")} == {
        "pcomms", "ccomms"}
    assert text_for(briefing_open.messages, "ring-round-sms", "pl") is None


def test_an_unknown_message_is_refused_naming_the_messages(briefing_open: Incident):
    with pytest.raises(RefusedError, match=r"no key message 'nope'.*member-briefing"):
        run(briefing_open, E0, ReleaseMessage("nope", "gold"))


def test_the_message_book_survives_its_round_trip():
    b = approved_book()
    draft(b, SCRIPT, {"en": "Second"}, "pc", T0)
    assert MessageBook.from_dict(b.to_dict()) == b

"""Roles: holders, deputies, the commander, the need-to-know pre-brief, and changes to them."""

from __future__ import annotations

import pytest
from builders import (
    BEFORE_T0,
    E0,
    T0,
    active_incident,
    decisions,
    notices,
    people,
    playbook,
    run,
    staff,
)

from incident_bot.domain.commands import AssignRole, LogDecision, UnassignRole
from incident_bot.domain.incident import Incident
from incident_bot.domain.roles import RoleBook
from incident_bot.errors import NotAuthorised, NotFoundError, RefusedError


def book() -> RoleBook:
    return RoleBook.from_people(playbook(), people())


# ---- the role book ------------------------------------------------------------------------


def test_a_person_holds_each_playbook_role_of_their_directory_entry():
    assert book().holders_of("caller") == ["cal1", "cal2"]


def test_roles_the_playbook_does_not_define_are_ignored():
    pb = playbook()
    assert "ghost" not in RoleBook.from_people(pb, [staff("x", "ghost")]).holders


def test_roles_of_lists_every_role_a_person_holds():
    roles = RoleBook.from_people(playbook(), [staff("x", "police_comms", "caller")])
    assert roles.roles_of("x") == ["police_comms", "caller"]


def test_deputies_are_the_holders_of_the_deputy_role():
    assert book().deputies_of(playbook(), "bcu_commander") == ["silver"]


def test_a_role_without_a_deputy_has_no_deputies():
    assert book().deputies_of(playbook(), "council_leader") == []


def test_a_holder_of_the_role_may_act():
    assert book().may(playbook(), "pcomms", ["police_comms"])


def test_someone_without_the_role_may_not_act():
    assert not book().may(playbook(), "cal1", ["police_comms"])


def test_the_commander_may_always_act():
    assert book().may(playbook(), "gold", ["police_comms"])


def test_before_t0_only_need_to_know_holders_are_in_the_incident():
    visible = book().visible_members(playbook(), prebrief=True)
    assert visible == ["gold", "sio", "ceo", "silver"]


def test_after_t0_every_holder_is_in_the_incident():
    assert "cal1" in book().visible_members(playbook(), prebrief=False)


def test_someone_admitted_early_is_in_the_prebrief():
    roles = book()
    roles.admit_early("pcomms")
    assert roles.is_visible(playbook(), "pcomms", prebrief=True)


def test_the_role_book_survives_its_round_trip():
    roles = book()
    roles.admit_early("pcomms")
    assert RoleBook.from_dict(roles.to_dict()) == roles


# ---- assigning and unassigning during the incident ----------------------------------------


def test_the_commander_assigns_a_role(active: Incident):
    run(active, T0, AssignRole("caller", "cllr", "gold"))
    assert "cllr" in active.roles.holders_of("caller")


def test_an_assignment_is_a_membership_decision(active: Incident):
    effects = run(active, T0, AssignRole("caller", "cllr", "gold"))
    [entry] = decisions(effects, "membership")
    assert entry.decision == "Cllr (cllr) given role caller"
    assert entry.decided_by == "gold"


def test_the_assigned_person_is_told(active: Incident):
    effects = run(active, T0, AssignRole("caller", "cllr", "gold"))
    assert [n.recipient for n in notices(effects, "incident.member_added")] == ["cllr"]


def test_assigning_a_role_someone_holds_already_does_nothing(active: Incident):
    assert run(active, T0, AssignRole("caller", "cal1", "gold")) == []


def test_someone_who_is_not_a_commander_may_not_assign_roles(active: Incident):
    with pytest.raises(NotAuthorised, match="assign role caller: only bcu_commander"):
        run(active, T0, AssignRole("caller", "cllr", "pcomms"))


def test_assigning_an_unknown_role_is_refused(active: Incident):
    with pytest.raises(RefusedError, match="unknown role 'ghost'"):
        run(active, T0, AssignRole("ghost", "cllr", "gold"))


def test_assigning_someone_outside_the_snapshot_is_refused(active: Incident):
    with pytest.raises(NotFoundError, match="stranger"):
        run(active, T0, AssignRole("caller", "stranger", "gold"))


def test_a_newly_assigned_holder_receives_the_roles_open_tasks(active: Incident):
    run(active, T0, AssignRole("police_comms", "ccomms", "gold"))
    assert "ccomms" in active.tasks.get("approve-statement").assignees


def test_adding_someone_outside_need_to_know_before_t0_is_a_logged_decision(prebrief: Incident):
    effects = run(prebrief, BEFORE_T0, AssignRole("police_comms", "pcomms", "gold"))
    [entry] = decisions(effects, "membership")
    assert "before T0, outside need-to-know" in entry.decision


def test_someone_added_before_t0_is_in_the_prebrief(prebrief: Incident):
    run(prebrief, BEFORE_T0, AssignRole("council_leader", "ccomms", "gold"))
    assert prebrief.roles.is_visible(prebrief.playbook, "ccomms", prebrief=True)


def test_giving_a_need_to_know_role_before_t0_does_not_widen_the_prebrief(prebrief: Incident):
    effects = run(prebrief, BEFORE_T0, AssignRole("police_silver", "pcomms", "gold"))
    assert "outside need-to-know" not in decisions(effects, "membership")[0].decision


def test_a_holder_outside_need_to_know_may_not_act_before_t0(prebrief: Incident):
    with pytest.raises(NotAuthorised, match="record a decision"):
        run(prebrief, BEFORE_T0, LogDecision("Something", "Because", "pcomms"))


def test_the_commander_unassigns_a_role(active: Incident):
    run(active, T0, UnassignRole("caller", "cal2", "gold"))
    assert active.roles.holders_of("caller") == ["cal1"]


def test_an_unassignment_is_a_membership_decision(active: Incident):
    effects = run(active, T0, UnassignRole("caller", "cal2", "gold"))
    assert decisions(effects, "membership")[0].decision == "Cal2 (cal2) no longer holds role caller"


def test_someone_left_without_roles_is_told_they_left(active: Incident):
    effects = run(active, T0, UnassignRole("caller", "cal2", "gold"))
    assert [n.recipient for n in notices(effects, "incident.member_removed")] == ["cal2"]


def test_unassigning_a_role_someone_does_not_hold_does_nothing(active: Incident):
    assert run(active, T0, UnassignRole("caller", "cllr", "gold")) == []


def test_the_last_commander_cannot_be_unassigned(active: Incident):
    run(active, T0, UnassignRole("police_silver", "silver", "gold"))
    with pytest.raises(RefusedError, match="last commander"):
        run(active, E0, UnassignRole("bcu_commander", "gold", "gold"))


def test_a_commander_may_be_unassigned_while_another_remains(active: Incident):
    run(active, T0, UnassignRole("bcu_commander", "gold", "silver"))
    assert active.roles.commanders(active.playbook) == ["silver"]


def test_an_unassigned_role_holder_is_taken_off_the_roles_open_tasks():
    incident = active_incident()
    run(incident, T0, AssignRole("police_comms", "ccomms", "gold"))
    assert "ccomms" in incident.tasks.get("approve-statement").assignees
    run(incident, T0, UnassignRole("police_comms", "ccomms", "gold"))
    assert incident.tasks.get("approve-statement").assignees == ["pcomms"]

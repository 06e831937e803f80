"""Who may read an incident: need-to-know (and the admitted early) while it is confidential,
every role holder once T0 has come, nobody else ever."""

from __future__ import annotations

from builders import BEFORE_T0, MIN, T0, run

from incident_bot.domain.access import confidential, may_read, readers
from incident_bot.domain.commands import AssignRole, Close, LogDecision, StandDown
from incident_bot.domain.incident import Incident


def test_before_t0_a_need_to_know_holder_may_read(prebrief: Incident):
    assert may_read(prebrief, "silver")


def test_before_t0_a_role_holder_outside_need_to_know_may_not_read(prebrief: Incident):
    assert not may_read(prebrief, "cal1")


def test_before_t0_someone_admitted_early_may_read(prebrief: Incident):
    run(prebrief, BEFORE_T0, AssignRole("council_leader", "ccomms", "gold"))
    assert may_read(prebrief, "ccomms")


def test_after_t0_every_role_holder_may_read(active: Incident):
    assert set(readers(active)) == set(active.roles.members())


def test_nobody_outside_the_roles_may_ever_read(prebrief: Incident, active: Incident):
    assert not any(may_read(incident, who) for incident in (prebrief, active)
                   for who in ("stranger", "slack:U0NOBODY"))


def test_reaching_t0_opens_the_incident_to_every_role_holder(prebrief: Incident):
    run(prebrief, T0 + MIN, LogDecision("T0 reached", "", "gold"))
    assert not confidential(prebrief)
    assert may_read(prebrief, "cal1")


def test_an_incident_stood_down_after_t0_stays_open_to_its_role_holders(active: Incident):
    run(active, T0 + MIN, StandDown("gold", "over"), Close("gold"))
    assert may_read(active, "cal1")


def test_an_operation_called_off_before_t0_stays_need_to_know_for_good(prebrief: Incident):
    run(prebrief, BEFORE_T0, StandDown("gold", "called off"), Close("gold"))
    assert confidential(prebrief)
    assert not may_read(prebrief, "cal1")
    assert may_read(prebrief, "silver")

"""A refusal names the real reason, because it comes from the rule that refused.

Every guarded command of the shipped CT playbook, by a holder of every role, someone admitted
early and a person with no role, in every phase, run straight into the service (no aiming: the
Slack edge answers a person outside need-to-know "no incident", but the domain's own refusal
must still be true). Only the attempts the person may not make are run, so every one meets the
same incident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from incident_bot.domain.playbook import Playbook
from incident_bot.errors import IncidentBotError, NotAuthorised
from incident_bot.service.use_cases import IncidentService
from tests.ct_incident import ct_service
from tests.fakes import FakeClock
from tests.figures import FIGURES
from tests.service import test_authorisation_matrix as writes
from tests.service import test_authorisation_matrix_reads as reads
from tests.service.test_authorisation_matrix_writes import CASES

ONLY = re.compile(r"only (?P<who>.+) may$")


@dataclass(frozen=True)
class Refusal:
    phase: str
    who: str
    roles: frozenset[str]
    case: str
    may: bool  # the person's roles may do this (the incident may still be hidden from them)
    visible: bool
    text: str


def _attempts(service: IncidentService, pb: Playbook, commander: str, phase: reads.Phase,
              number: int, people: dict, keys: dict[str, str]) -> list[Refusal]:
    incident_id = reads._start(service, pb, commander, phase, 100 + number)
    found = []
    for who, person in people.items():
        if person is None:
            continue  # a stranger is not in the directory: refused before any rule
        roles = frozenset({reads._early_role(pb)} if who == reads.EARLY else person.roles)
        visible = reads._expected(pb, phase, who, person)
        for case in CASES:
            may = bool(roles & writes._may(case, pb))
            if visible and may:
                continue  # allowed: it would change the incident the others meet
            try:
                service.execute(incident_id, case.build(pb, keys[who]))
            except NotAuthorised as refused:
                found.append(Refusal(phase.name, who, roles, case.name, may, visible,
                                     str(refused)))
            except IncidentBotError:
                continue  # refused for the incident's state (nothing changes a closed one)
    return found


@pytest.fixture(scope="module")
def refusals(module_memory_uow_factory) -> list[Refusal]:
    service, ct = ct_service(module_memory_uow_factory, FakeClock(reads.NOW))
    people, keys, extra = reads._people(ct.playbook, ct.people)
    with module_memory_uow_factory() as uow:
        uow.directory.upsert(extra)
        uow.commit()
    found = [r for number, phase in enumerate(reads.PHASES)
             for r in _attempts(service, ct.playbook, ct.commander, phase, number, people, keys)]
    FIGURES.append(
        f"refusal reasons (memory store): {len(found)} refusals in {len(reads.PHASES)} phases: "
        f"{sum(bool(ONLY.search(r.text)) for r in found)} name who may, "
        f"{sum('need-to-know' in r.text for r in found)} say the incident is need-to-know, "
        f"{sum('no role in this incident' in r.text for r in found)} say no role")
    return found


def test_the_sweep_meets_refusals_of_both_kinds_in_every_phase(refusals):
    assert {r.phase for r in refusals} == {p.name for p in reads.PHASES}
    assert any(r.may for r in refusals)
    assert any(not r.may for r in refusals)


def test_no_refusal_tells_a_person_only_roles_they_hold_may(refusals):
    wrong = [(r.phase, r.who, r.case, r.text) for r in refusals
             if (m := ONLY.search(r.text)) and r.roles & set(re.split(r", | or ", m["who"]))]
    assert not wrong, "\n".join(map(str, wrong))


def test_a_role_holder_outside_need_to_know_is_told_the_incident_is_need_to_know(refusals):
    hidden = [r for r in refusals if r.may and not r.visible]
    assert {r.phase for r in hidden} == {"pre-brief", "called off before T0"}
    wrong = [(r.phase, r.who, r.case, r.text) for r in hidden
             if "need-to-know" not in r.text or "none of your roles is" not in r.text]
    assert not wrong, "\n".join(map(str, wrong))


def test_no_refusal_reads_like_a_glitch(refusals):
    assert [r.text for r in refusals if "any role holder" in r.text] == []

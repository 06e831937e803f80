"""The authorisation matrix, generated from the shipped CT playbook: every guarded command
against a holder of every role. Allowed ones are not refused for who is asking (they may still
be refused for the state the incident is in); the others are refused with NotAuthorised naming
who may, and the refusal is audited. Because the cases come from the playbook's roles,
approvers, briefers, override roles and task owners, a new role or message is covered without
editing this file.

Runs once per backend: one incident per role, started by the commander after T0 (so the
need-to-know pre-brief does not hide anyone), each role's refused commands first, then its
allowed ones, the irreversible ones (withdraw, compromise, stand-down) last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from incident_bot.domain import commands as c
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Level, Playbook
from incident_bot.errors import NotAuthorised, RefusedError
from incident_bot.service.use_cases import StartRequest
from tests.ct_incident import ct_service
from tests.fakes import FakeClock
from tests.figures import FIGURES

T0 = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=10)
MESSAGE = "joint-reassurance"  # translated, and briefed by a step: the widest set of rules
TASK = "brief-council-leader"


@dataclass(frozen=True)
class Case:
    name: str
    allowed_roles: Callable[[Playbook], set[str]]
    build: Callable[[Playbook, str], c.Command]
    irreversible: bool = False
    commanders_may: bool = True  # approval is the approver roles' alone, commanders included


def _message(pb: Playbook):
    return next(m for m in pb.messages if m.id == MESSAGE)


def _step_of_message(pb: Playbook):
    return next(s for s in pb.briefing if s.message == MESSAGE)


def _overridable(pb: Playbook):
    return next(s for s in pb.briefing if s.gate.override_by)


def _leads(pb: Playbook) -> set[str]:
    return {r.code for r in pb.roles if r.level in (Level.STRATEGIC, Level.TACTICAL)}


def _task_roles(pb: Playbook) -> set[str]:
    owner = next(t.owner for t in pb.tasks if t.id == TASK)
    deputy = next(r.deputy for r in pb.roles if r.code == owner)
    return {owner, *([deputy] if deputy else [])}


COMMANDERS_ONLY: Callable[[Playbook], set[str]] = lambda pb: set()  # noqa: E731
CASES = [
    Case("assign a role", COMMANDERS_ONLY,
         lambda pb, by: c.AssignRole("caller", "nb-mem-03", by)),
    Case("move E0", COMMANDERS_ONLY,
         lambda pb, by: c.SetE0(T0 + timedelta(hours=2), by, "searches overran")),
    Case("draft a message", lambda pb: set(_message(pb).approvers),
         lambda pb, by: c.DraftMessage(MESSAGE, {"en": "Updated text."}, by)),
    Case("approve a message", lambda pb: set(_message(pb).approvers),
         lambda pb, by: c.ApproveMessage(MESSAGE, 1, by), commanders_may=False),
    Case("translate a message", lambda pb: set(_message(pb).approvers),
         lambda pb, by: c.AddTranslation(MESSAGE, 1, "ur", "متن", by)),
    Case("release a message",
         lambda pb: {*_message(pb).approvers, _step_of_message(pb).briefed_by},
         lambda pb, by: c.ReleaseMessage(MESSAGE, by)),
    Case("complete a briefing step", lambda pb: {_step_of_message(pb).briefed_by},
         lambda pb, by: c.CompleteStep(_step_of_message(pb).id, by)),
    Case("override the media hold", lambda pb: set(_overridable(pb).gate.override_by),
         lambda pb, by: c.OverrideStep(_overridable(pb).id, "on social media already", by)),
    Case("add a task", _leads,
         lambda pb, by: c.AddTask("Check the mosque car park", "police_silver",
                                  T0 + timedelta(hours=3), by)),
    Case("acknowledge a task", _task_roles, lambda pb, by: c.AckTask(TASK, by)),
    Case("withdraw a message", lambda pb: set(_message(pb).approvers),
         lambda pb, by: c.WithdrawMessage(MESSAGE, "superseded by events", by),
         irreversible=True),
    Case("mark the timeline compromised", COMMANDERS_ONLY,
         lambda pb, by: c.MarkCompromised("leaked to the press", by), irreversible=True),
    Case("stand down", COMMANDERS_ONLY,
         lambda pb, by: c.StandDown(by, "operation over"), irreversible=True),
]


@dataclass
class Outcome:
    role: str
    person: str
    case: str
    expected_allowed: bool
    error: RefusedError | None
    audited: bool


def _one_holder_per_role(playbook: Playbook, people: list[Person]) -> dict[str, Person]:
    """For each role, the holder with the fewest other roles (expectations use all of them)."""
    chosen: dict[str, Person] = {}
    for role in playbook.roles:
        holders = [p for p in people if role.code in p.roles]
        if holders:
            chosen[role.code] = min(holders, key=lambda p: len(p.roles))
    return chosen


@pytest.fixture(scope="module")
def matrix(module_memory_uow_factory) -> tuple[Playbook, list[Outcome]]:
    """One memory store for the whole module (``module_memory_uow_factory``)."""
    uow_factory = module_memory_uow_factory
    service, ct = ct_service(uow_factory, FakeClock(NOW))
    playbook, people, commander = ct.playbook, ct.people, ct.commander
    outcomes = []
    for role, person in _one_holder_per_role(playbook, people).items():
        incident_id = service.start_incident(StartRequest(
            playbook_id=playbook.id, area="Northbridge", t0=T0, e0=T0 + timedelta(hours=1),
            started_by=commander), incident_id=f"authz-{role}")
        roles = set(person.roles)
        expected = {case.name: bool(roles & _may(case, playbook)) for case in CASES}
        order = sorted(CASES, key=lambda case: (expected[case.name], case.irreversible))
        for case in order:
            audited_before = _refusals(uow_factory, person.key)
            error = None
            try:
                service.execute(incident_id, case.build(playbook, person.key))
            except RefusedError as refused:
                error = refused
            outcomes.append(Outcome(role, person.key, case.name, expected[case.name], error,
                                    _refusals(uow_factory, person.key) > audited_before))
    allowed = sum(o.expected_allowed for o in outcomes)
    FIGURES.append(f"service authorisation matrix (memory store): {len(playbook.roles)} roles x "
                   f"{len(CASES)} "
                   f"commands = {len(outcomes)} cases: {allowed} allowed, "
                   f"{len(outcomes) - allowed} refused")
    return playbook, outcomes


def _may(case: Case, playbook: Playbook) -> set[str]:
    commanders = set(playbook.started_by) if case.commanders_may else set()
    return case.allowed_roles(playbook) | commanders


def _refusals(uow_factory, actor: str) -> int:
    with uow_factory() as uow:
        return sum(1 for e in uow.audit.entries() if e["actor"] == actor
                   and e["outcome"] == "refused")


def test_every_role_of_the_playbook_is_in_the_matrix(matrix):
    playbook, outcomes = matrix
    assert {o.role for o in outcomes} == {r.code for r in playbook.roles}


def test_allowed_commands_are_never_refused_for_who_is_asking(matrix):
    _, outcomes = matrix
    wrong = [(o.role, o.case, str(o.error)) for o in outcomes
             if o.expected_allowed and isinstance(o.error, NotAuthorised)]
    assert wrong == [], "\n".join(map(str, wrong))


def test_every_other_command_is_refused_as_not_authorised(matrix):
    _, outcomes = matrix
    wrong = [(o.role, o.case, repr(o.error)) for o in outcomes
             if not o.expected_allowed and not isinstance(o.error, NotAuthorised)]
    assert wrong == [], "\n".join(map(str, wrong))


def test_a_refusal_names_who_may(matrix):
    _, outcomes = matrix
    refused = [o for o in outcomes if isinstance(o.error, NotAuthorised)]
    assert refused
    assert all("only " in str(o.error) and " may" in str(o.error) for o in refused)


def test_every_refusal_is_audited(matrix):
    _, outcomes = matrix
    assert [(o.role, o.case) for o in outcomes if o.error is not None and not o.audited] == []


def test_the_matrix_has_both_outcomes_for_every_command(matrix):
    _, outcomes = matrix
    for case in CASES:
        seen = {o.expected_allowed for o in outcomes if o.case == case.name}
        assert seen == {True, False}, case.name

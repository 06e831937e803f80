"""The authorisation matrix for writes in every phase, generated from the shipped CT playbook:
every guarded command by a holder of every role, by someone admitted early, by a person in the
directory with no role and by a Slack user outside it, in each phase of an incident (pre-brief,
active, standing down, closed, called off before T0).

Each attempt goes the way a Slack request does: first aimed at the incident through the
person's view (``IncidentService.target``, as ``SlackEdge.run`` and every typed command do),
then run (``IncidentService.execute``). Expectations come from the playbook alone:

- a person who may not see the incident (the read rule: need-to-know while it is
  confidential, any role afterwards) is answered exactly as a missing incident would be;
- a person who may see it but whose roles may not do this is refused with NotAuthorised;
- a person whose roles may is never refused for who they are (they may be refused for the
  state the incident is in: nothing can change a closed incident);

and every refusal is audited once and changes nothing. Each phase's refused attempts run first
(they change nothing, so every one meets the same incident); then the allowed ones; the
irreversible ones (withdraw, compromise, stand-down) last.

Runs on the memory store: the 1,500 attempts are the domain's rule and the service's aiming,
which no store changes (``test_service_flow.py`` audits a refusal on each database backend).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from incident_bot.domain import commands as c
from incident_bot.domain.access import Read
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Playbook
from incident_bot.errors import IncidentBotError, NotAuthorised, TransitionRefused
from incident_bot.service.use_cases import IncidentService
from tests.ct_incident import ct_service
from tests.fakes import FakeClock
from tests.figures import FIGURES
from tests.service import test_authorisation_matrix as writes
from tests.service import test_authorisation_matrix_reads as reads

MISSING = reads.MISSING
ANY_ROLE: Callable[[Playbook], set[str]] = lambda pb: {r.code for r in pb.roles}  # noqa: E731
CASES = [
    *writes.CASES,
    writes.Case("record a decision", ANY_ROLE,
                lambda pb, by: c.LogDecision("Keep the cordon on the A34", "police asked", by)),
    writes.Case("close", writes.COMMANDERS_ONLY, lambda pb, by: c.Close(by), irreversible=True),
]


@dataclass
class Outcome:
    phase: str
    who: str
    case: str
    visible: bool
    allowed: bool
    error: IncidentBotError | None
    answer: str  # the refusal, the incident's id replaced by MISSING's
    missing_answer: str  # the same command aimed at a missing incident
    audited: int
    changed: bool

    @property
    def expected_refused(self) -> bool:
        return not (self.visible and self.allowed)

    @property
    def leaked(self) -> bool:
        """A refused attempt that changed something, or a hidden incident's refusal that
        differs from a missing one's."""
        if not self.expected_refused:
            return False
        return self.changed or (not self.visible and self.answer != self.missing_answer)


def _attempt(service: IncidentService, key: str, incident_id: str, command: c.Command
             ) -> IncidentBotError | None:
    """What the Slack edge does with a person's command."""
    try:
        service.target(key, Read.COMMAND, incident_id)
        service.execute(incident_id, command)
    except IncidentBotError as error:
        return error
    return None


def _one(service: IncidentService, uow_factory: Callable[..., object], pb: Playbook,
         phase: reads.Phase, who: str, person: Person | None, key: str, incident_id: str,
         case: writes.Case) -> Outcome:
    roles = set(person.roles) if person else set()
    if who == reads.EARLY:
        roles = {reads._early_role(pb)}
    command = case.build(pb, key)
    before = _stored(uow_factory, incident_id)
    audited = _refusals(uow_factory, key)
    error = _attempt(service, key, incident_id, command)
    audited = _refusals(uow_factory, key) - audited
    missing = _attempt(service, key, MISSING, command) if error is not None else None
    return Outcome(phase.name, who, case.name, reads._expected(pb, phase, who, person),
                   bool(roles & writes._may(case, pb)), error,
                   str(error or "").replace(incident_id, MISSING), str(missing or ""), audited,
                   _stored(uow_factory, incident_id) != before)


def _refusals(uow_factory: Callable[..., object], actor: str) -> int:
    """Refused audit rows of ``actor``."""
    with uow_factory() as uow:  # type: ignore[attr-defined]
        return sum(1 for e in uow.audit.entries()
                   if e["actor"] == actor and e["outcome"] == "refused")


def _stored(uow_factory: Callable[..., object], incident_id: str) -> tuple[int, int]:
    """The incident's version and its decision log's length: any change moves one of them."""
    with uow_factory() as uow:  # type: ignore[attr-defined]
        return (uow.incidents.version(incident_id),
                len(uow.decisions.entries(incident_id)))


def _one_phase(service: IncidentService, uow_factory: Callable[..., object], pb: Playbook,
               people: dict[str, Person | None], keys: dict[str, str], commander: str,
               phase: reads.Phase, number: int) -> list[Outcome]:
    incident_id = reads._start(service, pb, commander, phase, number)
    visible = {who: reads._expected(pb, phase, who, person) for who, person in people.items()}

    def allowed(who: str, case: writes.Case) -> bool:
        person = people[who]
        roles = {reads._early_role(pb)} if who == reads.EARLY else set(
            person.roles if person else ())
        return visible[who] and bool(roles & writes._may(case, pb))

    def run(pick: Callable[[str, writes.Case], bool]) -> list[Outcome]:
        return [_one(service, uow_factory, pb, phase, who, people[who], keys[who],
                     incident_id, case)
                for who in people for case in CASES if pick(who, case)]

    return [*run(lambda who, case: not allowed(who, case)),
            *run(lambda who, case: allowed(who, case) and not case.irreversible),
            *run(lambda who, case: allowed(who, case) and case.irreversible)]


@pytest.fixture(scope="module")
def matrix(module_memory_uow_factory) -> list[Outcome]:
    service, ct = ct_service(module_memory_uow_factory, FakeClock(reads.NOW))
    pb = ct.playbook
    people, keys, extra = reads._people(pb, ct.people)
    with module_memory_uow_factory() as uow:
        uow.directory.upsert(extra)
        uow.commit()
    outcomes = [o for number, phase in enumerate(reads.PHASES)
                for o in _one_phase(service, module_memory_uow_factory, pb, people, keys,
                                    ct.commander, phase, number)]
    refused = [o for o in outcomes if o.error is not None]
    FIGURES.append(
        f"service write matrix (memory store): {len(people)} people ({len(pb.roles)} roles, "
        f"admitted early, no role, stranger) x {len(reads.PHASES)} phases x {len(CASES)} "
        f"commands = {len(outcomes)} attempts: {len(refused)} refused "
        f"({sum(o.expected_refused for o in outcomes)} for who asked), "
        f"{sum(o.audited for o in refused)} audited, {sum(o.leaked for o in outcomes)} leaked")
    return outcomes


def _show(rows: list[object]) -> str:
    return "\n".join(map(str, rows))


def test_every_person_tries_every_command_in_every_phase(matrix):
    assert {(o.phase, o.case) for o in matrix} == {
        (p.name, case.name) for p in reads.PHASES for case in CASES}
    assert len({o.who for o in matrix}) == len({o.who for o in matrix if o.phase == "active"})
    assert {reads.EARLY, reads.NO_ROLE, reads.STRANGER} <= {o.who for o in matrix}


def test_a_command_on_a_hidden_incident_reads_exactly_like_one_on_a_missing_incident(matrix):
    hidden = [o for o in matrix if not o.visible]
    assert {o.phase for o in hidden} == {p.name for p in reads.PHASES}  # strangers at least
    wrong = [(o.phase, o.who, o.case, o.answer, o.missing_answer) for o in hidden
             if o.error is None or o.answer != o.missing_answer]
    assert not wrong, _show(wrong)


def test_a_visible_incident_refuses_anyone_whose_roles_may_not(matrix):
    """Named as not authorised, or as refused for the incident's state: the lifecycle table is
    checked first, and refuses that command to everyone (nothing changes a closed incident)."""
    wrong = [(o.phase, o.who, o.case, repr(o.error)) for o in matrix
             if o.visible and not o.allowed
             and not isinstance(o.error, NotAuthorised | TransitionRefused)]
    assert not wrong, _show(wrong)
    assert any(isinstance(o.error, NotAuthorised) for o in matrix if o.phase == "active")


def test_whoever_may_is_never_refused_for_who_they_are(matrix):
    wrong = [(o.phase, o.who, o.case, str(o.error)) for o in matrix
             if not o.expected_refused and isinstance(o.error, NotAuthorised)]
    assert not wrong, _show(wrong)


def test_every_refusal_is_audited_once_and_changes_nothing(matrix):
    wrong = [(o.phase, o.who, o.case, o.audited, o.changed) for o in matrix
             if o.error is not None and (o.audited != 1 or o.changed)]
    assert not wrong, _show(wrong)


def test_nothing_leaks(matrix):
    assert [(o.phase, o.who, o.case) for o in matrix if o.leaked] == []


def test_allowed_commands_take_effect_while_the_incident_is_open(matrix):
    """The matrix is not all refusals: in the active phase every allowed reversible command
    by the commander changes the incident or says why its state refuses it."""
    done = [o for o in matrix if o.phase == "active" and not o.expected_refused
            and o.error is None]
    assert {o.case for o in done} >= {"draft a message", "add a task", "record a decision"}
    assert all(o.changed for o in done if o.case in {"add a task", "record a decision"})

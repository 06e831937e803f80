"""The authorisation matrix for reads, generated from the shipped CT playbook: every read
(status, brief, tasks, ring-round, the Home tab, and the "which incident?" choice a read makes
when no incident is named) by a holder of every role, by someone admitted early, by a person in
the directory with no role and by a Slack user outside it, in every phase of an incident.

Expectations come from the playbook alone: while the incident is confidential (before T0, or
stood down without reaching it) a person may read it when one of their roles is need-to-know
or they were admitted early; afterwards, when they hold any role in it. A refused read is
audited once and answers exactly as a missing incident does: it leaks nothing.

Runs once per backend: one incident per phase, each closed before the next so that the reads
naming no incident find only it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from incident_bot.domain import commands as c
from incident_bot.domain.access import Read
from incident_bot.domain.directory import Person
from incident_bot.domain.playbook import Channel, Playbook
from incident_bot.errors import IncidentBotError
from incident_bot.service.use_cases import IncidentService, StartRequest
from tests.ct_incident import ct_service
from tests.fakes import FakeClock
from tests.figures import FIGURES
from tests.service.test_authorisation_matrix import _one_holder_per_role

NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
EARLY, NO_ROLE, STRANGER = "(admitted early)", "(no role)", "(stranger)"
EARLY_KEY, NO_ROLE_KEY, STRANGER_KEY = "authz-early", "authz-norole", "slack:U0STRANGER"
MISSING = "inc-missing0"
NAMED = (Read.STATUS, Read.BRIEF, Read.TASKS, Read.RINGROUND)


@dataclass(frozen=True)
class Phase:
    name: str
    confidential: bool
    open: bool
    prebrief: bool  # started before T0
    moves: tuple[str, ...] = ()  # "standdown", "close"


PHASES = (
    Phase("pre-brief", True, True, True),
    Phase("active", False, True, False),
    Phase("standing down", False, True, False, ("standdown",)),
    Phase("closed", False, False, False, ("standdown", "close")),
    Phase("called off before T0", True, True, True, ("standdown",)),
)


@dataclass
class Outcome:
    phase: str
    who: str
    read: str
    expected: bool
    shown: bool
    answer: str  # what a refused read said ("" when shown)
    missing_answer: str  # what the same read of a missing incident says
    audited: int

    @property
    def leaked(self) -> bool:
        return not self.expected and (self.shown or self.answer != self.missing_answer)


def _early_role(pb: Playbook) -> str:
    return next(r.code for r in pb.roles if not r.need_to_know and r.code not in pb.started_by)


def _expected(pb: Playbook, phase: Phase, who: str, person: Person | None) -> bool:
    if who == EARLY:
        return True  # given a role by the commander (before T0: admitted early)
    roles = set(person.roles) if person else set()
    need_to_know = {r.code for r in pb.roles if r.need_to_know}
    return bool(roles & need_to_know) if phase.confidential else bool(roles)


def _refusals(uow_factory: Callable[..., object], actor: str) -> int:
    with uow_factory() as uow:  # type: ignore[attr-defined]
        return sum(1 for e in uow.audit.entries()
                   if e["actor"] == actor and e["outcome"] == "refused")


def _error(read: Callable[[], object]) -> str:
    try:
        read()
    except IncidentBotError as error:
        return str(error)
    return ""


def _start(service: IncidentService, pb: Playbook, commander: str, phase: Phase,
           number: int) -> str:
    t0 = NOW + timedelta(hours=2) if phase.prebrief else NOW - timedelta(minutes=10)
    incident_id = service.start_incident(StartRequest(
        playbook_id=pb.id, area="Northbridge", t0=t0, started_by=commander),
        incident_id=f"inc-read{number:04d}")
    service.execute(incident_id, c.AssignRole(_early_role(pb), EARLY_KEY, commander))
    for move in phase.moves:
        service.execute(incident_id, c.StandDown(commander, "over") if move == "standdown"
                        else c.Close(commander))
    return incident_id


def _reads(service: IncidentService, phase: Phase, key: str, incident_id: str
           ) -> list[tuple[str, Callable[[str], bool]]]:
    """(read, run it against an incident id: True when that incident was shown)."""
    named = [(f"{read} incident=<id>",
              lambda target, read=read: service.read(key, read, target).id == target)
             for read in NAMED]
    if not phase.open:
        return named  # the unnamed reads and the Home tab only look at open incidents
    return [*named,
            ("status (no incident named)", lambda target: service.read(key, Read.STATUS).id
             == target),
            ("home", lambda target: target in {i.id for i, _ in
                                               service.readable_open(key, Read.HOME)})]


def _answer(run: Callable[[str], bool], target: str) -> tuple[bool, str]:
    shown = False

    def attempt() -> None:
        nonlocal shown
        shown = run(target)
    answer = _error(attempt)
    return shown, answer


def _one_phase(service: IncidentService, uow_factory: Callable[..., object], pb: Playbook,
               people: dict[str, Person | None], keys: dict[str, str], commander: str,
               phase: Phase, number: int) -> list[Outcome]:
    incident_id = _start(service, pb, commander, phase, number)
    outcomes = []
    for who, person in people.items():
        key = keys[who]
        for name, run in _reads(service, phase, key, incident_id):
            before = _refusals(uow_factory, key)
            shown, answer = _answer(run, incident_id)
            audited = _refusals(uow_factory, key) - before
            # A named read of a missing id; the others' answer to nothing open is set below.
            missing = _answer(run, MISSING)[1] if "<id>" in name else ""
            outcomes.append(Outcome(phase.name, who, name, _expected(pb, phase, who, person),
                                    shown, answer.replace(incident_id, MISSING), missing,
                                    audited))
    _close(service, incident_id, commander, phase)
    return outcomes


def _close(service: IncidentService, incident_id: str, commander: str, phase: Phase) -> None:
    """Out of the way of the next phase's reads that name no incident."""
    if "standdown" not in phase.moves:
        service.execute(incident_id, c.StandDown(commander, "out of the way"))
    if "close" not in phase.moves:
        service.execute(incident_id, c.Close(commander))


def _nothing_open_answers(outcomes: list[Outcome], service: IncidentService) -> None:
    """An unnamed read with nothing open: what a refusal must read like."""
    nothing = _error(lambda: service.read(STRANGER_KEY, Read.STATUS))
    for o in outcomes:
        if o.read == "status (no incident named)":
            o.missing_answer = nothing
        elif o.read == "home":
            o.missing_answer = ""


def _people(pb: Playbook, sample: list[Person]) -> tuple[dict[str, Person | None],
                                                         dict[str, str], list[Person]]:
    chosen: dict[str, Person | None] = dict(_one_holder_per_role(pb, sample))
    extra = [Person(key=EARLY_KEY, name="Early Admitted", roles=(_early_role(pb),),
                    slack_user_id="U0EARLY", channels=(Channel.SLACK,)),
             Person(key=NO_ROLE_KEY, name="No Role", slack_user_id="U0NOROLE",
                    channels=(Channel.SLACK,))]
    chosen |= {EARLY: extra[0], NO_ROLE: extra[1], STRANGER: None}
    keys = {who: person.key if person else STRANGER_KEY for who, person in chosen.items()}
    return chosen, keys, extra


@pytest.fixture(scope="module")
def matrix(module_memory_uow_factory) -> tuple[Playbook, list[Outcome]]:
    service, ct = ct_service(module_memory_uow_factory, FakeClock(NOW))
    pb = ct.playbook
    people, keys, extra = _people(pb, ct.people)
    with module_memory_uow_factory() as uow:
        uow.directory.upsert(extra)
        uow.commit()
    outcomes = [o for number, phase in enumerate(PHASES)
                for o in _one_phase(service, module_memory_uow_factory, pb, people, keys,
                                    ct.commander, phase, number)]
    _nothing_open_answers(outcomes, service)
    refused = [o for o in outcomes if not o.expected]
    FIGURES.append(
        f"service read matrix (memory store): {len(people)} people ({len(pb.roles)} roles, "
        f"admitted early, no role, stranger) x {len(PHASES)} phases x up to "
        f"{len(NAMED) + 2} reads = {len(outcomes)} attempts: {len(refused)} refused, "
        f"{sum(o.audited for o in refused)} audited, {sum(o.leaked for o in outcomes)} leaked")
    return pb, outcomes


def _show(rows: list[object]) -> str:
    return "\n".join(map(str, rows))


def test_every_role_an_early_admission_no_role_and_a_stranger_read_in_every_phase(matrix):
    pb, outcomes = matrix
    assert {o.who for o in outcomes} == {r.code for r in pb.roles} | {EARLY, NO_ROLE, STRANGER}
    assert {o.phase for o in outcomes} == {p.name for p in PHASES}


def test_everyone_who_may_read_is_shown_the_incident(matrix):
    _, outcomes = matrix
    wrong = [(o.phase, o.who, o.read, o.answer) for o in outcomes
             if o.expected and (not o.shown or o.answer or o.audited)]
    assert not wrong, _show(wrong)


def test_a_refused_read_reads_exactly_like_a_missing_incident(matrix):
    _, outcomes = matrix
    wrong = [(o.phase, o.who, o.read, o.answer, o.missing_answer) for o in outcomes if o.leaked]
    assert not wrong, _show(wrong)


def test_every_refused_read_is_audited_once(matrix):
    _, outcomes = matrix
    wrong = [(o.phase, o.who, o.read, o.audited) for o in outcomes
             if not o.expected and o.audited != 1]
    assert not wrong, _show(wrong)


def test_the_matrix_has_both_outcomes_in_every_phase(matrix):
    _, outcomes = matrix
    for phase in PHASES:
        assert {o.expected for o in outcomes if o.phase == phase.name} == {True, False}, \
            phase.name


def _start_at(service: IncidentService, ct, incident_id: str, t0: datetime) -> str:
    return service.start_incident(StartRequest(playbook_id=ct.playbook.id, area="Northbridge",
                                               t0=t0, started_by=ct.commander), incident_id)


def test_which_incident_lists_only_the_open_incidents_the_reader_may_see(memory_uow_factory):
    service, ct = ct_service(memory_uow_factory, FakeClock(NOW))
    need_to_know = {r.code for r in ct.playbook.roles if r.need_to_know}
    outsider = next(p.key for p in ct.people if p.roles and not set(p.roles) & need_to_know)
    secret = _start_at(service, ct, "inc-secret01", NOW + timedelta(hours=2))
    first = _start_at(service, ct, "inc-open0001", NOW - timedelta(minutes=5))
    second = _start_at(service, ct, "inc-open0002", NOW - timedelta(minutes=5))

    asked = _error(lambda: service.read(outsider, Read.STATUS))

    assert asked == f"more than one incident is open: add incident=<id> ({first}, {second})"
    assert secret in _error(lambda: service.read(ct.commander, Read.STATUS))


def test_with_one_incident_visible_a_read_naming_none_is_that_incident(memory_uow_factory):
    service, ct = ct_service(memory_uow_factory, FakeClock(NOW))
    need_to_know = {r.code for r in ct.playbook.roles if r.need_to_know}
    outsider = next(p.key for p in ct.people if p.roles and not set(p.roles) & need_to_know)
    _start_at(service, ct, "inc-secret01", NOW + timedelta(hours=2))
    visible = _start_at(service, ct, "inc-open0001", NOW - timedelta(minutes=5))

    assert service.read(outsider, Read.STATUS).id == visible
    assert _refusals(memory_uow_factory, outsider) == 0

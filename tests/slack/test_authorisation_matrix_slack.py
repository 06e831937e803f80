"""The authorisation matrix through the Slack edge: every guarded ``/incident`` command and
button, sent as a real signed request into the running app, by a Slack user holding exactly one
role of the shipped CT playbook (and one holding none). Allowed requests take effect and are not
refused; the others get an ephemeral refusal naming who may, change nothing, and leave a
``refused`` audit entry.

Generated from the playbook, as the service matrix (tests/service/test_authorisation_matrix.py)
is, and sharing its rules where the subject is the same: each role gets a directory user of its
own, so a new role is covered without editing this file. The message, step, task and call list
each case acts on are picked from the playbook too.

Runs once per backend: one incident per role, started by a commander at T0 = E0 = now (so the
first briefing steps and the first ring-round tier are open), the cases in a fixed order that
lets every allowed one take effect; setup that a case needs (approvals, a completed step, a
stand-down before ``close``) goes through the service as the commander or the approvers.

When first run it found three gaps, since fixed: refusing to show a contact's number was not
audited; a click on "accept" by someone with no call list was neither audited nor said who may;
approval refusals named the commanders, who may not approve.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from incident_bot.adapters.directory_import import parse_directory
from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.domain import commands as c
from incident_bot.domain.directory import Person
from incident_bot.domain.incident.model import Incident
from incident_bot.domain.messages import briefing_steps_for
from incident_bot.domain.playbook import BriefingStep, KeyMessage, Playbook, Tier
from incident_bot.entrypoints.slack.app import wire
from incident_bot.entrypoints.slack.edge import SlackEdge, request_incident_id
from incident_bot.entrypoints.web import make_web_app
from incident_bot.errors import NotFoundError
from incident_bot.service.use_cases import StartRequest
from incident_bot.settings import load_settings
from incident_bot.testing.fake_slack import FakeSlack
from tests.fakes import FakeClock
from tests.figures import FIGURES
from tests.service import test_authorisation_matrix as service_matrix
from tests.slack.support import (
    ROOT,
    SECRET,
    START,
    TOKEN,
    Server,
    action_form,
    command_form,
    serve,
    slack_post,
    wait_for,
)
from tests.slack.test_interactions import submission_form

PLAYBOOK = "ct-arrests-and-searches"
NO_ROLE = "(no role)"
SYNTHETIC = "authz-"  # sorts before the sample directory's keys: first caller, first backup
SERVICE = {case.name: case for case in service_matrix.CASES}


# ---- what each case acts on, picked from the playbook -------------------------------------


def _commanders(pb: Playbook) -> set[str]:
    return set(pb.started_by)


def _brief_step(pb: Playbook) -> BriefingStep:
    """A step open at E0 that its briefer marks done by hand."""
    return next(s for s in pb.briefing if not s.gate.after and s.complete_at_coverage is None
                and s.message is None)


def _release_message(pb: Playbook) -> KeyMessage:
    """A message whose briefing steps open once the brief step is complete."""
    after = {(), (_brief_step(pb).id,)}
    return next(m for m in pb.messages if (steps := briefing_steps_for(pb, m.id))
                and all(s.gate.after in after for s in steps))


def _button_message(pb: Playbook) -> KeyMessage:
    """Approved by a button: a message with other approvers than the command's message, and
    not one the ring-round needs approved as setup."""
    command = set(service_matrix._message(pb).approvers)
    return next(m for m in pb.messages if set(m.approvers) != command
                and m.id not in _round_messages(pb))


def _round_tier(pb: Playbook) -> Tier:
    """The called tier of a step open at E0: its call lists are offered at the start."""
    step = next(s for s in pb.briefing if not s.gate.after and s.audience.tiers)
    return pb.tier(step.audience.tiers[0])


def _round_messages(pb: Playbook) -> list[str]:
    tier = _round_tier(pb)
    return [m for m in (tier.script, tier.sms_message) if m]


def _synthetic(role: str) -> str:
    return f"{SYNTHETIC}{role}"


# ---- a run of one role's requests -------------------------------------------------------


@dataclass
class Run:
    edge: SlackEdge
    server: Server
    fake: FakeSlack
    playbook: Playbook
    incident_id: str
    person: Person
    serial: itertools.count[int]
    reply: str = ""
    statuses: tuple[int, ...] = ()
    # counted when a case begins, so its effects and answers are told from earlier ones
    decisions_before: int = 0
    views_before: int = 0
    dms_before: int = 0

    def begin(self) -> None:
        self.reply, self.statuses = "", ()
        self.decisions_before = _decisions(self)
        self.views_before = len(self.fake.calls_to("views.open"))
        self.dms_before = len(self._dms())

    @property
    def user(self) -> str:
        assert self.person.slack_user_id is not None
        return self.person.slack_user_id

    def command(self, text: str, scoped: bool = True) -> None:
        self.reply = f"r{next(self.serial)}"
        self._sent(slack_post(self.server, command_form(
            self.fake, _scoped(text, self.incident_id) if scoped else text, user=self.user,
            trigger=f"trig-{self.reply}", reply=self.reply)).status)

    def click(self, action_id: str, *value: str) -> None:
        self.reply = f"a{next(self.serial)}"
        self._sent(slack_post(self.server, action_form(
            self.fake, self.user, action_id, "|".join((self.incident_id, *value)),
            reply=self.reply, action_ts=f"1700000100.{next(self.serial):06d}")).status)

    def submit(self, callback_id: str, metadata: str, values: dict[str, Any]) -> None:
        self._sent(slack_post(self.server, submission_form(
            self.fake, self.user, callback_id, metadata, values)).status)

    def _sent(self, status: int) -> None:
        self.statuses += (status,)

    # ---- reading back ---------------------------------------------------------------------

    def incident(self) -> Incident:
        return self.edge.services.incidents.incident(self.incident_id)

    def setup(self, command: c.Command) -> None:
        """Setup through the service (as a commander or an approver, never the run's person)."""
        assert command.by != self.person.key
        self.edge.services.incidents.execute(self.incident_id, command)

    def commander(self) -> str:
        return next(k for k in self.incident().roles.commanders(self.playbook)
                    if not k.startswith(SYNTHETIC))

    def answers(self) -> list[dict[str, Any]]:
        """What the app posted back: to the request's response_url, or as a DM refusal."""
        replies = [call.args for call in self.fake.replies(self.reply)] if self.reply else []
        return replies + self._dms()[self.dms_before:]

    def _dms(self) -> list[dict[str, Any]]:
        return [call.args for call in self.fake.calls_to("chat.postMessage")
                if call.args.get("channel") == self.user]


def _scoped(text: str, incident_id: str) -> str:
    """``incident=`` after the command's own words, before any free text (docs/slack.md)."""
    words = text.split(" ")
    head = 2 if words[0] in ("task", "message") else 1
    return " ".join([*words[:head], f"incident={incident_id}", *words[head:]])


@dataclass(frozen=True)
class SlackCase:
    name: str
    may: Callable[[Playbook], set[str]]  # every role that may, commanders included if they may
    send: Callable[[Run], None]
    took_effect: Callable[[Run, Incident, Incident], bool]  # (run, before, after)
    prepare: Callable[[Run, bool], None] | None = None  # setup, told whether it is allowed


def _shared(name: str) -> Callable[[Playbook], set[str]]:
    """The rule of the service matrix's case of that name (the same command underneath)."""
    case = SERVICE[name]
    return lambda pb: service_matrix._may(case, pb)


def _with_commanders(roles: Callable[[Playbook], set[str]]) -> Callable[[Playbook], set[str]]:
    return lambda pb: roles(pb) | _commanders(pb)


# ---- effects ------------------------------------------------------------------------------


def _decisions(run: Run) -> int:
    with run.edge.services.uow_factory() as uow:
        return len(uow.decisions.entries(run.incident_id))


def _version(inc: Incident, message: str, number: int) -> Any:
    return inc.messages.get(message).version(number)


def _started_by_this_request(run: Run) -> bool:
    """The incident a start names after its trigger id (a retried start finds the same one)."""
    with run.edge.services.uow_factory() as uow:
        try:
            uow.incidents.get(request_incident_id(f"trig-{run.reply}"))
        except NotFoundError:
            return False
    return True


def _released(inc: Incident, message: str) -> bool:
    current = inc.messages.get(message).current
    return current is not None and current.released_at is not None


def _step(inc: Incident, step: str) -> str:
    return inc.briefing.get(step).status.value


def _task(inc: Incident, task: str) -> str:
    return inc.tasks.get(task).state.value


def _target_list(run: Run) -> Any:
    """The round tier's list offered to the caller role's own directory user."""
    tier = _round_tier(run.playbook)
    caller = _synthetic(tier.caller_role or "")
    return next(lst for lst in run.incident().ringround.tiers[tier.number].lists
                if lst.caller == caller)


def _contact(run: Run) -> str:
    return str(_target_list(run).contacts[0])


def _list_of(inc: Incident, tier: int, list_id: str) -> Any:
    return next(lst for lst in inc.ringround.tiers[tier].lists if lst.id == list_id)


def _contact_round(inc: Incident, pb: Playbook, key: str) -> Any:
    return inc.ringround.tiers[_round_tier(pb).number].contacts[key]


# ---- setup a case needs -------------------------------------------------------------------


def _approve_all(run: Run, message: KeyMessage) -> None:
    """Approved by a sample directory holder of each approver role (not the run's person)."""
    roles = run.incident().roles
    for role in message.approvers:
        holder = next(k for k in roles.holders_of(role) if not k.startswith(SYNTHETIC))
        run.setup(c.ApproveMessage(message.id, 1, holder))


def _prepare_round(run: Run, allowed: bool) -> None:
    """A round starts once its script and text message are approved (its step is open)."""
    for message in _round_messages(run.playbook):
        _approve_all(run, run.playbook.message(message))


def _prepare_release(run: Run, allowed: bool) -> None:
    if allowed:
        _approve_all(run, _release_message(run.playbook))
        step = _brief_step(run.playbook).id
        if _step(run.incident(), step) != "complete":
            run.setup(c.CompleteStep(step, run.commander()))


def _prepare_task(run: Run, allowed: bool) -> None:
    """The task's dependencies done, so it can be acknowledged."""
    def finish(task_id: str) -> None:
        task = run.incident().tasks.get(task_id)
        for dependency in task.depends_on:
            finish(dependency)
        if task.state.value != "done" and task_id != service_matrix.TASK:
            run.setup(c.CompleteTask(task_id, run.commander()))
    finish(service_matrix.TASK)


def _prepare_close(run: Run, allowed: bool) -> None:
    """Closing is a move from standing down: refusals are checked there too."""
    if run.incident().status.value != "standing_down":
        run.setup(c.StandDown(run.commander(), "setup for close"))


def _cannot_do(run: Run) -> None:
    """The button opens a modal asking why; the refusal (if any) comes after it, by DM."""
    run.click(kit.TASK_CANNOT, service_matrix.TASK)
    wait_for(lambda: len(run.fake.calls_to("views.open")) > run.views_before or run.answers())
    if run.answers():  # the button itself refused
        return
    run.reply = ""  # a modal has no response_url
    run.submit(kit.CANNOT_DO_MODAL, f"{run.incident_id}|{service_matrix.TASK}",
               {"reason": {"reason": {"type": "plain_text_input", "value": "on leave"}}})


def _opened_with_phone(run: Run) -> bool:
    contact = _contact(run)
    with run.edge.services.uow_factory() as uow:
        person = uow.directory.get(contact)
    shown = [json.dumps(call.args["view"]) for call in run.fake.calls_to("views.open")]
    return person is not None and person.phone is not None and any(
        person.phone in view for view in shown[run.views_before:])


CASES = [
    SlackCase("/incident start", _commanders,
              lambda run: run.command(f"start {run.playbook.id} area=Southmoor", scoped=False),
              lambda run, before, after: _started_by_this_request(run)),
    SlackCase("/incident log", lambda pb: {r.code for r in pb.roles},
              lambda run: run.command("log open the welfare centre because cordon overnight"),
              lambda run, before, after: _decisions(run) > run.decisions_before),
    SlackCase("/incident task add", _shared("add a task"),
              lambda run: run.command('task add "Check the mosque car park" '
                                      'owner=police_silver due=+3h'),
              lambda run, before, after: len(after.tasks.tasks) > len(before.tasks.tasks)),
    SlackCase("/incident message approve", _shared("approve a message"),
              lambda run: run.command(f"message approve {service_matrix.MESSAGE} 1"),
              lambda run, before, after: run.person.key in
              [a.by for a in _version(after, service_matrix.MESSAGE, 1).approvals]),
    SlackCase("/incident message draft", _shared("draft a message"),
              lambda run: run.command(f'message draft {service_matrix.MESSAGE} "Updated text."'),
              lambda run, before, after: len(after.messages.get(service_matrix.MESSAGE).versions)
              > len(before.messages.get(service_matrix.MESSAGE).versions)),
    SlackCase("button: approve a message version", lambda pb: set(_button_message(pb).approvers),
              lambda run: run.click(kit.MESSAGE_APPROVE, _button_message(run.playbook).id, "1"),
              lambda run, before, after: run.person.key in
              [a.by for a in _version(after, _button_message(run.playbook).id, 1).approvals]),
    SlackCase("/incident brief done",
              _with_commanders(lambda pb: {_brief_step(pb).briefed_by}),
              lambda run: run.command(f"brief done {_brief_step(run.playbook).id}"),
              lambda run, before, after: _step(after, _brief_step(run.playbook).id)
              == "complete"),
    SlackCase("/incident message release",
              _with_commanders(lambda pb: {*_release_message(pb).approvers, *(
                  s.briefed_by for s in briefing_steps_for(pb, _release_message(pb).id))}),
              lambda run: run.command(f"message release {_release_message(run.playbook).id}"),
              lambda run, before, after: _released(after, _release_message(run.playbook).id),
              prepare=_prepare_release),
    SlackCase("/incident override", _shared("override the media hold"),
              lambda run: run.command(f"override {service_matrix._overridable(run.playbook).id} "
                                      "on social media already"),
              lambda run, before, after: _step(
                  after, service_matrix._overridable(run.playbook).id) == "open"),
    SlackCase("button: acknowledge a task", _shared("acknowledge a task"),
              lambda run: run.click(kit.TASK_ACK, service_matrix.TASK),
              lambda run, before, after: _task(after, service_matrix.TASK) == "acknowledged",
              prepare=_prepare_task),
    SlackCase("button: can't do a task (and its modal)", _shared("acknowledge a task"),
              _cannot_do,
              lambda run, before, after: _task(after, service_matrix.TASK) == "cannot_do",
              prepare=_prepare_task),
    SlackCase("button: mark a task done", _shared("acknowledge a task"),
              lambda run: run.click(kit.TASK_DONE, service_matrix.TASK),
              lambda run, before, after: _task(after, service_matrix.TASK) == "done",
              prepare=_prepare_task),
    SlackCase("button: open a contact's number",
              lambda pb: {_round_tier(pb).caller_role or "", _round_tier(pb).backup_role or ""},
              lambda run: run.click(kit.CALL_OPEN, _contact(run)),
              lambda run, before, after: _opened_with_phone(run), prepare=_prepare_round),
    SlackCase("button: accept a call list", lambda pb: {_round_tier(pb).caller_role or ""},
              lambda run: run.click(kit.CALL_ACCEPT, _target_list(run).id),
              lambda run, before, after: _list_of(after, _round_tier(run.playbook).number,
                                                  _target_list(run).id).status.value
              == "accepted", prepare=_prepare_round),
    SlackCase("button: record a call outcome",
              lambda pb: {_round_tier(pb).caller_role or "", pb.coordinator or ""},
              lambda run: run.click(kit.OUTCOME_PREFIX + "reached", _contact(run)),
              lambda run, before, after: _contact_round(after, run.playbook, _contact(run))
              .last_outcome == "reached", prepare=_prepare_round),
    SlackCase("/incident compromised", _shared("mark the timeline compromised"),
              lambda run: run.command("compromised leaked to the press"),
              lambda run, before, after: after.briefing.compromised),
    SlackCase("/incident standdown", _shared("stand down"),
              lambda run: run.command("standdown operation over"),
              lambda run, before, after: after.status.value == "standing_down"),
    SlackCase("/incident close", _commanders,
              lambda run: run.command("close"),
              lambda run, before, after: after.status.value == "closed",
              prepare=_prepare_close),
]


# ---- the matrix -------------------------------------------------------------------------


@dataclass
class Outcome:
    role: str
    case: str
    expected_allowed: bool
    statuses: tuple[int, ...]
    answers: list[dict[str, Any]]
    took_effect: bool
    changed: bool
    audited: int  # refused audit entries added for the person

    @property
    def refusal(self) -> str | None:
        return next((str(a.get("text")) for a in self.answers
                     if str(a.get("text", "")).startswith(":no_entry:")), None)


def _people(playbook: Playbook) -> tuple[list[Person], dict[str, Person]]:
    """The sample directory plus, for each role and for none, a Slack user of its own."""
    sample = parse_directory(ROOT / "incident_bot" / "data" / "sample_directory.csv",
                             {r.code for r in playbook.roles}).people
    rows = [(r.code, (r.code,)) for r in playbook.roles] + [(NO_ROLE, ())]
    mine = {label: Person(key=_synthetic(roles[0] if roles else "none"),
                          name=f"Matrix {label}", organisation="Authorisation test",
                          roles=roles, slack_user_id=f"UAZ{index:06d}")
            for index, (label, roles) in enumerate(rows)}
    return [*sample, *mine.values()], mine


def _snapshot(run: Run) -> tuple[Any, ...]:
    with run.edge.services.uow_factory() as uow:
        document = uow.incidents.get(run.incident_id).stored
        decisions = len(uow.decisions.entries(run.incident_id))
    return document, decisions


def _refusals(run: Run) -> int:
    with run.edge.services.uow_factory() as uow:
        return sum(1 for e in uow.audit.entries()
                   if e["actor"] == run.person.key and e["outcome"] == "refused")


def _one(run: Run, role: str, case: SlackCase, allowed: bool) -> Outcome:
    if case.prepare is not None:
        case.prepare(run, allowed)
    run.begin()
    snapshot, before, refused = _snapshot(run), run.incident(), _refusals(run)
    case.send(run)
    with contextlib.suppress(AssertionError):  # neither answered nor done: reported below
        wait_for(lambda: run.answers() or case.took_effect(run, before, run.incident()))
    after = run.incident()
    return Outcome(role, case.name, allowed, run.statuses, run.answers(),
                   case.took_effect(run, before, after), _snapshot(run) != snapshot,
                   _refusals(run) - refused)


def _run_matrix(edge: SlackEdge, server: Server, fake: FakeSlack, playbook: Playbook,
                people: dict[str, Person]) -> list[Outcome]:
    serial = itertools.count(1)
    outcomes = []
    commander = next(p for p in people.values() if set(p.roles) & set(playbook.started_by))
    for number, (role, person) in enumerate(people.items()):
        now = edge.services.clock.now()
        incident_id = edge.services.incidents.start_incident(StartRequest(
            playbook_id=playbook.id, area="Northbridge", t0=now, e0=now,
            started_by=commander.key), incident_id=f"inc-authz-{number:02d}")
        run = Run(edge, server, fake, playbook, incident_id, person, serial)
        roles = set(person.roles)
        for case in CASES:
            outcomes.append(_one(run, role, case, bool(roles & case.may(playbook))))
        if run.incident().status.value != "closed":  # out of the way of the next role's run
            run.setup(c.Close(run.commander()))
    return outcomes


@pytest.fixture(scope="module")
def matrix(module_database_url: str) -> tuple[Playbook, list[Outcome]]:
    with FakeSlack() as fake:
        settings = load_settings({"DATABASE_URL": module_database_url, "SLACK_BOT_TOKEN": TOKEN,
                                  "SLACK_SIGNING_SECRET": SECRET,
                                  "SLACK_API_URL": fake.api_url}, base=ROOT)
        edge = wire(settings, clock=FakeClock(START), worker="authz")
        try:
            playbook = edge.services.playbooks.playbooks[PLAYBOOK]
            everyone, mine = _people(playbook)
            with edge.services.uow_factory() as uow:
                uow.directory.upsert(everyone)
                uow.commit()
            with contextlib.contextmanager(serve)(make_web_app(edge.app)) as server:
                outcomes = _run_matrix(edge, server, fake, playbook, mine)
        finally:
            edge.close()  # as tests/slack/conftest.py's edge fixture does
            edge.services.engine.dispose()
    allowed = sum(o.expected_allowed for o in outcomes)
    FIGURES.append(f"slack authorisation matrix ({_backend(module_database_url)}): "
                   f"{len(mine)} people x {len(CASES)} commands and buttons = {len(outcomes)} "
                   f"signed requests: {allowed} allowed, {len(outcomes) - allowed} refused")
    return playbook, outcomes


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


WHO_MAY = re.compile(r"only (?P<who>.+) may(?: |$)")
# The backup caller's refusal before a list moves names the caller it is offered to instead.
OFFERED_TO = re.compile(r"it is offered to .+ and moves to you only if not accepted in time")


# Someone who may not see the incident at all is answered as if it did not exist.
HIDDEN = re.compile(r":no_entry: no incident 'inc-authz-\d+'")


def _names_who_may(text: str) -> bool:
    return bool(WHO_MAY.search(text) or OFFERED_TO.search(text))


def _refused_rightly(outcome: Outcome) -> bool:
    """Named who may, or (a person with no role in the incident) nothing at all."""
    text = outcome.refusal
    return bool(text) and (_names_who_may(text) or (outcome.role == NO_ROLE
                                                    and bool(HIDDEN.fullmatch(text))))


def _show(rows: list[Any]) -> str:
    return "\n".join(map(str, rows))


# ---- the assertions -----------------------------------------------------------------------


def test_every_role_of_the_playbook_and_no_role_is_in_the_matrix(matrix):
    playbook, outcomes = matrix
    assert {o.role for o in outcomes} == {r.code for r in playbook.roles} | {NO_ROLE}
    assert {o.case for o in outcomes} == {case.name for case in CASES}


def test_every_request_is_acked_with_200(matrix):
    _, outcomes = matrix
    wrong = [(o.role, o.case, o.statuses) for o in outcomes
             if not o.statuses or set(o.statuses) != {200}]
    assert not wrong, _show(wrong)


def test_allowed_requests_are_not_refused_and_take_effect(matrix):
    _, outcomes = matrix
    wrong = [(o.role, o.case, o.refusal, o.took_effect, o.audited) for o in outcomes
             if o.expected_allowed and (o.refusal or not o.took_effect or o.audited)]
    assert not wrong, _show(wrong)


def test_other_requests_get_an_ephemeral_refusal_naming_who_may_or_nothing(matrix):
    _, outcomes = matrix
    wrong = [(o.role, o.case, o.answers) for o in outcomes if not o.expected_allowed and not (
        _refused_rightly(o)
        and all(a.get("response_type") == "ephemeral" for a in o.answers if "url" in a))]
    assert not wrong, _show(wrong)


def test_a_refusal_names_only_roles_that_may(matrix):
    playbook, outcomes = matrix
    codes = {r.code for r in playbook.roles}
    may = {case.name: case.may(playbook) for case in CASES}
    wrong = sorted({(o.case, role) for o in outcomes if o.refusal
                    and (named := WHO_MAY.search(o.refusal))
                    for role in named["who"].split(", ")
                    if role in codes and role not in may[o.case]})
    assert not wrong, _show(wrong)


def test_refused_requests_change_nothing(matrix):
    _, outcomes = matrix
    wrong = [(o.role, o.case) for o in outcomes
             if not o.expected_allowed and (o.changed or o.took_effect)]
    assert not wrong, _show(wrong)


def test_every_refusal_is_audited(matrix):
    _, outcomes = matrix
    wrong = [(o.role, o.case, o.refusal) for o in outcomes
             if not o.expected_allowed and o.audited != 1]
    assert not wrong, _show(wrong)


def test_the_matrix_has_both_outcomes_for_every_case(matrix):
    _, outcomes = matrix
    for case in CASES:
        assert {o.expected_allowed for o in outcomes if o.case == case.name} == {True, False}, \
            case.name

"""What commanders watching an exercise must never see: simulated people contradicting each
other or the bot. Properties held over whole seeded runs of the small test playbook."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta

import pytest

from incident_bot.domain.ringround import CallList
from incident_bot.entrypoints.exercise import Behaviour
from tests.entrypoints.exercise_support import SMALL_DIRECTORY, SMALL_PLAYBOOK, Ran, run_small

SEEDS = range(2, 6)  # 2 and 5 once called contacts twice; 4 named the wrong list
BEHAVIOURS = {
    "as usual": None,
    # Callers accept 9-14 minutes in: lists move to the backup at 10 and are often taken back.
    "late callers": Behaviour(accept=(9, 14), caller_absent=0.0, backup_absent=0.0),
}
# The engagement lead is a caller too: the caller of one list and the backup of the others.
CALLER_AND_BACKUP = SMALL_DIRECTORY.replace("engagement_lead,", "engagement_lead;caller,")
ACCEPTS = re.compile(r"(?P<who>.+) accepts call list (?P<list>\S+) \(")
REFUSED_ACCEPT = re.compile(r"REFUSED: .+ accepts call list (?P<list>\S+) \(.*?\): (?P<why>.+)")
CALLS = re.compile(r"(?P<who>.+) calls (?P<contact>.+): ")


# The small playbook with a task that its strategic step does, escalated when overdue.
STEP_TASK = """\
  - id: brief-chief-exec
    title: Brief the chief executive
    owner: council_chief_exec
    due: E0+5m
    done_by_step: strategic
    escalation:
      - {after: 10m, to: police_silver}
"""


@pytest.fixture(scope="module", params=list(BEHAVIOURS))
def runs(request, tmp_path_factory) -> list[Ran]:
    folder = tmp_path_factory.mktemp("consistency")
    playbooks = folder / "playbooks"
    playbooks.mkdir()
    (playbooks / SMALL_PLAYBOOK.name).write_text(
        SMALL_PLAYBOOK.read_text(encoding="utf-8").replace("tasks:\n", "tasks:\n" + STEP_TASK),
        encoding="utf-8")
    return [run_small(folder / str(seed), seed=seed, directory=CALLER_AND_BACKUP,
                      behaviour=BEHAVIOURS[request.param], playbooks=playbooks)
            for seed in SEEDS]


def lists_of(ran: Ran) -> dict[str, CallList]:
    with ran.records() as (incident, _, _):
        return {lst.id: lst for r in incident.ringround.tiers.values() for lst in r.lists}


def names_of(ran: Ran) -> dict[str, str]:
    with ran.records() as (incident, _, _):
        return {key: incident.name(key) for key in incident.people}


def said(ran: Ran, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    return [m for line in ran.result.transcript.lines if (m := pattern.match(line.text))]


def test_a_refused_acceptance_names_the_list_being_accepted(runs):
    wrong = [m.string for ran in runs for m in said(ran, REFUSED_ACCEPT)
             if f"call list {m['list']}" not in m["why"]]
    assert wrong == []


def test_each_list_is_accepted_once_and_by_the_person_who_holds_it(runs):
    wrong = []
    for ran in runs:
        lists, names = lists_of(ran), names_of(ran)
        accepted = [(m["list"], m["who"]) for m in said(ran, ACCEPTS)
                    if not m["who"].startswith("REFUSED")]
        for list_id, who in accepted:
            holder = lists[list_id].holder
            if who != names[holder] or accepted.count((list_id, who)) > 1:
                wrong.append((ran.result.incident_id, list_id, who, names[holder]))
    assert wrong == []


def test_no_contact_is_called_by_two_callers(runs):
    twice = []
    for ran in runs:
        callers = defaultdict(set)
        for m in said(ran, CALLS):
            callers[m["contact"]].add(m["who"])
        twice += [(contact, sorted(who)) for contact, who in callers.items() if len(who) > 1]
    assert twice == []


def test_no_task_is_already_overdue_when_the_incident_starts(runs):
    early = []
    for ran in runs:
        start = ran.result.started_at
        with ran.records() as (incident, outbox, _):
            early += [t.id for t in incident.tasks.tasks.values() if t.due and t.due < start]
            early += [row.notify.purpose for row in outbox
                      if row.notify.purpose in ("task.overdue", "task.escalated")
                      and row.created_at < start + timedelta(minutes=5)]
    assert early == []


def test_no_task_is_chased_after_the_briefing_step_that_does_it_is_complete(runs):
    chased = []
    for ran in runs:
        with ran.records() as (incident, outbox, _):
            done_at = incident.briefing.get("strategic").completed_at
            chased += [(row.notify.purpose, row.created_at) for row in outbox
                       if row.notify.data.get("task") == "brief-chief-exec"
                       and row.notify.purpose in ("task.reminder", "task.overdue",
                                                  "task.escalated", "task.not_acknowledged")
                       and done_at is not None and row.created_at >= done_at]
        assert incident.tasks.get("brief-chief-exec").state.value == "done"
    assert chased == []

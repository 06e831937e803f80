"""The manual ring-round: what the same people do with printed lists and phones, no bot.

A pure discrete-event simulation (no database, no service): the same playbook, people
(``people.py``), seed and behaviour as the bot's exercise, and the same call lists, dealt as the
bot deals them (the tier's callers sorted, contacts round-robin, at most ``fan_out`` each, a
backup from the backup role). No SMS, no voice, no senior officer, no timers.

- A **coordinator** phones the tier's callers one after another when the tier opens (one call
  each) to start them. An absent caller's list goes to its backup with the coordinator's next
  call; if the backup is absent too (or there is none) the coordinator calls that list
  themselves once the phone calls waiting for them are done.
- **Callers** work their list with the retry policy of ``calling.py``; each attempt's outcome
  and length are the contact's own. At the end of each pass a caller phones their results to the
  coordinator (one call each, one at a time at the coordinator; the caller carries on and the
  coordinator calls back when free).
- **Tier order**: tier 1 opens at the round's start. The next ring-round step of the briefing
  order opens when the coordinator's tally shows the previous step's ``complete_at_coverage``
  (counted as the playbook counts it: among the contacts not ruled out),
  or when its gate's timeout passes, measured from the previous tier's opening as the difference
  of the two gates' timeouts (the CT playbook: tier 2 at most 45 minutes after tier 1).
- The **media statement** is released ``Behaviour.release`` after the media-hold step's gate
  opens: when the tally shows the steps it waits for at their coverage, or at its timeout
  measured the same way.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from incident_bot.domain.directory import Person
from incident_bot.domain.ladder import can_use, effective_ladder
from incident_bot.domain.playbook import BriefingStep, Channel, Playbook, RungKind, Tier
from incident_bot.domain.ringround import deal
from incident_bot.entrypoints.exercise.acting import Behaviour, Minutes
from incident_bot.entrypoints.exercise.calling import CallSheet
from incident_bot.entrypoints.exercise.people import People, people_for
from incident_bot.entrypoints.exercise.reach import ContactReach, RoundReach

COORDINATOR = "coordinator"
FINAL_FATES = frozenset({"reached", "declined", "unsafe_to_call", "wrong_number"})
RULED_OUT = FINAL_FATES - {"reached"}


@dataclass(frozen=True)
class PrintedList:
    id: str
    tier: int
    caller: str
    backup: str | None
    contacts: tuple[str, ...]


@dataclass(frozen=True)
class CallMade:
    """One call attempt to a contact."""

    contact: str
    tier: int
    by: str
    at: datetime  # when the call started
    attempt: int  # 0-based
    outcome: str


@dataclass(frozen=True)
class ManualResult:
    reach: RoundReach
    lines: tuple[tuple[datetime, str], ...]  # what happened, in time order
    calls: tuple[CallMade, ...]
    tier_opened: dict[int, datetime]
    lists: tuple[PrintedList, ...]


def deal_lists(playbook: Playbook, directory: Sequence[Person], tier: Tier) -> list[PrintedList]:
    """The tier's call lists, dealt as the bot deals them (``ringround.deal``)."""
    if not any(r.kind is RungKind.CALLER for r in effective_ladder(tier)):
        return []
    people = {p.key: p for p in directory}
    keys = sorted(p.key for p in directory if p.tier == tier.number)
    phoneable = [k for k in keys if can_use(people[k], Channel.PHONE)]
    dealt = deal(tier, _holders(directory, tier.caller_role),
                 _holders(directory, tier.backup_role), phoneable)
    return [PrintedList(d.id, tier.number, d.caller, d.backup, d.contacts) for d in dealt]


def _holders(directory: Sequence[Person], role: str | None) -> list[str]:
    return sorted(p.key for p in directory if role and role in p.roles)


def ring_round_steps(playbook: Playbook) -> list[BriefingStep]:
    """The ring-round steps of the briefing order from tier 1 on, each waiting for the one
    before: for the CT playbook tier-1, tier-2, tier-3."""
    ring = [s for s in playbook.briefing if s.complete_at_coverage is not None
            and s.audience.tiers and min(s.audience.tiers) >= 1]
    chain = ring[:1]
    while chain:
        following = next((s for s in ring if chain[-1].id in s.gate.after and s not in chain),
                         None)
        if following is None:
            break
        chain.append(following)
    return chain


# ---- the simulation -------------------------------------------------------------------------


@dataclass
class Worker:
    """A caller (or the coordinator) and the contacts they have to call."""

    key: str
    sheet: CallSheet = field(default_factory=CallSheet)
    on_call: bool = False
    token: int = 0  # invalidates a scheduled wake-up when something new comes
    pass_: int = 0  # the pass of their last call
    unreported: bool = False  # calls made since their last report


@dataclass(frozen=True)
class Job:
    """A phone call waiting for the coordinator."""

    kind: str  # "start" or "report"
    worker: str
    printed: PrintedList | None = None
    as_backup: bool = False
    reached: tuple[str, ...] = ()
    ruled_out: tuple[str, ...] = ()  # wrong number, declined, unsafe to call


class ManualRound:
    def __init__(self, playbook: Playbook, directory: Sequence[Person], people: People,
                 started_at: datetime, e0: datetime | None = None) -> None:
        self.playbook, self.people, self.started_at = playbook, people, started_at
        self.e0 = e0 or started_at
        self.behaviour = people.behaviour
        self.steps = ring_round_steps(playbook)
        self.tiers = [t for s in self.steps for t in s.audience.tiers]
        self.names = {p.key: p.name for p in directory}
        self.lists = {t: deal_lists(playbook, directory, playbook.tier(t)) for t in self.tiers}
        self.contacts = {p.key: p for p in directory if p.tier in self.tiers}
        self.state: dict[str, str] = dict.fromkeys(self.contacts, "not_called")
        self.reached_at: dict[str, datetime] = {}
        self.tally: set[str] = set()  # reached, as far as the coordinator knows
        self.ruled_out: set[str] = set()  # settled otherwise, as far as the coordinator knows
        self.workers: dict[str, Worker] = {}
        self.jobs: deque[Job] = deque()
        self.coordinator = self._worker(COORDINATOR)
        self.coordinator_busy = False
        self.tier_opened: dict[int, datetime] = {}
        self.step_done: dict[str, datetime] = {}
        self.media_open: datetime | None = None
        self.media_released: datetime | None = None
        self.calls: list[CallMade] = []
        self.lines: list[tuple[datetime, str]] = []
        self.now = started_at
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._rng = random.Random(f"{people.seed}:coordinator")  # noqa: S311 - a simulation

    # ---- the clock --------------------------------------------------------------------------

    def at(self, when: datetime, act: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), act))

    def run(self) -> ManualResult:
        if self.steps:
            self._open_step(0)
            self._media_timeout()
        while self._heap:
            self.now, _, act = heapq.heappop(self._heap)
            act()
        return self._result()

    def note(self, text: str) -> None:
        self.lines.append((self.now, text))

    def name(self, key: str) -> str:
        return "the coordinator" if key == COORDINATOR else self.names.get(key, key)

    # ---- tiers and gates --------------------------------------------------------------------

    def _open_step(self, index: int) -> None:
        step = self.steps[index]
        if any(t in self.tier_opened for t in step.audience.tiers):
            return
        for tier in step.audience.tiers:
            self.tier_opened[tier] = self.now
            lists = self.lists[tier]
            self.note(f"tier {tier} opens: {len(lists)} printed lists")
            self.jobs.extend(Job("start", lst.caller, lst) for lst in lists)
        if index + 1 < len(self.steps):
            wait = _timeout_gap(step, self.steps[index + 1], self.started_at, self.e0)
            if wait is not None:
                self.at(self.now + wait, lambda: self._open_step(index + 1))
        self._coordinator_next()

    def _media_timeout(self) -> None:
        step = next((s for s in self.playbook.briefing if s.media_hold), None)
        if step is None:
            return
        wait = _timeout_gap(self.steps[0], step, self.started_at, self.e0)
        if wait is not None:
            self.at(self.now + wait, self._open_media)

    def _tally_changed(self) -> None:
        for index, step in enumerate(self.steps):
            if step.id in self.step_done or not self._at_coverage(step):
                continue
            self.step_done[step.id] = self.now
            self.note(f"tally: step {step.id} at its coverage")
            if index + 1 < len(self.steps):
                self._open_step(index + 1)
        media = next((s for s in self.playbook.briefing if s.media_hold), None)
        ring = {s.id for s in self.steps}
        waits_for = [a for a in media.gate.after if a in ring] if media else []
        if waits_for and all(a in self.step_done for a in waits_for):
            self._open_media()

    def _at_coverage(self, step: BriefingStep) -> bool:
        """The playbook's rule (``model.coverage``): reached among the contacts not
        ruled out."""
        keys = [k for k, p in self.contacts.items() if p.tier in step.audience.tiers
                and k not in self.ruled_out]
        reached = sum(1 for k in keys if k in self.tally)
        return (reached / len(keys) if keys else 1.0) >= (step.complete_at_coverage or 0)

    def _open_media(self) -> None:
        if self.media_open is not None:
            return
        self.media_open = self.now
        self.media_released = self.now + _minutes(self._rng, self.behaviour.release)
        self.note("the media hold's gate opens; the statement is released "
                  f"{_clock(self.media_released - self.now)} later")

    # ---- the coordinator --------------------------------------------------------------------

    def _coordinator_next(self) -> None:
        if self.coordinator_busy or self.coordinator.on_call:
            return
        if self.jobs:
            job = self.jobs.popleft()
            self.coordinator_busy = True
            self.coordinator.token += 1  # a retry it was waiting for waits for this call
            self.at(self.now + _minutes(self._rng, self.behaviour.call),
                    lambda: self._job_done(job))
            return
        self._worker_next(self.coordinator)

    def _job_done(self, job: Job) -> None:
        self.coordinator_busy = False
        if job.kind == "report":
            self.tally.update(job.reached)
            self.ruled_out.update(job.ruled_out)
            self.note(f"{self.name(job.worker)} phones in results: {len(job.reached)} of "
                      f"their contacts reached so far")
            self._tally_changed()
        else:
            assert job.printed is not None
            self._start(job)
        self._coordinator_next()

    def _start(self, job: Job) -> None:
        printed, who = job.printed, job.worker
        assert printed is not None
        disposition = self.people.caller(who)
        if not (disposition.backup_absent if job.as_backup else disposition.absent):
            self.note(f"the coordinator phones {self.name(who)}: list {printed.id} "
                      f"({_contacts(len(printed.contacts))})")
            self._give(self._worker(who), printed)
        elif not job.as_backup and printed.backup:
            self.note(f"the coordinator cannot get {self.name(who)}: list {printed.id} goes to "
                      f"{self.name(printed.backup)}")
            self.jobs.appendleft(Job("start", printed.backup, printed, as_backup=True))
        else:
            self.note(f"the coordinator cannot get {self.name(who)}: calls list {printed.id} "
                      "themselves")
            self._give(self.coordinator, printed)

    def _give(self, worker: Worker, printed: PrintedList) -> None:
        worker.sheet.add(printed.contacts)
        worker.token += 1
        if worker is not self.coordinator:
            self._worker_next(worker)

    # ---- callers ----------------------------------------------------------------------------

    def _worker(self, key: str) -> Worker:
        if key not in self.workers:
            self.workers[key] = Worker(key)
        return self.workers[key]

    def _pending(self, key: str) -> bool:
        return self.state[key] not in FINAL_FATES

    def _worker_next(self, worker: Worker) -> None:
        if worker.on_call:
            return
        call = worker.sheet.next_call(self.now, self._pending)
        if worker.unreported and (call is None or call.attempt > worker.pass_):
            self._report(worker)
        if call is None:
            return
        if call.at > self.now:
            token = worker.token

            def wake() -> None:
                if worker.token == token:
                    self._wake(worker)
            self.at(call.at, wake)
            return
        self._dial(worker, call.contact, call.attempt)

    def _wake(self, worker: Worker) -> None:
        if worker is self.coordinator:
            self._coordinator_next()
        else:
            self._worker_next(worker)

    def _dial(self, worker: Worker, contact: str, attempt: int) -> None:
        person = self.people.contact(contact)
        outcome = person.outcome(attempt)
        worker.sheet.record(contact, self.now, outcome)
        worker.on_call, worker.pass_, worker.unreported = True, attempt, True
        tier = self.contacts[contact].tier or 0
        self.calls.append(CallMade(contact, tier, worker.key, self.now, attempt, outcome))
        self.at(self.now + person.call_length(attempt),
                lambda: self._hang_up(worker, contact, outcome))

    def _hang_up(self, worker: Worker, contact: str, outcome: str) -> None:
        worker.on_call = False
        worker.token += 1
        self.state[contact] = outcome
        if outcome == "reached":
            self.reached_at[contact] = self.now
        if worker is self.coordinator:
            if outcome == "reached" or outcome in RULED_OUT:
                (self.tally if outcome == "reached" else self.ruled_out).add(contact)
                self._tally_changed()
            worker.unreported = False
            self._coordinator_next()
        else:
            self._worker_next(worker)

    def _report(self, worker: Worker) -> None:
        worker.unreported = False
        if worker is self.coordinator:
            return
        reached = tuple(k for k in worker.sheet.contacts if self.state[k] == "reached")
        ruled_out = tuple(k for k in worker.sheet.contacts if self.state[k] in RULED_OUT)
        self.jobs.append(Job("report", worker.key, reached=reached, ruled_out=ruled_out))
        self._coordinator_next()

    # ---- the result -------------------------------------------------------------------------

    def _result(self) -> ManualResult:
        contacts = tuple(
            ContactReach(key, person.tier or 0, self.people.contact(key).reachable,
                         self.reached_at.get(key), self.state[key],
                         self.people.contact(key).floor(can_use(person, Channel.PHONE),
                                                        can_use(person, Channel.SMS),
                                                        can_use(person, Channel.VOICE)))
            for key, person in sorted(self.contacts.items()))
        reach = RoundReach("manual", self.started_at, contacts, self.media_released)
        return ManualResult(reach, tuple(self.lines), tuple(self.calls), dict(self.tier_opened),
                            tuple(lst for t in self.tiers for lst in self.lists[t]))


def _timeout_gap(before: BriefingStep, after: BriefingStep, t0: datetime,
                 e0: datetime) -> timedelta | None:
    """How long after ``before`` opens ``after``'s gate times out: the difference of the two
    gates' timeouts (None: one of them has none)."""
    first, second = before.gate.timeout, after.gate.timeout
    if first is None or second is None:
        return None
    return max(timedelta(0), second.resolve(t0, e0) - first.resolve(t0, e0))


def _minutes(rng: random.Random, bounds: Minutes) -> timedelta:
    low, high = bounds
    return timedelta(seconds=round(rng.uniform(low, high) * 60))


def _contacts(count: int) -> str:
    return f"{count} contact" + ("" if count == 1 else "s")


def _clock(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    return f"{minutes} min"


def manual_round(playbook: Playbook, directory: Sequence[Person], seed: int,
                 started_at: datetime, behaviour: Behaviour | None = None,
                 e0: datetime | None = None) -> ManualResult:
    """Run the manual ring-round of ``playbook`` for ``seed``, tier 1 opening at
    ``started_at``."""
    people = people_for(playbook, directory, seed, behaviour)
    return ManualRound(playbook, directory, people, started_at, e0).run()

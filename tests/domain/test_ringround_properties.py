"""Properties of the whole ring-round under random events (Hypothesis).

Whatever callers record, contacts reply, providers report and timers do (in any order, each
possibly replayed), firing every remaining timer in due order leaves every contact in a terminal
state; no delivery key is ever produced twice; and a replayed event produces nothing new.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ringround_support import MIN, START, World, contact, context, tier

from incident_bot.domain.codes import confirmation_code
from incident_bot.domain.effects import Effect, Notify
from incident_bot.domain.ladder import ContactState, RoundContext
from incident_bot.domain.playbook import Channel, Rung, RungKind
from incident_bot.domain.ringround import (
    RingRound,
    accept_list,
    delivery_report,
    record_outcome,
    sms_received,
    voice_digit,
)
from incident_bot.errors import NotFoundError, RefusedError

LADDERS = [
    (Rung(RungKind.CALLER, 15 * MIN), Rung(RungKind.SENIOR, 15 * MIN),
     Rung(RungKind.SMS, 15 * MIN), Rung(RungKind.VOICE, 15 * MIN), Rung(RungKind.FLAG)),
    (Rung(RungKind.SMS, 30 * MIN), Rung(RungKind.CALLER, 30 * MIN), Rung(RungKind.FLAG)),
    (Rung(RungKind.CALLER, 20 * MIN), Rung(RungKind.SMS, 20 * MIN)),  # no flag written
    (),
]
OUTCOMES = ["reached", "voicemail", "no_answer", "wrong_number", "declined", "unsafe_to_call"]
REPLIES = ["<code>", "<other-code>", "STOP", "start", "what is going on?", "yes", "ok 07700900123"]

people = st.lists(
    st.tuples(st.sets(st.sampled_from([Channel.PHONE, Channel.SMS, Channel.VOICE])),
              st.booleans(), st.sampled_from(["en", "ur", "pl"])),
    min_size=1, max_size=6,
)
events = st.lists(st.one_of(
    st.tuples(st.just("accept"), st.sampled_from(["alice", "bob", "bea"])),
    st.tuples(st.just("outcome"), st.integers(0, 5), st.sampled_from(OUTCOMES)),
    st.tuples(st.just("sms"), st.integers(0, 5), st.sampled_from(REPLIES)),
    st.tuples(st.just("digit"), st.integers(0, 5), st.sampled_from(["1", "2"])),
    st.tuples(st.just("fail"), st.integers(0, 5), st.sampled_from(["failed", "undelivered"])),
    st.tuples(st.just("tick")),
    st.tuples(st.just("wait"), st.integers(1, 30)),
), max_size=40)
roles = st.fixed_dictionaries({
    "caller": st.sampled_from([[], ["alice"], ["alice", "bob"]]),
    "backup_caller": st.sampled_from([[], ["bea"]]),
    "police_silver": st.sampled_from([[], ["sam"]]),
    "engagement_lead": st.sampled_from([[], ["cora"]]),
})


class Run:
    """Drives a world and keeps every effect, checking each replay as it goes."""

    def __init__(self, ctx: RoundContext) -> None:
        self.world = World(ctx)
        self.now: datetime = START
        self.effects: list[Effect] = list(self.world.start(now=START))

    def apply(self, event: tuple[object, ...]) -> None:
        if event[0] == "wait":
            self.now += timedelta(minutes=int(str(event[1])))
            return
        if event[0] == "tick":
            self._tick()
            return
        command = self._command(event)  # arguments fixed now, so the replay is identical
        self.effects += self._run(command, event)
        assert self._run(command, event) == [], f"replaying {event} produced effects"

    def _tick(self) -> bool:
        due = self.world.pending_timers()
        if not due:
            return False
        timer = due[0]
        self.now = max(self.now, timer.due_at)
        self.effects += self.world.fire(timer, self.now)
        assert self.world.fire(timer, self.now) == [], f"timer {timer.key} fired twice"
        return True

    def _run(self, command: Callable[[], list[Effect]], event: tuple[object, ...]) -> list[Effect]:
        before = self.world.state.to_dict()
        try:
            return self.world.record(command())
        except (RefusedError, NotFoundError):
            assert self.world.state.to_dict() == before, f"refused {event} changed the state"
            return []

    def _command(self, event: tuple[object, ...]) -> Callable[[], list[Effect]]:
        w, now, kind, arg = self.world, self.now, event[0], str(event[-1])
        keys = list(w.state.tiers[1].contacts)
        key = keys[int(str(event[1])) % len(keys)] if kind != "accept" else ""
        if kind == "accept":
            return partial(accept_list, w.state, w.ctx, arg, arg, now)
        if kind == "outcome":
            return partial(record_outcome, w.state, w.ctx, key, arg, self._recorder(key), now)
        if kind == "sms":
            return partial(sms_received, w.state, w.ctx, key, self._reply(arg), now)
        if kind == "digit":
            return partial(voice_digit, w.state, w.ctx, key, arg, now)
        send_key = w.state.tiers[1].contacts[key].send_key or "none"
        return partial(delivery_report, w.state, w.ctx, send_key, arg, now)

    def _recorder(self, key: str) -> str:
        round_ = self.world.state.tiers[1]
        lst = round_.call_list(round_.contacts[key].list_id)
        return lst.holder if lst else "cora"

    def _reply(self, reply: str) -> str:
        code = self.world.state.tiers[1].code
        return {"<code>": f"ok {code.lower()}", "<other-code>": confirmation_code("inc-x", 1)
                }.get(reply, reply)

    def settle(self) -> None:
        for _ in range(10_000):
            if not self._tick():
                return
        raise AssertionError("timers never ran out")


def _context(spec: list[tuple[set[Channel], bool, str]], ladder: tuple[Rung, ...],
             holders: dict[str, list[str]]) -> RoundContext:
    contacts = [contact(f"c{n}", language=lang, channels=sorted(channels),
                        phone="+447700900111" if has_phone else None)
                for n, (channels, has_phone, lang) in enumerate(spec)]
    return context(contacts=contacts, tiers=[tier(ladder=ladder)], holders=holders)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=people, ladder=st.sampled_from(LADDERS), holders=roles, script=events)
def test_every_contact_ends_terminal_and_no_delivery_key_repeats(spec, ladder, holders, script):
    run = Run(_context(spec, ladder, holders))
    for event in script:
        run.apply(event)
    run.settle()
    states = {c.key: c.state for c in run.world.state.tiers[1].contacts.values()}
    assert ContactState.PENDING not in states.values(), states
    keys = Counter(e.key for e in run.effects if isinstance(e, Notify))
    assert [k for k, n in keys.items() if n > 1] == []


@settings(max_examples=100, deadline=None)
@given(spec=people, ladder=st.sampled_from(LADDERS), holders=roles, script=events)
def test_the_state_round_trips_exactly_at_any_point(spec, ladder, holders, script):
    run = Run(_context(spec, ladder, holders))
    for event in script:
        run.apply(event)
        assert RingRound.from_dict(run.world.state.to_dict()) == run.world.state

"""Builders shared by the ring-round tests (this module holds no tests).

A small world: tier 1 with four contacts (c1..c4), two callers (alice, bob), a backup caller
(bea), a coordinator (cora), a senior officer (sam) and a tactical lead (tom).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from incident_bot.domain.directory import Person
from incident_bot.domain.durations import parse_relative_time
from incident_bot.domain.effects import Effect, Notify, OutboxChannel, ScheduleTimer
from incident_bot.domain.ladder import RoundContext
from incident_bot.domain.playbook import Channel, Classification, Playbook, Rung, RungKind, Tier
from incident_bot.domain.ringround import RingRound, on_timer, start_tier

T0 = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
E0 = T0 + timedelta(hours=1)
START = E0 + timedelta(minutes=5)  # when the tier starts
MIN = timedelta(minutes=1)
ALL_PHONE = (Channel.PHONE, Channel.SMS, Channel.VOICE)
INCIDENT_ID = "inc-1a2b3c4d"

LADDER = (
    Rung(RungKind.CALLER, 15 * MIN),
    Rung(RungKind.SENIOR, 15 * MIN),
    Rung(RungKind.SMS, 15 * MIN),
    Rung(RungKind.VOICE, 15 * MIN),
    Rung(RungKind.FLAG),
)
TEXTS: dict[tuple[str, str], tuple[str, str]] = {
    ("ring-round-sms", "en"): ("ring-round-sms@v2/en",
                               "Hello {contact_name}, {caller_name} here. Reply {confirm_code}."),
    ("ring-round-sms", "ur"): ("ring-round-sms@v2/ur", "سلام {contact_name} {confirm_code}"),
}


def contact(key: str, tier: int = 1, language: str = "en",
            channels: Sequence[Channel] = ALL_PHONE, phone: str | None = "+447700900123") -> Person:
    return Person(key=key, name=key.upper(), tier=tier, phone=phone, language=language,
                  channels=tuple(channels))


def staff(key: str, *roles: str) -> Person:
    return Person(key=key, name=key.title(), roles=roles, slack_user_id=f"U{key.upper()}")


def tier(number: int = 1, **changes: object) -> Tier:
    base = Tier(
        number=number, title=f"Tier {number}", fan_out=2, caller_role="caller",
        backup_role="backup_caller", senior_role="police_silver",
        accept_within=10 * MIN, script="ring-round-script", sms_message="ring-round-sms",
        ladder=LADDER, coverage_target=0.9, deadline=parse_relative_time("E0+1h"),
        amber_after=45 * MIN, red_after=90 * MIN,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def playbook(*tiers: Tier) -> Playbook:
    return Playbook(
        id="test", title="Test", description="", classification=Classification.OFFICIAL,
        started_by=("bcu_commander",), coordinator="engagement_lead", roles=(),
        tiers=tiers or (tier(),), briefing=(), messages=(), tasks=(),
    )


STAFF = [staff("alice", "caller"), staff("bob", "caller"), staff("bea", "backup_caller"),
         staff("cora", "engagement_lead"), staff("sam", "police_silver"), staff("tom")]
HOLDERS: dict[str, list[str]] = {
    "caller": ["bob", "alice"], "backup_caller": ["bea"], "engagement_lead": ["cora"],
    "police_silver": ["sam"],
}


def context(contacts: Iterable[Person] = (), tiers: Sequence[Tier] = (),
            holders: Mapping[str, Sequence[str]] | None = None,
            texts: Mapping[tuple[str, str], tuple[str, str]] | None = None,
            incident_id: str = INCIDENT_ID) -> RoundContext:
    people = list(contacts) or [contact(f"c{n}") for n in range(1, 5)]
    known = dict(TEXTS if texts is None else texts)
    return RoundContext(
        incident_id=incident_id, playbook=playbook(*tiers),
        people={p.key: p for p in [*STAFF, *people]},
        holders=HOLDERS if holders is None else holders,
        text_for=lambda message, language: known.get((message, language)),
        t0=T0, e0=E0, tactical_leads=("tom",),
    )


@dataclass
class World:
    """A ring-round under test, with the timers it asked for (scheduling a key twice is a no-op,
    as in the service)."""

    ctx: RoundContext
    state: RingRound = field(default_factory=RingRound)
    timers: dict[str, ScheduleTimer] = field(default_factory=dict)
    fired: set[str] = field(default_factory=set)

    def start(self, tier_number: int = 1, now: datetime = START) -> list[Effect]:
        return self.record(start_tier(self.state, self.ctx, tier_number, now))

    def record(self, effects: list[Effect]) -> list[Effect]:
        for effect in effects:
            if isinstance(effect, ScheduleTimer):
                self.timers.setdefault(effect.key, effect)
        return effects

    def pending_timers(self, kind: str | None = None) -> list[ScheduleTimer]:
        due = [t for k, t in self.timers.items() if k not in self.fired]
        return sorted((t for t in due if kind is None or t.kind == kind),
                      key=lambda t: (t.due_at, t.key))

    def fire(self, timer: ScheduleTimer, now: datetime | None = None) -> list[Effect]:
        self.fired.add(timer.key)
        return self.record(on_timer(self.state, self.ctx, timer.kind, timer.payload,
                                    now or timer.due_at))

    def fire_next(self, kind: str | None = None) -> list[Effect]:
        return self.fire(self.pending_timers(kind)[0])

    def contact(self, key: str) -> object:
        return self.state.find(key)[1]


def world(**kwargs: object) -> World:
    return World(context(**kwargs))  # type: ignore[arg-type]


def notifies(effects: Iterable[Effect], purpose: str | None = None) -> list[Notify]:
    return [e for e in effects if isinstance(e, Notify) and purpose in (None, e.purpose)]


def timers(effects: Iterable[Effect], kind: str | None = None) -> list[ScheduleTimer]:
    return [e for e in effects if isinstance(e, ScheduleTimer) and kind in (None, e.kind)]


def sent(effects: Iterable[Effect], channel: OutboxChannel) -> list[Notify]:
    return [n for n in notifies(effects) if n.channel is channel]

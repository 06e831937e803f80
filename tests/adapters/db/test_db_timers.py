"""Timers (scheduled_action): idempotent on their key, leased when due, claimed again when a
worker's lease runs out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incident_bot.domain.effects import ScheduleTimer
from tests.domain.builders import stored_incident

NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
LEASE = 60


def _timer(key: str, due: datetime = NOW) -> ScheduleTimer:
    return ScheduleTimer(key=key, due_at=due, kind="ringround.rung", payload={"rung": 2, "c": "x"})


def _schedule(uow_factory, *timers: ScheduleTimer) -> list[bool]:
    with uow_factory() as uow:
        inserted = [uow.timers.schedule("inc-1", t) for t in timers]
        uow.commit()
    return inserted


def _claim(uow_factory, at: datetime, worker: str = "w", limit: int = 10):
    with uow_factory() as uow:
        claimed = uow.timers.claim_due(at, limit, LEASE, worker)
        uow.commit()
    return claimed


def test_scheduling_a_key_twice_keeps_the_first_timer(any_uow_factory):
    inserted = _schedule(any_uow_factory, _timer("k"), _timer("k", NOW + timedelta(hours=1)))
    with any_uow_factory() as uow:
        pending = uow.timers.pending()
    assert (inserted, [t.due_at for t in pending]) == ([True, False], [NOW])


def test_a_duplicate_does_not_spoil_the_transaction(any_uow_factory):
    with any_uow_factory() as uow:
        uow.timers.schedule("inc-1", _timer("k"))
        uow.timers.schedule("inc-1", _timer("k"))
        uow.incidents.add(stored_incident("inc-1"), NOW)
        uow.commit()
    with any_uow_factory() as uow:
        assert [r.id for r in uow.incidents.all()] == ["inc-1"]


def test_a_claimed_timer_carries_its_payload_and_attempt(any_uow_factory):
    _schedule(any_uow_factory, _timer("k"))
    (timer,) = _claim(any_uow_factory, NOW)
    assert (timer.key, timer.incident_id, timer.kind, timer.payload, timer.attempts) == (
        "k", "inc-1", "ringround.rung", {"rung": 2, "c": "x"}, 1)


def test_a_timer_not_yet_due_is_not_claimed(any_uow_factory):
    _schedule(any_uow_factory, _timer("k", NOW + timedelta(seconds=1)))
    assert _claim(any_uow_factory, NOW) == []


def test_due_timers_are_claimed_earliest_first_up_to_the_limit(any_uow_factory):
    _schedule(any_uow_factory, _timer("late", NOW), _timer("early", NOW - timedelta(minutes=5)),
              _timer("middle", NOW - timedelta(minutes=1)))
    assert [t.key for t in _claim(any_uow_factory, NOW, limit=2)] == ["early", "middle"]


def test_a_leased_timer_is_not_claimed_again_while_the_lease_lasts(any_uow_factory):
    _schedule(any_uow_factory, _timer("k"))
    _claim(any_uow_factory, NOW, "a")
    assert _claim(any_uow_factory, NOW + timedelta(seconds=LEASE - 1), "b") == []


def test_a_timer_whose_worker_died_is_claimed_again_when_the_lease_runs_out(any_uow_factory):
    _schedule(any_uow_factory, _timer("k"))
    _claim(any_uow_factory, NOW, "dead-worker")
    again = _claim(any_uow_factory, NOW + timedelta(seconds=LEASE), "b")
    assert [(t.key, t.attempts) for t in again] == [("k", 2)]


def test_a_fired_timer_is_never_claimed_again(any_uow_factory):
    _schedule(any_uow_factory, _timer("k"))
    (timer,) = _claim(any_uow_factory, NOW)
    with any_uow_factory() as uow:
        uow.timers.mark_fired(timer.id, NOW)
        uow.commit()
    assert _claim(any_uow_factory, NOW + timedelta(days=1)) == []


def test_a_fired_timer_is_no_longer_pending(any_uow_factory):
    _schedule(any_uow_factory, _timer("k"), _timer("other"))
    (timer, _) = _claim(any_uow_factory, NOW)
    with any_uow_factory() as uow:
        uow.timers.mark_fired(timer.id, NOW)
        uow.commit()
    with any_uow_factory() as uow:
        assert [t.key for t in uow.timers.pending("inc-1")] == ["other"]


def test_a_released_timer_waits_for_its_retry_time(any_uow_factory):
    _schedule(any_uow_factory, _timer("k"))
    (timer,) = _claim(any_uow_factory, NOW)
    with any_uow_factory() as uow:
        uow.timers.release(timer.id, "incident locked", NOW + timedelta(seconds=30))
        uow.commit()
    early = _claim(any_uow_factory, NOW + timedelta(seconds=29))
    late = _claim(any_uow_factory, NOW + timedelta(seconds=30))
    assert (early, [(t.key, t.attempts) for t in late]) == ([], [("k", 2)])


def test_pending_can_be_limited_to_one_incident(any_uow_factory):
    with any_uow_factory() as uow:
        uow.timers.schedule("inc-1", _timer("a"))
        uow.timers.schedule("inc-2", _timer("b"))
        uow.commit()
    with any_uow_factory() as uow:
        assert [t.key for t in uow.timers.pending("inc-2")] == ["b"]

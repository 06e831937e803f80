"""The timer poller on the real database: batches per incident, failures kept apart."""

from __future__ import annotations

from datetime import timedelta

from incident_bot.domain.effects import ScheduleTimer
from incident_bot.domain.ringround import RED_TIMER
from tests.fakes import T0
from tests.service.test_service_flow import start


def _schedule(drill, incident_id: str, count: int, kind: str = RED_TIMER) -> None:
    with drill.uow_factory() as uow:
        for n in range(count):
            uow.timers.schedule(incident_id, ScheduleTimer(
                f"bench:{incident_id}:{n}", T0 + timedelta(seconds=n), kind, {"tier": 9}))
        uow.commit()


def _version(drill, incident_id: str) -> int:
    with drill.uow_factory() as uow:
        return uow.incidents.get(incident_id).version


def test_timers_of_one_incident_fire_in_one_load_and_save(drill):
    incident_id = start(drill)
    _schedule(drill, incident_id, 40)
    before = _version(drill, incident_id)
    drill.clock.set(T0 + timedelta(minutes=1))
    assert drill.poller.fire_due(limit=500) >= 40
    assert _version(drill, incident_id) == before + 1


def test_a_batch_larger_than_the_limit_is_worked_through_in_several_polls(drill):
    incident_id = start(drill)
    _schedule(drill, incident_id, 30)
    drill.clock.set(T0 + timedelta(minutes=1))
    fired = [drill.poller.fire_due(limit=10) for _ in range(4)]
    assert fired[:3] == [10, 10, 10]
    with drill.uow_factory() as uow:
        assert [t for t in uow.timers.pending(incident_id) if t.key.startswith("bench:")] == []


def test_a_timer_whose_incident_is_missing_is_released_and_the_others_still_fire(drill):
    incident_id = start(drill)
    _schedule(drill, incident_id, 3)
    _schedule(drill, "inc-gone", 2)
    drill.clock.set(T0 + timedelta(minutes=1))
    drill.poller.fire_due()
    with drill.uow_factory() as uow:
        pending = {t.key for t in uow.timers.pending()}
    assert {"bench:inc-gone:0", "bench:inc-gone:1"} <= pending
    assert not {f"bench:{incident_id}:{n}" for n in range(3)} & pending

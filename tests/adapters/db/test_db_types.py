"""UtcDateTime: aware in, aware UTC out, on both backends; naive datetimes refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import StatementError

from incident_bot.adapters.db.types import NaiveDatetimeError
from incident_bot.domain.effects import ScheduleTimer

LONDON = ZoneInfo("Europe/London")


def _schedule(uow_factory, due: datetime) -> datetime:
    with uow_factory() as uow:
        uow.timers.schedule("inc-1", ScheduleTimer(key="k", due_at=due, kind="test.timer"))
        uow.commit()
    with uow_factory() as uow:
        (timer,) = uow.timers.pending()
    return timer.due_at


def test_a_time_in_another_zone_comes_back_as_the_same_instant(uow_factory):
    summer_morning = datetime(2026, 7, 1, 8, 30, tzinfo=LONDON)
    assert _schedule(uow_factory, summer_morning) == summer_morning


def test_times_come_back_in_utc(uow_factory):
    karachi = timezone(timedelta(hours=5))
    stored = _schedule(uow_factory, datetime(2026, 7, 1, 8, 30, tzinfo=karachi))
    assert (stored.tzinfo, stored.hour) == (UTC, 3)


def test_microseconds_survive_the_round_trip(uow_factory):
    precise = datetime(2026, 5, 1, 5, 0, 0, 123456, tzinfo=UTC)
    assert _schedule(uow_factory, precise).microsecond == 123456


def test_a_naive_datetime_is_refused(uow_factory):
    with pytest.raises(StatementError) as raised, uow_factory() as uow:
        uow.timers.schedule("inc-1", ScheduleTimer(
            key="k", due_at=datetime(2026, 5, 1, 5, 0), kind="test.timer"))
    assert isinstance(raised.value.orig, NaiveDatetimeError)


def test_a_naive_datetime_in_a_query_is_refused(uow_factory):
    with pytest.raises(StatementError, match="naive datetime"), uow_factory() as uow:
        uow.timers.claim_due(datetime(2026, 5, 1, 5, 0), 10, 60, "a")

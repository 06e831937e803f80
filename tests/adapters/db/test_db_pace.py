"""The shared send pace row: grants at the rate, across transactions and connections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)


def _take(uow_factory, wanted: int, now: datetime = NOW) -> int:
    with uow_factory() as uow:
        granted = uow.pace.take("sms", wanted, 10.0, 1.0, now)
        uow.commit()
    return granted


def test_a_quiet_channel_grants_one_bursts_worth(any_uow_factory):
    assert _take(any_uow_factory, 50) == 10


def test_what_was_granted_is_not_granted_again_in_the_same_second(any_uow_factory):
    _take(any_uow_factory, 50)
    assert _take(any_uow_factory, 50) == 0


def test_the_pace_refills_with_time(any_uow_factory):
    _take(any_uow_factory, 50)
    assert _take(any_uow_factory, 50, NOW + timedelta(milliseconds=300)) == 3


def test_sends_given_back_can_be_granted_again(any_uow_factory):
    _take(any_uow_factory, 10)
    with any_uow_factory() as uow:
        uow.pace.give_back("sms", 4, 10.0, NOW)
        uow.commit()
    assert _take(any_uow_factory, 10) == 4


def test_a_rolled_back_grant_is_not_spent(any_uow_factory):
    with any_uow_factory() as uow:
        uow.pace.take("sms", 10, 10.0, 1.0, NOW)  # no commit: rolled back
    assert _take(any_uow_factory, 10) == 10


def test_channels_are_paced_apart(any_uow_factory):
    _take(any_uow_factory, 10)
    with any_uow_factory() as uow:
        assert uow.pace.take("voice", 5, 1.0, 1.0, NOW) == 1

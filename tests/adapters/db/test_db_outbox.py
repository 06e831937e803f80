"""The outbox: one row per delivery key, claimed by priority, retried, reported on."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from incident_bot.domain.effects import FOLD, Notify, OutboxChannel

NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
LEASE = 60


def _notify(key: str, priority: int = 5, recipient: str = "p1") -> Notify:
    return Notify(key=key, channel=OutboxChannel.SMS, recipient=recipient, body="Please call",
                  purpose="ringround.sms", message_version="ring-round-sms@v3/ur",
                  language="ur", priority=priority, valid_for=timedelta(minutes=15),
                  reply_code="AC3D", data={"tier": 1, "contact": "p1"})


def _add(uow_factory, *items: tuple[Notify, datetime]) -> list[bool]:
    with uow_factory() as uow:
        added = [uow.outbox.add("inc-1", notify, at) for notify, at in items]
        uow.commit()
    return added


def _claim(uow_factory, at: datetime, limit: int = 10, worker: str = "w"):
    with uow_factory() as uow:
        claimed = uow.outbox.claim(at, limit, LEASE, worker)
        uow.commit()
    return claimed


def _items(uow_factory):
    with uow_factory() as uow:
        return uow.outbox.items()


def test_adding_a_key_twice_keeps_one_row(any_uow_factory):
    added = _add(any_uow_factory, (_notify("k"), NOW), (_notify("k", priority=1), NOW))
    assert (added, len(_items(any_uow_factory))) == ([True, False], 1)


def test_an_item_rebuilds_the_whole_notify(any_uow_factory):
    _add(any_uow_factory, (_notify("k"), NOW))
    (item,) = _items(any_uow_factory)
    assert (item.notify, item.status, item.created_at) == (_notify("k"), "pending", NOW)


def test_the_lowest_priority_number_is_claimed_first(any_uow_factory):
    _add(any_uow_factory, *[(_notify(f"tier3-{n}", priority=3), NOW) for n in range(3)],
         (_notify("tier1", priority=1), NOW + timedelta(seconds=1)))
    claimed = _claim(any_uow_factory, NOW + timedelta(seconds=1), limit=2)
    assert [i.key for i in claimed] == ["tier1", "tier3-0"]


def test_within_a_priority_the_longest_waiting_item_goes_first(any_uow_factory):
    _add(any_uow_factory, (_notify("newer"), NOW), (_notify("older"), NOW - timedelta(minutes=1)))
    assert [i.key for i in _claim(any_uow_factory, NOW)] == ["older", "newer"]


def test_an_item_being_sent_is_not_claimed_again_while_its_lease_lasts(any_uow_factory):
    _add(any_uow_factory, (_notify("k"), NOW))
    _claim(any_uow_factory, NOW, worker="a")
    assert _claim(any_uow_factory, NOW + timedelta(seconds=LEASE - 1), worker="b") == []


def test_an_item_whose_sender_died_is_claimed_again_when_the_lease_runs_out(any_uow_factory):
    _add(any_uow_factory, (_notify("k"), NOW))
    _claim(any_uow_factory, NOW, worker="dead")
    again = _claim(any_uow_factory, NOW + timedelta(seconds=LEASE), worker="b")
    assert [(i.key, i.status, i.attempts) for i in again] == [("k", "sending", 2)]


def test_a_retried_item_waits_for_its_next_attempt(any_uow_factory):
    _add(any_uow_factory, (_notify("k"), NOW))
    (item,) = _claim(any_uow_factory, NOW)
    with any_uow_factory() as uow:
        uow.outbox.mark_retry(item.id, "429 too many requests", NOW + timedelta(seconds=10))
        uow.commit()
    early = _claim(any_uow_factory, NOW + timedelta(seconds=9))
    late = _claim(any_uow_factory, NOW + timedelta(seconds=10))
    assert (early, [(i.key, i.attempts) for i in late]) == ([], [("k", 2)])


def test_a_sent_item_is_found_by_its_provider_id_and_never_claimed_again(any_uow_factory):
    _add(any_uow_factory, (_notify("k"), NOW))
    (item,) = _claim(any_uow_factory, NOW)
    with any_uow_factory() as uow:
        uow.outbox.mark_sent(item.id, "SM123", "queued", NOW)
        uow.commit()
    with any_uow_factory() as uow:
        found = uow.outbox.by_provider_id("SM123")
    assert (found.key, found.status, found.provider_id) == ("k", "sent", "SM123")
    assert _claim(any_uow_factory, NOW + timedelta(days=1)) == []


def test_a_failed_item_is_never_claimed_again(any_uow_factory):
    _add(any_uow_factory, (_notify("k"), NOW))
    (item,) = _claim(any_uow_factory, NOW)
    with any_uow_factory() as uow:
        uow.outbox.mark_failed(item.id, "invalid number", NOW)
        uow.commit()
    later = _claim(any_uow_factory, NOW + timedelta(days=1))
    assert (later, _items(any_uow_factory)[0].status) == ([], "failed")


def test_provider_status_reports_are_kept_in_order(any_uow_factory):
    _add(any_uow_factory, (_notify("k"), NOW))
    (item,) = _claim(any_uow_factory, NOW)
    with any_uow_factory() as uow:
        uow.outbox.mark_sent(item.id, "SM1", "queued", NOW)
        uow.outbox.record_status(item.id, "sent", None, NOW + timedelta(seconds=1))
        uow.outbox.record_status(item.id, "undelivered", "30003", NOW + timedelta(seconds=9))
        uow.commit()
    with any_uow_factory() as uow:
        history = uow.outbox.history(item.id)
    assert [(status, code) for status, code, _ in history] == [
        ("queued", None), ("sent", None), ("undelivered", "30003")]


def test_the_latest_item_to_a_recipient_on_a_channel_is_found(any_uow_factory):
    _add(any_uow_factory, (_notify("first"), NOW), (_notify("second"), NOW),
         (_notify("other", recipient="p2"), NOW))
    with any_uow_factory() as uow:
        latest = uow.outbox.latest_to("p1", "sms")
    assert latest.key == "second"


def test_an_unknown_item_is_none(any_uow_factory):
    with any_uow_factory() as uow:
        assert (uow.outbox.get(999), uow.outbox.by_provider_id("SM0")) == (None, None)


def test_the_first_provider_id_adopted_is_kept(any_uow_factory):
    _add(any_uow_factory, (_notify("k"), NOW))
    (item,) = _items(any_uow_factory)
    with any_uow_factory() as uow:
        adopted = [uow.outbox.adopt_provider_id(item.id, sid) for sid in ("SM1", "SM2", "SM1")]
        uow.commit()
    assert (adopted, _items(any_uow_factory)[0].provider_id) == ([True, False, True], "SM1")


def test_an_unknown_item_adopts_nothing(any_uow_factory):
    with any_uow_factory() as uow:
        assert uow.outbox.adopt_provider_id(999, "SM1") is False


def test_a_deferred_item_waits_untried_until_its_time(any_uow_factory):
    _add(any_uow_factory, (_notify("k"), NOW))
    (item,) = _claim(any_uow_factory, NOW)
    with any_uow_factory() as uow:
        uow.outbox.defer(item.id, NOW + timedelta(seconds=5))
        uow.commit()
    early = _claim(any_uow_factory, NOW + timedelta(seconds=4))
    late = _claim(any_uow_factory, NOW + timedelta(seconds=5))
    assert (early, [(i.key, i.attempts) for i in late]) == ([], [("k", 1)])


def test_a_claim_on_some_channels_leaves_the_others(any_uow_factory):
    voice = dataclasses.replace(_notify("call"), channel=OutboxChannel.VOICE)
    _add(any_uow_factory, (_notify("text"), NOW), (voice, NOW))
    with any_uow_factory() as uow:
        claimed = uow.outbox.claim(NOW, 10, LEASE, "w", channels=["voice"])
        uow.commit()
    assert [i.key for i in claimed] == ["call"]


def test_a_cancelled_item_is_never_claimed_and_its_history_says_so(any_uow_factory):
    _add(any_uow_factory, (_notify("k"), NOW))
    (item,) = _items(any_uow_factory)
    with any_uow_factory() as uow:
        uow.outbox.mark_cancelled(item.id, "opted out", NOW)
        uow.commit()
    with any_uow_factory() as uow:
        history = uow.outbox.history(item.id)
    assert (_claim(any_uow_factory, NOW), [s for s, _, _ in history]) == ([], ["cancelled"])


def _post(key: str, fold: str) -> Notify:
    return Notify(key=key, channel=OutboxChannel.SLACK_CHANNEL, recipient="channel",
                  body="replies", purpose="replies", data={FOLD: fold})


def test_a_fold_is_updated_in_its_first_sent_post_and_sends_only_its_newest_item(
        any_uow_factory):
    _add(any_uow_factory, *[(_post(f"a{n}", "alice"), NOW) for n in range(3)],
         (_post("b0", "bob"), NOW))
    first, *_ = _claim(any_uow_factory, NOW, limit=1)
    with any_uow_factory() as uow:
        uow.outbox.mark_sent(first.id, "1700000000.000100", "posted", NOW)
        uow.commit()
    ids = {i.key: i.id for i in _items(any_uow_factory)}
    with any_uow_factory() as uow:
        found = (uow.outbox.fold_post("inc-1", "replies", "alice"),
                 uow.outbox.fold_newest("inc-1", "replies", "alice"),
                 uow.outbox.fold_post("inc-1", "replies", "bob"),
                 uow.outbox.fold_newest("inc-1", "replies", "carol"))
    assert found == ("1700000000.000100", ids["a2"], None, None)

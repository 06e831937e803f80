"""A signed webhook must be about its own delivery: a status callback carries the SID Twilio gave
that delivery, a digit is pressed on a call, and a delivery id names a row. Anything else gets
404 and changes nothing (all through signed requests into the running app)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from incident_bot.adapters.db.tables import OutboxRow
from tests.twilio.support import PUBLIC, phone


def _outbox(stack) -> list[tuple[int, str, str | None]]:
    with stack.services.uow_factory() as uow:
        return [(i.id, i.status, uow.outbox.history(i.id)[-1][0])
                for i in uow.outbox.items("inc-twilio")]


def _sms_path(stack, number: str) -> tuple[str, str]:
    """(status callback path, MessageSid) of the one SMS sent to ``number``."""
    (message,) = stack.twilio.messages_to(number)
    return message["_status_callback"].removeprefix(PUBLIC), message["sid"]


def _failed(sid: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": "failed", "ErrorCode": "30003"}


def test_a_status_callback_with_another_messages_sid_is_refused_and_changes_nothing(stack):
    stack.start()
    path, _ = _sms_path(stack, phone(1, 0))
    _, other_sid = _sms_path(stack, phone(1, 1))
    before = _outbox(stack)

    reply = stack.twilio.post_webhook(path, _failed(other_sid))
    stack.tick()

    assert reply.status == 404
    assert _outbox(stack) == before
    assert stack.twilio.calls == []


def test_a_status_callback_without_a_sid_is_refused(stack):
    stack.start()
    path, _ = _sms_path(stack, phone(1, 0))
    before = _outbox(stack)

    reply = stack.twilio.post_webhook(path, {"MessageStatus": "failed", "ErrorCode": "30003"})

    assert reply.status == 404
    assert _outbox(stack) == before


def test_a_status_callback_with_the_deliverys_own_sid_is_recorded(stack):
    incident_id = stack.start()
    path, sid = _sms_path(stack, phone(1, 0))

    reply = stack.twilio.post_webhook(path, _failed(sid))
    stack.tick()

    assert reply.status == 204
    assert [c["to"] for c in stack.twilio.calls] == [phone(1, 0)]  # the ladder moved on
    assert stack.contact_state(incident_id, "t1-0") != "confirmed"


def test_pressing_1_on_an_sms_delivery_does_not_confirm(stack):
    incident_id = stack.start()
    path, _ = _sms_path(stack, phone(1, 0))
    delivery = path.rsplit("/", 1)[1]

    reply = stack.twilio.post_webhook(f"/twilio/voice/{delivery}/gather", {"Digits": "1"})

    assert reply.status == 404
    assert stack.contact_state(incident_id, "t1-0") == "pending"


def _first_call(stack) -> dict:
    path, sid = _sms_path(stack, phone(1, 0))
    stack.twilio.post_webhook(path, _failed(sid))
    stack.tick()
    (call,) = stack.twilio.calls_to(phone(1, 0))
    return call


def test_a_call_status_with_an_sms_sid_is_refused(stack):
    stack.start()
    call = _first_call(stack)
    _, sms_sid = _sms_path(stack, phone(1, 1))
    before = _outbox(stack)

    reply = stack.twilio.post_webhook(call["_url"].removeprefix(PUBLIC) + "/status",
                                      {"CallSid": sms_sid, "CallStatus": "failed"})

    assert reply.status == 404
    assert _outbox(stack) == before


def test_an_sms_status_posted_to_a_call_delivery_is_refused(stack):
    stack.start()
    call = _first_call(stack)
    delivery = call["_url"].removeprefix(f"{PUBLIC}/twilio/voice/")
    before = _outbox(stack)

    reply = stack.twilio.post_webhook(f"/twilio/sms/status/{delivery}", _failed(call["sid"]))

    assert reply.status == 404
    assert _outbox(stack) == before


def test_pressing_1_on_the_call_still_confirms(stack):
    incident_id = stack.start()
    call = _first_call(stack)

    reply = stack.twilio.answer_and_press(call["sid"], "1")

    assert reply.status == 200
    assert stack.contact_state(incident_id, "t1-0") == "confirmed"


@pytest.mark.parametrize("delivery", ["9" * 23, str(2**31), "9" * 10])
def test_a_delivery_id_no_row_can_have_is_not_found(stack, delivery: str):
    stack.start()
    for path in ("/twilio/sms/status/", "/twilio/voice/", "/twilio/voice/{}/status"):
        url = path.format(delivery) if "{}" in path else path + delivery
        reply = stack.twilio.post_webhook(url, _failed("SM1"))
        assert reply.status == 404


def test_a_signed_reply_holding_a_nul_is_refused_not_an_error(stack):
    stack.start()
    reply = stack.twilio.post_webhook("/twilio/sms/inbound",
                                      {"From": phone(1, 0), "Body": "ok\x00", "MessageSid": "SM9"})
    assert reply.status == 400


def _as_if_unrecorded(stack, sid: str) -> int:
    """Put the delivery of ``sid`` back as its sender left it mid-send: leased, no SID yet."""
    with stack.services.engine.begin() as connection:
        (row_id,) = connection.execute(update(OutboxRow).where(OutboxRow.provider_id == sid)
                                       .values(status="sending", provider_id=None,
                                               provider_status=None)
                                       .returning(OutboxRow.id)).scalars()
    return row_id


def test_a_status_callback_that_beats_the_sender_is_recorded_and_keeps_its_status(stack):
    incident_id = stack.start()
    path, sid = _sms_path(stack, phone(1, 0))
    row_id = _as_if_unrecorded(stack, sid)

    reply = stack.twilio.post_webhook(path, _failed(sid))
    with stack.services.uow_factory() as uow:
        uow.outbox.mark_sent(row_id, sid, "queued", stack.clock.now())  # the sender, late
        uow.commit()
        item = uow.outbox.get(row_id)
    stack.tick()

    assert reply.status == 204
    assert item is not None
    assert item.provider_id == sid
    assert _outbox_status(stack, row_id) == "failed"
    assert [c["to"] for c in stack.twilio.calls] == [phone(1, 0)]  # the ladder moved on
    assert stack.contact_state(incident_id, "t1-0") != "confirmed"


def test_once_a_callback_gave_the_sid_another_sid_is_refused(stack):
    stack.start()
    path, sid = _sms_path(stack, phone(1, 0))
    _, other_sid = _sms_path(stack, phone(1, 1))
    _as_if_unrecorded(stack, sid)

    first = stack.twilio.post_webhook(path, {**_failed(sid), "MessageStatus": "sent"})
    other = stack.twilio.post_webhook(path, _failed(other_sid))

    assert (first.status, other.status) == (204, 404)


def _outbox_status(stack, row_id: int) -> str | None:
    with stack.services.engine.connect() as connection:
        return connection.scalar(select(OutboxRow.provider_status)
                                 .where(OutboxRow.id == row_id))

"""The webhooks' edge: only requests signed by Twilio over the exact public URL get in; a refused
request changes nothing."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest

from incident_bot.domain.codes import confirmation_code
from incident_bot.entrypoints.twilio.webhooks import MAX_BODY, make_twilio_app
from tests.twilio.support import PUBLIC, phone


def _outbox_statuses(stack) -> list[tuple[str, str | None]]:
    with stack.services.uow_factory() as uow:
        rows = uow.outbox.items("inc-twilio")
        return [(i.status, uow.outbox.history(i.id)[-1][0]) for i in rows]


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_an_unsigned_or_mis_signed_reply_is_refused_and_changes_nothing(stack, signature):
    incident_id = stack.start()
    code = confirmation_code(incident_id, 1)
    reply = stack.twilio.inbound_sms(phone(1, 0), code, signature=signature)
    assert reply.status == 403
    assert stack.contact_state(incident_id, "t1-0") == "pending"


def test_a_signature_for_other_parameters_is_refused(stack):
    incident_id = stack.start()
    forged = stack.twilio.sign(f"{PUBLIC}/twilio/sms/inbound", {"From": phone(1, 0), "Body": "x"})
    params = {"From": phone(1, 0), "Body": confirmation_code(incident_id, 1)}
    reply = stack.twilio.post_webhook("/twilio/sms/inbound", params, signature=forged)
    assert reply.status == 403
    assert stack.contact_state(incident_id, "t1-0") == "pending"


def test_a_signature_over_another_url_is_refused(stack):
    stack.start()
    before = _outbox_statuses(stack)
    message = stack.twilio.messages_to(phone(1, 0))[0]
    path = message["_status_callback"].removeprefix(PUBLIC)
    params = {"MessageSid": message["sid"], "MessageStatus": "undelivered", "ErrorCode": "30003"}
    signed_elsewhere = stack.twilio.sign(f"https://attacker.example{path}", params)
    reply = stack.twilio.post_webhook(path, params, signature=signed_elsewhere)
    assert reply.status == 403
    stack.tick()
    assert _outbox_statuses(stack) == before
    assert stack.twilio.calls == []


def test_a_forged_digit_does_not_confirm(stack):
    incident_id = stack.start()
    message = stack.twilio.messages_to(phone(1, 0))[0]
    stack.twilio.status_callback(message["sid"], "failed", 30005)
    stack.tick()
    call = stack.twilio.calls_to(phone(1, 0))[0]
    path = call["_url"].removeprefix(PUBLIC) + "/gather"
    reply = stack.twilio.post_webhook(path, {"Digits": "1"}, signature="Zm9yZ2Vk")
    assert reply.status == 403
    assert stack.contact_state(incident_id, "t1-0") == "pending"


def test_the_query_string_is_part_of_the_signed_url(stack):
    incident_id = stack.start()
    params = {"From": phone(1, 0), "Body": confirmation_code(incident_id, 1)}
    good = stack.twilio.post_webhook("/twilio/sms/inbound?x=1", params)
    assert good.status == 200
    assert stack.contact_state(incident_id, "t1-0") == "confirmed"


def test_a_body_over_64_kib_is_refused(stack):
    reply = stack.twilio.inbound_sms(phone(1, 0), "x" * (MAX_BODY + 1))
    assert reply.status == 413


def test_an_unknown_path_is_not_found(stack):
    assert stack.twilio.post_webhook("/twilio/nothing", {}).status == 404


def test_a_status_for_an_unknown_delivery_is_not_found(stack):
    reply = stack.twilio.post_webhook("/twilio/sms/status/999999", {"MessageStatus": "failed"})
    assert reply.status == 404


def test_an_sms_from_an_unknown_number_is_accepted_and_goes_nowhere(stack):
    stack.start()
    reply = stack.twilio.inbound_sms("+447700900999", "hello")
    assert reply.status == 200
    assert "<Response" in reply.body


def _call_wsgi(app, environ_extra: dict) -> tuple[str, bytes]:
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list) -> None:
        seen["status"] = status

    body = b"".join(app({"REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO(b""),
                         **environ_extra}, start_response))
    return seen["status"], body


def test_only_post_is_allowed(stack):
    app = make_twilio_app(stack.services.incidents, stack.services.settings)
    status, _ = _call_wsgi(app, {"PATH_INFO": "/twilio/sms/inbound"})
    assert status.startswith("405")


def test_the_app_routes_the_same_when_mounted_under_twilio(stack):
    incident_id = stack.start()
    app = make_twilio_app(stack.services.incidents, stack.services.settings)
    params = {"From": phone(1, 1), "Body": confirmation_code(incident_id, 1)}
    raw = urlencode(params).encode()
    status, _ = _call_wsgi(app, {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "/twilio", "PATH_INFO": "/sms/inbound",
        "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw),
        "HTTP_X_TWILIO_SIGNATURE": stack.twilio.sign(f"{PUBLIC}/twilio/sms/inbound", params)})
    assert status.startswith("200")
    assert stack.contact_state(incident_id, "t1-1") == "confirmed"

"""The ring-round's automatic rungs end to end over real HTTP: the bot sends through the real
twilio Client to the fake Twilio API, and Twilio's signed webhooks come back into the running
WSGI app. Time is the injected clock; ``Services.tick()`` does the background work."""

from __future__ import annotations

from xml.etree import ElementTree

from incident_bot.domain.codes import confirmation_code
from incident_bot.domain.commands import ApproveMessage
from tests.twilio.support import PUBLIC, phone


def _message_to(stack, number: str) -> dict:
    (message,) = stack.twilio.messages_to(number)
    return message


def _delivery_id(resource: dict, prefix: str) -> int:
    url = resource["_status_callback"] if prefix == "sms" else resource["_url"]
    return int(url.removeprefix(f"{PUBLIC}/twilio/{prefix}/").split("/")[0])


def test_each_contact_gets_one_sms_in_their_own_language_with_their_tier_code(stack):
    incident_id = stack.start()
    first_words = {"en": "Drill in", "pl": "Ćwiczenie w", "so": "Tababar"}
    for tier, n, language in ((1, 0, "en"), (1, 1, "pl"), (1, 2, "so"), (2, 1, "pl")):
        body = _message_to(stack, phone(tier, n))["body"]
        assert body.startswith(first_words[language])
        assert confirmation_code(incident_id, tier) in body
    assert len(stack.twilio.messages) == 9


def test_the_sms_carries_its_status_callback_validity_and_smart_encoding(stack):
    stack.start()
    message = _message_to(stack, phone(1, 0))
    assert message["_status_callback"].startswith(f"{PUBLIC}/twilio/sms/status/")
    assert message["_validity_period"] == "900"  # the tier-1 SMS rung times out after 15m
    assert message["_smart_encoded"] == "true"
    assert message["from"] == "+447700900000"


def test_a_signed_reply_with_the_code_confirms_the_contact(stack):
    incident_id = stack.start()
    code = confirmation_code(incident_id, 1)
    reply = stack.twilio.inbound_sms(phone(1, 0), f"ok {code.lower()} thanks")
    assert reply.status == 200
    assert stack.contact_state(incident_id, "t1-0") == "confirmed"
    assert stack.tier(incident_id, 1).reached == 1


def test_a_reply_that_is_not_the_code_goes_to_the_incident_channel_masked(stack):
    stack.start()
    stack.twilio.inbound_sms(phone(1, 0), "who do I ring? my number is 07700 900123")
    stack.services.tick()
    posted = [s.notify.body for s in stack.chat.sent if s.notify.purpose == "ringround.feedback"]
    assert len(posted) == 1
    assert "900123" not in posted[0]
    assert "••••23" in posted[0]


def test_stop_stops_every_further_send_to_that_contact(stack):
    incident_id = stack.start()
    assert stack.twilio.inbound_sms(phone(1, 1), "STOP").status == 200
    stack.clock.advance(minutes=16)
    stack.run(10)
    stack.clock.advance(minutes=16)
    stack.run(10)
    assert stack.twilio.calls_to(phone(1, 1)) == []
    assert len(stack.twilio.messages_to(phone(1, 1))) == 1
    assert stack.contact_state(incident_id, "t1-1") == "opted_out"
    assert len(stack.twilio.calls_to(phone(1, 0))) == 1  # the others were called


def test_stop_while_the_sms_waits_in_the_queue_cancels_it(stack):
    incidents = stack.services.incidents
    stack.start(approve=False)
    incidents.execute("inc-twilio", ApproveMessage("drill-sms", 1, by="cmd"))  # queued, unsent
    incidents.sms_inbound(phone(1, 2), "stop")
    stack.services.tick()
    assert stack.twilio.messages_to(phone(1, 2)) == []
    with stack.services.uow_factory() as uow:
        (item,) = [i for i in uow.outbox.items("inc-twilio")
                   if i.notify.recipient == "t1-2" and i.notify.channel.value == "sms"]
    assert item.status == "cancelled"


def test_an_undelivered_sms_makes_the_bot_call_and_pressing_1_confirms(stack):
    incident_id = stack.start()
    message = _message_to(stack, phone(1, 3))
    assert stack.twilio.status_callback(message["sid"], "undelivered", 30003).status == 204
    stack.tick()
    (call,) = stack.twilio.calls_to(phone(1, 3))
    assert call["_url"] == f"{PUBLIC}/twilio/voice/{_delivery_id(call, 'voice')}"
    answer = stack.twilio.answer_and_press(call["sid"], "1")
    assert answer.status == 200
    assert "Thank you" in answer.body
    assert stack.contact_state(incident_id, "t1-3") == "confirmed"


def test_pressing_2_replays_the_message(stack):
    stack.start()
    stack.twilio.status_callback(_message_to(stack, phone(1, 0))["sid"], "undelivered", 30003)
    stack.tick()
    (call,) = stack.twilio.calls_to(phone(1, 0))
    replay = ElementTree.fromstring(stack.twilio.answer_and_press(call["sid"], "2").body)
    assert replay.find("Redirect").text == call["_url"]


def _said(stack, number: str) -> list[tuple[str, str]]:
    stack.twilio.status_callback(_message_to(stack, number)["sid"], "failed", 30005)
    stack.run(3)
    (call,) = stack.twilio.calls_to(number)
    twiml = ElementTree.fromstring(stack.twilio.answer(call["sid"]).body)
    return [(say.get("language"), say.text) for say in twiml.iter("Say")]


def test_the_call_reads_the_message_in_the_contacts_language(stack):
    stack.start()
    said = _said(stack, phone(1, 1))  # Polish
    assert said[0][0] == "pl-PL"
    assert said[0][1].startswith("Ćwiczenie w Northbridge")
    assert "Press 1" in said[1][1]


def test_the_call_falls_back_to_english_where_twilio_has_no_voice(stack):
    stack.start()
    said = _said(stack, phone(1, 2))  # Somali
    assert said[0][0] == "en-GB"
    assert said[0][1].startswith("Drill in Northbridge")


def test_a_delivered_status_is_recorded_and_moves_nothing(stack):
    incident_id = stack.start()
    message = _message_to(stack, phone(1, 4))
    assert stack.twilio.status_callback(message["sid"], "delivered").status == 204
    stack.tick()
    assert stack.twilio.calls == []
    assert stack.contact_state(incident_id, "t1-4") == "pending"


def test_an_invalid_number_is_tried_by_call_at_once_then_flagged(stack):
    stack.twilio.faults.permanent[phone(1, 5)] = 21211
    incident_id = stack.start()
    stack.tick()
    assert stack.twilio.messages_to(phone(1, 5)) == []
    calls = [r for r in stack.twilio.requests_to("Calls") if r.form["To"] == phone(1, 5)]
    assert [r.status for r in calls] == [400]
    assert stack.contact_state(incident_id, "t1-5") == "flagged"


def test_an_opted_out_number_at_twilio_is_not_texted_again(stack):
    stack.twilio.faults.permanent[phone(2, 0)] = 21610
    stack.start()
    stack.run(5)
    posts = [r for r in stack.twilio.requests_to("Messages") if r.form["To"] == phone(2, 0)]
    assert [r.status for r in posts] == [400]


def test_start_after_stop_puts_the_contact_back_on_the_ladder_without_resending(stack):
    incident_id = stack.start()
    for _ in range(3):
        assert stack.twilio.inbound_sms(phone(1, 4), "STOP").status == 200
        assert stack.twilio.inbound_sms(phone(1, 4), "start").status == 200
        stack.tick()
    assert stack.contact_state(incident_id, "t1-4") == "pending"
    assert len(stack.twilio.messages_to(phone(1, 4))) == 1


def test_start_sends_the_text_held_back_while_the_contact_was_opted_out(stack):
    stack.start(approve=False)
    stack.services.incidents.execute("inc-twilio", ApproveMessage("drill-sms", 1, by="cmd"))
    stack.twilio.inbound_sms(phone(1, 2), "stop")
    stack.services.tick()  # the queued text is cancelled, not sent
    assert stack.twilio.messages_to(phone(1, 2)) == []
    stack.twilio.inbound_sms(phone(1, 2), "UNSTOP")
    stack.services.tick()
    assert len(stack.twilio.messages_to(phone(1, 2))) == 1


def test_an_opt_out_in_polish_or_urdu_stops_the_call_that_would_follow(stack):
    incident_id = stack.start()
    assert stack.twilio.inbound_sms(phone(1, 1), "Rezygnuję").status == 200
    assert stack.twilio.inbound_sms(phone(1, 2), " بند کریں ").status == 200
    stack.clock.advance(minutes=16)
    stack.run(10)
    for n in (1, 2):
        assert stack.twilio.calls_to(phone(1, n)) == []
        assert stack.contact_state(incident_id, f"t1-{n}") == "opted_out"
    posted = [s.notify.purpose for s in stack.chat.sent]
    assert "ringround.feedback" not in posted
    assert len(stack.twilio.calls_to(phone(1, 0))) == 1  # the others were called


def test_a_failed_call_flags_the_contact(stack):
    incident_id = stack.start()
    stack.twilio.status_callback(_message_to(stack, phone(1, 0))["sid"], "undelivered", 30003)
    stack.tick()
    (call,) = stack.twilio.calls_to(phone(1, 0))
    path = call["_status_callback"].removeprefix(PUBLIC)
    params = {"CallSid": call["sid"], "CallStatus": "failed", "AccountSid": "AC"}
    assert stack.twilio.post_webhook(path, params).status == 204
    assert stack.contact_state(incident_id, "t1-0") == "flagged"

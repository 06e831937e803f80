"""A chat post that Slack accepted but whose answer was lost (timeout, 5xx) is not posted again
on the retry: the dispatcher asks the chat port whether it went out. A text whose answer was
lost waits longer before that look-up."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from incident_bot.domain.effects import Notify, OutboxChannel
from incident_bot.errors import TransientProviderError
from incident_bot.service.dispatcher import UNCERTAIN_PHONE_RETRY_SECONDS, Dispatcher
from incident_bot.service.ports import SendResult
from tests.drill import drill_people, make_harness
from tests.fakes import RecordingChat


@dataclass
class LosesFirstAnswer(RecordingChat):
    """Posts, then raises as if the connection dropped before Slack's answer arrived."""

    lost: int = 1
    lookups: list[str] = field(default_factory=list)

    def send(self, notify: Notify, incident_id: str, address: str | None) -> SendResult:
        result = super().send(notify, incident_id, address)
        if self.lost:
            self.lost -= 1
            raise TransientProviderError("read timed out", uncertain=True)
        return result

    def find_posted(self, notify: Notify, incident_id: str,
                    address: str | None) -> SendResult | None:
        self.lookups.append(notify.key)
        return super().find_posted(notify, incident_id, address)


def _dispatcher(harness, chat: LosesFirstAnswer) -> Dispatcher:
    return Dispatcher(harness.uow_factory, harness.clock, harness.incidents, chat, harness.sms,
                      harness.voice, worker="test")


def _dm(key: str) -> Notify:
    return Notify(key=f"inc-x|cmd|{key}|slack_dm|1", channel=OutboxChannel.SLACK_DM,
                  recipient="cmd", body=f"hello {key}", purpose="test.dm", priority=2)


def test_a_post_whose_answer_was_lost_is_found_not_posted_again(memory_uow_factory):
    harness, chat = make_harness(memory_uow_factory, []), LosesFirstAnswer()
    dispatcher = _dispatcher(harness, chat)
    with memory_uow_factory() as uow:
        uow.outbox.add("inc-x", _dm("a"), harness.clock.now())
        uow.commit()
    dispatcher.dispatch()
    harness.clock.advance(minutes=5)
    dispatcher.dispatch()
    with memory_uow_factory() as uow:
        [item] = uow.outbox.items("inc-x")
    assert Counter(s.notify.key for s in chat.sent) == {"inc-x|cmd|a|slack_dm|1": 1}
    assert chat.lookups == ["inc-x|cmd|a|slack_dm|1"]
    assert item.status == "sent"


def test_a_first_attempt_does_not_look_first(memory_uow_factory):
    harness, chat = make_harness(memory_uow_factory, []), LosesFirstAnswer(lost=0)
    dispatcher = _dispatcher(harness, chat)
    with memory_uow_factory() as uow:
        uow.outbox.add("inc-x", _dm("b"), harness.clock.now())
        uow.commit()
    dispatcher.dispatch()
    assert (len(chat.sent), chat.lookups) == (1, [])


def _text(key: str, recipient: str) -> Notify:
    return Notify(key=f"inc-x|{recipient}|{key}|sms|1", channel=OutboxChannel.SMS,
                  recipient=recipient, body=f"hello {key}", purpose="test.sms", priority=2)


def _retry_delay_after(uow_factory, error: TransientProviderError) -> float:
    people = drill_people()  # people[0] is the commander; the rest have phone numbers
    harness = make_harness(uow_factory, people)
    with uow_factory() as uow:
        uow.outbox.add("inc-x", _text("c", people[1].key), harness.clock.now())
        uow.commit()
    harness.sms.fail_next(error)
    harness.dispatcher.dispatch()
    with uow_factory() as uow:
        [item] = uow.outbox.items("inc-x")
    assert item.status != "sent"
    return (item.next_attempt_at - harness.clock.now()).total_seconds()


def test_an_uncertain_sms_failure_waits_before_looking_it_up_and_resending(memory_uow_factory):
    """Twilio may have accepted a text whose answer was lost: the retry (which looks it up
    first) waits long enough for a late-accepted message to show in Twilio's list."""
    delay = _retry_delay_after(memory_uow_factory,
                               TransientProviderError("timed out", uncertain=True))
    assert delay >= UNCERTAIN_PHONE_RETRY_SECONDS


def test_a_certain_sms_failure_is_retried_on_the_ordinary_backoff(memory_uow_factory):
    delay = _retry_delay_after(memory_uow_factory, TransientProviderError("429", retry_after=1.0))
    assert 1.0 <= delay < UNCERTAIN_PHONE_RETRY_SECONDS

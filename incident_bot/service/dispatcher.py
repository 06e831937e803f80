"""The outbox dispatcher: the one place where messages leave the bot.

It claims pending outbox rows (lowest priority number first), resolves the recipient's address
at send time (so personal data is not copied into effects), sends through the chat, SMS or
voice port, and records the provider's id. Neither Slack nor Twilio has an idempotency key, so:

- a row is only ever sent under a lease; a crashed worker's lease expires and the row is
  claimed again with its attempt count raised;
- before any SMS or voice *re*-attempt the dispatcher asks the provider whether the first
  attempt went through (``find_sent``): a timeout or 5xx after Twilio accepted the message,
  or a crash between sending and recording, therefore never sends twice;
- a 429 or other transient error is retried with exponential backoff and jitter (honouring
  Retry-After); a permanent error fails the row and tells the domain, which moves the contact
  to the next rung of its ladder.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta

from incident_bot.domain.commands import DeliveryReport
from incident_bot.domain.effects import OutboxChannel
from incident_bot.errors import NotFoundError, PermanentProviderError, TransientProviderError
from incident_bot.service.handlers import IncidentService
from incident_bot.service.ports import (
    ChatPort,
    Clock,
    OutboxItem,
    SendResult,
    SmsPort,
    UnitOfWork,
    VoicePort,
)

log = logging.getLogger("incident_bot.dispatcher")

CHAT_CHANNELS = frozenset({OutboxChannel.SLACK_CHANNEL, OutboxChannel.SLACK_DM,
                           OutboxChannel.CONSOLE})
PHONE_CHANNELS = frozenset({OutboxChannel.SMS, OutboxChannel.VOICE})


class Dispatcher:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        incidents: IncidentService,
        chat: ChatPort,
        sms: SmsPort,
        voice: VoicePort,
        *,
        worker: str,
        lease_seconds: float = 60.0,
        max_attempts: int = 8,
        base_backoff: float = 2.0,
        max_backoff: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._incidents = incidents
        self._chat, self._sms, self._voice = chat, sms, voice
        self._worker = worker
        self._lease_seconds = lease_seconds
        self._max_attempts = max_attempts
        self._base_backoff, self._max_backoff = base_backoff, max_backoff
        self._rng = rng or random.Random(0)  # noqa: S311 - jitter, not secrecy

    def dispatch(self, limit: int = 50) -> int:
        """Send what is due; returns how many rows were sent."""
        with self._uow_factory() as uow:
            items = uow.outbox.claim(self._clock.now(), limit, self._lease_seconds, self._worker)
            uow.commit()
        return sum(self._deliver(item) for item in items)

    def _deliver(self, item: OutboxItem) -> bool:
        try:
            result = self._send(item)
        except TransientProviderError as error:
            self._retry_or_give_up(item, error)
            return False
        except (PermanentProviderError, NotFoundError) as error:
            code = getattr(error, "code", None)
            self._fail(item, str(error), code)
            return False
        with self._uow_factory() as uow:
            uow.outbox.mark_sent(item.id, result.provider_id, result.status, self._clock.now())
            uow.commit()
        log.info("outbox.sent key=%s channel=%s", item.key, item.notify.channel.value)
        return True

    def _send(self, item: OutboxItem) -> SendResult:
        notify = item.notify
        if notify.channel in CHAT_CHANNELS:
            return self._chat.send(notify, item.incident_id, self._chat_address(item))
        phone = self._phone_of(notify.recipient)
        if item.attempts > 1:
            already = self._already_sent(item, phone)
            if already is not None:
                log.info("outbox.already_sent key=%s", item.key)
                return already
        if notify.channel is OutboxChannel.SMS:
            return self._sms.send(notify, phone, str(item.id))
        return self._voice.call(notify, phone, str(item.id))

    def _already_sent(self, item: OutboxItem, phone: str) -> SendResult | None:
        since = item.created_at or (self._clock.now() - timedelta(hours=12))
        if item.notify.channel is OutboxChannel.SMS:
            return self._sms.find_sent(phone, item.notify.body, since)
        return self._voice.find_placed(phone, str(item.id), since)

    def _chat_address(self, item: OutboxItem) -> str | None:
        with self._uow_factory() as uow:
            if item.notify.channel is OutboxChannel.SLACK_DM:
                person = uow.directory.get(item.notify.recipient)
                return person.slack_user_id if person else None
            document = uow.incidents.get(item.incident_id).document
        channel_id = document.get("channel_id")
        return str(channel_id) if channel_id else None

    def _phone_of(self, person_key: str) -> str:
        with self._uow_factory() as uow:
            person = uow.directory.get(person_key)
        if person is None or not person.phone:
            raise PermanentProviderError(f"{person_key} has no phone number", code="no_number")
        return person.phone

    def _retry_or_give_up(self, item: OutboxItem, error: TransientProviderError) -> None:
        if item.attempts >= self._max_attempts:
            self._fail(item, f"gave up after {item.attempts} attempts: {error}", None)
            return
        delay = self._backoff(item.attempts, error.retry_after)
        with self._uow_factory() as uow:
            uow.outbox.mark_retry(item.id, str(error), self._clock.now() + delay)
            uow.commit()
        log.info("outbox.retry key=%s attempt=%s delay=%.1fs", item.key, item.attempts,
                 delay.total_seconds())

    def _backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        exponential = min(self._max_backoff, self._base_backoff * 2 ** max(attempts - 1, 0))
        jittered = exponential * (0.5 + self._rng.random() / 2)
        return timedelta(seconds=max(jittered, retry_after or 0.0))

    def _fail(self, item: OutboxItem, reason: str, code: str | None) -> None:
        with self._uow_factory() as uow:
            uow.outbox.mark_failed(item.id, reason, self._clock.now())
            uow.commit()
        log.warning("outbox.failed key=%s code=%s", item.key, code)
        if item.notify.channel in PHONE_CHANNELS:
            self._incidents.execute(item.incident_id, DeliveryReport(
                outbox_key=item.key, status="failed", error_code=code, by="dispatcher"))

"""The exercise's transports: ChatPort, SmsPort and VoicePort that hand every delivery to the
simulated people instead of Slack or Twilio. Dead numbers fail as Twilio fails them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from incident_bot.domain.directory import mask_phone
from incident_bot.domain.effects import Notify, OutboxChannel
from incident_bot.errors import PermanentProviderError
from incident_bot.service.ports import SendResult

DEAD_NUMBER_CODE = "30006"  # Twilio: landline or unreachable carrier


@dataclass(frozen=True)
class Delivery:
    """One message the bot sent, as a participant receives it. ``phone`` is only for the
    simulated handset replying (never printed); ``outbox_id`` is the callback id."""

    kind: str  # chat, sms, voice, or failed (a dead number refused it)
    notify: Notify
    outbox_id: int | None = None
    phone: str | None = field(default=None, repr=False)


@dataclass
class ExerciseTransport:
    """ChatPort, SmsPort and VoicePort in one: captures every delivery for the participants.
    Numbers in ``dead`` fail permanently, as a disconnected number does at Twilio."""

    dead: frozenset[str] = frozenset()
    inbox: list[Delivery] = field(default_factory=list)
    failures: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, notify: Notify, *args: str | None) -> SendResult:
        """ChatPort.send(notify, incident_id, address) or SmsPort.send(notify, to, callback)."""
        if notify.channel is OutboxChannel.SMS:
            phone, callback = args[0] or "", args[1] or "0"
            self._refuse_dead(notify, phone, "SMS")
            self.inbox.append(Delivery("sms", notify, int(callback), phone))
            return SendResult(f"SMex{next(self._ids):06d}", "queued")
        self.inbox.append(Delivery("chat", notify))
        return SendResult(f"ex-ts-{next(self._ids):06d}", "posted")

    def call(self, notify: Notify, to_e164: str, callback_id: str) -> SendResult:
        self._refuse_dead(notify, to_e164, "call")
        self.inbox.append(Delivery("voice", notify, int(callback_id), to_e164))
        return SendResult(f"CAex{next(self._ids):06d}", "queued")

    def find_posted(self, notify: Notify, *_: str | None) -> SendResult | None:
        return None  # nothing here ever fails after acceptance

    def find_sent(self, to_e164: str, body: str, since: datetime) -> SendResult | None:
        return None  # nothing here ever fails after acceptance

    def find_placed(self, to_e164: str, callback_id: str, since: datetime) -> SendResult | None:
        return None

    def take(self) -> list[Delivery]:
        taken, self.inbox = self.inbox, []
        return taken

    def _refuse_dead(self, notify: Notify, phone: str, what: str) -> None:
        """A dead number fails as Twilio fails it; the attempt is still shown in the log."""
        if phone in self.dead:
            self.failures += 1
            self.inbox.append(Delivery("failed", notify, None, phone))
            raise PermanentProviderError(f"{what} to {mask_phone(phone)} failed: unreachable",
                                         code=DEAD_NUMBER_CODE)

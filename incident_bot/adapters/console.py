"""Console transports: chat, SMS and voice that print a transcript instead of sending.

Used by the offline exercise and when Slack/Twilio are not configured. Phone numbers are masked;
each "send" gets a provider-like id so the outbox records it like a real delivery.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from incident_bot.domain.directory import mask_phone
from incident_bot.domain.effects import Notify
from incident_bot.service.ports import SendResult

Sink = Callable[[str, Notify, str], None]  # (transport, notify, masked address)


@dataclass
class ConsoleTransport:
    """One object serving as ChatPort, SmsPort and VoicePort; every send goes to ``sink``."""

    sink: Sink
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (transport, to, body)
    placed: set[str] = field(default_factory=set)  # callback ids of calls made

    def send(self, notify: Notify, *args: str | None) -> SendResult:
        """ChatPort.send(notify, incident_id, address) or SmsPort.send(notify, to, callback)."""
        if notify.channel.value == "sms":
            return self._emit("sms", notify, mask_phone(args[0]))
        return self._emit("chat", notify, args[1] or notify.recipient)

    def call(self, notify: Notify, to_e164: str, callback_id: str) -> SendResult:
        self.placed.add(callback_id)
        return self._emit("voice", notify, mask_phone(to_e164))

    def find_placed(self, to_e164: str, callback_id: str, since: datetime) -> SendResult | None:
        if callback_id not in self.placed:
            return None
        return SendResult(f"console-call-{callback_id}", "sent")

    def find_posted(self, notify: Notify, *_: str | None) -> SendResult | None:
        return None  # the console never fails after accepting

    def find_sent(self, to_e164: str, body: str, since: datetime) -> SendResult | None:
        masked = mask_phone(to_e164)
        return next((SendResult(f"console-{i}", "sent") for i, (kind, to, text)
                     in enumerate(self.sent, 1) if kind == "sms" and to == masked and text == body),
                    None)

    def _emit(self, transport: str, notify: Notify, address: str) -> SendResult:
        self.sent.append((transport, address, notify.body))
        self.sink(transport, notify, address)
        return SendResult(f"console-{next(self._ids)}", "sent")

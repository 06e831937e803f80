"""Recording fakes, one per port. They record every call and can be told to fail."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from incident_bot.domain.effects import Notify
from incident_bot.errors import PermanentProviderError, ProviderError, TransientProviderError
from incident_bot.service.ports import SendResult

T0 = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)  # when the drills start, and where a FakeClock does


@dataclass
class FakeClock:
    """Time stands still until a test moves it."""

    current: datetime = T0

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant


@dataclass
class _Failing:
    """A queue of errors to raise on the next calls (None = succeed)."""

    planned: deque[ProviderError | None] = field(default_factory=deque)

    def fail_next(self, *errors: ProviderError | None) -> None:
        self.planned.extend(errors)

    def _maybe_raise(self) -> None:
        if self.planned:
            error = self.planned.popleft()
            if error is not None:
                raise error


@dataclass(frozen=True)
class Sent:
    notify: Notify
    address: str | None
    provider_id: str


@dataclass
class RecordingChat(_Failing):
    sent: list[Sent] = field(default_factory=list)

    def send(self, notify: Notify, incident_id: str, address: str | None) -> SendResult:
        self._maybe_raise()
        provider_id = f"ts-{len(self.sent) + 1}"
        self.sent.append(Sent(notify, address, provider_id))
        return SendResult(provider_id, "posted")

    def to(self, recipient: str) -> list[Notify]:
        return [s.notify for s in self.sent if s.notify.recipient == recipient]

    def find_posted(self, notify: Notify, incident_id: str,
                    address: str | None) -> SendResult | None:
        return next((SendResult(s.provider_id, "posted") for s in self.sent
                     if s.notify.key == notify.key), None)


@dataclass
class RecordingSms(_Failing):
    """Twilio-like: an error raised *after* acceptance (``accepted_then_fail``) still counts as
    sent, which is what ``find_sent`` then finds."""

    sent: list[Sent] = field(default_factory=list)
    lookups: int = 0
    accepted_then_fail: deque[TransientProviderError] = field(default_factory=deque)

    def send(self, notify: Notify, to_e164: str, status_callback_id: str) -> SendResult:
        self._maybe_raise()
        provider_id = f"SM{len(self.sent) + 1:032d}"
        self.sent.append(Sent(notify, to_e164, provider_id))
        if self.accepted_then_fail:
            raise self.accepted_then_fail.popleft()
        return SendResult(provider_id, "queued")

    def find_sent(self, to_e164: str, body: str, since: datetime) -> SendResult | None:
        self.lookups += 1
        match = [s for s in self.sent if s.address == to_e164 and s.notify.body == body]
        return SendResult(match[-1].provider_id, "sent") if match else None

    def to(self, phone: str) -> list[Notify]:
        return [s.notify for s in self.sent if s.address == phone]


@dataclass
class RecordingVoice(_Failing):
    calls: list[Sent] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)

    def call(self, notify: Notify, to_e164: str, callback_id: str) -> SendResult:
        self._maybe_raise()
        provider_id = f"CA{len(self.calls) + 1:032d}"
        self.calls.append(Sent(notify, to_e164, provider_id))
        self.callbacks.append(callback_id)
        return SendResult(provider_id, "queued")

    def find_placed(self, to_e164: str, callback_id: str, since: datetime) -> SendResult | None:
        placed = [c for c, cb in zip(self.calls, self.callbacks, strict=True) if cb == callback_id]
        return SendResult(placed[-1].provider_id, "queued") if placed else None


def rate_limited(retry_after: float | None = None) -> TransientProviderError:
    return TransientProviderError("429 too many requests", retry_after=retry_after)


def server_error() -> TransientProviderError:
    return TransientProviderError("500 from provider", uncertain=True)


def invalid_number() -> PermanentProviderError:
    return PermanentProviderError("invalid number", code="21211")

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

Pacing: with a :class:`Pacing`, SMS and voice go out at a pace kept in the database (one
``send_pace`` row per channel, see ``service/pacing.py``), so it holds across replicas, on the
injected clock (e.g. 10 messages a second per sender number, 1 call a second). Only as many SMS and
voice rows are claimed as there are tokens, so a backlog of thousands of tier-3 texts waits in
the outbox, where a tier-1 text added later still goes first (claims are by priority): it
leaves on the next tick. Chat rows are claimed on their own and never wait behind texts.
Incident notices (``Notify.lane``) have a lane of their own in each conversation's pace, and a
contact's SMS replies (``Notify.fold``) are one post, updated in place (docs/slack.md).

Before an SMS or call leaves, the contact's current state in the incident is checked again: a
contact who opted out (STOP), was marked unsafe to call or a wrong number, confirmed, or moved
on to another rung while the row waited is not contacted; the row is cancelled with the reason.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta

from incident_bot.domain.commands import DeliveryReport
from incident_bot.domain.effects import (
    CHAT_CHANNELS,
    CHATTER_LANE,
    NOTICE_LANE,
    PHONE_CHANNELS,
    UPDATE_TS,
    OutboxChannel,
)
from incident_bot.domain.ladder import ContactRound
from incident_bot.domain.ringround import WITHHELD, RingRound
from incident_bot.errors import NotFoundError, PermanentProviderError, TransientProviderError
from incident_bot.service.pacing import Pacing, fold_key, lane_key
from incident_bot.service.ports import (
    ChatPort,
    Clock,
    OutboxItem,
    SendResult,
    SmsPort,
    UnitOfWork,
    VoicePort,
)
from incident_bot.service.use_cases import IncidentService

log = logging.getLogger("incident_bot.dispatcher")

# Concurrent SMS/voice sends within the pace: at least the pace times the provider's latency
# (100/s at Twilio's ~150 ms needs 15; 32 leaves room for slow answers).
PHONE_SENDERS = 32
# After a timeout or 5xx Twilio may have accepted the message anyway: wait this long before
# looking it up and resending, so a late-accepted message is found rather than sent twice.
UNCERTAIN_PHONE_RETRY_SECONDS = 30.0
OPTED_OUT = "contact opted out (STOP)"
FOLDED = "folded into a later update of the same post"
# One post or update of a fold (a contact's SMS replies) every this many seconds.
FOLD_SECONDS = 5.0
# A notice may put the chatter lane this far in debt: chatter then waits until it is paid.
OWED_SECONDS = 3600.0


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
        pacing: Pacing | None = None,
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
        self._rates = _rates(pacing)
        self._burst = pacing.burst_seconds if pacing else 1.0
        self._channels: dict[str, str] = {}  # incident id -> its Slack channel, once it has one
        self._chat_pace: tuple[float, float] | None = None  # (posts a second, burst seconds)
        self._fold_posts: dict[tuple[str, str], str] = {}  # (incident, fold) -> its message ts
        self._senders = ThreadPoolExecutor(max_workers=PHONE_SENDERS,
                                           thread_name_prefix="outbox-sender")

    def pace_chat(self, posts_per_second: float = 1.0, burst_seconds: float = 3.0) -> None:
        """Keep posts to any one Slack conversation within Slack's per-channel rate (about one a
        second, short bursts allowed), shared by the pool like the SMS pace. A post over the
        pace waits in the outbox (not counted as an attempt) instead of drawing a 429."""
        self._chat_pace = (posts_per_second, burst_seconds)

    def dispatch(self, limit: int = 50) -> int:
        """Send what is due (phone channels within their pace); returns how many were sent."""
        if not self._rates:
            return self._deliver_all(self._fold(self._claim(limit, None)))
        sent = self._deliver_all(self._fold(self._claim(limit, CHAT_CHANNELS)))
        for channel in PHONE_CHANNELS:
            items = self._claim(limit, {channel}, self._rates.get(channel))
            sent += self._deliver_all(items, parallel=True)
        return sent

    def _claim(self, limit: int, channels: Collection[OutboxChannel] | None,
               rate: float | None = None) -> list[OutboxItem]:
        """Lease up to ``limit`` items on ``channels``; with a ``rate``, only as many as the
        pool-wide pace allows now (the pace row and the claim share one transaction)."""
        wanted = None if channels is None else [c.value for c in channels]
        paced = wanted[0] if rate is not None and wanted is not None else None
        now = self._clock.now()
        with self._uow_factory() as uow:
            if paced is not None and rate is not None:
                limit = uow.pace.take(paced, limit, rate, self._burst, now)
            items = uow.outbox.claim(now, limit, self._lease_seconds, self._worker,
                                     channels=wanted) if limit > 0 else []
            if paced is not None and rate is not None and len(items) < limit:
                uow.pace.give_back(paced, limit - len(items), rate, now)
            uow.commit()
        return items

    def _deliver_all(self, items: list[OutboxItem], parallel: bool = False) -> int:
        """Deliver ``items``; paced phone items go out several at a time (each send waits on
        the provider's answer, ~150 ms for Twilio: one at a time would cap a sender pool at a
        few messages a second, whatever its pace)."""
        rounds = self._ring_rounds(items)

        def deliver_or_cancel(item: OutboxItem) -> bool:
            reason = _stop_reason(item, rounds.get(item.incident_id))
            if reason is not None:
                self._cancel(item, reason)
                return False
            return self._deliver(item)

        if parallel and len(items) > 1:
            return sum(self._senders.map(deliver_or_cancel, items))
        return sum(deliver_or_cancel(item) for item in items)

    def _deliver(self, item: OutboxItem) -> bool:
        try:
            result = self._send(item)
        except _OverPace as wait:
            with self._uow_factory() as uow:
                uow.outbox.defer(item.id, wait.until)
                uow.commit()
            return False
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
            address = self._chat_address(item)
            if item.attempts > 1:
                already = self._chat.find_posted(notify, item.incident_id, address)
                if already is not None:
                    log.info("outbox.already_posted key=%s", item.key)
                    return already
            if address is not None:
                self._take_chat_slot(address, notify.lane)
            if notify.fold is not None:
                return self._send_folded(item, address)
            return self._chat.send(notify, item.incident_id, address)
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

    # ---- the contact's current state --------------------------------------------------------

    def _ring_rounds(self, items: list[OutboxItem]) -> dict[str, RingRound | None]:
        """The current ring-round of each incident with a phone item in this batch (read
        through the service, which decodes an incident once per stored version: a 5,000-contact
        round decoded for every batch held back the SMS pace, bench/sms_throughput.py)."""
        wanted = {i.incident_id for i in items if i.notify.channel in PHONE_CHANNELS}
        rounds: dict[str, RingRound | None] = {}
        for incident_id in wanted:
            try:
                rounds[incident_id] = self._incidents.incident(incident_id).ringround
            except NotFoundError:
                rounds[incident_id] = None
        return rounds

    def _cancel(self, item: OutboxItem, reason: str) -> None:
        with self._uow_factory() as uow:
            uow.outbox.mark_cancelled(item.id, reason, self._clock.now())
            uow.commit()
        log.info("outbox.cancelled key=%s reason=%s", item.key, reason)
        if reason == OPTED_OUT:  # so that opting back in sends it, and only it, again
            self._incidents.execute(item.incident_id, DeliveryReport(
                outbox_key=item.key, status=WITHHELD, error_code=None, by="dispatcher"))

    def _take_chat_slot(self, address: str, lane: str) -> None:
        """A slot in the conversation's pace. Incident notices have a lane of their own, so
        chatter queued ahead of them never delays them; each notice also takes a slot from
        the chatter lane (owed, if it has none left), so chatter waits after it and the
        conversation keeps to Slack's rate over any few seconds."""
        if self._chat_pace is None:
            return
        rate, burst = self._chat_pace
        now = self._clock.now()
        with self._uow_factory() as uow:
            granted = uow.pace.take(lane_key(lane, address), 1, rate, burst, now)
            if granted and lane == NOTICE_LANE:
                uow.pace.take(lane_key(CHATTER_LANE, address), 1, rate, OWED_SECONDS, now)
            uow.commit()
        if not granted:
            raise _OverPace(now + timedelta(seconds=1 / rate))

    # ---- folded posts -----------------------------------------------------------------------

    def _fold(self, items: list[OutboxItem]) -> list[OutboxItem]:
        """Of a fold's posts only the newest goes out (each carries all the replies before
        it): a claimed post with a newer one waiting is cancelled as folded into it."""
        folds = {(i.incident_id, i.notify.purpose, i.notify.fold) for i in items if i.notify.fold}
        if not folds:
            return items
        with self._uow_factory() as uow:
            newest = {fold: uow.outbox.fold_newest(*fold) for fold in folds}
        kept = []
        for item in items:
            fold = item.notify.fold
            latest = newest.get((item.incident_id, item.notify.purpose, fold)) if fold else None
            if latest is not None and item.id < latest:
                self._cancel(item, FOLDED)
            else:
                kept.append(item)
        return kept

    def _send_folded(self, item: OutboxItem, address: str | None) -> SendResult:
        """Post the fold's message, or update it in place (chat.update) once it exists; at
        most one post or update per fold every FOLD_SECONDS."""
        notify, fold = item.notify, (item.incident_id, str(item.notify.fold))
        now = self._clock.now()
        with self._uow_factory() as uow:
            granted = uow.pace.take(fold_key(*fold), 1, 1 / FOLD_SECONDS, FOLD_SECONDS, now)
            ts = self._fold_posts.get(fold) or uow.outbox.fold_post(
                item.incident_id, notify.purpose, fold[1])
            uow.commit()
        if not granted:
            raise _OverPace(now + timedelta(seconds=FOLD_SECONDS))
        if ts is not None:
            notify = replace(notify, data={**notify.data, UPDATE_TS: ts})
        result = self._chat.send(notify, item.incident_id, address)
        if result.provider_id is not None:
            self._fold_posts[fold] = ts or result.provider_id
        return result

    # ---- addresses --------------------------------------------------------------------------

    def _chat_address(self, item: OutboxItem) -> str | None:
        if item.notify.channel is OutboxChannel.SLACK_DM:
            with self._uow_factory() as uow:
                person = uow.directory.get(item.notify.recipient)
            return person.slack_user_id if person else None
        # An incident's channel never changes once it exists: remember it. Until then, read it
        # through the service, which decodes an incident once per stored version.
        known = self._channels.get(item.incident_id)
        if known is not None:
            return known
        channel_id = self._incidents.incident(item.incident_id).channel_id
        if channel_id:
            self._channels[item.incident_id] = str(channel_id)
        return str(channel_id) if channel_id else None

    def _phone_of(self, person_key: str) -> str:
        with self._uow_factory() as uow:
            person = uow.directory.get(person_key)
        if person is None or not person.phone:
            raise PermanentProviderError(f"{person_key} has no phone number", code="no_number")
        return person.phone

    # ---- failures ---------------------------------------------------------------------------

    def _retry_or_give_up(self, item: OutboxItem, error: TransientProviderError) -> None:
        if item.attempts >= self._max_attempts:
            self._fail(item, f"gave up after {item.attempts} attempts: {error}", None)
            return
        delay = self._backoff(item.attempts, error.retry_after)
        if error.uncertain and item.notify.channel in PHONE_CHANNELS:
            delay = max(delay, timedelta(seconds=UNCERTAIN_PHONE_RETRY_SECONDS))
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


class _OverPace(Exception):
    """This post would go over the conversation's pace: send it at ``until`` instead."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


def _rates(pacing: Pacing | None) -> dict[OutboxChannel, float]:
    if pacing is None:
        return {}
    rates = {OutboxChannel.SMS: pacing.sms_per_second,
             OutboxChannel.VOICE: pacing.calls_per_second}
    return {channel: rate for channel, rate in rates.items() if rate}


def _stop_reason(item: OutboxItem, ringround: RingRound | None) -> str | None:
    """Why this SMS or call must not go out any more (None: send it)."""
    if item.notify.channel not in PHONE_CHANNELS or ringround is None:
        return None
    try:
        _, contact = ringround.find(item.notify.recipient)
    except NotFoundError:
        return None  # not a ring-round contact: nothing to re-check
    return _contact_stop_reason(item, contact)


def _contact_stop_reason(item: OutboxItem, contact: ContactRound) -> str | None:
    if contact.opted_out:
        return OPTED_OUT
    if contact.terminal:
        return f"contact is {contact.state.value}"
    if item.notify.purpose.startswith("ringround.") and not contact.wants(item.key):
        return "superseded: a later text or call of the same kind replaced it"
    return None

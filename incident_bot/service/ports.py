"""Ports: what the service layer needs from the outside world, as Protocols.

Adapters implement these (``adapters/db`` the unit of work and repositories, ``adapters/slack``
the chat port, ``adapters/twilio`` sms and voice, ``adapters/templates`` the renderer); tests use
the recording fakes in ``tests/fakes.py``. Nothing here imports a vendor library.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from types import TracebackType
from typing import Any, Protocol, TypedDict

from incident_bot.domain.directory import Person
from incident_bot.domain.effects import Notify, RecordDecision, ScheduleTimer
from incident_bot.domain.incident.model import Incident


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


# ---- persistence ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UpsertReport:
    added: int
    updated: int
    unchanged: int


class DirectoryRepository(Protocol):
    def upsert(self, people: Iterable[Person]) -> UpsertReport: ...
    def get(self, key: str) -> Person | None: ...
    def all(self) -> list[Person]: ...
    def by_slack_user(self, slack_user_id: str) -> Person | None: ...
    def by_phone(self, e164: str) -> list[Person]: ...
    def erase(self, key: str) -> bool: ...


@dataclass
class IncidentRecord:
    """An incident as stored: the aggregate (decoded once, on first use) and its row's columns.
    ``stored`` is the stored form itself, for the export (which hands it out whole); nothing
    reads its keys."""

    id: str
    playbook_id: str
    status: str
    stored: dict[str, Any] = field(repr=False)
    version: int  # optimistic-concurrency counter, bumped on every save
    created_at: datetime
    updated_at: datetime

    @cached_property
    def incident(self) -> Incident:
        return Incident.from_dict(self.stored)


class IncidentRepository(Protocol):
    def add(self, incident: Incident, now: datetime) -> None: ...
    def get_for_update(self, incident_id: str) -> IncidentRecord:
        """Load and lock the row for the rest of the transaction (NotFoundError if absent)."""
        ...
    def get(self, incident_id: str) -> IncidentRecord: ...
    def version(self, incident_id: str) -> int:
        """The stored version alone (NotFoundError if absent)."""
        ...
    def save(self, incident: Incident, now: datetime) -> None: ...
    def all(self, statuses: Sequence[str] | None = None) -> list[IncidentRecord]: ...
    def versions(self, statuses: Sequence[str] | None = None) -> dict[str, int]:
        """Each incident's id and version, oldest first, without loading documents."""
        ...


@dataclass(frozen=True)
class DecisionEntry:
    incident_id: str
    seq: int  # 1, 2, 3 ... without gaps per incident
    kind: str
    decision: str
    rationale: str
    decided_by: str
    recorded_by: str
    decided_at: datetime
    recorded_at: datetime
    options_rejected: str
    refers_to: int | None
    prev_hash: str
    hash: str


class DecisionLogRepository(Protocol):
    def append(self, incident_id: str, entry: RecordDecision, now: datetime) -> DecisionEntry:
        """Number the entry (last seq + 1) and chain its hash to the previous entry's."""
        ...
    def entries(self, incident_id: str) -> list[DecisionEntry]: ...


@dataclass(frozen=True)
class DueTimer:
    id: int
    key: str
    incident_id: str
    kind: str
    payload: dict[str, str | int]
    due_at: datetime
    attempts: int


class TimerRepository(Protocol):
    def schedule(self, incident_id: str, timer: ScheduleTimer) -> bool:
        """Insert unless a timer with that key exists; True when inserted."""
        ...
    def claim_due(self, now: datetime, limit: int, lease_seconds: float,
                  worker: str) -> list[DueTimer]:
        """Lease up to ``limit`` due, unfired timers (SKIP LOCKED on PostgreSQL)."""
        ...
    def schedule_all(self, incident_id: str, timers: Sequence[ScheduleTimer]) -> None:
        """``schedule`` for many, in one statement."""
        ...
    def mark_fired(self, timer_id: int, now: datetime) -> None: ...
    def release(self, timer_id: int, error: str, retry_at: datetime) -> None: ...
    def pending(self, incident_id: str | None = None) -> list[DueTimer]: ...
    def of_incident(self, incident_id: str) -> list[dict[str, Any]]:
        """Every timer of the incident, whatever its status (for an export)."""
        ...


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    incident_id: str
    notify: Notify
    status: str  # pending, sending, sent, failed, cancelled
    attempts: int
    provider_id: str | None
    next_attempt_at: datetime
    created_at: datetime | None = None


class OutboxRepository(Protocol):
    def add(self, incident_id: str, notify: Notify, now: datetime) -> bool:
        """Insert unless the key exists; True when inserted."""
        ...
    def claim(self, now: datetime, limit: int, lease_seconds: float, worker: str,
              channels: Collection[str] | None = None) -> list[OutboxItem]:
        """Lease up to ``limit`` sendable items, lowest priority number first (only on
        ``channels`` when given: the dispatcher paces SMS and voice separately)."""
        ...
    def mark_sent(self, item_id: int, provider_id: str | None, status: str,
                  now: datetime) -> None: ...
    def adopt_provider_id(self, item_id: int, provider_id: str) -> bool:
        """Record the provider's id for an item whose sender has not recorded one yet (its
        status callback came first); True when the item now holds ``provider_id``."""
        ...
    def mark_retry(self, item_id: int, error: str, retry_at: datetime) -> None: ...
    def mark_failed(self, item_id: int, error: str, now: datetime) -> None: ...
    def add_all(self, incident_id: str, notices: Sequence[Notify], now: datetime) -> None:
        """``add`` for many, in one statement."""
        ...
    def defer(self, item_id: int, until: datetime) -> None:
        """Put a claimed item back, untried, to be sent from ``until`` (not an attempt)."""
        ...
    def mark_cancelled(self, item_id: int, reason: str, now: datetime) -> None:
        """Never send this item (e.g. the contact opted out while it waited)."""
        ...
    def by_provider_id(self, provider_id: str) -> OutboxItem | None: ...
    def get(self, item_id: int) -> OutboxItem | None: ...
    def latest_to(self, recipient: str, channel: str) -> OutboxItem | None:
        """The most recently created item for that recipient on that channel."""
        ...
    def fold_post(self, incident_id: str, purpose: str, fold: str) -> str | None:
        """The Slack ts of the message a fold's posts update (its first sent item), if any."""
        ...
    def fold_newest(self, incident_id: str, purpose: str, fold: str) -> int | None:
        """The id of the fold's newest item still to send (pending or being sent)."""
        ...
    def record_status(self, item_id: int, status: str, error_code: str | None,
                      now: datetime) -> None: ...
    def items(self, incident_id: str | None = None) -> list[OutboxItem]: ...
    def history(self, item_id: int) -> list[tuple[str, str | None, datetime]]:
        """The statuses recorded for an item, oldest first: (status, error_code, at)."""
        ...


class PaceRepository(Protocol):
    """The pool-wide send pace per phone channel (see ``service/pacing.py``)."""

    def take(self, channel: str, wanted: int, rate: float, burst_seconds: float,
             now: datetime) -> int: ...
    def give_back(self, channel: str, unused: int, rate: float, now: datetime) -> None: ...


class AuditEntry(TypedDict):
    at: datetime
    actor: str  # person key, "system", or the CLI user
    action: str
    outcome: str  # e.g. "refused", "viewed", "erased"
    detail: str  # never a phone number


class AuditRepository(Protocol):
    """Refused actions and access to personal data."""

    def record(self, *, at: datetime, actor: str, action: str, outcome: str,
               detail: str = "") -> None: ...
    def entries(self, since: datetime | None = None) -> list[AuditEntry]: ...


class UnitOfWork(Protocol):
    """One database transaction. ``with uow:`` begins; ``commit()`` commits; leaving the block
    without commit rolls back."""

    directory: DirectoryRepository
    incidents: IncidentRepository
    decisions: DecisionLogRepository
    timers: TimerRepository
    outbox: OutboxRepository
    audit: AuditRepository
    pace: PaceRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


# ---- outside world -----------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    provider_id: str | None  # Slack ts, Twilio SID
    status: str  # provider's initial status, e.g. "queued", "sent", "posted"


class ChatPort(Protocol):
    def send(self, notify: Notify, incident_id: str, address: str | None) -> SendResult:
        """Post to the incident channel or a person's DM. ``address`` is the Slack channel id or
        user id the dispatcher resolved (None when there is none yet, e.g. no incident channel in
        an offline exercise). Raises ProviderError subclasses."""
        ...
    def find_posted(self, notify: Notify, incident_id: str,
                    address: str | None) -> SendResult | None:
        """The post of this outbox item if an earlier attempt made it after all (a timeout or
        5xx after Slack accepted it), so a retry does not post it twice."""
        ...


class SmsPort(Protocol):
    def send(self, notify: Notify, to_e164: str, status_callback_id: str) -> SendResult: ...
    def find_sent(self, to_e164: str, body: str, since: datetime) -> SendResult | None:
        """After an uncertain failure: was this message already accepted by the provider?"""
        ...


class VoicePort(Protocol):
    def call(self, notify: Notify, to_e164: str, callback_id: str) -> SendResult: ...
    def find_placed(self, to_e164: str, callback_id: str, since: datetime) -> SendResult | None:
        """After an uncertain failure: was this call (our callback id) already placed?"""
        ...


class TemplateRenderer(Protocol):
    def render(self, template: str, language: str, variables: Mapping[str, str]) -> str: ...
    def languages(self, template: str) -> list[str]: ...

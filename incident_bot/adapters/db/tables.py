"""The tables. The incident aggregate is one JSON document per row; everything that needs a
uniqueness guarantee or a claim by a worker (timers, outbox, decision log) has its own table.

Text columns are unbounded ``String``: PostgreSQL enforces ``VARCHAR(n)`` and SQLite does not, and
a key that is too long must not fail on one backend only. Statuses are our own short words and
are checked by the database. JSON is the generic ``JSON`` type (``json`` on PostgreSQL, text on
SQLite): unlike ``jsonb`` it keeps the document's key order, which the domain may rely on.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from incident_bot.adapters.db.types import UtcDateTime

TIMER_STATUSES = ("pending", "leased", "fired", "failed")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


# Named constraints, so a later migration can drop or alter them by name on either backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime, str: String(), dict[str, Any]: JSON, list[str]: JSON,
    }


class PersonRow(Base):
    __tablename__ = "person"

    key: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    organisation: Mapped[str] = mapped_column(default="")
    roles: Mapped[list[str]] = mapped_column(default=list)
    tier: Mapped[int | None]
    slack_user_id: Mapped[str | None] = mapped_column(index=True)
    phone: Mapped[str | None] = mapped_column(index=True)  # E.164; never logged
    language: Mapped[str] = mapped_column(default="en")
    channels: Mapped[list[str]] = mapped_column(default=list)
    deputy: Mapped[str | None]
    verified_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime]


class IncidentRow(Base):
    __tablename__ = "incident"

    id: Mapped[str] = mapped_column(primary_key=True)
    playbook_id: Mapped[str]
    status: Mapped[str] = mapped_column(index=True)
    document: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DecisionRow(Base):
    """Append-only and hash-chained (see ``domain/decision_log.py``)."""

    __tablename__ = "decision_log"
    __table_args__ = (UniqueConstraint("incident_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id"))
    seq: Mapped[int]
    kind: Mapped[str]
    decision: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(default="")
    recorded_by: Mapped[str] = mapped_column(default="")
    decided_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    options_rejected: Mapped[str] = mapped_column(Text, default="")
    refers_to: Mapped[int | None]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class TimerRow(Base):
    __tablename__ = "scheduled_action"
    __table_args__ = (
        Index("ix_scheduled_action_claim", "status", "due_at"),  # the poller's query
        _one_of("status", TIMER_STATUSES, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(unique=True)
    incident_id: Mapped[str] = mapped_column(index=True)
    kind: Mapped[str]
    payload: Mapped[dict[str, Any]]
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    worker: Mapped[str | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    fired_at: Mapped[datetime | None]


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_claim", "status", "priority", "next_attempt_at"),  # the dispatcher's
        Index("ix_outbox_recipient", "recipient", "channel"),
        _one_of("status", OUTBOX_STATUSES, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(unique=True)
    incident_id: Mapped[str] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str]  # a person key or "incident", never a phone number
    purpose: Mapped[str]
    message_version: Mapped[str | None]
    language: Mapped[str] = mapped_column(default="en")
    priority: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    notify: Mapped[dict[str, Any]]  # the whole Notify, to rebuild it
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    worker: Mapped[str | None]
    provider_id: Mapped[str | None] = mapped_column(index=True)
    provider_status: Mapped[str | None]
    error_code: Mapped[str | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class DeliveryEventRow(Base):
    """Every status the provider reported for an outbox row, in order."""

    __tablename__ = "delivery_event"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    status: Mapped[str]
    error_code: Mapped[str | None]
    at: Mapped[datetime]


class PaceRow(Base):
    """The send pace of one phone channel, shared by every replica: the GCRA's theoretical
    arrival time (when the next send would be on schedule). See ``adapters/db/pace.py``."""

    __tablename__ = "send_pace"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    tat: Mapped[datetime]


class AuditRow(Base):
    """Refused actions and access to personal data."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str]
    action: Mapped[str]
    outcome: Mapped[str]
    detail: Mapped[str] = mapped_column(Text, default="")

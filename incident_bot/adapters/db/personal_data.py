"""Erasing and purging personal data in the delivery tables (``outbox``, ``delivery_event``)
and the audit trail. The service layer (``service/personal_data.py``) decides what to erase;
this module only knows the columns.

An erased outbox row keeps its key, channel, purpose, status and times (the record that a
message went, which the decision log may refer to) but loses its body, the body inside its
``notify`` JSON, the provider's id and status, error details and its delivery events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, delete, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from incident_bot.adapters.db.tables import AuditRow, DeliveryEventRow, OutboxRow
from incident_bot.service.personal_data import (
    ERASED,
    ErasedCounts,
    json_forms,
    scrub_json,
    scrub_text,
)

UNSENT = ("pending", "sending")


class SqlPersonalData:
    def __init__(self, session: Session) -> None:
        self._session = session

    def erase_deliveries_to(self, recipient: str) -> ErasedCounts:
        """Erase every delivery addressed to ``recipient``; cancel the ones not yet sent."""
        return self._erase(OutboxRow.recipient == recipient, cancel_unsent=True)

    def erase_deliveries_of(self, incident_ids: Sequence[str]) -> ErasedCounts:
        """Erase every delivery of these (closed) incidents."""
        if not incident_ids:
            return ErasedCounts()
        return self._erase(OutboxRow.incident_id.in_(list(incident_ids)), cancel_unsent=True)

    def scrub_deliveries_mentioning(self, texts: Sequence[str]) -> int:
        """Replace each of ``texts`` (a name, a phone number) inside any other delivery's body
        and stored message (its render data too) with ``[erased]``: a channel post or a
        caller's list may name the person. Returns rows changed."""
        if not texts:
            return 0
        changed = 0
        which = or_(_mentions(OutboxRow.body, texts),
                    _mentions(cast(OutboxRow.notify, Text), json_forms(texts)))
        for row in self._session.scalars(select(OutboxRow).where(which)):
            row.body = scrub_text(row.body, texts)
            row.notify = scrub_json(row.notify, texts)
            flag_modified(row, "notify")
            changed += 1
        self._session.flush()
        return changed

    def scrub_audit_mentioning(self, texts: Sequence[str]) -> int:
        """Replace each of ``texts`` in audit details with ``[erased]``; rows changed."""
        if not texts:
            return 0
        changed = 0
        for row in self._session.scalars(select(AuditRow).where(_mentions(AuditRow.detail,
                                                                            texts))):
            row.detail = scrub_text(row.detail, texts)
            changed += 1
        self._session.flush()
        return changed

    def _erase(self, which: ColumnElement[bool], cancel_unsent: bool) -> ErasedCounts:
        rows = list(self._session.scalars(select(OutboxRow).where(which)))
        ids = [row.id for row in rows]
        for row in rows:
            _erase_row(row, cancel_unsent)
        events = 0
        for start in range(0, len(ids), 500):  # keep each IN (...) list short
            result: Any = self._session.execute(delete(DeliveryEventRow).where(
                DeliveryEventRow.outbox_id.in_(ids[start:start + 500])))
            events += int(result.rowcount or 0)
        self._session.flush()
        return ErasedCounts(deliveries=len(rows), delivery_events=events)


def _erase_row(row: OutboxRow, cancel_unsent: bool) -> None:
    row.body = ERASED
    row.notify = {**row.notify, "body": ERASED, "data": {}, "reply_code": None}
    flag_modified(row, "notify")
    row.provider_id = row.provider_status = row.error_code = None
    row.last_error = ERASED if row.last_error else None
    if cancel_unsent and row.status in UNSENT:
        row.status, row.lease_until = "cancelled", None


def _mentions(column: Any, texts: Sequence[str]) -> ColumnElement[bool]:
    return or_(*(column.contains(text, autoescape=True) for text in texts))

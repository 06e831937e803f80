"""Personal data on request and by retention policy.

- ``erase_person``: a data-protection erasure. The person's directory row goes; every copy of
  their name, phone number and Slack id in incident documents (open or closed), every delivery
  addressed to them (body, ``notify`` JSON, provider id and status, delivery events) and any
  mention of their name or number in other deliveries or audit details becomes ``[erased]``.
  Deliveries to them not yet sent are cancelled.
- ``purge_closed``: the retention policy. For incidents closed before a date, every person in
  the incident document is reduced to their key and roles, and every delivery of the incident
  is erased as above.

Both keep the decision log untouched (it is hash-chained: rewriting an entry would break
``incident-bot log verify``, and it is the record of what was decided and why) and leave one
audit line with counts only: a person appears there as a hash of their key, never a name or a
number. Person keys stay in incident documents and delivery rows as references; give people a
non-identifying ``id`` in the directory file so that keys carry no names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from incident_bot.errors import NotFoundError
from incident_bot.service.ports import IncidentRecord, UnitOfWork

ERASED = "[erased]"
MIN_SCRUB_LENGTH = 4  # shorter values are not searched for in free text (they'd hit words)
CLOSED = "closed"
IDENTIFYING_FIELDS = ("name", "phone", "slack_user_id")


@dataclass(frozen=True)
class ErasedCounts:
    deliveries: int = 0  # outbox rows erased
    delivery_events: int = 0  # provider status reports deleted


class PersonalDataStore(Protocol):
    def erase_deliveries_to(self, recipient: str) -> ErasedCounts: ...
    def erase_deliveries_of(self, incident_ids: Sequence[str]) -> ErasedCounts: ...
    def scrub_deliveries_mentioning(self, texts: Sequence[str]) -> int: ...
    def scrub_audit_mentioning(self, texts: Sequence[str]) -> int: ...


class PersonalDataUnitOfWork(UnitOfWork, Protocol):
    personal_data: PersonalDataStore


@dataclass(frozen=True)
class ErasureReport:
    person: str  # the hash of the key, as in the audit line
    deputy_of: int  # people who no longer have them as deputy
    incidents: int  # incident documents changed
    deliveries: int
    delivery_events: int
    mentions: int  # other deliveries and audit lines where their name or number was found

    def summary(self) -> str:
        return (f"person {self.person}: incidents {self.incidents}, deliveries "
                f"{self.deliveries}, delivery events {self.delivery_events}, other mentions "
                f"{self.mentions}, deputy of {self.deputy_of}")


@dataclass(frozen=True)
class PurgeReport:
    closed_before: datetime
    incidents: int  # closed before the date (purged now or already)
    people: int  # people whose details were removed from incident documents now
    deliveries: int
    delivery_events: int

    def summary(self) -> str:
        return (f"incidents closed before {self.closed_before:%Y-%m-%d}: {self.incidents}; "
                f"people removed {self.people}, deliveries erased {self.deliveries}, "
                f"delivery events deleted {self.delivery_events}; decision logs kept")


def person_hash(key: str) -> str:
    """A stable pseudonym for audit lines: enough to match two lines, not to read a name."""
    return hashlib.sha256(f"incident-bot person {key}".encode()).hexdigest()[:16]


# ---- erasure on request ----------------------------------------------------------------------


def erase_person(uow: PersonalDataUnitOfWork, key: str, now: datetime,
                 actor: str) -> ErasureReport:
    """Erase ``key`` everywhere (see the module docstring), in the caller's transaction.

    Raises NotFoundError when neither the directory nor any incident knows the key."""
    person = uow.directory.get(key)
    holding = [record for record in uow.incidents.all() if _holds(record.document, key)]
    if person is None and not holding:
        raise NotFoundError(f"no person with key '{key}' in the directory or any incident")
    texts = _identifying_texts(
        [{"name": person.name, "phone": person.phone, "slack_user_id": person.slack_user_id}]
        if person else [], [_person_in(record.document, key) for record in holding])
    deputy_of = _erase_from_directory(uow, key) if person else 0
    for record in holding:
        _rewrite(uow, record.id, now, lambda doc: _erase_in_document(doc, key, texts))
    erased = uow.personal_data.erase_deliveries_to(key)
    mentions = (uow.personal_data.scrub_deliveries_mentioning(texts)
                + uow.personal_data.scrub_audit_mentioning(texts)) if texts else 0
    report = ErasureReport(person_hash(key), deputy_of, len(holding), erased.deliveries,
                           erased.delivery_events, mentions)
    uow.audit.record(at=now, actor=actor, action="directory.erase", outcome="erased",
                     detail=report.summary())
    return report


def _erase_from_directory(uow: UnitOfWork, key: str) -> int:
    uow.directory.erase(key)
    deputies_of = [p for p in uow.directory.all() if p.deputy == key]
    uow.directory.upsert(replace(p, deputy=None) for p in deputies_of)
    return len(deputies_of)


def _holds(document: dict[str, Any], key: str) -> bool:
    return _person_in(document, key) is not None


def _person_in(document: dict[str, Any], key: str) -> dict[str, Any] | None:
    people = document.get("people")
    if not isinstance(people, list):
        return None
    return next((p for p in people if isinstance(p, dict) and p.get("key") == key), None)


def _erase_in_document(document: dict[str, Any], key: str, texts: Sequence[str]) -> int:
    person = _person_in(document, key)
    if person is not None:
        _blank(person)
    _scrub_strings(document, texts)
    return 1


# ---- retention --------------------------------------------------------------------------------


def purge_closed(uow: PersonalDataUnitOfWork, closed_before: datetime, now: datetime,
                 actor: str) -> PurgeReport:
    """Remove personal data of incidents closed before ``closed_before`` (aware UTC)."""
    chosen = [record for record in uow.incidents.all([CLOSED])
              if closed_at(record) < closed_before]
    people = 0
    for record in chosen:
        people += _rewrite(uow, record.id, now, _purge_document)
    erased = uow.personal_data.erase_deliveries_of([record.id for record in chosen])
    report = PurgeReport(closed_before, len(chosen), people, erased.deliveries,
                         erased.delivery_events)
    uow.audit.record(at=now, actor=actor, action="personal_data.purge", outcome="purged",
                     detail=report.summary())
    return report


def closed_at(record: IncidentRecord) -> datetime:
    """When the incident was closed: its last ``closed`` history entry (else last update)."""
    history = record.document.get("history")
    closes = [h["at"] for h in history if isinstance(h, dict) and h.get("status") == CLOSED] \
        if isinstance(history, list) else []
    return datetime.fromisoformat(closes[-1]) if closes else record.updated_at


def _purge_document(document: dict[str, Any]) -> int:
    people = [p for p in document.get("people") or [] if isinstance(p, dict)]
    fresh = [p for p in people if any(p.get(f) not in (None, "", ERASED)
                                      for f in IDENTIFYING_FIELDS)]
    texts = _identifying_texts([], people)
    for person in people:
        _blank(person)
    _scrub_strings(document, texts)
    return len(fresh)


# ---- shared ------------------------------------------------------------------------------------


def _rewrite(uow: UnitOfWork, incident_id: str, now: datetime,
             change: Callable[[dict[str, Any]], int]) -> int:
    """Lock the incident, let ``change`` edit its document in place, save; change's result."""
    record = uow.incidents.get_for_update(incident_id)
    document = record.document
    result = change(document)
    uow.incidents.save(incident_id, record.status, document, now)
    return result


def _blank(person: dict[str, Any]) -> None:
    person.update(name=ERASED, organisation="", phone=None, slack_user_id=None,
                  verified_on=None, deputy=None)


def _identifying_texts(*groups: Iterable[dict[str, Any] | None]) -> list[str]:
    found = {str(person[f]) for group in groups for person in group if person
             for f in IDENTIFYING_FIELDS
             if isinstance(person.get(f), str) and person[f] != ERASED}
    return sorted((t for t in found if len(t.strip()) >= MIN_SCRUB_LENGTH),
                           key=lambda t: (-len(t), t))


def _scrub_strings(value: Any, texts: Sequence[str]) -> Any:
    """Replace every occurrence of ``texts`` in every string inside ``value``, in place."""
    if isinstance(value, dict):
        for name, item in value.items():
            value[name] = _scrub_strings(item, texts)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = _scrub_strings(item, texts)
    elif isinstance(value, str):
        value = scrub_text(value, texts)
    return value


def scrub_text(value: str, texts: Sequence[str]) -> str:
    """``value`` with each of ``texts`` replaced by ``[erased]`` where it stands as a whole
    (so erasing "Ann Lee" leaves "Ann Leeson" alone)."""
    for text in texts:
        if text in value:
            value = re.sub(rf"(?<!\w){re.escape(text)}(?!\w)", ERASED, value)
    return value

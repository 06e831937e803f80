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
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from incident_bot.domain.directory import Person
from incident_bot.domain.incident.model import Incident
from incident_bot.errors import NotFoundError
from incident_bot.service.ports import IncidentRecord, UnitOfWork

ERASED = "[erased]"
MIN_SCRUB_LENGTH = 4  # shorter values are not searched for in free text (they'd hit words)
CLOSED = "closed"


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
    holding = [record for record in uow.incidents.all() if key in record.incident.people]
    if person is None and not holding:
        raise NotFoundError(f"no person with key '{key}' in the directory or any incident")
    texts = _identifying_texts([person] if person else [],
                               [record.incident.people[key] for record in holding])
    deputy_of = _erase_from_directory(uow, key) if person else 0
    for record in holding:
        _rewrite(uow, record.id, now, lambda incident: _erase_in_incident(incident, key, texts))
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


def _erase_in_incident(incident: Incident, key: str,
                       texts: Sequence[str]) -> tuple[int, Sequence[str]]:
    incident.people[key] = _blank(incident.people[key])
    return 1, texts


# ---- retention --------------------------------------------------------------------------------


def purge_closed(uow: PersonalDataUnitOfWork, closed_before: datetime, now: datetime,
                 actor: str) -> PurgeReport:
    """Remove personal data of incidents closed before ``closed_before`` (aware UTC)."""
    chosen = [record for record in uow.incidents.all([CLOSED])
              if closed_at(record) < closed_before]
    people = 0
    for record in chosen:
        people += _rewrite(uow, record.id, now, _purge_incident)
    erased = uow.personal_data.erase_deliveries_of([record.id for record in chosen])
    report = PurgeReport(closed_before, len(chosen), people, erased.deliveries,
                         erased.delivery_events)
    uow.audit.record(at=now, actor=actor, action="personal_data.purge", outcome="purged",
                     detail=report.summary())
    return report


def closed_at(record: IncidentRecord) -> datetime:
    """When the incident was closed: its last ``closed`` history entry (else last update)."""
    closes = [h.at for h in record.incident.history if h.status.value == CLOSED]
    return closes[-1] if closes else record.updated_at


def _purge_incident(incident: Incident) -> tuple[int, Sequence[str]]:
    people = list(incident.people.values())
    fresh = [p for p in people if any(v not in (None, "", ERASED) for v in _identifying(p))]
    incident.people = {p.key: _blank(p) for p in people}
    return len(fresh), _identifying_texts(people)


# ---- shared ------------------------------------------------------------------------------------


def _rewrite(uow: UnitOfWork, incident_id: str, now: datetime,
             change: Callable[[Incident], tuple[int, Sequence[str]]]) -> int:
    """Lock the incident, let ``change`` blank people in it (it returns a count and the texts
    that identified them), replace those texts in every string the incident holds, save;
    return the count."""
    incident = uow.incidents.get_for_update(incident_id).incident
    result, texts = change(incident)
    uow.incidents.save(_scrubbed(incident, texts), now)
    return result


def _scrubbed(incident: Incident, texts: Sequence[str]) -> Incident:
    """``incident`` with ``texts`` replaced in every string it holds (names typed into a
    decision, a feedback post, a message), read and written in its stored form."""
    return Incident.from_dict(_scrub_strings(incident.to_dict(), texts))


def _blank(person: Person) -> Person:
    return replace(person, name=ERASED, organisation="", phone=None, slack_user_id=None,
                   verified_on=None, deputy=None)


def _identifying(person: Person) -> tuple[str | None, ...]:
    return person.name, person.phone, person.slack_user_id


def _identifying_texts(*groups: Iterable[Person]) -> list[str]:
    found = {value for group in groups for person in group for value in _identifying(person)
             if isinstance(value, str) and value != ERASED}
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


def scrub_json(value: Any, texts: Sequence[str]) -> Any:
    """A JSON document with :func:`scrub_text` applied to every string in it."""
    if isinstance(value, dict):
        return {key: scrub_json(item, texts) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub_json(item, texts) for item in value]
    return scrub_text(value, texts) if isinstance(value, str) else value


def json_forms(texts: Sequence[str]) -> list[str]:
    """Each text as it appears inside JSON stored as text (non-ASCII escaped) and as is."""
    return sorted({form for text in texts for form in (text, json.dumps(text)[1:-1])})


# ---- one transaction each, for the edges ------------------------------------------------------


def erase_and_commit(uow_factory: Callable[[], PersonalDataUnitOfWork], key: str,
                     now: datetime, actor: str) -> ErasureReport:
    """``erase_person`` in a unit of work of its own, committed."""
    uow = uow_factory()
    with uow:
        report = erase_person(uow, key, now, actor)
        uow.commit()
    return report


def purge_and_commit(uow_factory: Callable[[], PersonalDataUnitOfWork],
                     closed_before: datetime, now: datetime, actor: str) -> PurgeReport:
    """``purge_closed`` in a unit of work of its own, committed."""
    uow = uow_factory()
    with uow:
        report = purge_closed(uow, closed_before, now, actor)
        uow.commit()
    return report

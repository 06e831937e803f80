"""Key messages: immutable versions, approval, embargo, release, translations (domain.md §5).
Standard library only.

A message's versions are numbered from 1 (the drafts rendered from the playbook's templates at
start). A version never changes once written, except that a translation may be added to the
*latest* version while it is a draft (translating an approved version makes a new draft); a
version also records whom it was sent to for approval
(:mod:`incident_bot.domain.incident.approvals`). A version is approved when every approver role
in the playbook has approved it; approving a version supersedes every earlier one. Under the
playbook's two-person rule an author of a version (:func:`authors`) is never its only approver. Only
the current approved version (approved, not superseded, not withdrawn) is ever used, and only in the
languages it has: a translation of an older version is stale and :func:`text_for` never returns it.

Every use is labelled ``<id>@v<n>/<lang>`` (:func:`label`) so that deliveries and briefings
record exactly which words were used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from incident_bot.domain.briefing import Clocks
from incident_bot.domain.playbook import Audience, BriefingStep, KeyMessage, Playbook
from incident_bot.domain.serial import from_iso, hhmm, iso
from incident_bot.errors import NotAuthorised, RefusedError, TransitionRefused

SOURCE_LANGUAGE = "en"
DRAFTED_FROM_TEMPLATES = "templates"  # drafted_by of version 1


class VersionStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RELEASED = "released"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


USABLE = frozenset({VersionStatus.APPROVED, VersionStatus.RELEASED})


def label(message_id: str, number: int, language: str) -> str:
    return f"{message_id}@v{number}/{language}"


@dataclass
class Approval:
    role: str
    by: str
    at: datetime


@dataclass
class Version:
    number: int
    texts: dict[str, str]  # language → text
    drafted_by: str
    drafted_at: datetime
    approvals: list[Approval] = field(default_factory=list)
    approved_at: datetime | None = None
    superseded_at: datetime | None = None
    released_at: datetime | None = None
    released_by: str | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdraw_reason: str = ""
    added_languages: dict[str, str] = field(default_factory=dict)  # translation → who added it
    asked: list[str] = field(default_factory=list)  # who was sent a request to approve it
    round_flagged: bool = False  # a red flag said a held ring-round waits on it

    @property
    def status(self) -> VersionStatus:
        if self.withdrawn_at:
            return VersionStatus.WITHDRAWN
        if self.superseded_at:
            return VersionStatus.SUPERSEDED
        if self.released_at:
            return VersionStatus.RELEASED
        return VersionStatus.APPROVED if self.approved_at else VersionStatus.DRAFT

    def approved_roles(self) -> list[str]:
        return [a.role for a in self.approvals]

    def to_dict(self) -> dict[str, Any]:
        times = ("drafted_at", "approved_at", "superseded_at", "released_at", "withdrawn_at")
        return {**asdict(self), **{name: iso(getattr(self, name)) for name in times},
                "approvals": [{"role": a.role, "by": a.by, "at": iso(a.at)}
                              for a in self.approvals]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Version:
        times = ("approved_at", "superseded_at", "released_at", "withdrawn_at")
        return cls(**{**d, **{name: from_iso(d[name]) for name in times},
                      "drafted_at": datetime.fromisoformat(d["drafted_at"]),
                      "texts": dict(d["texts"]), "added_languages": dict(d["added_languages"]),
                      "asked": list(d.get("asked", ())),
                      "approvals": [Approval(a["role"], a["by"], datetime.fromisoformat(a["at"]))
                                    for a in d["approvals"]]})


@dataclass
class MessageState:
    id: str
    versions: list[Version] = field(default_factory=list)

    def version(self, number: int) -> Version:
        if not 1 <= number <= len(self.versions):
            raise RefusedError(f"message {self.id} has no version {number} "
                               f"(versions 1 to {len(self.versions)})")
        return self.versions[number - 1]

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    @property
    def current(self) -> Version | None:
        """The approved version in use: approved, not superseded, not withdrawn."""
        return next((v for v in reversed(self.versions) if v.status in USABLE), None)


@dataclass
class MessageBook:
    messages: dict[str, MessageState] = field(default_factory=dict)

    def get(self, message_id: str) -> MessageState:
        if message_id not in self.messages:
            known = ", ".join(self.messages) or "none"
            raise RefusedError(f"no key message {message_id!r} in this incident "
                               f"(messages: {known})")
        return self.messages[message_id]

    def to_dict(self) -> dict[str, Any]:
        return {"messages": [{"id": m.id, "versions": [v.to_dict() for v in m.versions]}
                             for m in self.messages.values()]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MessageBook:
        return cls({m["id"]: MessageState(m["id"], [Version.from_dict(v) for v in m["versions"]])
                    for m in d["messages"]})


# ---- drafting -----------------------------------------------------------------------------


def from_drafts(playbook: Playbook, drafts: Mapping[tuple[str, str], str],
                now: datetime) -> MessageBook:
    """Version 1 of every key message, from the templates the service rendered."""
    book = MessageBook({m.id: MessageState(m.id) for m in playbook.messages})
    for message in playbook.messages:
        texts = {lang: drafts[(message.id, lang)] for lang in message.languages
                 if (message.id, lang) in drafts}
        if texts:
            book.messages[message.id].versions.append(
                Version(1, texts, DRAFTED_FROM_TEMPLATES, now))
    return book


def draft(book: MessageBook, message: KeyMessage, texts: Mapping[str, str], by: str,
          now: datetime) -> Version:
    """A new version ``v(n+1)``; it must have English and only the message's languages."""
    state = book.get(message.id)
    _check_texts(message, texts)
    version = Version(len(state.versions) + 1, {k: v.strip() for k, v in texts.items()}, by, now)
    state.versions.append(version)
    return version


def _check_texts(message: KeyMessage, texts: Mapping[str, str]) -> None:
    if not texts.get(SOURCE_LANGUAGE, "").strip():
        raise RefusedError(f"can't draft message {message.id} without English text: "
                           "every version starts from the English")
    unknown = [lang for lang in texts if lang not in message.languages]
    if unknown:
        raise RefusedError(f"can't draft message {message.id} in {', '.join(unknown)}: its "
                           f"languages are {', '.join(message.languages)}")
    blank = [lang for lang, text in texts.items() if not text.strip()]
    if blank:
        raise RefusedError(f"can't draft message {message.id}: the {', '.join(blank)} text "
                           "is empty")


def add_translation(book: MessageBook, message: KeyMessage, number: int, language: str,
                    text: str, by: str, now: datetime) -> Version | None:
    """Add ``language`` to the latest version; None when it has exactly that text already.

    A draft gains the language. An approved or released version never does: what its approvers
    approved stays what goes out, so the translation makes a new version ``v(n+1)`` (its text
    and the new language, drafted by the translator) that waits for approval like any draft,
    while ``v(n)`` stays in use. Returns the version that now holds the translation."""
    state = book.get(message.id)
    version = state.version(number)
    subject = f"message {message.id} v{number}"
    if language not in message.languages:
        raise RefusedError(f"can't translate {subject} into {language!r}: its languages are "
                           f"{', '.join(message.languages)}")
    if not text.strip():
        raise RefusedError(f"can't add an empty {language} translation to {subject}")
    if version.texts.get(language) == text.strip():
        return None
    latest = state.latest
    if latest is not None and latest.number != number:
        raise RefusedError(f"can't translate {subject}: v{latest.number} exists, so a "
                           f"translation of v{number} would be stale; translate v{latest.number}")
    if version.status not in (VersionStatus.DRAFT, *USABLE):
        raise TransitionRefused("translate", version.status.value, subject)
    if language in version.texts:
        raise RefusedError(f"can't replace the {language} text of {subject}: versions never "
                           "change; draft a new version instead")
    if version.status is not VersionStatus.DRAFT:
        version = Version(number + 1, dict(version.texts), by, now)
        state.versions.append(version)
    version.texts[language] = text.strip()
    version.added_languages[language] = by
    return version


# ---- approval -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Approved:
    changed: bool  # False for a repeat
    complete: bool  # every approver role has now approved
    superseded: tuple[int, ...]  # versions this approval superseded
    awaiting: tuple[str, ...]  # approver roles still to approve


@dataclass(frozen=True)
class Approver:
    """Someone holding one or more of a message's approver roles (``roles``: those ones)."""

    key: str
    name: str
    roles: tuple[str, ...]


def approve(book: MessageBook, message: KeyMessage, number: int, roles: Sequence[str],
            by: str, now: datetime, *, two_person: bool = False,
            approvers: Sequence[Approver] = ()) -> Approved:
    """``by`` approves for each approver role they hold (``roles``). Under the two-person rule
    the approval that would complete a version is refused when every approval on it is by one
    of its :func:`authors`; ``approvers`` are whom the refusal names instead."""
    state = book.get(message.id)
    version = state.version(number)
    subject = f"message {message.id} v{number}"
    mine = [role for role in roles if role in message.approvers]
    if not mine:
        raise NotAuthorised(f"approve {subject}", message.approvers)
    if version.status in (VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN):
        raise TransitionRefused("approve", version.status.value, subject)
    new = [role for role in mine if role not in version.approved_roles()]
    if two_person and _would_complete(version, message, new):
        _check_second_person(version, subject, by, new, approvers)
    version.approvals += [Approval(role, by, now) for role in new]
    awaiting = awaiting_roles(message, version)
    if not new or awaiting or version.approved_at is not None:
        return Approved(bool(new), version.approved_at is not None, (), awaiting)
    version.approved_at = now
    return Approved(True, True, _supersede_before(state, number, now), ())


def awaiting_roles(message: KeyMessage, version: Version) -> tuple[str, ...]:
    """The message's approver roles that have not approved ``version`` yet."""
    return tuple(r for r in message.approvers if r not in version.approved_roles())


def authors(version: Version) -> set[str]:
    """Who drafted the version or added a translation to it; nobody for the template drafts."""
    drafted = {version.drafted_by} - {DRAFTED_FROM_TEMPLATES}
    return drafted | set(version.added_languages.values())


def _would_complete(version: Version, message: KeyMessage, new: Sequence[str]) -> bool:
    approved = {*version.approved_roles(), *new}
    return bool(new) and version.approved_at is None and approved >= set(message.approvers)


def _check_second_person(version: Version, subject: str, by: str, new: Sequence[str],
                         approvers: Sequence[Approver]) -> None:
    wrote = authors(version)
    if not {a.by for a in version.approvals} | {by} <= wrote:
        return
    # Someone else must approve a role not yet approved, or the version could never complete.
    others = [a.name for a in approvers if a.key not in wrote and set(a.roles) & set(new)]
    ask = (f"ask {_either(others)} to approve it" if others else
           f"nobody else holds {_either(new)}: give one of those roles to someone else")
    raise RefusedError(f"can't approve {subject}: you drafted or translated it, and the "
                       f"two-person rule needs someone else to approve it too; {ask}")


def _either(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _supersede_before(state: MessageState, number: int, now: datetime) -> tuple[int, ...]:
    superseded = []
    for older in state.versions[: number - 1]:
        if older.status not in (VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN):
            older.superseded_at = now
            superseded.append(older.number)
    return tuple(superseded)


# ---- use, release and withdrawal ----------------------------------------------------------


def text_for(book: MessageBook, message_id: str, language: str) -> tuple[str, str] | None:
    """(label, text) of the current approved version in ``language``; None when there is no
    approved version or it has no text in that language (the caller decides any fallback)."""
    state = book.messages.get(message_id)
    current = state.current if state else None
    if current is None or language not in current.texts:
        return None
    return label(message_id, current.number, language), current.texts[language]


def embargo_at(message: KeyMessage, clocks: Clocks) -> datetime | None:
    return clocks.resolve(message.embargo)


def embargo_lifted(message: KeyMessage, clocks: Clocks, now: datetime,
                   compromised: bool) -> bool:
    """No embargo, or its time has passed (an unknown E0 keeps an E0 embargo on), or the
    operation is public anyway (compromised)."""
    if message.embargo is None or compromised:
        return True
    at = embargo_at(message, clocks)
    return at is not None and now >= at


def briefing_steps_for(playbook: Playbook, message_id: str) -> list[BriefingStep]:
    """The steps that brief this message's audiences: those naming it, else those whose
    audience overlaps the message's."""
    named = [s for s in playbook.briefing if s.message == message_id]
    if named:
        return named
    audiences = playbook.message(message_id).audiences
    return [s for s in playbook.briefing if _overlap(s.audience, audiences)]


def _overlap(a: Audience, b: Audience) -> bool:
    return (a.public and b.public) or bool(set(a.tiers) & set(b.tiers)) or bool(
        set(a.roles) & set(b.roles))


def release_blocker(book: MessageBook, message: KeyMessage, step_labels: Mapping[str, str],
                    embargo_ok: bool, embargo_time: datetime | None, zone: str) -> str | None:
    """Why the message cannot be released now, or None. ``step_labels`` maps each of
    :func:`briefing_steps_for`'s steps to its status label (``waiting``, ``held``, ``open``...);
    ``zone`` is the incident's, for the embargo time."""
    state = book.get(message.id)
    current = state.current
    if current is None:
        latest = state.latest
        where = f"v{latest.number} is {latest.status.value}" if latest else "nothing drafted"
        return f"can't release {message.id}: it has no approved version ({where})"
    subject = f"{message.id} v{current.number}"
    if not embargo_ok:
        return f"can't release {subject} before its embargo ({hhmm(embargo_time, zone)})"
    for step_id, status in step_labels.items():
        if status in ("waiting", "held"):
            return f"can't release {subject} while briefing step {step_id} is {status}"
    return None


def release(book: MessageBook, message: KeyMessage, by: str, now: datetime) -> Version | None:
    """Mark the current approved version released; None when it was already (a repeat).
    The orchestrator calls this only when :func:`release_blocker` found nothing."""
    current = book.get(message.id).current
    if current is None or current.released_at is not None:
        return None
    current.released_at, current.released_by = now, by
    return current


def withdraw(book: MessageBook, message: KeyMessage, reason: str, by: str,
             now: datetime) -> Version:
    """Withdraw the current approved version: nothing of this message is used until a new
    version is approved."""
    if not reason.strip():
        raise RefusedError(f"can't withdraw message {message.id} without a reason")
    current = book.get(message.id).current
    if current is None:
        raise RefusedError(f"can't withdraw message {message.id}: it has no approved version")
    current.withdrawn_at, current.withdrawn_by = now, by
    current.withdraw_reason = reason.strip()
    return current

"""How a caller works a printed or a chat list, the same in the bot's exercise and the manual
ring-round: a first pass through the list, then passes retrying voicemail and no answer, at most
``MAX_ATTEMPTS`` attempts per contact, each retry no sooner than ``RETRY_AFTER`` after the
previous attempt to that contact (domain.md §6: retry at +15 and +30 minutes). Contacts no
longer pending (reached another way, or final) are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from incident_bot.entrypoints.exercise.people import MAX_ATTEMPTS, RETRY_AFTER, UNANSWERED


@dataclass
class Tries:
    attempts: int = 0
    last_at: datetime | None = None
    last_outcome: str | None = None


@dataclass(frozen=True)
class NextCall:
    contact: str
    at: datetime  # now, or when the retry may be made
    attempt: int  # 0-based: the contact's attempt number, which is also the pass


@dataclass
class CallSheet:
    """One caller's contacts in list order, and the attempts made to each."""

    contacts: list[str] = field(default_factory=list)
    tries: dict[str, Tries] = field(default_factory=dict)

    def add(self, contacts: Iterable[str]) -> None:
        for key in contacts:
            if key not in self.tries:
                self.contacts.append(key)
                self.tries[key] = Tries()

    def next_call(self, now: datetime, pending: Callable[[str], bool]) -> NextCall | None:
        """The next call to make: the lowest pass first, in list order; None when done."""
        due = [(self.tries[key].attempts, index, key) for index, key in enumerate(self.contacts)
               if _wanted(self.tries[key]) and pending(key)]
        if not due:
            return None
        attempts, _, key = min(due)
        last = self.tries[key].last_at
        at = now if last is None else max(now, last + RETRY_AFTER)
        return NextCall(key, at, attempts)

    def record(self, contact: str, at: datetime, outcome: str) -> None:
        """A call attempt started at ``at``; ``outcome`` what it came to."""
        tries = self.tries[contact]
        tries.attempts += 1
        tries.last_at, tries.last_outcome = at, outcome


def _wanted(tries: Tries) -> bool:
    """Not called yet, or a voicemail or no answer with attempts left."""
    if tries.attempts == 0:
        return True
    return tries.attempts < MAX_ATTEMPTS and tries.last_outcome in UNANSWERED

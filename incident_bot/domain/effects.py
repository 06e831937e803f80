"""Effects: what the domain wants done, returned as data.

Domain functions never send, schedule or write. They mutate the incident aggregate they were
given and return a list of these; the service layer persists the aggregate and turns the effects
into rows in the same transaction (``scheduled_action``, ``outbox``, ``decision_log``). The
dispatcher and the timer poller carry them out later, exactly once per key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

# What a chat notice says, as data: a name, a count, an id, a formatted time or a list of them.
Fact = str | int | float | tuple[str, ...]
Facts = Mapping[str, Fact]
VARIANT = "variant"  # Notify.facts key: which of its purpose's texts a notice is


class OutboxChannel(StrEnum):
    SLACK_CHANNEL = "slack_channel"  # the incident channel
    SLACK_DM = "slack_dm"  # a person's direct messages
    SMS = "sms"
    VOICE = "voice"
    CONSOLE = "console"  # exercise mode transcript only


# The phone provider's channels, SMS first (the dispatcher paces and sends them in this order),
# and the chat ones (Slack, or the exercise transcript).
PHONE_CHANNELS = (OutboxChannel.SMS, OutboxChannel.VOICE)
CHAT_CHANNELS = frozenset({OutboxChannel.SLACK_CHANNEL, OutboxChannel.SLACK_DM,
                           OutboxChannel.CONSOLE})


@dataclass(frozen=True)
class ScheduleTimer:
    """Fire ``kind`` with ``payload`` at ``due_at``. ``key`` is unique: scheduling the same key
    twice is a no-op, which makes replays and retries harmless. When it fires, the service hands
    it back to the domain, which decides whether it still matters."""

    key: str
    due_at: datetime
    kind: str
    payload: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class Notify:
    """Deliver a message. ``key`` is the outbox's unique key, built by :func:`outbox_key` from
    incident, recipient, message version, channel and attempt: the dispatcher never delivers the
    same key twice.

    A chat notice carries no words: its ``purpose`` (with a ``VARIANT`` in ``facts`` where one
    purpose has several texts) and its ``facts`` (names, counts, ids, formatted times) are what
    the service's wording module turns into ``body`` before the notice is stored. Key messages
    (SMS, voice) carry their approved text in ``body``."""

    key: str
    channel: OutboxChannel
    recipient: str  # person key, or "incident" for the incident channel
    body: str
    purpose: str  # e.g. "ringround.sms", "task.reminder", "briefing.released"
    message_version: str | None = None  # e.g. "ring-round-sms@v2/ur"
    language: str = "en"
    priority: int = 5  # lower goes first; ring-round uses the tier number
    valid_for: timedelta | None = None  # SMS ValidityPeriod: useless after this
    reply_code: str | None = None  # confirmation code the SMS asks for
    data: dict[str, str | int] = field(default_factory=dict)  # buttons, ids for the renderer
    facts: Mapping[str, Fact] = field(default_factory=dict)  # a chat notice's wording input

    def __post_init__(self) -> None:
        if is_incident_notice(self.purpose, self.data) and self.priority > NOTICE_PRIORITY:
            object.__setattr__(self, "priority", NOTICE_PRIORITY)  # frozen: set once, here

    @property
    def lane(self) -> str:
        """The chat pace lane: incident notices never wait behind chatter (docs/slack.md)."""
        return NOTICE_LANE if is_incident_notice(self.purpose, self.data) else CHATTER_LANE

    @property
    def fold(self) -> str | None:
        """Posts sharing a fold are one Slack message, updated in place (a contact's replies)."""
        value = self.data.get(FOLD)
        return str(value) if value is not None else None


# Incident notices: what the whole cell must see at once (docs/slack.md, "Notices before
# chatter"). They go first in the outbox and have a lane of their own in the chat pace.
NOTICE_PURPOSES = frozenset({"incident.compromised", "incident.standing_down",
                             "ringround.flag", "ringround.held", "ringround.red",
                             "ringround.coverage_short"})
NOTICE_OPENINGS = frozenset({"override", "compromised"})  # how a "briefing.opened" step opened
NOTICE_PRIORITY = 0
NOTICE_LANE, CHATTER_LANE = "notice", "chat"
FOLD = "fold"  # Notify.data key: the fold a post belongs to
UPDATE_TS = "update_ts"  # Notify.data key the dispatcher sets: update this Slack message instead


def is_incident_notice(purpose: str, data: dict[str, str | int]) -> bool:
    if purpose in NOTICE_PURPOSES:
        return True
    return purpose == "briefing.opened" and data.get("how") in NOTICE_OPENINGS


@dataclass(frozen=True)
class RecordDecision:
    """Append an entry to the incident's decision log (numbered and hash-chained on write)."""

    kind: str  # "decision", "override", "compromised", "embargo", "membership", "standdown", ...
    decision: str
    rationale: str = ""
    decided_by: str = ""  # person key or role
    recorded_by: str = "incident-bot"
    decided_at: datetime | None = None  # defaults to the time of entry
    options_rejected: str = ""
    refers_to: int | None = None  # a correction names the entry it corrects


Effect = ScheduleTimer | Notify | RecordDecision


def outbox_key(
    incident_id: str, recipient: str, message_version: str | None, channel: str, attempt: int = 1
) -> str:
    """The unique delivery key: one message version to one recipient on one channel, per attempt
    (a new attempt is a deliberate resend, e.g. a rung of the ladder, never a retry)."""
    return f"{incident_id}|{recipient}|{message_version or '-'}|{channel}|{attempt}"

"""Commands: what people (and providers) ask an incident to do. Frozen data; the domain's
:func:`incident_bot.domain.incident.handle` decides whether to do it.

Every command carries ``by``: the person key of whoever acts, or ``"twilio"`` / ``"dispatcher"``
/ ``"system"`` for events from providers and the bot itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# ---- membership and clocks ----------------------------------------------------------------


@dataclass(frozen=True)
class AssignRole:
    role: str
    person_key: str
    by: str


@dataclass(frozen=True)
class UnassignRole:
    role: str
    person_key: str
    by: str


@dataclass(frozen=True)
class SetE0:
    """The police move the embargo (E0); a decision-log entry, and every E0 timer moves."""

    e0: datetime
    by: str
    reason: str = ""


# ---- key messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftMessage:
    """A new immutable version: ``texts`` maps language → text and must include English."""

    message_id: str
    texts: dict[str, str]
    by: str


@dataclass(frozen=True)
class ApproveMessage:
    message_id: str
    version: int
    by: str


@dataclass(frozen=True)
class ReleaseMessage:
    message_id: str
    by: str


@dataclass(frozen=True)
class WithdrawMessage:
    message_id: str
    reason: str
    by: str


@dataclass(frozen=True)
class AddTranslation:
    message_id: str
    version: int
    language: str
    text: str
    by: str


# ---- the briefing order -------------------------------------------------------------------


@dataclass(frozen=True)
class CompleteStep:
    step_id: str
    by: str


@dataclass(frozen=True)
class OverrideStep:
    """Open a briefing step before its gate allows it; the reason goes in the decision log."""

    step_id: str
    reason: str
    by: str


@dataclass(frozen=True)
class MarkCompromised:
    """The operation is public early: every remaining step opens at once (logged)."""

    reason: str
    by: str


# ---- the ring-round -----------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptCallList:
    caller_key: str
    by: str
    list_id: str | None = None  # the list clicked; None accepts every list offered to them


@dataclass(frozen=True)
class RecordOutcome:
    contact_key: str
    outcome: str  # reached, voicemail, no_answer, wrong_number, declined, unsafe_to_call
    by: str
    feedback: str = ""


@dataclass(frozen=True)
class SmsReceived:
    contact_key: str
    text: str
    by: str = "twilio"


@dataclass(frozen=True)
class VoiceDigit:
    contact_key: str
    digit: str
    by: str = "twilio"


@dataclass(frozen=True)
class DeliveryReport:
    outbox_key: str
    status: str  # "delivered", "undelivered", "failed" or "sent"
    error_code: str | None
    by: str = "twilio"


# ---- tasks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AckTask:
    task_id: str
    by: str


@dataclass(frozen=True)
class CompleteTask:
    task_id: str
    by: str


@dataclass(frozen=True)
class CannotDoTask:
    task_id: str
    reason: str
    by: str


@dataclass(frozen=True)
class AddTask:
    title: str
    owner_role: str
    due: datetime
    by: str
    depends_on: tuple[str, ...] = ()


# ---- decision log and lifecycle -----------------------------------------------------------


@dataclass(frozen=True)
class LogDecision:
    decision: str
    rationale: str
    by: str
    options_rejected: str = ""
    decided_at: datetime | None = None  # when it was decided, if earlier than now
    refers_to: int | None = None  # a correction names the entry it corrects


@dataclass(frozen=True)
class StandDown:
    by: str
    reason: str = ""


@dataclass(frozen=True)
class Close:
    by: str


Command = (
    AssignRole | UnassignRole | SetE0
    | DraftMessage | ApproveMessage | ReleaseMessage | WithdrawMessage | AddTranslation
    | CompleteStep | OverrideStep | MarkCompromised
    | AcceptCallList | RecordOutcome | SmsReceived | VoiceDigit | DeliveryReport
    | AckTask | CompleteTask | CannotDoTask | AddTask
    | LogDecision | StandDown | Close
)

PROVIDER_EVENTS = (SmsReceived, VoiceDigit, DeliveryReport)

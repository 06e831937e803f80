"""The playbook model: what a partnership has agreed to do for one type of incident.

Plain frozen dataclasses, built by ``adapters/playbook_loader.py`` from YAML (the YAML keys are
documented in ``docs/playbooks.md``) and snapshotted into every incident at start. Standard
library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from incident_bot.domain.durations import RelativeTime


class Classification(StrEnum):
    """Government Security Classification markings the bot may carry (never SECRET)."""

    OFFICIAL = "OFFICIAL"
    OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE"


class Level(StrEnum):
    STRATEGIC = "strategic"
    TACTICAL = "tactical"
    DELIVERY = "delivery"


class Channel(StrEnum):
    """How a message reaches its audience."""

    SLACK = "slack"  # DM or incident channel
    PHONE = "phone"  # a human caller reads the script
    SMS = "sms"
    VOICE = "voice"  # automated text-to-speech call
    EMAIL = "email"
    WEB = "web"  # website / social media / press release (published by a person)


class RungKind(StrEnum):
    """One rung of a tier's escalation ladder for a contact that has not been reached."""

    CALLER = "caller"  # the assigned caller phones the contact
    SMS = "sms"  # automatic SMS in the contact's language with a confirmation code
    VOICE = "voice"  # automatic voice call, press 1 to confirm
    SENIOR = "senior"  # a senior officer tries personally (tier-1 practice)
    FLAG = "flag"  # red flag to the coordinator; terminal


class TwoPersonApproval(StrEnum):
    """Which key messages need someone besides their authors among their approvers."""

    PUBLIC = "public"  # messages for the public and media
    ALL = "all"
    OFF = "off"


@dataclass(frozen=True)
class Role:
    code: str
    title: str
    level: Level
    deputy: str | None = None
    need_to_know: bool = False  # may see the incident before T0 (pre-brief)
    line: int | None = None  # source line in the playbook, for messages


@dataclass(frozen=True)
class Phase:
    id: str
    title: str
    starts: RelativeTime | None = None
    line: int | None = None


@dataclass(frozen=True)
class Rung:
    kind: RungKind
    timeout: timedelta | None = None  # None only on the terminal FLAG rung
    # Starts this long after the rung before it started, alongside it (0: at the same time);
    # None: when the rung before it ends.
    after: timedelta | None = None


@dataclass(frozen=True)
class Tier:
    """Tier 0 (need to know) .. 4 (the public: broadcast, not a cascade)."""

    number: int
    title: str
    fan_out: int = 6  # contacts per caller
    caller_role: str | None = None  # role whose holders make the calls
    backup_role: str | None = None  # backup caller role
    senior_role: str | None = None  # role whose holder tries personally on a SENIOR rung
    accept_within: timedelta = timedelta(minutes=10)  # caller must accept the list by then
    script: str | None = None  # key message id a caller reads
    sms_message: str | None = None  # key message id sent by SMS / read on the voice call
    ladder: tuple[Rung, ...] = ()
    coverage_target: float = 0.8  # fraction reached/confirmed expected by the deadline
    deadline: RelativeTime | None = None  # tier coverage checked here; tactical leads alerted
    amber_after: timedelta = timedelta(minutes=45)
    red_after: timedelta = timedelta(minutes=90)
    line: int | None = None


@dataclass(frozen=True)
class Audience:
    """Who a briefing step or key message is for."""

    roles: tuple[str, ...] = ()
    tiers: tuple[int, ...] = ()
    public: bool = False  # public and media

    def describe(self) -> str:
        parts = [*self.roles, *(f"tier {t}" for t in self.tiers)]
        if self.public:
            parts.append("public and media")
        return ", ".join(parts) or "nobody"


@dataclass(frozen=True)
class Gate:
    """When a briefing step opens (from E0 on; never before E0 unless overridden).

    Opens when every step in ``after`` is complete and, if ``coverage`` is set, the named tiers
    have reached that fraction; or when ``timeout`` has passed; or when a role in
    ``override_by`` overrides it with a reason (a decision-log entry).
    """

    after: tuple[str, ...] = ()
    coverage_tiers: tuple[int, ...] = ()
    coverage: float | None = None
    timeout: RelativeTime | None = None
    override_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class BriefingStep:
    id: str
    title: str
    audience: Audience
    briefed_by: str  # role code
    message: str | None = None  # key message id used
    gate: Gate = field(default_factory=Gate)
    media_hold: bool = False  # the public/media statement: held until key individuals briefed
    # A tier audience step completes by itself when its tiers reach this coverage; steps with
    # role audiences complete when the briefer marks them done.
    complete_at_coverage: float | None = None
    due: RelativeTime | None = None  # planned time, for the readiness report
    line: int | None = None


@dataclass(frozen=True)
class KeyMessage:
    id: str
    title: str
    template: str  # message_templates/<template>.<lang>.j2
    audiences: Audience
    channels: tuple[Channel, ...]
    approvers: tuple[str, ...]  # every one of these roles must approve a version
    languages: tuple[str, ...] = ("en",)
    embargo: RelativeTime | None = None  # not releasable before this
    sms_segment_budget: int | None = None  # overrides the playbook default for this message
    line: int | None = None


@dataclass(frozen=True)
class TaskEscalation:
    after_overdue: timedelta
    to_role: str


@dataclass(frozen=True)
class TaskDef:
    id: str
    title: str
    owner: str  # role code
    due: RelativeTime
    depends_on: tuple[str, ...] = ()
    remind_before: timedelta | None = timedelta(minutes=15)
    ack_within: timedelta | None = timedelta(minutes=10)  # else the owner role's deputy
    escalation: tuple[TaskEscalation, ...] = ()
    phase: str | None = None
    description: str = ""
    line: int | None = None
    done_by_step: str | None = None  # a briefing step whose completion does this task


@dataclass(frozen=True)
class Playbook:
    id: str
    title: str
    description: str
    classification: Classification
    started_by: tuple[str, ...]  # role codes that may start it
    coordinator: str  # role told of red flags, opt-outs, coverage shortfalls
    roles: tuple[Role, ...]
    tiers: tuple[Tier, ...]
    briefing: tuple[BriefingStep, ...]
    messages: tuple[KeyMessage, ...]
    tasks: tuple[TaskDef, ...]
    phases: tuple[Phase, ...] = ()
    e0_default: RelativeTime | None = None  # when E0 is not given at start (e.g. T0+2h)
    sms_segment_budget: int = 3
    two_person_approval: TwoPersonApproval = TwoPersonApproval.PUBLIC
    # template variables beyond the built-ins, with the partnership's default values
    variables: dict[str, str] = field(default_factory=dict)
    source: str = ""  # file it was loaded from

    def role(self, code: str) -> Role:
        return next(r for r in self.roles if r.code == code)

    def tier(self, number: int) -> Tier:
        return next(t for t in self.tiers if t.number == number)

    def message(self, message_id: str) -> KeyMessage:
        return next(m for m in self.messages if m.id == message_id)

    def needs_two_people(self, message: KeyMessage) -> bool:
        """Whether an author of a version of ``message`` may not be its only approver."""
        rule = self.two_person_approval
        return rule is TwoPersonApproval.ALL or (
            rule is TwoPersonApproval.PUBLIC and message.audiences.public)

    def step(self, step_id: str) -> BriefingStep:
        return next(s for s in self.briefing if s.id == step_id)

    def task(self, task_id: str) -> TaskDef:
        return next(t for t in self.tasks if t.id == task_id)

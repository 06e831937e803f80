"""Read each section of a playbook's YAML into the domain dataclasses, checking keys and types.

Cross-references and ordering are checked afterwards (``checks.py``) on what was built here. An
item with any problem is left out of the draft, but its id still counts as declared, so one
mistake does not cause a cascade of "unknown ..." errors elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from incident_bot.adapters.playbook import fields as f
from incident_bot.adapters.playbook.cursor import At
from incident_bot.domain.durations import RelativeTime
from incident_bot.domain.playbook import (
    Audience,
    BriefingStep,
    Channel,
    Classification,
    Gate,
    KeyMessage,
    Level,
    Phase,
    Role,
    Rung,
    RungKind,
    TaskDef,
    TaskEscalation,
    Tier,
    TwoPersonApproval,
)

T = TypeVar("T")

TOP_KEYS = ("id", "title", "description", "classification", "started_by", "coordinator",
            "e0_default", "sms_segment_budget", "two_person_approval", "variables", "roles",
            "phases", "tiers", "briefing", "messages", "tasks")
TOP_REQUIRED = ("id", "title", "classification", "started_by", "coordinator", "roles")
ROLE_KEYS = ("code", "title", "level", "deputy", "need_to_know")
PHASE_KEYS = ("id", "title", "starts")
TIER_KEYS = ("tier", "title", "fan_out", "callers", "backup", "senior", "accept_within",
             "script", "sms_message", "coverage_target", "deadline", "amber_after",
             "red_after", "ladder")
RUNG_KEYS = ("rung", "timeout", "after")
STEP_KEYS = ("id", "title", "audience", "briefed_by", "message", "due", "gate", "media_hold",
             "complete_at_coverage")
GATE_KEYS = ("after", "coverage", "timeout", "override_by")
COVERAGE_KEYS = ("tiers", "at_least")
AUDIENCE_KEYS = ("roles", "tiers", "public")
MESSAGE_KEYS = ("id", "title", "template", "audiences", "channels", "approvers", "languages",
                "embargo", "sms_segment_budget")
TASK_KEYS = ("id", "title", "description", "owner", "due", "depends_on", "phase",
             "remind_before", "ack_within", "escalation", "done_by_step")
ESCALATION_KEYS = ("after", "to")
FORBIDDEN_MARKINGS = frozenset({"SECRET", "TOP SECRET", "TOP-SECRET", "TOP_SECRET"})
TIER_RANGE = "tiers run from 0 (need to know) to 4 (the public)"


@dataclass
class Section(Generic[T]):
    """The items of one list section that were read without problems, with where they are."""

    built: list[tuple[T, At]] = field(default_factory=list)
    declared: dict[Any, int | None] = field(default_factory=dict)  # id → line, even if broken


@dataclass
class Header:
    id: str
    title: str
    description: str
    classification: Classification
    started_by: tuple[str, ...]
    coordinator: str
    e0_default: RelativeTime | None
    sms_segment_budget: int
    two_person_approval: TwoPersonApproval
    variables: dict[str, str]


@dataclass
class Draft:
    root: At
    header: Header
    roles: Section[Role]
    phases: Section[Phase]
    tiers: Section[Tier]
    steps: Section[BriefingStep]
    messages: Section[KeyMessage]
    tasks: Section[TaskDef]


def read_draft(root: At) -> Draft | None:
    """Everything that could be read from the document, or None when it is not a playbook."""
    if root.value is None:
        root.error("the file is empty: a playbook needs at least " + ", ".join(TOP_REQUIRED))
        return None
    if not root.is_mapping(TOP_KEYS, TOP_REQUIRED):
        return None
    return Draft(
        root=root,
        header=_header(root),
        roles=_section(root.key("roles"), "code", "role", _role, "[{code: ..., title: ...}]"),
        phases=_section(root.key("phases"), "id", "phase", _phase, "[{id: ..., title: ...}]"),
        tiers=_section(root.key("tiers"), "tier", "tier", _tier, "[{tier: 1, title: ...}]"),
        steps=_section(root.key("briefing"), "id", "briefing step", _step, "[{id: ...}]"),
        messages=_section(root.key("messages"), "id", "message", _message, "[{id: ...}]"),
        tasks=_section(root.key("tasks"), "id", "task", _task, "[{id: ..., owner: ...}]"),
    )


def _section(at: At, id_key: str, what: str, build: Callable[[At], T],
             example: str) -> Section[T]:
    section: Section[T] = Section()
    if not at.given or not at.is_list(example):
        return section
    for item in at.items():
        before = at.report.error_count
        _declare(item, id_key, what, section)
        value = build(item) if isinstance(item.value, dict) else _not_a_mapping(item, what)
        if at.report.error_count == before:
            section.built.append((value, item))
    return section


def _declare(item: At, id_key: str, what: str, section: Section[T]) -> None:
    key = item.key(id_key)
    if not isinstance(key.value, str | int) or isinstance(key.value, bool):
        return
    if key.value in section.declared:
        first = section.declared[key.value]
        name = f"{what} {key.value}" if what == id_key else f"{what} {id_key} '{key.value}'"
        key.error(f"duplicate {name} (first defined on line {first})")
    else:
        section.declared[key.value] = key.line


def _not_a_mapping(item: At, what: str) -> Any:
    item.error(f"each {what} must be a mapping of keys, not {f.describe(item.value)}")


def _header(root: At) -> Header:
    return Header(
        id=f.identifier(root.key("id")),
        title=f.text(root.key("title")),
        description=f.optional_text(root.key("description")) or "",
        classification=_classification(root.key("classification")),
        started_by=f.text_list(root.key("started_by"), "[bcu_commander]", allow_empty=False),
        coordinator=f.text(root.key("coordinator")),
        e0_default=_e0_default(root.key("e0_default")),
        sms_segment_budget=f.integer(root.key("sms_segment_budget"), 3, 1, 10),
        two_person_approval=f.choice(root.key("two_person_approval"), TwoPersonApproval,
                                     TwoPersonApproval.PUBLIC),
        variables=_variables(root.key("variables")),
    )


def _classification(at: At) -> Classification:
    if isinstance(at.value, str) and at.value.strip().upper() in FORBIDDEN_MARKINGS:
        at.error(f"{at.value.strip()} material must never go through incident-bot: it is for "
                 "OFFICIAL and OFFICIAL-SENSITIVE information only")
        return Classification.OFFICIAL_SENSITIVE
    return f.choice(at, Classification, Classification.OFFICIAL_SENSITIVE)


def _e0_default(at: At) -> RelativeTime | None:
    value = f.moment(at)
    if value is None:
        return None
    if value.clock is None or value.clock.value != "T0":
        at.error(f"'{at.value}' must be relative to T0 (e.g. T0+2h): it is what defines E0")
    elif value.offset < timedelta(0):
        at.error(f"'{at.value}' is before T0: the embargo cannot lift before the strike")
    return value


def _variables(at: At) -> dict[str, str]:
    if not at.given:
        return {}
    if not isinstance(at.value, dict):
        at.error("must be a mapping of variable names to sample values")
        return {}
    values: dict[str, str] = {}
    for name, value in at.value.items():
        entry = at.key(name)
        if not f.VARIABLE_PATTERN.match(name):
            entry.error(f"'{name}' is not a valid variable name: use lower_snake_case")
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            values[name] = str(value)
        else:
            entry.error(f"must be a sample value (text), not {f.describe(value)}")
    return values


def _role(at: At) -> Role:
    at.is_mapping(ROLE_KEYS, ("code", "title", "level"))
    return Role(
        code=f.identifier(at.key("code"), code=True),
        title=f.text(at.key("title")),
        level=f.choice(at.key("level"), Level, Level.DELIVERY),
        deputy=f.optional_text(at.key("deputy")),
        need_to_know=f.boolean(at.key("need_to_know")),
        line=at.line,
    )


def _phase(at: At) -> Phase:
    at.is_mapping(PHASE_KEYS, ("id", "title"))
    return Phase(f.identifier(at.key("id")), f.text(at.key("title")),
                 f.moment(at.key("starts")), at.line)


def _tier(at: At) -> Tier:
    at.is_mapping(TIER_KEYS, ("tier", "title"))
    defaults = Tier(0, "")
    return Tier(
        number=_tier_number(at.key("tier")),
        title=f.text(at.key("title")),
        fan_out=f.integer(at.key("fan_out"), defaults.fan_out, 1, 50),
        caller_role=f.optional_text(at.key("callers")),
        backup_role=f.optional_text(at.key("backup")),
        senior_role=f.optional_text(at.key("senior")),
        accept_within=f.duration(at.key("accept_within"), defaults.accept_within),
        script=f.optional_text(at.key("script")),
        sms_message=f.optional_text(at.key("sms_message")),
        ladder=_ladder(at.key("ladder")),
        coverage_target=_share(at.key("coverage_target"), defaults.coverage_target),
        deadline=f.moment(at.key("deadline")),
        amber_after=f.duration(at.key("amber_after"), defaults.amber_after),
        red_after=f.duration(at.key("red_after"), defaults.red_after),
        line=at.line,
    )


def _tier_number(at: At) -> int:
    return f.integer(at, 0, 0, 4, f"tier {at.value} is out of range: {TIER_RANGE}")


def _ladder(at: At) -> tuple[Rung, ...]:
    if not at.given or not at.is_list("[{rung: caller, timeout: 15m}, {rung: flag}]"):
        return ()
    rungs = []
    for item in at.items():
        if item.is_mapping(RUNG_KEYS, ("rung",)):
            kind = f.choice(item.key("rung"), RungKind, RungKind.FLAG)
            rungs.append(Rung(kind, f.optional_duration(item.key("timeout")),
                              f.optional_gap(item.key("after"))))
    return tuple(rungs)


def _share(at: At, default: float) -> float:
    value = f.fraction(at)
    return default if value is None else value


def _audience(at: At) -> Audience:
    if not at.given:
        return Audience()
    if not at.is_mapping(AUDIENCE_KEYS):
        return Audience()
    audience = Audience(
        roles=f.text_list(at.key("roles"), "[council_leader]"),
        tiers=_tier_list(at.key("tiers")),
        public=f.boolean(at.key("public")),
    )
    if not (audience.roles or audience.tiers or audience.public):
        at.error("names nobody: give roles, tiers or public: true")
    return audience


def _tier_list(at: At) -> tuple[int, ...]:
    if not at.given or not at.is_list("[1, 2]"):
        return ()
    return tuple(_tier_number(at.element(index)) for index in range(len(at.value)))


def _step(at: At) -> BriefingStep:
    at.is_mapping(STEP_KEYS, ("id", "title", "audience", "briefed_by"))
    return BriefingStep(
        id=f.identifier(at.key("id")),
        title=f.text(at.key("title")),
        audience=_audience(at.key("audience")),
        briefed_by=f.text(at.key("briefed_by")),
        message=f.optional_text(at.key("message")),
        gate=_gate(at.key("gate")),
        media_hold=f.boolean(at.key("media_hold")),
        complete_at_coverage=f.fraction(at.key("complete_at_coverage")),
        due=f.moment(at.key("due")),
        line=at.line,
    )


def _gate(at: At) -> Gate:
    if not at.given or not at.is_mapping(GATE_KEYS):
        return Gate()
    tiers, share = _coverage(at.key("coverage"))
    return Gate(
        after=f.text_list(at.key("after"), "[tier-1]"),
        coverage_tiers=tiers,
        coverage=share,
        timeout=f.moment(at.key("timeout")),
        override_by=f.text_list(at.key("override_by"), "[bcu_commander]"),
    )


def _coverage(at: At) -> tuple[tuple[int, ...], float | None]:
    if not at.given or not at.is_mapping(COVERAGE_KEYS, COVERAGE_KEYS):
        return (), None
    return _tier_list(at.key("tiers")), f.fraction(at.key("at_least"))


def _message(at: At) -> KeyMessage:
    at.is_mapping(MESSAGE_KEYS, ("id", "title", "template", "audiences", "channels",
                                 "approvers"))
    return KeyMessage(
        id=f.identifier(at.key("id")),
        title=f.text(at.key("title")),
        template=f.identifier(at.key("template")),
        audiences=_audience(at.key("audiences")),
        channels=_channels(at.key("channels")),
        approvers=f.text_list(at.key("approvers"), "[police_comms]", allow_empty=False),
        languages=_languages(at.key("languages")),
        embargo=f.moment(at.key("embargo")),
        sms_segment_budget=_optional_budget(at.key("sms_segment_budget")),
        line=at.line,
    )


def _channels(at: At) -> tuple[Channel, ...]:
    names = f.text_list(at, "[sms, slack]", allow_empty=False)
    for index in range(len(names)):
        f.choice(at.element(index), Channel, Channel.SLACK)
    allowed = {c.value for c in Channel}
    return tuple(Channel(name) for name in names if name in allowed)


def _languages(at: At) -> tuple[str, ...]:
    if not at.given:
        return ("en",)
    languages = f.text_list(at, "[en, ur, pl]", allow_empty=False)
    for index, code in enumerate(languages):
        if not f.LANGUAGE_PATTERN.match(code):
            at.element(index).error(f"'{code}' is not a language code such as en, ur or pl")
    if languages and "en" not in languages:
        at.error("must include en: translations follow the English version")
    return languages


def _optional_budget(at: At) -> int | None:
    return f.integer(at, 3, 1, 10) if at.given else None


def _task(at: At) -> TaskDef:
    at.is_mapping(TASK_KEYS, ("id", "title", "owner", "due"))
    defaults = TaskDef("", "", "", RelativeTime(None))
    return TaskDef(
        id=f.identifier(at.key("id")),
        title=f.text(at.key("title")),
        owner=f.text(at.key("owner")),
        due=f.required_moment(at.key("due")),
        depends_on=f.text_list(at.key("depends_on"), "[draft-statement]"),
        remind_before=f.nullable_duration(at.key("remind_before"), _given(defaults.remind_before)),
        ack_within=f.nullable_duration(at.key("ack_within"), _given(defaults.ack_within)),
        escalation=_escalation(at.key("escalation")),
        phase=f.optional_text(at.key("phase")),
        description=f.optional_text(at.key("description")) or "",
        line=at.line,
        done_by_step=f.optional_text(at.key("done_by_step")),
    )


def _given(value: timedelta | None) -> timedelta:
    assert value is not None
    return value


def _escalation(at: At) -> tuple[TaskEscalation, ...]:
    if not at.given or not at.is_list("[{after: 30m, to: council_tactical_lead}]"):
        return ()
    steps = []
    for item in at.items():
        if item.is_mapping(ESCALATION_KEYS, ESCALATION_KEYS):
            after = f.duration(item.key("after"), timedelta(minutes=30))
            steps.append(TaskEscalation(after, f.text(item.key("to"))))
    return tuple(steps)

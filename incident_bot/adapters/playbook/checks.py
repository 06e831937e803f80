"""Checks that span sections: references between roles, tiers, steps, messages and tasks; no
circular dependencies; deadlines in a sensible order; escalation ladders that can work.

Times are compared only when the order is certain. E0 is never before T0 (the loader enforces
that for ``e0_default``), so ``T0+1h`` is certainly before ``E0+2h``, but ``E0+1h`` and
``T0+2h`` cannot be ordered without knowing E0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from incident_bot.adapters.playbook.build import TIER_RANGE, Draft, Section
from incident_bot.adapters.playbook.cursor import At, did_you_mean
from incident_bot.domain.durations import IncidentClock, RelativeTime, format_duration
from incident_bot.domain.playbook import Audience, BriefingStep, Channel, RungKind, TaskDef, Tier


def check_draft(draft: Draft, file_stem: str) -> None:
    _check_header(draft, file_stem)
    for role, at in draft.roles.built:
        _role_ref(draft, at.key("deputy"), role.deputy)
        if role.deputy == role.code:
            at.key("deputy").error("a role cannot be its own deputy")
    for tier, at in draft.tiers.built:
        _check_tier(draft, tier, at)
    for step, at in draft.steps.built:
        _check_step(draft, step, at)
    for message, at in draft.messages.built:
        _role_refs(draft, at.key("approvers"), message.approvers)
        _check_audience(draft, at.key("audiences"), message.audiences)
    for task, at in draft.tasks.built:
        _check_task(draft, task, at)
    _check_cycles(draft.steps, ("gate", "after"), "briefing steps wait for each other",
                  {s.id: s.gate.after for s, _ in draft.steps.built})
    _check_cycles(draft.tasks, ("depends_on",), "tasks depend on each other",
                  {t.id: t.depends_on for t, _ in draft.tasks.built})


def _check_header(draft: Draft, file_stem: str) -> None:
    root, header = draft.root, draft.header
    if header.id and header.id != file_stem:
        root.key("id").error(f"id '{header.id}' does not match the file name '{file_stem}': "
                             "rename one so they match")
    _role_refs(draft, root.key("started_by"), header.started_by)
    _role_ref(draft, root.key("coordinator"), header.coordinator)


def _check_tier(draft: Draft, tier: Tier, at: At) -> None:
    for key, code in (("callers", tier.caller_role), ("backup", tier.backup_role),
                      ("senior", tier.senior_role)):
        _role_ref(draft, at.key(key), code)
    _message_ref(draft, at.key("script"), tier.script)
    _message_ref(draft, at.key("sms_message"), tier.sms_message)
    if tier.sms_message in draft.messages.declared:
        _require_sms_channel(draft, at.key("sms_message"), tier.sms_message)
    if tier.number == 4:
        for key in ("callers", "backup", "senior", "ladder"):
            if at.key(key).given:
                at.key(key).error("tier 4 is the public: a broadcast, not a cascade, so it "
                                  "has no callers, backup, senior or ladder")
    elif tier.caller_role and not tier.script:
        at.key("callers").error("callers need a script to read: add script: <message id>")
    if tier.red_after <= tier.amber_after:
        at.key("red_after").error(f"red_after must be later than amber_after "
                                  f"({_fmt(tier.red_after)} is not after {_fmt(tier.amber_after)})")
    _check_ladder(tier, at.key("ladder"))


def _require_sms_channel(draft: Draft, at: At, message_id: str | None) -> None:
    for message, _ in draft.messages.built:
        if message.id == message_id and Channel.SMS not in message.channels:
            at.error(f"message '{message_id}' is sent by SMS here, but its channels do not "
                     "include sms")


def _check_ladder(tier: Tier, at: At) -> None:
    needs = {RungKind.CALLER: (tier.caller_role, "a caller rung needs callers: <role>"),
             RungKind.SENIOR: (tier.senior_role, "a senior rung needs senior: <role>"),
             RungKind.SMS: (tier.sms_message, "an sms rung needs sms_message: <message id>"),
             RungKind.VOICE: (tier.sms_message, "a voice rung needs sms_message: <message id>")}
    last = len(tier.ladder) - 1
    for index, (rung, item) in enumerate(zip(tier.ladder, at.items(), strict=True)):
        if rung.kind is RungKind.FLAG and index != last:
            item.key("rung").error("flag ends the ladder: it must be the last rung")
        elif rung.kind is RungKind.FLAG and rung.timeout is not None:
            item.key("timeout").error("flag is the last rung and takes no timeout")
        elif rung.kind is not RungKind.FLAG and rung.timeout is None:
            item.error(f"a {rung.kind.value} rung needs a timeout (e.g. timeout: 15m) "
                       "before the next rung is tried")
        if rung.kind in needs and not needs[rung.kind][0]:
            item.key("rung").error(needs[rung.kind][1])
        if rung.after is not None:
            _check_after(tier, index, item.key("after"))
    if tier.number == 1:
        _check_personal_first(tier, at)


def _check_after(tier: Tier, index: int, at: At) -> None:
    """``after`` runs a rung alongside the one before it, so there must be one, and starting
    later than its end would be the same as leaving ``after`` out."""
    rung = tier.ladder[index]
    before = tier.ladder[index - 1].timeout if index else None
    if index == 0:
        at.error("the first rung has nothing before it to run alongside: remove after")
    elif rung.kind is RungKind.FLAG:
        at.error("flag takes no after: it comes when every rung started has ended")
    elif rung.after is not None and before is not None and rung.after > before:
        at.error(f"after {_fmt(rung.after)} is longer than the timeout of the rung before it "
                 f"({_fmt(before)}): it would start when that rung ends anyway; drop after or "
                 "shorten it")


def _check_personal_first(tier: Tier, at: At) -> None:
    """Tier 1's top-tier key individuals get a personal call attempt before or alongside any
    automatic message: no sms or voice rung before the first caller or senior rung."""
    personal = (RungKind.CALLER, RungKind.SENIOR)
    first = next((i for i, r in enumerate(tier.ladder) if r.kind in personal), 0)
    for rung, item in zip(tier.ladder[:first], at.items(), strict=False):
        if rung.kind in (RungKind.SMS, RungKind.VOICE):
            item.key("rung").error(
                f"tier 1 (top-tier key individuals) gets a personal call attempt before or "
                f"alongside any automatic message: move this {rung.kind.value} rung after the "
                "first caller or senior rung ({rung: sms, after: 0m} right after the caller "
                "is the fastest allowed)")


def _check_step(draft: Draft, step: BriefingStep, at: At) -> None:
    _role_ref(draft, at.key("briefed_by"), step.briefed_by)
    _check_audience(draft, at.key("audience"), step.audience)
    _message_ref(draft, at.key("message"), step.message)
    gate = at.key("gate")
    _id_refs(gate.key("after"), step.gate.after, draft.steps.declared, "briefing step",
             "briefing")
    _tier_refs(draft, gate.key("coverage").key("tiers"), step.gate.coverage_tiers)
    _role_refs(draft, gate.key("override_by"), step.gate.override_by)
    if step.media_hold and not (step.gate.timeout or step.gate.override_by):
        at.key("media_hold").error("a media hold needs gate.timeout or gate.override_by, so "
                                   "the public statement cannot be held for ever")
    if step.media_hold and not (step.gate.after or step.gate.coverage_tiers):
        at.key("media_hold").error("a media hold must wait for something: give gate.after "
                                   "or gate.coverage")
    if step.complete_at_coverage is not None and not step.audience.tiers:
        at.key("complete_at_coverage").error("only a step whose audience has tiers can "
                                             "complete at a coverage")
    _check_after_order(draft, step, at)


def _check_after_order(draft: Draft, step: BriefingStep, at: At) -> None:
    due = {s.id: s.due for s, _ in draft.steps.built}
    for earlier in step.gate.after:
        other = due.get(earlier)
        if step.due and other and definitely_before(step.due, other):
            at.key("due").error(f"due {step.due} is before step '{earlier}' it comes after "
                                f"(due {other})")


def _check_audience(draft: Draft, at: At, audience: Audience) -> None:
    _role_refs(draft, at.key("roles"), audience.roles)
    _tier_refs(draft, at.key("tiers"), audience.tiers)


def _check_task(draft: Draft, task: TaskDef, at: At) -> None:
    _role_ref(draft, at.key("owner"), task.owner)
    _id_refs(at.key("depends_on"), task.depends_on, draft.tasks.declared, "task", "tasks")
    if task.phase and task.phase not in draft.phases.declared:
        at.key("phase").error(f"unknown phase '{task.phase}'"
                              f"{did_you_mean(task.phase, map(str, draft.phases.declared))}: "
                              "define it under phases")
    if task.done_by_step and task.done_by_step not in draft.steps.declared:
        steps = map(str, draft.steps.declared)
        at.key("done_by_step").error(f"unknown briefing step '{task.done_by_step}'"
                                     f"{did_you_mean(task.done_by_step, steps)}")
    escalations = at.key("escalation").items()
    for index, (step, item) in enumerate(zip(task.escalation, escalations, strict=True)):
        _role_ref(draft, item.key("to"), step.to_role)
        if index and step.after_overdue <= task.escalation[index - 1].after_overdue:
            item.key("after").error("escalation steps must come in order of time overdue")
    due = {t.id: t.due for t, _ in draft.tasks.built}
    for needed in task.depends_on:
        other = due.get(needed)
        if other and definitely_before(task.due, other):
            at.key("due").error(f"due {task.due} is before task '{needed}' it depends on "
                                f"(due {other})")


def _check_cycles(section: Section[Any], keys: tuple[str, ...], what: str,
                  edges: Mapping[str, Iterable[str]]) -> None:
    located = {item.id: at for item, at in section.built}
    for cycle in find_cycles(edges):
        where = located[cycle[-2]]
        for key in keys:
            where = where.key(key)
        if len(cycle) == 2:
            where.error(f"'{cycle[0]}' cannot wait for itself")
        else:
            where.error(f"{what} in a circle: {' → '.join(cycle)}")


def find_cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Each cycle once, as a path that ends where it starts (``[a, b, a]``)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue  # an unknown id, reported elsewhere
            if nxt == node:
                cycles.append([node, node])
            elif state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in edges:
        if node not in state:
            visit(node, [])
    return cycles


def definitely_before(when: RelativeTime, other: RelativeTime) -> bool:
    """``when`` is certainly earlier than ``other`` whatever the incident's T0 and E0."""
    if when.clock is None or other.clock is None:
        both = when.absolute is not None and other.absolute is not None
        return both and when.absolute < other.absolute  # type: ignore[operator]
    if when.clock == other.clock or (when.clock is IncidentClock.T0
                                     and other.clock is IncidentClock.E0):
        return when.offset < other.offset
    return False


def _role_ref(draft: Draft, at: At, code: str | None) -> None:
    if code and code not in draft.roles.declared:
        known = map(str, draft.roles.declared)
        at.error(f"unknown role '{code}'{did_you_mean(code, known)}: define it under roles")


def _role_refs(draft: Draft, at: At, codes: Iterable[str]) -> None:
    for index, code in enumerate(codes):
        _role_ref(draft, at.element(index), code)


def _message_ref(draft: Draft, at: At, message_id: str | None) -> None:
    if message_id and message_id not in draft.messages.declared:
        known = map(str, draft.messages.declared)
        at.error(f"unknown message '{message_id}'{did_you_mean(message_id, known)}: "
                 "define it under messages")


def _id_refs(at: At, ids: Iterable[str], declared: Mapping[object, int | None], what: str,
             section: str) -> None:
    for index, ref in enumerate(ids):
        if ref not in declared:
            hint = did_you_mean(ref, map(str, declared))
            at.element(index).error(f"unknown {what} '{ref}'{hint}: define it under {section}")


def _tier_refs(draft: Draft, at: At, numbers: Iterable[int]) -> None:
    for index, number in enumerate(numbers):
        if number not in draft.tiers.declared:
            at.element(index).error(f"tier {number} is not defined under tiers ({TIER_RANGE})")


def _fmt(value: timedelta) -> str:
    return format_duration(value)

"""What chat notices say: the one place their English lives.

The domain emits a chat notice as a ``Notify`` with an empty ``body``, a ``purpose`` (with a
``variant`` in its facts where one purpose has several texts) and plain ``facts``: names it
resolved, counts, ids, formatted times, lists of them. :func:`render` words it where the service
writes effects (``use_cases.write_effects``), so the outbox stores the text and the dispatcher,
Slack and the console show it unchanged. Key messages (SMS, voice) come from approved templates
and already carry their text: they are left alone, as is any notice built with a body.

``WORDING`` maps ``purpose`` or ``purpose/variant`` to a function of the facts. A purpose with no
wording, or a wording missing a fact, is a bug: tests find it (tests/service/test_wording.py
checks that every purpose and variant the domain can emit is worded, and
``chat_text(..., strict=True)`` raises). In production it must not cost the notice, so
:func:`chat_text` logs an error and falls back to the purpose and facts, readable as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from incident_bot.domain.effects import CHAT_CHANNELS, VARIANT, Fact, Notify

log = logging.getLogger("incident_bot.service.wording")

NAMES_SHOWN = 15  # names listed in a ring-round alert before "and N more"
REPLIES_SHOWN = 10  # replies shown in a contact's folded post, newest last


class UnknownWording(LookupError):
    """A notice whose purpose (or variant) has no wording, or lacks a fact its wording uses."""


class _Facts:
    """Typed reads of a notice's facts (a missing one raises ``UnknownWording``)."""

    def __init__(self, purpose: str, facts: Mapping[str, Fact]) -> None:
        self._purpose, self._facts = purpose, facts

    def __contains__(self, name: str) -> bool:
        return name in self._facts

    def _get(self, name: str) -> Fact:
        if name not in self._facts:
            raise UnknownWording(f"{self._purpose} has no fact {name!r}")
        return self._facts[name]

    def __getitem__(self, name: str) -> str:
        return str(self._get(name))

    def number(self, name: str) -> float:
        value = self._get(name)
        assert isinstance(value, int | float), f"{name} is not a number"
        return value

    def items(self, name: str) -> Sequence[str]:
        value = self._get(name)
        return value if isinstance(value, tuple) else (str(value),)


Wording = Callable[[_Facts], str]


def _joined(items: Sequence[str]) -> str:
    return ", ".join(items)


def _names(f: _Facts) -> str:
    names = f.items("names")
    shown = _joined(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


# ---- the incident -------------------------------------------------------------------------


def _welcome(f: _Facts) -> str:
    return (f"[{f['marking']}] You are in incident {f['title']} ({f['area']}) as {f['roles']}. "
            f"T0 {f['t0']}, E0 {f['e0']}.")


def _prebrief_welcome(f: _Facts) -> str:
    return (_welcome(f)
            + " Confidential pre-brief: need to know only; do not discuss it outside it.")


def _joined_at_t0(f: _Facts) -> str:
    joined = [f"{name} ({key})" for name, key in zip(f.items("joined"), f.items("joined_keys"),
                                                       strict=True)]
    return ("T0: the incident is active and open to every role holder; joined: "
            f"{_joined(joined) or 'nobody new'}.")


_INCIDENT: dict[str, Wording] = {
    "incident.member_added/welcome": _welcome,
    "incident.member_added/prebrief_welcome": _prebrief_welcome,
    "incident.member_added/role":
        lambda f: f"You now hold {f['role']} in incident {f['title']} ({f['area']}).",
    "incident.role_assigned/assigned":
        lambda f: f"{f['name']} now holds {f['role']} (assigned by {f['by']}).",
    "incident.role_assigned/early":
        lambda f: (f"{f['name']} now holds {f['role']} (assigned by {f['by']}) before T0, "
                   "outside need-to-know (confidential pre-brief widened)."),
    "incident.role_unassigned": lambda f: f"{f['name']} no longer holds {f['role']}.",
    "incident.member_removed":
        lambda f: f"You no longer hold {f['role']} in incident {f['title']}.",
    "incident.role_removed":
        lambda f: f"You no longer hold {f['role']} in incident {f['title']}.",
    "incident.active": _joined_at_t0,
    "incident.e0_changed": lambda f: f"E0 (embargo lifted) moved from {f['old']} to {f['new']}.",
    "incident.compromised":
        lambda f: ("Timeline compromised: every remaining briefing step opened at once and the "
                   f"holding line may be released ({f['reason']})."),
    "incident.standing_down/ending":
        lambda f: ("Stand-down: the response is ending; no more briefing steps open and the "
                   "ring-round sends nothing more automatically."),
    "incident.standing_down/called_off":
        lambda f: "Stand-down before T0: the operation was called off.",
    "incident.closed": lambda f: "Incident closed.",
}


# ---- key messages -------------------------------------------------------------------------


def _drafted(f: _Facts) -> str:
    return (f"{f['message']} v{f['version']} drafted by {f['by']} ({_joined(f.items('languages'))}"
            f"): awaiting approval by {_joined(f.items('approvers'))}.")


def _translated_as_new(f: _Facts) -> str:
    return (f"{f['label']} added by {f['by']} as a new version (v{f['approved']} was approved "
            f"and stays in use): awaiting approval by {_joined(f.items('approvers'))}.")


def _approval_request(f: _Facts) -> str:
    origin = (f"drafted by {f['by']}" if "by" in f
              else "drafted from the templates when the incident started")
    return (f"Please approve {f['message']} v{f['version']} ({f['title']}), {origin} "
            f"({_joined(f.items('languages'))}): awaiting approval by "
            f"{_joined(f.items('awaiting'))}.")


def _approved(f: _Facts) -> str:
    gone = _joined([f"v{n}" for n in f.items("superseded")])
    return (f"{f['message']} v{f['version']} is approved"
            + (f"; it supersedes {gone}." if gone else "."))


def _released(f: _Facts) -> str:
    return (f"Released {f['label']} ({f['title']}); publish through "
            f"{_joined(f.items('channels'))}:\n\n{f['text']}")


_MESSAGES: dict[str, Wording] = {
    "message.drafted": _drafted,
    "message.approval_needed/drafted": _drafted,
    "message.approval_needed/new_version": _translated_as_new,
    "message.approval_needed/request": _approval_request,
    "message.approved/awaiting":
        lambda f: (f"{f['message']} v{f['version']} approved by {f['by']}; awaiting "
                   f"{_joined(f.items('awaiting'))}."),
    "message.approved/complete": _approved,
    "message.translated/added": lambda f: f"{f['label']} added by {f['by']}.",
    "message.translated/new_version": _translated_as_new,
    "message.released": _released,
    "message.withdrawn":
        lambda f: (f"Withdrew {f['message']} v{f['version']}: nothing of it will be used "
                   f"({f['reason']})."),
}


# ---- the briefing order -------------------------------------------------------------------


def _step_opened(f: _Facts) -> str:
    using = ""
    if "version" in f:
        using = f" using {f['version']}"
    elif "message" in f:
        using = f" — {f['message']} has NO approved version yet: approvers, please approve"
    return (f"Briefing step open: {f['step']} ({f['audience']}), by {f['briefer']}{using}. "
            f"Opened by {f['how']}.")


def _used(f: _Facts) -> str:
    return f" ({f['version']})" if "version" in f else ""


_BRIEFING: dict[str, Wording] = {
    "briefing.opened": _step_opened,
    "briefing.completed": lambda f: f"Briefing step complete: {f['step']}{_used(f)} — {f['by']}.",
    "briefing.completed/coverage":
        lambda f: f"Briefing step complete: {f['step']}{_used(f)} — coverage reached.",
    "briefing.completed/marked":
        lambda f: (f"Briefing step complete: {f['step']}"
                   + (f" using {f['version']}" if "version" in f else "")
                   + f" — marked done by {f['by']}."),
}


# ---- tasks --------------------------------------------------------------------------------


def _assigned(f: _Facts) -> str:
    due = f"due {f['due_at']}" if "due_at" in f else "due time to follow (set by E0)"
    return f"New task: {f['title']} ({due})."


def _reminder(f: _Facts) -> str:
    waiting_on = f.items("waiting_on")
    blocked = f" It is waiting on: {_joined(waiting_on)}." if waiting_on else ""
    return f"Reminder: {f['title']} is due at {f['due_at']}.{blocked}"


_TASKS: dict[str, Wording] = {
    "task.assigned": _assigned,
    "task.picked_up": lambda f: f"Picked up: {f['title']} (by {f['by']}).",
    "task.done": lambda f: f"Done: {f['title']} (by {f['by']}).",
    "task.done/by_step": lambda f: f"Done: {f['title']} (briefing step {f['step']} is complete).",
    "task.cannot_do":
        lambda f: (f"Cannot be done: {f['title']} ({f['by']}: {f['reason']}). "
                   "Who can pick it up?"),
    "task.unblocked": lambda f: f"Ready to complete: {f['title']} (what it waited for is done).",
    "task.reminder": _reminder,
    "task.overdue": lambda f: f"Overdue: {f['title']} was due at {f['due_at']}.",
    "task.not_acknowledged":
        lambda f: (f"Not acknowledged: {f['title']} (owner {f['owner']}). Deputy, please pick "
                   "it up."),
    "task.escalated":
        lambda f: (f"Escalated to {f['role']}: {f['title']} (owner {f['owner']}) was due at "
                   f"{f['due_at']} and is not done ({f['status']})."),
}


# ---- the ring-round -----------------------------------------------------------------------


def _held(f: _Facts) -> str:
    tiers = f.items("tiers")
    several = len(tiers) > 1
    held = (f"Red flag: ring-round tier{'s' if several else ''} {_joined(tiers)} can't start: "
            f"{f['message']} ({f['title']}) has no approved version, so nobody in "
            f"{'them' if several else 'it'} is called or texted yet.")
    return f"{held} {f['message']} v{f['version']}"


def _held_awaiting(f: _Facts) -> str:
    still = [f"{role} ({holders or 'nobody holds it'})"
             for role, holders in zip(f.items("awaiting"), f.items("holders"), strict=True)]
    return f"{_held(f)} is awaiting approval by {'; '.join(still)}."


def _held_redraft(f: _Facts) -> str:
    return f"{_held(f)} was {f['status']}: an approver must draft a new version."


def _call_list(f: _Facts) -> str:
    moved = f" (moved to you from {f['moved_from']})" if "moved_from" in f else ""
    return (f"Ring-round tier {f['tier']}: {f['count']} contacts for you to call{moved}. "
            f"Please accept the list within {f['within']}.")


def _alert(level: str) -> Wording:
    return lambda f: (f"Ring-round tier {f['tier']} {level}: {len(f.items('names'))} of "
                      f"{f['total']} contacts not yet reached after {f['after']}: {_names(f)}.")


def _coverage_short(f: _Facts) -> str:
    return (f"Ring-round tier {f['tier']} is at {f.number('coverage'):.0%} coverage at its "
            f"deadline (target {f.number('target'):.0%}): {f['reached']} of {f['total']} "
            f"reached, {f['pending']} still pending, {f['unreachable']} not reachable. "
            "Tactical leads: please decide how to close the gap.")


def _unreached(f: _Facts) -> str:
    why = (f" (no approved version of {f['untexted']} to text them)" if "untexted" in f
           else "")
    return (f"Red flag: {f['name']} (tier {f['tier']}) was not reached by any rung of the "
            f"ladder{why}.")


def _replies(f: _Facts) -> str:
    who = f"{f['name']} (tier {f['tier']})"
    replies = f.items("replies")
    if len(replies) == 1:
        return f"SMS reply from {who}: {replies[0]}"
    shown = replies[-REPLIES_SHOWN:]
    earlier = len(replies) - len(shown)
    more = f" ({earlier} earlier not shown here: all are in the incident record)" if earlier else ""
    return (f"SMS replies from {who}, {len(replies)} so far{more}:\n"
            + "\n".join(f"• {reply}" for reply in shown))


_RINGROUND: dict[str, Wording] = {
    "ringround.held/awaiting": _held_awaiting,
    "ringround.held/redraft": _held_redraft,
    "ringround.list": _call_list,
    "ringround.uncalled":
        lambda f: (f"Ring-round tier {f['tier']}: {len(f.items('names'))} contacts have no "
                   "caller (not enough callers for the list size); they go straight to the "
                   f"automatic rungs: {_names(f)}."),
    "ringround.list_taken_back":
        lambda f: (f"{f['caller']} has accepted call list {f['list']} after all: you need "
                   "not call it."),
    "ringround.list_moved":
        lambda f: (f"Your call list {f['list']} was not accepted within {f['within']} and has "
                   f"moved to {f['backup']}. You can still accept it or record outcomes."),
    "ringround.list_abandoned":
        lambda f: (f"Nobody accepted call list {f['list']} (tier {f['tier']}, {f['count']} "
                   "contacts): those still on the caller rung move on to the next rungs of the "
                   "ladder."),
    "ringround.amber": _alert("AMBER"),
    "ringround.red": _alert("RED"),
    "ringround.coverage_short": _coverage_short,
    "ringround.call_now":
        lambda f: f"Please call {f['name']} now (tier {f['tier']}): not yet reached.",
    "ringround.senior":
        lambda f: (f"Please try personally to reach {f['name']} (tier {f['tier']}): the caller "
                   "has not reached them."),
    "ringround.flag/unreached": _unreached,
    "ringround.flag/wrong_number":
        lambda f: (f"Wrong number for {f['name']} (tier {f['tier']}), recorded by {f['by']}: "
                   "please check their directory entry."),
    "ringround.unsafe":
        lambda f: (f"{f['name']} (tier {f['tier']}) marked unsafe to call by {f['by']}: no calls "
                   "or texts will be sent to them."),
    "ringround.flag_cleared":
        lambda f: f"{f['name']} (tier {f['tier']}) is now {f['state']}: red flag cleared.",
    "ringround.opted_out":
        lambda f: (f"{f['name']} (tier {f['tier']}) opted out of texts: nothing more will be "
                   "sent to them automatically."),
    "ringround.opted_in": lambda f: f"{f['name']} (tier {f['tier']}) opted back in to texts.",
    "ringround.feedback/caller":
        lambda f: f"Feedback from {f['by']} on {f['name']} (tier {f['tier']}): {f['text']}",
    "ringround.feedback/replies": _replies,
}

WORDING: Mapping[str, Wording] = {**_INCIDENT, **_MESSAGES, **_BRIEFING, **_TASKS, **_RINGROUND}


def wording_key(notify: Notify) -> str:
    """``purpose``, or ``purpose/variant`` for a purpose with several texts."""
    variant = notify.facts.get(VARIANT)
    return f"{notify.purpose}/{variant}" if variant is not None else notify.purpose


def chat_text(notify: Notify, *, strict: bool = False) -> str:
    """The notice's text. ``strict`` (tests) raises ``UnknownWording`` where production logs
    an error and shows the purpose and facts instead."""
    key = wording_key(notify)
    try:
        wording = WORDING.get(key)
        if wording is None:
            raise UnknownWording(f"no wording for {key}")
        return wording(_Facts(key, notify.facts))
    except UnknownWording:
        if strict:
            raise
        log.exception("chat notice %s could not be worded; showing its facts", key)
        return fallback_text(notify)


def fallback_text(notify: Notify) -> str:
    """``task.done: title=Check, by=Tina Jones``: what a notice without wording shows."""
    facts = ", ".join(f"{name}={_fact_text(value)}" for name, value in notify.facts.items()
                      if name != VARIANT)
    return f"{wording_key(notify)}: {facts}" if facts else wording_key(notify)


def _fact_text(value: Fact) -> str:
    return ", ".join(value) if isinstance(value, tuple) else str(value)


def render(notify: Notify) -> Notify:
    """A chat notice the domain left unworded, with its text in ``body`` and its facts spent
    (the stored notice is what it was before wording moved here); anything else as it is."""
    if notify.body or notify.channel not in CHAT_CHANNELS:
        return notify
    return replace(notify, body=chat_text(notify), facts={})

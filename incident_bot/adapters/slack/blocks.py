"""Block Kit views: pure functions from the domain's read models to Slack blocks (as dicts).

Every piece of text a person typed (summaries, names, task titles, message texts, reasons) goes
through :func:`escape`; every section is clipped to Slack's limits, and no message has more than
50 blocks. Buttons carry ``incident_id|...`` in their value; the listeners parse it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from incident_bot.adapters.slack.text import (
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    bar,
    clip,
    escape,
)
from incident_bot.domain.incident.read_model import IncidentView, StepView, TaskView, TierView

TASK_ACK, TASK_DONE, TASK_CANNOT = "task.ack", "task.done", "task.cannot"
CALL_ACCEPT, CALL_OPEN, OUTCOME_PREFIX = "ringround.accept", "ringround.open", "ringround.outcome."
MESSAGE_APPROVE = "message.approve"
CANNOT_DO_MODAL, START_MODAL = "task.cannot_do", "incident.start"
OUTCOMES = (("reached", "Reached"), ("voicemail", "Voicemail"), ("no_answer", "No answer"),
            ("wrong_number", "Wrong number"), ("declined", "Declined"),
            ("unsafe_to_call", "Unsafe to call"))
STATUS_ICONS = {"waiting": "⏳", "held": "⏸", "open": "🟢", "complete": "✅",
                "acknowledged": "👍", "done": "✅", "cannot_do": "⚠️", "blocked": "⛔"}

Blocks = list[dict[str, Any]]
MAX_HINT_TEXT = 2000  # Slack's limit for an input block's hint


def value(*parts: str) -> str:
    return "|".join(parts)


def _dicts(blocks: Iterable[Block]) -> Blocks:
    return [b.to_dict() for b in blocks][:MAX_BLOCKS]


def _md(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT)))


def _button(label: str, action_id: str, val: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text=clip(label, MAX_BUTTON_TEXT), emoji=True),
                         action_id=action_id, value=val, style=style)


def _hhmm(at: datetime | None, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%d %b %H:%M %Z") if at else "not set"


# ---- incident channel ---------------------------------------------------------------------


def banner(classification: str) -> str:
    return f"*{escape(classification.upper())}* — handle and share on a need-to-know basis"


@dataclass(frozen=True)
class ChannelViews:
    """What the incident channel shows of an incident: the pinned header and the dashboard,
    both rendered from one view, so they never tell different stories."""

    header: Blocks
    dashboard: Blocks


def channel_views(view: IncidentView) -> ChannelViews:
    return ChannelViews(header_blocks(view), dashboard_blocks(view))


def header_blocks(view: IncidentView) -> Blocks:
    title = clip(f"{view.title} — {view.area}", MAX_HEADER_TEXT)
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=banner(view.classification))]),
        HeaderBlock(text=PlainTextObject(text=title)),
        _md(f"*Incident* `{escape(view.id)}` · playbook `{escape(view.playbook_id)}` · "
            f"*{escape(status_words(view.status))}*\n"
            f"*T0* {_hhmm(view.t0, view.zone)} · *E0* {_hhmm(view.e0, view.zone)}"),
    ]
    if view.summary:
        blocks.append(_md(escape(view.summary)))
    return _dicts(blocks)


def status_words(status: str) -> str:
    """``standing_down`` as a person reads it: ``standing down``."""
    return status.replace("_", " ")


def dashboard_blocks(view: IncidentView) -> Blocks:
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=banner(view.classification))]),
        _md(f"*Dashboard* · {escape(status_words(view.status))}"
            + (" · *COMPROMISED*" if view.compromised else "")),
        DividerBlock(),
        _md("*Briefing order*\n" + "\n".join(_step_line(s) for s in view.steps)),
        _md("*Ring-round*\n" + "\n".join(_tier_line(t) for t in view.tiers)),
        _md("*Tasks*\n" + ("\n".join(_task_line(t) for t in view.tasks) or "none")),
        _md("*Key messages*\n" + "\n".join(
            f"`{escape(m.id)}` {escape(m.title)}: "
            + (", ".join(f"v{v.number} {v.status}" for v in m.versions) or "no versions")
            + (f" — _{escape(m.blocked_reason)}_" if m.blocked_reason else "")
            for m in view.messages)),
    ]
    return _dicts(blocks)


def _step_line(step: StepView) -> str:
    icon = STATUS_ICONS.get(step.status, "•")
    gate = f" — _{escape(step.gate.waiting_for)}_" if step.gate.waiting_for else ""
    return f"{icon} {escape(step.title)} ({step.status}){gate}"


def _tier_line(tier: TierView) -> str:
    if not tier.started:
        return f"Tier {tier.number} {escape(tier.title)}: not started"
    short = " ⚠️ short at deadline" if tier.short_at_deadline else ""
    return (f"Tier {tier.number} {escape(tier.title)}: `{bar(tier.fraction)}` "
            f"{tier.reached}/{tier.total} reached (target {tier.target:.0%}){short}")


def _task_line(task: TaskView) -> str:
    flag = " *OVERDUE*" if task.overdue else (" due soon" if task.due_soon else "")
    return (f"{STATUS_ICONS.get(task.status, '•')} {escape(task.title)} — "
            f"{escape(task.owner)}, {task.status}{flag}")


def notice_blocks(body: str) -> Blocks:
    return _dicts([_md(escape(body))])


# ---- direct messages ----------------------------------------------------------------------


def answered_blocks(original: str, label: str) -> Blocks:
    """A prompt once answered: its text without the buttons. ``original`` is the message text
    as Slack sent it back in the payload — already escaped, so not escaped again."""
    return _dicts([_md(original), ContextBlock(elements=[MarkdownTextObject(text=f"✅ {label}")])])


def task_blocks(incident_id: str, task_id: str, body: str) -> Blocks:
    val = value(incident_id, task_id)
    return _dicts([
        _md(escape(body)),
        ActionsBlock(block_id=f"task:{clip(task_id, 200)}", elements=[
            _button("Acknowledge", TASK_ACK, val, "primary"),
            _button("Done", TASK_DONE, val),
            _button("Can't do", TASK_CANNOT, val, "danger"),
        ]),
    ])


@dataclass(frozen=True)
class ContactLine:
    key: str
    name: str
    masked_phone: str
    state: str


def call_list_blocks(incident_id: str, list_id: str, body: str,
                     contacts: Sequence[ContactLine], script: str = "") -> Blocks:
    blocks: list[Block] = [
        _md(escape(body)),
        ActionsBlock(block_id=f"list:{list_id}", elements=[
            _button("Accept the list", CALL_ACCEPT, value(incident_id, list_id), "primary")]),
    ]
    if script:
        blocks.append(_md(f"*Script*\n{escape(script)}"))
    room = (MAX_BLOCKS - len(blocks) - 1) // 2
    for contact in contacts[:room]:
        val = value(incident_id, contact.key)
        blocks += [
            SectionBlock(text=MarkdownTextObject(
                text=f"*{escape(contact.name)}* · {escape(contact.masked_phone)} · "
                     f"{escape(contact.state)}"),
                accessory=_button("Open", CALL_OPEN, val)),
            ActionsBlock(block_id=f"outcome:{clip(contact.key, 200)}", elements=[
                _button(label, OUTCOME_PREFIX + code, val) for code, label in OUTCOMES]),
        ]
    if len(contacts) > room:
        blocks.append(_md(f"…and {len(contacts) - room} more: use `/incident ringround`."))
    return _dicts(blocks)


def approval_blocks(incident_id: str, message_id: str, version: int, body: str,
                    text: str) -> Blocks:
    return _dicts([
        _md(escape(body)),
        _md(f"*{escape(message_id)} v{version}*\n>>> {escape(text) or '(no English text)'}"),
        ActionsBlock(block_id=f"approve:{clip(message_id, 200)}", elements=[
            _button(f"Approve v{version}", MESSAGE_APPROVE,
                    value(incident_id, message_id, str(version)), "primary")]),
    ])


# ---- modals and the Home tab --------------------------------------------------------------


def cannot_do_modal(incident_id: str, task_id: str) -> dict[str, Any]:
    return View(
        type="modal", callback_id=CANNOT_DO_MODAL, private_metadata=value(incident_id, task_id),
        title=PlainTextObject(text="Can't do this task"), submit=PlainTextObject(text="Send"),
        blocks=[InputBlock(block_id="reason", label=PlainTextObject(text="Why not?"),
                           element=PlainTextInputElement(action_id="reason", multiline=True))],
    ).to_dict()


def contact_modal(name: str, phone: str) -> dict[str, Any]:
    """The one place a number is shown in full: a modal only the caller sees (audited)."""
    return View(type="modal", title=PlainTextObject(text="Contact"),
                blocks=[_md(f"*{escape(name)}*\n{escape(phone)}")]).to_dict()


def start_modal(playbooks: Sequence[tuple[str, str]], classifications: Sequence[str],
                variables: Mapping[str, Sequence[str]], zone: str, metadata: str = "",
                typed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``variables``: each playbook's settable variables; ``zone``: where typed times are read;
    ``typed``: what the command already gave, by field (``variables`` as name=value lines)."""
    typed = typed or {}

    def text_input(block_id: str, label: str, hint: str, optional: bool = True,
                   multiline: bool = False) -> InputBlock:
        return InputBlock(block_id=block_id, label=PlainTextObject(text=label), optional=optional,
                          hint=PlainTextObject(text=clip(hint, MAX_HINT_TEXT)),
                          element=PlainTextInputElement(action_id=block_id, multiline=multiline,
                                                        initial_value=typed.get(block_id)))

    def select(block_id: str, label: str, options: list[Option], optional: bool) -> InputBlock:
        initial = next((o for o in options if o.value == typed.get(block_id)), None)
        return InputBlock(block_id=block_id, label=PlainTextObject(text=label), optional=optional,
                          element=StaticSelectElement(action_id=block_id, options=options,
                                                      initial_option=initial))

    books = [Option(value=pid, label=clip(title, 75)) for pid, title in playbooks][:100]
    return View(
        type="modal", callback_id=START_MODAL, private_metadata=metadata,
        title=PlainTextObject(text="Start an incident"), submit=PlainTextObject(text="Start"),
        blocks=[
            select("playbook", "Playbook", books, optional=False),
            text_input("area", "Area", "e.g. Northbridge", optional=False),
            text_input("t0", f"T0 ({zone} time)",
                       "HH:MM (today) or YYYY-MM-DD HH:MM; empty for now"),
            text_input("e0", f"E0 ({zone} time)",
                       "HH:MM, YYYY-MM-DD HH:MM or +2h (after T0); empty for the playbook's "
                       "default"),
            select("classification", "Classification",
                   [Option(value=c, label=c) for c in classifications], optional=True),
            text_input("summary", "Summary", "Shown in the channel header and the decision log",
                       multiline=True),
            text_input("variables", "Variables",
                       _variables_hint(variables, typed.get("playbook")), multiline=True),
        ],
    ).to_dict()


def _variables_hint(variables: Mapping[str, Sequence[str]], playbook: str | None) -> str:
    shown = {playbook: variables[playbook]} if playbook and playbook in variables else variables
    names = " · ".join(f"{pid}: {', '.join(found)}" for pid, found in sorted(shown.items()))
    return ("One name=value a line (e.g. roads_affected=Elm Street); one not given keeps the "
            f"playbook's value. {names}")


def home_view(tasks: Sequence[tuple[str, TaskView]],
              calls: Sequence[tuple[str, str, int]]) -> dict[str, Any]:
    """``tasks``: (incident id, task); ``calls``: (incident id, list id, contacts left)."""
    task_lines = [f"{STATUS_ICONS.get(t.status, '•')} `{escape(i)}` {escape(t.title)} "
                  f"({t.status}, due {_hhmm(t.due, t.zone)})" for i, t in tasks]
    call_lines = [f"📞 `{escape(i)}` list {escape(lst)}: {left} to call" for i, lst, left in calls]
    return View(type="home", blocks=[
        HeaderBlock(text=PlainTextObject(text="My incident work")),
        _md("*My tasks*\n" + ("\n".join(task_lines) or "Nothing open.")),
        _md("*My calls*\n" + ("\n".join(call_lines) or "No call lists.")),
    ]).to_dict()

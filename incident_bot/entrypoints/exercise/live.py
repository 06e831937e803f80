"""What an exercise shows while it runs: the transcript's notable events, and the rich live view
(simulated clock, briefing steps and their gates, ring-round coverage per tier, tasks due and
overdue, the last escalations). Phone numbers appear masked only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from incident_bot.domain.directory import mask_phone
from incident_bot.domain.incident.read_model import IncidentView, StepView, TierView
from incident_bot.entrypoints.exercise.runner import Delivery, Stage
from incident_bot.entrypoints.exercise.transcript import UK, stamp
from incident_bot.entrypoints.exercise.transport import DEAD_NUMBER_CODE

# Bot notices worth a transcript line; True marks an escalation (shown in the live view too).
NOTABLE: dict[str, bool] = {
    "incident.active": False,
    "incident.compromised": True,
    "incident.e0_changed": False,
    "briefing.opened": False,
    "briefing.completed": False,
    "message.released": False,
    "ringround.list": False,
    "ringround.list_moved": True,
    "ringround.list_abandoned": True,
    "ringround.list_taken_back": False,
    "ringround.uncalled": True,
    "ringround.senior": True,
    "ringround.amber": True,
    "ringround.red": True,
    "ringround.flag": True,
    "ringround.held": True,
    "ringround.flag_cleared": False,
    "ringround.coverage_short": True,
    "ringround.opted_out": True,
    "ringround.opted_in": False,
    "ringround.unsafe": True,
    "ringround.feedback": False,
    "task.not_acknowledged": True,
    "task.escalated": True,
    "task.cannot_do": True,
}
MAX_TEXT = 160
RECENT = 6


def describe(stage: Stage, delivery: Delivery) -> tuple[str, bool] | None:
    """A transcript line for a delivery, or None when it is routine (or already noted)."""
    notify = delivery.notify
    if delivery.kind == "failed":
        what = "SMS" if notify.channel.value == "sms" else "Automated voice call"
        return (f"bot -> {stage.name(notify.recipient)} ({mask_phone(delivery.phone)}): {what} "
                f"FAILED, number unreachable ({DEAD_NUMBER_CODE})", True)
    if delivery.kind in ("sms", "voice"):
        what = "SMS" if delivery.kind == "sms" else "Automated voice call"
        return (f"bot -> {stage.name(notify.recipient)} ({mask_phone(delivery.phone)}): {what} "
                f"{notify.message_version or ''}".rstrip(), False)
    escalation = NOTABLE.get(notify.purpose)
    if escalation is None or _approval_in_progress(notify.purpose, notify.body):
        return None
    text = f"bot -> {_addressee(stage, notify.recipient)}: {_first_line(notify.body)}"
    if _already_noted(stage, notify.body):
        return None
    return text, escalation


def _approval_in_progress(purpose: str, body: str) -> bool:
    return purpose == "message.approved" and "is approved" not in body


def _addressee(stage: Stage, recipient: str) -> str:
    return "incident channel" if recipient == "incident" else stage.name(recipient)


def _first_line(body: str) -> str:
    line = body.strip().splitlines()[0] if body.strip() else ""
    return line if len(line) <= MAX_TEXT else line[: MAX_TEXT - 1] + "…"


def _already_noted(stage: Stage, body: str) -> bool:
    """One event told to several people is one line (same text at the same moment)."""
    wanted = _first_line(body)
    for line in reversed(stage.transcript.lines[-30:]):
        if line.at != stage.now:
            return False
        if line.text.endswith(f": {wanted}"):
            return True
    return False


# ---- the live view --------------------------------------------------------------------------


class LiveView:
    """A ``rich.live.Live`` redrawn as the exercise runs (at most ``fps`` times a second)."""

    def __init__(self, console: Console, speed: float, fps: float = 8.0,
                 reload_every: float = 0.5,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._console, self._speed = console, speed
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._view: IncidentView | None = None
        self._interval, self._last = 1.0 / fps, -1.0
        self._reload_every, self._loaded = reload_every, -1.0  # reading the incident costs
        self._stale = True
        self._monotonic = monotonic

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._live.__exit__(exc_type, exc, tb)

    def on_step(self, stage: Stage, changed: bool) -> None:
        """Redraw (the clock moves every step); reload the incident only when it changed, and
        at most every ``reload_every`` seconds."""
        self._stale = self._stale or changed
        now = self._monotonic()
        if now - self._last < self._interval:
            return
        self._last = now
        if self._stale and stage.started and now - self._loaded >= self._reload_every:
            self._view = stage.services.incidents.view(stage.incident_id)
            self._loaded, self._stale = now, False
        self._live.update(render(stage, self._view, self._speed), refresh=True)

    def finish(self, stage: Stage) -> None:
        """The last picture, whatever the throttles say."""
        if stage.started:
            self._view = stage.services.incidents.view(stage.incident_id)
        self._live.update(render(stage, self._view, self._speed), refresh=True)


def render(stage: Stage, view: IncidentView | None, speed: float) -> RenderableType:
    header = _header(stage, view, speed)
    if view is None:
        return Panel(header, title="incident-bot exercise")
    parts: list[RenderableType] = [header, _steps_table(view), _tiers_table(view),
                                   _tasks_text(view), _escalations(stage)]
    title = f"EXERCISE · {view.title} · {view.area} · {view.classification}"
    return Panel(Group(*parts), title=title)


def _header(stage: Stage, view: IncidentView | None, speed: float) -> Text:
    pace = "as fast as possible" if speed <= 0 else f"{speed:g}x"
    text = Text(f"Simulated time {stamp(stage.now, stage.config.t0)} UK time  ·  ", style="bold")
    if view is not None:
        e0 = _hhmm(view.e0) if view.e0 else "not set"
        text.append(f"status {view.status}  ·  T0 {_hhmm(view.t0)}  ·  E0 {e0}  ·  ")
    text.append(f"speed {pace}")
    return text


STEP_STYLES = {"complete": "green", "open": "yellow", "held": "bold red", "waiting": "dim"}


def _steps_table(view: IncidentView) -> Table:
    table = Table(title="Briefing order", expand=True, title_justify="left")
    for column in ("Step", "Status", "Planned", "Opened", "Done", "Gate"):
        table.add_column(column, no_wrap=column != "Gate")
    for step in view.steps:
        table.add_row(step.id, Text(_step_status(step), style=STEP_STYLES.get(step.status, "")),
                      _hhmm(step.planned_at), _hhmm(step.opened_at), _hhmm(step.completed_at),
                      step.gate.waiting_for or (step.opened_by or ""))
    return table


def _step_status(step: StepView) -> str:
    return f"{step.status} (override)" if step.overridden else step.status


def _tiers_table(view: IncidentView) -> Table:
    table = Table(title="Ring-round coverage", expand=True, title_justify="left")
    for column in ("Tier", "Coverage", "Reached", "Pending", "Failed", "Opted out", "Flagged"):
        table.add_column(column, no_wrap=True)
    for tier in view.tiers:
        if not tier.started and tier.number == 4:
            continue
        table.add_row(str(tier.number), coverage_bar(tier), f"{tier.reached}/{tier.total}",
                      str(tier.pending), str(tier.failed), str(tier.opted_out), str(tier.flagged))
    return table


def coverage_bar(tier: TierView, width: int = 24) -> Text:
    """Green reached, red failed/opted out/flagged, dim pending; the target as a percentage."""
    if not tier.started:
        return Text("not started", style="dim")
    total = max(tier.total, 1)
    reached = round(width * tier.reached / total)
    lost = round(width * (tier.failed + tier.opted_out + tier.flagged) / total)
    bar = Text("█" * reached, style="green")
    bar.append("█" * min(lost, width - reached), style="red")
    bar.append("░" * max(width - reached - lost, 0), style="dim")
    style = "green" if tier.fraction >= tier.target else "yellow"
    bar.append(f" {tier.fraction:.0%} (target {tier.target:.0%})", style=style)
    return bar


def _tasks_text(view: IncidentView) -> Text:
    done = sum(1 for t in view.tasks if t.status == "done")
    overdue = [t for t in view.tasks if t.overdue]
    soon = [t for t in view.tasks if t.due_soon]
    text = Text(f"Tasks: {done} done, {len(view.tasks) - done} not done (", style="bold")
    text.append(f"{len(overdue)} overdue", style="red" if overdue else "")
    text.append(")")
    text.append(f", {len(soon)} due within 15 minutes")
    for task in (overdue + soon)[:5]:
        flag = "OVERDUE" if task.overdue else "due soon"
        text.append(f"\n  {flag}: {task.title} ({task.owner}, due {_hhmm(task.due)})")
    return text


def _escalations(stage: Stage) -> Text:
    recent = [line for line in stage.transcript.lines if line.escalation][-RECENT:]
    text = Text("Last escalations", style="bold")
    for line in recent or ():
        text.append(f"\n  {stage.transcript.format(line)}")
    if not recent:
        text.append("\n  none yet", style="dim")
    return text


def _hhmm(instant: datetime | None) -> str:
    return instant.astimezone(UK).strftime("%H:%M") if instant else ""

"""``/incident`` — ack first, parse with a pure function, run the use case on the edge's work
pool (``edge.later``), reply ephemerally. Opening a modal is the exception: it runs at once,
because the request's ``trigger_id`` expires 3 s after the click.

Refusals (``RefusedError`` and ``NotAuthorised`` say what and who may) come back to the person
as an ephemeral reply; the service has already audited them. Every answer about an incident
names it (a command may name another incident than its channel's), and a command that fails
for any other reason still gets an answer saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from incident_bot.adapters.slack.blocks import start_modal
from incident_bot.adapters.slack.errors import form_failed, open_view
from incident_bot.adapters.slack.text import bar, escape, unescape
from incident_bot.domain import commands as c
from incident_bot.domain.access import Read
from incident_bot.domain.playbook import Classification
from incident_bot.entrypoints.slack.edge import SlackEdge, request_incident_id
from incident_bot.entrypoints.slack.edge import reply as reply_to
from incident_bot.entrypoints.slack.parse import (
    Parsed,
    UsageError,
    help_text,
    parse_command,
    parse_time,
    parse_version,
)
from incident_bot.errors import NotFoundError, ProviderError, RefusedError
from incident_bot.service.use_cases import StartRequest
from incident_bot.service.variables import settable

log = logging.getLogger("incident_bot.slack.slash")

Body = dict[str, Any]
Reply = Callable[[SlackEdge, Parsed, Body, WebClient], str]
UNTARGETED = ("help", "start")  # the subcommands that are not about an existing incident
FAILED = (":warning: that did not go through: something went wrong on our side (it is logged). "
          "Check with `/incident status` before trying again.")


def register(app: App, edge: SlackEdge) -> None:
    @app.command("/incident")
    def incident_command(ack: Ack, body: Body, respond: Respond, client: WebClient) -> None:
        ack()
        trigger = str(body.get("trigger_id") or "")
        if trigger and not edge.first_time(f"command:{trigger}"):
            return  # the same signed request again (a replay within the 5-minute window)

        def work() -> None:
            try:
                reply = answer(edge, body, client)
            except Exception:  # the person must hear that it failed, whatever the reason
                log.exception("slack.command_failed")
                reply = FAILED
            if reply:
                reply_to(respond, text=reply, response_type="ephemeral")
        if opens_modal(unescape(str(body.get("text", "")))):
            work()
        else:
            edge.later(work)


def opens_modal(text: str) -> bool:
    """``/incident start`` without a playbook and area asks for them in a modal."""
    try:
        parsed = parse_command(text)
    except UsageError:
        return False
    return parsed.name == "start" and None in start_target(parsed)


def answer(edge: SlackEdge, body: Body, client: WebClient) -> str:
    """The reply to one command: parse, find the incident it is about, run the handler."""
    incident_id: str | None = None
    try:
        parsed = parse_command(unescape(str(body.get("text", ""))))
        if parsed.name not in UNTARGETED:
            incident_id = edge.target(body, parsed.incident_id)
            parsed = replace(parsed, incident_id=incident_id)
        reply = HANDLERS[parsed.name](edge, parsed, body, client)
    except (RefusedError, NotFoundError, UsageError) as refused:
        return f":no_entry: {naming(incident_id, escape(str(refused)))}"
    return naming(incident_id, reply)


def naming(incident_id: str | None, reply: str) -> str:
    """The reply led by the incident it is about (a command may name another than its
    channel's)."""
    if incident_id is None or not reply:
        return reply
    return f"`{escape(incident_id)}` · {reply}"


# ---- start ------------------------------------------------------------------------------


def start_target(parsed: Parsed) -> tuple[str | None, str | None]:
    """The playbook and area a start names (None where it names none)."""
    playbook = parsed.words[0] if parsed.words else parsed.options.get("playbook")
    area = parsed.options.get("area") or parsed.rest(1)
    return playbook or None, area or None


def start(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    playbook, area = start_target(parsed)
    if playbook is None or area is None:
        return open_start_modal(edge, client, body, typed_so_far(parsed, playbook, area))
    return start_incident(edge, body["user_id"], str(body.get("trigger_id", "")), playbook,
                          area, parsed.options, parsed.variables)


def typed_so_far(parsed: Parsed, playbook: str | None, area: str | None) -> dict[str, str]:
    """What a start command gave, by start form field, so the form opens with it filled in."""
    typed = {k: v for k, v in parsed.options.items() if k in ("t0", "e0", "summary")}
    typed |= {"playbook": playbook or "", "area": area or "",
              "classification": parsed.options.get("classification", "").upper(),
              "variables": "\n".join(f"{k}={v}" for k, v in parsed.variables.items())}
    return {k: v for k, v in typed.items() if v}


def open_start_modal(edge: SlackEdge, client: WebClient, body: Body,
                     typed: dict[str, str]) -> str:
    """Open the start form; what went wrong when Slack did not (the command is acked)."""
    books = sorted((pb.id, pb.title) for pb in edge.services.playbooks.playbooks.values())
    variables = {pb.id: settable(pb) for pb in edge.services.playbooks.playbooks.values()}
    try:
        open_view(client, body["trigger_id"], start_modal(
            books, [cl.value for cl in Classification], variables,
            edge.services.settings.timezone, str(body.get("trigger_id", "")), typed))
    except ProviderError as error:
        log.warning("slack.form_not_opened form=start")
        return form_failed(error)
    return ""


def start_incident(edge: SlackEdge, slack_user: str, request_key: str, playbook: str, area: str,
                   options: dict[str, str], variables: dict[str, str]) -> str:
    by = edge.actor(slack_user)
    now = edge.services.clock.now()
    zone = edge.services.settings.zone
    t0 = parse_time(options.get("t0", "now"), now, zone)
    request = StartRequest(
        playbook_id=playbook, area=area, t0=t0, started_by=by,
        e0=parse_time(options["e0"], t0, zone) if options.get("e0") else None,
        classification=classification(options.get("classification", "")),
        summary=options.get("summary", ""), variables=variables, open_channel=True,
    )
    incident_id = request_incident_id(request_key or f"{slack_user}:{now.isoformat()}")
    if not edge.first_time(f"start:{incident_id}"):
        return ""
    incident_id = edge.services.incidents.start_incident(request, incident_id)
    log.info("slack.incident_started incident=%s", incident_id)
    named = f" Variables set: {escape(', '.join(sorted(variables)))}." if variables else ""
    return (f"Started `{incident_id}` ({escape(playbook)}, {escape(area)}): opening its channel."
            + named)


def classification(raw: str) -> Classification | None:
    if not raw:
        return None
    try:
        return Classification(raw.upper())
    except ValueError:
        raise UsageError(f"classification={raw} is not one of "
                         + ", ".join(c.value for c in Classification)) from None


# ---- reading ------------------------------------------------------------------------------


def status(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    view = edge.read(body, Read.STATUS, parsed.incident_id)
    opened = sum(s.status in ("open", "complete") for s in view.steps)
    overdue = sum(t.overdue for t in view.tasks)
    return (f"*{escape(view.title)}* ({escape(view.area)}) `{view.id}` — {view.status}"
            f"{' · COMPROMISED' if view.compromised else ''}\n"
            f"Briefing: {opened}/{len(view.steps)} steps open or done · "
            f"tasks overdue: {overdue}\n" + ringround_text(view))


def ringround_text(view: Any) -> str:
    return "\n".join(
        f"Tier {t.number}: `{bar(t.fraction)}` {t.reached}/{t.total}" if t.started
        else f"Tier {t.number}: not started" for t in view.tiers)


def ringround(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    return ringround_text(edge.read(body, Read.RINGROUND, parsed.incident_id))


def brief(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    if parsed.words[:1] == ("done",) and len(parsed.words) > 1:
        incident_id = edge.incident_for(body.get("channel_id"), parsed.incident_id)
        edge.run(incident_id, c.CompleteStep(parsed.words[1], by=edge.actor(body["user_id"])))
        return f"Briefing step {escape(parsed.words[1])} marked complete."
    view = edge.read(body, Read.BRIEF, parsed.incident_id)
    return "\n".join(f"`{s.id}` {escape(s.title)}: {s.status}"
                     + (f" — {escape(s.gate.waiting_for)}" if s.gate.waiting_for else "")
                     for s in view.steps)


# ---- changing things ----------------------------------------------------------------------


def message(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    action, message_id = parsed.words[0].lower(), parsed.words[1]
    incident_id = edge.incident_for(body.get("channel_id"), parsed.incident_id)
    by = edge.actor(body["user_id"])
    if action == "draft":
        edge.run(incident_id, c.DraftMessage(message_id, {"en": parsed.text}, by))
    elif action == "approve":
        edge.run(incident_id, c.ApproveMessage(message_id, parse_version(parsed.words[2]), by))
    else:
        edge.run(incident_id, c.ReleaseMessage(message_id, by))
    return f"Message {escape(message_id)}: {action} done."


def task(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    action = parsed.words[0].lower() if parsed.words else "list"
    if action == "add":
        incident_id = edge.incident_for(body.get("channel_id"), parsed.incident_id)
        return add_task(edge, incident_id, parsed, body["user_id"])
    tasks = edge.read(body, Read.TASKS, parsed.incident_id).tasks
    if action == "mine":
        me = edge.reader(body["user_id"])
        tasks = tuple(t for t in tasks if me in t.assignees)
    return "\n".join(f"`{t.id}` {escape(t.title)} — {escape(t.owner)}, {t.status}"
                     for t in tasks) or "No tasks."


def add_task(edge: SlackEdge, incident_id: str, parsed: Parsed, slack_user: str) -> str:
    due = parse_time(parsed.options.get("due", "+30m"), edge.services.clock.now(),
                     edge.services.settings.zone)
    owner = parsed.options["owner"]
    edge.run(incident_id, c.AddTask(parsed.text, owner, due, edge.actor(slack_user)))
    return f"Task added for {escape(owner)}."


def log_decision(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    incident_id = edge.incident_for(body.get("channel_id"), parsed.incident_id)
    edge.run(incident_id, c.LogDecision(parsed.text, parsed.rationale,
                                        edge.actor(body["user_id"])))
    return "Decision logged."


def override(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    incident_id = edge.incident_for(body.get("channel_id"), parsed.incident_id)
    edge.run(incident_id, c.OverrideStep(parsed.words[0], parsed.text,
                                         edge.actor(body["user_id"])))
    return f"Step {escape(parsed.words[0])} opened by override (logged)."


def compromised(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    incident_id = edge.incident_for(body.get("channel_id"), parsed.incident_id)
    edge.run(incident_id, c.MarkCompromised(parsed.text, edge.actor(body["user_id"])))
    return "Marked compromised: every remaining briefing step is open."


def standdown(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    incident_id = edge.incident_for(body.get("channel_id"), parsed.incident_id)
    edge.run(incident_id, c.StandDown(edge.actor(body["user_id"]), parsed.text))
    return "Standing down."


def close(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    incident_id = edge.incident_for(body.get("channel_id"), parsed.incident_id)
    edge.run(incident_id, c.Close(edge.actor(body["user_id"])))
    return f"Closed `{incident_id}`."


def show_help(edge: SlackEdge, parsed: Parsed, body: Body, client: WebClient) -> str:
    return help_text(edge.services.settings.timezone)


HANDLERS: dict[str, Reply] = {
    "help": show_help, "start": start, "status": status, "brief": brief,
    "ringround": ringround, "message": message, "task": task, "log": log_decision,
    "override": override, "compromised": compromised, "standdown": standdown, "close": close,
}

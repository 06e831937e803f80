"""Buttons and modals: ack first, parse the button value, run the command on the edge's work
pool (``edge.later``), and answer a refusal ephemerally (through the payload's response_url).
Buttons that open a modal do so at once: the click's ``trigger_id`` expires after 3 s."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.adapters.slack.errors import form_failed, open_view
from incident_bot.adapters.slack.text import escape
from incident_bot.domain import commands as c
from incident_bot.domain.access import Read
from incident_bot.domain.commands import Command
from incident_bot.entrypoints.slack import slash
from incident_bot.entrypoints.slack.edge import SlackEdge, reply
from incident_bot.entrypoints.slack.parse import (
    UsageError,
    parse_variable_lines,
    parse_version,
    split_value,
)
from incident_bot.errors import NotFoundError, ProviderError, RefusedError
from incident_bot.service.variables import refuse_unknown

log = logging.getLogger("incident_bot.slack.actions")

Body = dict[str, Any]
OUTCOME = re.compile(re.escape(kit.OUTCOME_PREFIX) + r"[a-z_]+")


def register(app: App, edge: SlackEdge) -> None:
    simple: dict[str, Callable[[str, str, str], Command]] = {
        kit.TASK_ACK: lambda _inc, task, by: c.AckTask(task, by),
        kit.TASK_DONE: lambda _inc, task, by: c.CompleteTask(task, by),
        kit.CALL_ACCEPT: lambda _inc, list_id, by: c.AcceptCallList(caller_key=by, by=by,
                                                                      list_id=list_id),
    }
    for action_id, make in simple.items():
        app.action(action_id)(_button(edge, make))

    @app.action(OUTCOME)
    def outcome(ack: Ack, body: Body, action: Body, respond: Respond) -> None:
        ack()
        code = action["action_id"].removeprefix(kit.OUTCOME_PREFIX)
        edge.later(lambda: _guarded(respond, lambda: _run_on(
            edge, body, action, lambda _i, contact, by: c.RecordOutcome(contact, code, by))))

    @app.action(kit.TASK_CANNOT)
    def cannot_do(ack: Ack, body: Body, action: Body, client: WebClient,
                  respond: Respond) -> None:
        ack()
        incident_id, task_id = split_value(action["value"], 2)
        _open_form(respond, client, body, kit.cannot_do_modal(incident_id, task_id))

    @app.view(kit.CANNOT_DO_MODAL)
    def cannot_do_submitted(ack: Ack, body: Body, view: Body, client: WebClient) -> None:
        reason = view["state"]["values"]["reason"]["reason"].get("value") or ""
        if not reason.strip():
            ack(response_action="errors", errors={"reason": "Say why, so it can be reassigned"})
            return
        ack()
        incident_id, task_id = split_value(view["private_metadata"], 2)
        user = body["user"]["id"]

        def run() -> str:
            edge.run(incident_id, c.CannotDoTask(task_id, reason.strip(), edge.actor(user)))
            return ""
        edge.later(lambda: _reply_in_dm(client, user, _guarded_text(run)))

    @app.action(kit.MESSAGE_APPROVE)
    def approve(ack: Ack, body: Body, action: Body, respond: Respond) -> None:
        ack()
        edge.later(lambda: _guarded(respond, lambda: _approve(edge, body, action)))

    @app.action(kit.CALL_OPEN)
    def open_contact(ack: Ack, body: Body, action: Body, respond: Respond,
                     client: WebClient) -> None:
        ack()
        _guarded(respond, lambda: _show_contact(edge, client, body, action, respond))

    @app.view(kit.START_MODAL)
    def start_submitted(ack: Ack, body: Body, view: Body, client: WebClient) -> None:
        values = {k: next(iter(v.values())) for k, v in view["state"]["values"].items()}
        fields = {k: (v.get("selected_option") or {}).get("value") or v.get("value") or ""
                  for k, v in values.items()}
        try:  # a wrong variable is shown under the field, and the form stays open
            variables = _form_variables(edge, fields)
        except (UsageError, RefusedError) as wrong:
            ack(response_action="errors", errors={"variables": str(wrong)})
            return
        ack()
        options = {k: fields[k] for k in ("t0", "e0", "classification", "summary")
                   if fields.get(k)}
        user = body["user"]["id"]
        edge.later(lambda: _reply_in_dm(client, user, _guarded_text(
            lambda: slash.start_incident(edge, user, view["private_metadata"] or view["id"],
                                            fields["playbook"], fields["area"], options,
                                            variables))))


DONE_LABELS = {kit.TASK_ACK: "Acknowledged", kit.TASK_DONE: "Done"}


def _button(edge: SlackEdge, make: Callable[[str, str, str], Command]) -> Callable[..., None]:
    def listener(ack: Ack, body: Body, action: Body, respond: Respond) -> None:
        ack()
        edge.later(lambda: work(body, action, respond))

    def work(body: Body, action: Body, respond: Respond) -> None:
        done = _guarded(respond, lambda: _run_on(edge, body, action, make))
        label = DONE_LABELS.get(action["action_id"])
        if done and label:  # the task DM loses its buttons: it has been answered
            original = str(body.get("message", {}).get("text", ""))
            reply(respond, replace_original=True, text=f"{original} — {label}",
                    blocks=kit.answered_blocks(original, label))
    return listener


def _form_variables(edge: SlackEdge, fields: dict[str, str]) -> dict[str, str]:
    """The start form's variables, checked against its playbook (the service checks again)."""
    variables = parse_variable_lines(str(fields.get("variables") or ""))
    playbook = edge.services.playbooks.playbooks.get(fields.get("playbook", ""))
    if playbook is not None:
        refuse_unknown(playbook, variables)
    return variables


def _reply_in_dm(client: WebClient, user: str, reply: str) -> None:
    if reply:  # a modal has no response_url: tell the person in their DM
        client.chat_postMessage(channel=user, text=reply)


def _run_on(edge: SlackEdge, body: Body, action: Body,
            make: Callable[[str, str, str], Command]) -> None:
    incident_id, subject = split_value(action["value"], 2)
    click = f"{body.get('container', {}).get('message_ts')}:{action.get('action_ts')}"
    if not edge.first_time(f"click:{action['action_id']}:{subject}:{click}"):
        return
    edge.run(incident_id, make(incident_id, subject, edge.actor(body["user"]["id"])))


def _approve(edge: SlackEdge, body: Body, action: Body) -> None:
    """A button value that is not ``incident|message|version`` is refused, not an error."""
    incident_id, message_id, version = split_value(action["value"], 3)
    edge.run(incident_id, c.ApproveMessage(message_id, parse_version(version),
                                           edge.actor(body["user"]["id"])))


def _show_contact(edge: SlackEdge, client: WebClient, body: Body, action: Body,
                  respond: Respond) -> None:
    """Reveal a contact's number to their caller only, in a modal (audited by the service)."""
    incident_id, contact = split_value(action["value"], 2)
    by = edge.actor(body["user"]["id"])
    edge.services.incidents.target(by, Read.COMMAND, incident_id)  # hidden reads as missing
    person = edge.services.incidents.reveal_contact(incident_id, contact, by)
    phone = person.phone if person and person.phone else "(no number)"
    _open_form(respond, client, body, kit.contact_modal(person.name if person else contact,
                                                          phone))


def _open_form(respond: Respond, client: WebClient, body: Body, view: dict[str, Any]) -> None:
    """Open a modal; when Slack does not, tell the person (the click is acked already)."""
    try:
        open_view(client, body["trigger_id"], view)
    except ProviderError as error:
        log.warning("slack.form_not_opened form=%s", view.get("callback_id"))
        reply(respond, text=form_failed(error), response_type="ephemeral",
              replace_original=False)


def _guarded(respond: Respond, work: Callable[[], None]) -> bool:
    """Run ``work``; answer a refusal ephemerally. True when it went through."""
    def run() -> str:
        work()
        return ""
    answer = _guarded_text(run)
    if answer:
        reply(respond, text=answer, response_type="ephemeral", replace_original=False)
    return not answer


def _guarded_text(work: Callable[[], str]) -> str:
    try:
        return work()
    except (RefusedError, NotFoundError, UsageError) as refused:
        return f":no_entry: {escape(str(refused))}"

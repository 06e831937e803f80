"""Text people typed (in Slack commands or in SMS replies) can neither ping a channel, mention
someone, nor forge a link in anything the bot posts: every ``& < >`` arrives escaped in every
chat.postMessage, chat.update and reply the fake Slack recorded."""

from __future__ import annotations

import json
import time

from incident_bot.domain.codes import confirmation_code
from incident_bot.domain.commands import ApproveMessage
from tests.hostile_requests import tally
from tests.hostile_requests.support import COMMANDER, Bot
from tests.slack.support import command_form, slack_post, wait_for
from tests.twilio.support import phone

# Slack's control sequences (each would notify, mention or link if posted raw).
CONTROLS = ["<!channel>", "<!here>", "<!everyone>", "<@U0EVIL01>", "<#C0EVIL01|general>",
            "<http://evil.example|click here>", "<mailto:x@evil.example|HR>",
            "<!subteam^S0EVIL01>", "<!date^1392734382^{date}|x>"]
MARKDOWN = "*URGENT* _evacuate_ ~all~ `now` ```pre``` &amp; &lt;!channel&gt;"


def payload(field: str) -> str:
    return f"{field}: " + " ".join(CONTROLS) + " " + MARKDOWN


# Where hostile text goes in: (field, the /incident command carrying it).
COMMANDS = [
    ("area", f'start twilio-drill area="{payload("area")}" summary="{payload("summary")}"'),
    ("task title", f'task add "{payload("task")}" owner=commander due=+30m'),
    ("task owner", f'task add "Close the road" owner="{CONTROLS[0]}"'),
    ("log decision", f"log {payload('decision')} because {payload('rationale')}"),
    ("message draft", f"message draft drill-sms {payload('draft')}"),
    ("unknown subcommand", f"{CONTROLS[1]} {CONTROLS[3]}"),
    ("unknown incident", f"status incident={CONTROLS[0]}"),
    ("override reason", f"override tier-1 {payload('override')}"),
]
SHOWN = {"area", "summary", "task", "draft", "feedback"}  # fields the bot echoes into Slack
POSTING = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url",
           "views.open", "views.publish", "views.update")


def _send(bot: Bot, n: int, text: str) -> None:
    form = command_form(bot.slack, text, user=COMMANDER, trigger=f"trig-esc-{n}",
                        reply=f"esc-{n}")
    assert slack_post(bot.server, form, timestamp=int(time.time())).status == 200
    wait_for(lambda: bot.slack.replies(f"esc-{n}"))
    bot.tick()


def _parsed_texts(bot: Bot) -> list[str]:
    """Every text Slack parses for mentions and links: a message's ``text`` (also the
    notification) and every ``mrkdwn`` text object in its blocks or view. ``plain_text`` objects
    are shown as typed and never notify, so they may carry the characters unescaped."""
    texts: list[str] = []
    for method in POSTING:
        for call in bot.slack.calls_to(method):
            texts.append(str(call.args.get("text", "")))
            for key in ("blocks", "view", "attachments"):
                value = call.args.get(key)
                _mrkdwn(json.loads(value) if isinstance(value, str) else value, texts)
    return texts


def _mrkdwn(node: object, out: list[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            out.append(str(node.get("text", "")))
        for value in node.values():
            _mrkdwn(value, out)
    elif isinstance(node, list):
        for value in node:
            _mrkdwn(value, out)


def test_hostile_text_in_every_field_is_escaped_in_every_bot_message(bot: Bot) -> None:
    for n, (_, text) in enumerate(COMMANDS):
        _send(bot, n, text)
    (incident_id,) = bot.edge.services.incidents.open_incident_ids()
    bot.edge.services.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
    bot.tick()
    assert bot.twilio.messages_to(phone(1, 0))
    bot.twilio.inbound_sms(phone(1, 0), payload("feedback"))  # posted to the incident channel
    bot.twilio.inbound_sms(phone(1, 1), f"{payload('reply')} {confirmation_code(incident_id, 1)}")
    for _ in range(3):
        bot.tick(60)
    tally.REQUESTS["slack/sms text with mentions, links, markdown"] += len(COMMANDS) + 2

    posted = _parsed_texts(bot)
    raw = {control: sum(control in text for text in posted) for control in CONTROLS}
    shown = {field for field in SHOWN if any(f"{field}: &lt;!channel&gt;" in t for t in posted)}
    assert raw == dict.fromkeys(CONTROLS, 0), raw
    assert shown == SHOWN  # the hostile text did reach Slack, escaped


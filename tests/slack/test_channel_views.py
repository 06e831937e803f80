"""The incident channel's header and dashboard, and the App Home, follow the incident to its
end: whatever the throttle and Slack's rate limits, the channel's last word on a closed
incident is "closed", and a Home no longer lists its work."""

from __future__ import annotations

import json
from datetime import timedelta

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.domain.commands import SetE0
from incident_bot.entrypoints.slack.app import wire
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.settings import load_settings
from incident_bot.testing.fake_slack import FakeSlack
from tests.fakes import FakeClock
from tests.slack.support import (
    ROOT,
    SECRET,
    TOKEN,
    Server,
    command_form,
    drain,
    open_home,
    slack_post,
    wait_for,
)
from tests.slack.test_http_end_to_end import start_incident, waiting_task


def shown(fake: FakeSlack, incident_id: str, event_type: str) -> str:
    """The text of the channel's header or dashboard as Slack shows it now."""
    channel = fake.channel_named(incident_id)
    assert channel is not None
    (message,) = [m for m in channel.messages.values()
                  if m.get("metadata", {}).get("event_type") == event_type]
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in message["blocks"])


def dashboard(fake: FakeSlack, incident_id: str) -> str:
    return shown(fake, incident_id, "incident_bot_dashboard")


def header(fake: FakeSlack, incident_id: str) -> str:
    return shown(fake, incident_id, "incident_bot_header")


def command(server: Server, fake: FakeSlack, text: str, trigger: str) -> None:
    slack_post(server, command_form(fake, text, trigger=trigger, reply=trigger))
    wait_for(lambda: fake.replies(trigger))


def stand_down_and_close(server: Server, fake: FakeSlack) -> None:
    """The commander stands down and closes within the same second."""
    command(server, fake, "standdown all clear", "down")
    command(server, fake, "close", "close")


def test_after_close_the_channel_dashboard_shows_closed(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)

    stand_down_and_close(server, fake_slack)

    assert "*Dashboard* · closed" in dashboard(fake_slack, incident_id)


def test_after_close_the_pinned_header_shows_closed(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    assert "*active*" in header(fake_slack, incident_id)

    stand_down_and_close(server, fake_slack)

    assert "*closed*" in header(fake_slack, incident_id)


def test_a_close_slack_rate_limits_is_shown_by_the_tick_once_slack_allows(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge, clock: FakeClock) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    command(server, fake_slack, "standdown all clear", "down")
    clock.advance(seconds=3)
    fake_slack.fail_next("chat.update", status=429, retry_after=10)

    command(server, fake_slack, "close", "close")
    assert "closed" not in dashboard(fake_slack, incident_id)
    clock.advance(seconds=11)
    drain(edge)

    assert "*Dashboard* · closed" in dashboard(fake_slack, incident_id)


def test_a_moved_e0_shows_in_the_pinned_header(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge, clock: FakeClock) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    incident = edge.services.incidents.incident(incident_id)
    assert incident.params.e0 is not None
    before = header(fake_slack, incident_id)

    edge.services.incidents.execute(
        incident_id, SetE0(incident.params.e0 + timedelta(minutes=45), incident.started_by))
    clock.advance(seconds=3)
    drain(edge)

    now = kit.header_blocks(edge.services.incidents.view(incident_id))
    assert header(fake_slack, incident_id) != before
    assert header(fake_slack, incident_id) == "\n".join(
        str(b.get("text", {}).get("text", "")) for b in now)


def restarted(database_url: str, fake: FakeSlack, clock: FakeClock) -> SlackEdge:
    """A new process on the same database: nothing remembered but what was stored."""
    return wire(load_settings({"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": TOKEN,
                               "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url},
                              base=ROOT), clock=clock, worker="after-restart")


def test_a_close_slack_refused_is_shown_after_a_restart_before_the_closing_notice(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge, clock: FakeClock,
        database_url: str) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    command(server, fake_slack, "standdown all clear", "down")
    clock.advance(seconds=3)
    fake_slack.fail_next("chat.update", status=429, retry_after=10)
    command(server, fake_slack, "close", "close")  # then the process stops before its tick

    after = restarted(database_url, fake_slack, clock)
    try:
        clock.advance(seconds=11)
        drain(after)
    finally:
        after.close()
        after.services.engine.dispose()

    assert "*Dashboard* · closed" in dashboard(fake_slack, incident_id)
    assert "*closed*" in header(fake_slack, incident_id)
    methods = [(c.method, c.args.get("text")) for c in fake_slack.calls
               if c.method in ("chat.update", "chat.postMessage")]
    assert methods[-1] == ("chat.postMessage", "Incident closed.")  # the channel's last word
    assert ("chat.update", "Incident dashboard") in methods[-3:]


def test_once_the_channel_shows_closed_the_tick_leaves_it_alone(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge, clock: FakeClock) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    stand_down_and_close(server, fake_slack)
    updates = len(fake_slack.calls_to("chat.update"))

    for _ in range(3):
        clock.advance(minutes=1)
        drain(edge)

    assert "*Dashboard* · closed" in dashboard(fake_slack, incident_id)
    assert len(fake_slack.calls_to("chat.update")) == updates


def home_of(fake: FakeSlack, user: str) -> str:
    """The Home Slack shows the person now: the last one published to them."""
    published = [c for c in fake.calls_to("views.publish") if c.args["user_id"] == user]
    return json.dumps(published[-1].args["view"]) if published else ""


def test_after_close_a_home_no_longer_lists_the_incidents_tasks(
        server: Server, fake_slack: FakeSlack, edge: SlackEdge) -> None:
    incident_id = start_incident(server, fake_slack, edge)
    task_id, _, user = waiting_task(edge, incident_id)
    title = next(t.title for t in edge.services.incidents.view(incident_id).tasks
                 if t.id == task_id)
    open_home(server, fake_slack, user)
    wait_for(lambda: title in home_of(fake_slack, user))

    stand_down_and_close(server, fake_slack)

    assert title not in home_of(fake_slack, user)
    assert "Nothing open." in home_of(fake_slack, user)

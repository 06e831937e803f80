"""SlackChat and the dashboards: the real WebClient against the fake Slack, through the real
dispatcher and outbox."""

from __future__ import annotations

import json

import pytest

from incident_bot.adapters.slack.errors import call
from incident_bot.domain.commands import AckTask, ApproveMessage, LogDecision, MarkCompromised
from incident_bot.domain.effects import UPDATE_TS, Notify, OutboxChannel
from incident_bot.entrypoints.slack.edge import SlackEdge
from incident_bot.errors import PermanentProviderError, TransientProviderError
from incident_bot.service.channels import dashboard_ts, request_channel
from incident_bot.service.use_cases import StartRequest
from incident_bot.testing.fake_slack import FakeSlack
from tests.fakes import FakeClock
from tests.slack.support import drain


def start(edge: SlackEdge, summary: str = "") -> str:
    incident_id = edge.services.incidents.start_incident(StartRequest(
        "ct-arrests-and-searches", "Northbridge", edge.services.clock.now(), "nb-pol-01",
        summary=summary))
    request_channel(edge.services.uow_factory, incident_id, edge.services.clock.now())
    return incident_id


def open_ring_round(edge: SlackEdge) -> str:
    incident_id = start(edge)
    incident = edge.services.incidents.incident(incident_id)
    for message in incident.playbook.messages:
        for role in message.approvers:
            edge.services.incidents.execute(incident_id, ApproveMessage(
                message.id, 1, incident.roles.holders_of(role)[0]))
    edge.services.incidents.execute(incident_id, MarkCompromised("leak", "nb-pol-01"))
    drain(edge)
    return incident_id


def test_rate_limited_post_is_retried_by_the_outbox_after_retry_after(
        edge: SlackEdge, fake_slack: FakeSlack, clock: FakeClock) -> None:
    incident_id = start(edge)
    fake_slack.fail_next("conversations.create", status=429, retry_after=30)

    drain(edge)
    assert edge.services.incidents.incident(incident_id).channel_id is None
    clock.advance(seconds=29)
    drain(edge)
    assert len(fake_slack.calls_to("conversations.create")) == 1
    clock.advance(seconds=2)
    drain(edge)

    assert len(fake_slack.calls_to("conversations.create")) == 2
    assert edge.services.incidents.incident(incident_id).channel_id is not None


def test_429_becomes_a_transient_error_carrying_retry_after(
        edge: SlackEdge, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)

    with pytest.raises(TransientProviderError) as raised:
        call(edge.client.chat_postMessage, channel="C1", text="x")

    assert raised.value.retry_after == 7.0
    assert not raised.value.uncertain


def test_server_error_is_transient_and_uncertain(edge: SlackEdge, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=500)

    with pytest.raises(TransientProviderError) as raised:
        call(edge.client.chat_postMessage, channel="C1", text="x")

    assert raised.value.uncertain


def test_slack_error_code_becomes_a_permanent_error(edge: SlackEdge) -> None:
    with pytest.raises(PermanentProviderError) as raised:
        call(edge.client.chat_postMessage, channel="C-missing", text="x")

    assert raised.value.code == "channel_not_found"


def test_taken_channel_name_gets_a_suffix(edge: SlackEdge, fake_slack: FakeSlack) -> None:
    incident_id = start(edge)
    call(edge.client.conversations_create, name=incident_id, is_private=True)

    drain(edge)

    assert fake_slack.channel_named(f"{incident_id}-2") is not None
    channel = fake_slack.channel_named(f"{incident_id}-2")
    assert channel is not None
    assert edge.services.incidents.incident(incident_id).channel_id == channel.id


def test_user_text_is_escaped_so_it_cannot_ping_or_forge_links(
        edge: SlackEdge, fake_slack: FakeSlack) -> None:
    incident_id = start(edge, summary="<!channel> & <https://evil.test|click>")

    drain(edge)

    channel = fake_slack.channel_named(incident_id)
    assert channel is not None
    header = json.dumps(channel.messages[channel.pins[0]]["blocks"])
    assert "&lt;!channel&gt; &amp; &lt;https://evil.test|click&gt;" in header
    assert "<!channel>" not in header


def test_decision_text_posted_in_channel_is_escaped(
        edge: SlackEdge, fake_slack: FakeSlack) -> None:
    incident_id = start(edge)
    drain(edge)
    edge.services.incidents.execute(incident_id, LogDecision("<@U0NBPOL002> go", "", "nb-pol-01"))

    drain(edge)

    posted = json.dumps([c.args for c in fake_slack.calls_to("chat.postMessage")])
    assert "<@U0NBPOL002>" not in posted


def test_no_phone_number_reaches_slack_unmasked(edge: SlackEdge, fake_slack: FakeSlack) -> None:
    open_ring_round(edge)
    with edge.services.uow_factory() as uow:
        phones = [p.phone for p in uow.directory.all() if p.phone]

    everything = json.dumps([c.args for c in fake_slack.calls], ensure_ascii=False)

    assert fake_slack.calls_to("chat.postMessage")
    assert phones
    assert not [p for p in phones if p in everything or p.lstrip("+") in everything]


def test_call_list_dm_shows_masked_numbers_and_outcome_buttons(
        edge: SlackEdge, fake_slack: FakeSlack) -> None:
    incident_id = open_ring_round(edge)
    call_list = edge.services.incidents.incident(incident_id).ringround.tiers[1].lists[0]

    dm = next(c for c in fake_slack.calls_to("chat.postMessage")
              if any(b.get("block_id") == f"list:{call_list.id}" for b in c.args["blocks"]))

    blocks = dm.args["blocks"]
    assert len(blocks) <= 50
    outcome_rows = [b for b in blocks if b.get("block_id", "").startswith("outcome:")]
    assert len(outcome_rows) == len(call_list.contacts)
    assert {e["action_id"] for e in outcome_rows[0]["elements"]} >= {
        "ringround.outcome.reached", "ringround.outcome.no_answer"}
    assert "••" in json.dumps(blocks, ensure_ascii=False)


def test_task_dm_has_acknowledge_done_and_cant_do_buttons(
        edge: SlackEdge, fake_slack: FakeSlack) -> None:
    start(edge)
    drain(edge)

    task_dm = next(c for c in fake_slack.calls_to("chat.postMessage")
                   if c.args["text"].startswith("New task"))

    buttons = [e["text"]["text"] for b in task_dm.args["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == ["Acknowledge", "Done", "Can't do"]


def test_dashboard_updates_at_most_once_per_two_seconds(
        edge: SlackEdge, fake_slack: FakeSlack, clock: FakeClock) -> None:
    incident_id = start(edge)
    drain(edge)
    for n in range(5):
        edge.services.incidents.execute(incident_id, LogDecision(f"d{n}", "", "nb-pol-01"))
        task = edge.services.incidents.view(incident_id).tasks[n]
        edge.services.incidents.execute(incident_id, AckTask(task.id, task.assignees[0]))
        edge.dashboards.refresh(incident_id)
    clock.advance(seconds=1)
    edge.dashboards.refresh(incident_id)
    assert len(fake_slack.calls_to("chat.update")) == 0  # within 2 s of posting the dashboard
    clock.advance(seconds=1)

    edge.dashboards.refresh(incident_id)
    edge.dashboards.refresh(incident_id)

    assert len(fake_slack.calls_to("chat.update")) == 1


def test_dashboard_rate_limit_defers_the_update_past_retry_after(
        edge: SlackEdge, fake_slack: FakeSlack, clock: FakeClock) -> None:
    incident_id = start(edge)
    drain(edge)
    task = edge.services.incidents.view(incident_id).tasks[0]
    edge.services.incidents.execute(incident_id, AckTask(task.id, task.assignees[0]))
    clock.advance(seconds=3)
    fake_slack.fail_next("chat.update", status=429, retry_after=10)

    assert not edge.dashboards.refresh(incident_id)
    clock.advance(seconds=9)
    assert not edge.dashboards.refresh(incident_id)
    clock.advance(seconds=1)

    assert edge.dashboards.refresh(incident_id)
    assert len(fake_slack.calls_to("chat.update")) == 2


def test_channel_opening_retried_after_a_rate_limited_pin_posts_one_header(
        edge: SlackEdge, fake_slack: FakeSlack, clock: FakeClock) -> None:
    incident_id = start(edge)
    fake_slack.fail_next("pins.add", status=429, retry_after=10)

    drain(edge)
    clock.advance(seconds=11)
    drain(edge)

    channel = fake_slack.channel_named(incident_id)
    assert channel is not None
    headers = [m for m in channel.messages.values()
               if m.get("metadata", {}).get("event_type") == "incident_bot_header"]
    assert len(headers) == 1
    assert channel.pins == [headers[0]["ts"]]
    assert len(fake_slack.calls_to("conversations.create")) == 1


def test_a_post_can_be_found_again_by_its_outbox_key(edge: SlackEdge) -> None:
    incident_id = start(edge)
    drain(edge)
    channel = edge.services.incidents.incident(incident_id).channel_id
    notify = Notify(key=f"{incident_id}|incident|probe|slack_channel|1",
                    channel=OutboxChannel.SLACK_CHANNEL, recipient="incident",
                    body="probe", purpose="test.probe")
    other = Notify(key=f"{incident_id}|incident|other|slack_channel|1",
                   channel=OutboxChannel.SLACK_CHANNEL, recipient="incident",
                   body="probe", purpose="test.probe")
    posted = edge.chat.send(notify, incident_id, channel)

    found = edge.chat.find_posted(notify, incident_id, channel)

    assert found is not None
    assert found.provider_id == posted.provider_id
    assert edge.chat.find_posted(other, incident_id, channel) is None


def test_the_tick_renders_only_dashboards_whose_incident_changed_or_is_due_a_recheck(
        edge: SlackEdge, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    changed, quiet = start(edge, "t-changed"), start(edge, "t-quiet")
    drain(edge)
    clock.advance(seconds=3)
    edge.dashboards.refresh_all()  # both shown as they are now
    rendered: list[str] = []
    view = edge.services.incidents.view
    monkeypatch.setattr(edge.services.incidents, "view",
                        lambda incident_id: rendered.append(incident_id) or view(incident_id))

    task = edge.services.incidents.view(changed).tasks[0]
    rendered.clear()
    edge.services.incidents.execute(changed, AckTask(task.id, task.assignees[0]))
    clock.advance(seconds=3)
    edge.dashboards.refresh_all()
    assert rendered == [changed]

    rendered.clear()
    clock.advance(seconds=29)  # 32 s since the quiet one was last rendered
    edge.dashboards.refresh_all()
    assert sorted(rendered) == sorted([quiet])  # a task may have fallen overdue meanwhile


def test_a_folded_post_is_updated_in_place_not_posted_again(
        edge: SlackEdge, fake_slack: FakeSlack) -> None:
    incident_id = start(edge)
    drain(edge)
    channel_id = edge.services.incidents.incident(incident_id).channel_id
    first = Notify(key=f"{incident_id}|incident|fold-1|slack_channel|1",
                   channel=OutboxChannel.SLACK_CHANNEL, recipient="incident",
                   body="SMS reply from A: one", purpose="ringround.feedback")
    posted = edge.chat.send(first, incident_id, channel_id)
    second = Notify(key=f"{incident_id}|incident|fold-2|slack_channel|1",
                    channel=OutboxChannel.SLACK_CHANNEL, recipient="incident",
                    body="SMS replies from A, 2 so far", purpose="ringround.feedback",
                    data={UPDATE_TS: posted.provider_id})

    updated = edge.chat.send(second, incident_id, channel_id)

    channel = fake_slack.channel_named(incident_id)
    assert channel is not None
    assert updated.provider_id == posted.provider_id
    assert "2 so far" in channel.messages[posted.provider_id]["text"]
    assert len(fake_slack.calls_to("chat.update")) == 1


def posted(fake_slack: FakeSlack, incident_id: str, event_type: str) -> list[str]:
    """The ts of each message of this kind in the incident's channel."""
    channel = fake_slack.channel_named(incident_id)
    assert channel is not None
    return [ts for ts, m in channel.messages.items()
            if m.get("metadata", {}).get("event_type") == event_type]


def header_attempts(fake_slack: FakeSlack) -> list[object]:
    return [c for c in fake_slack.calls_to("chat.postMessage")
            if c.args.get("metadata", {}).get("event_type") == "incident_bot_header"]


def test_a_refused_header_is_posted_with_the_dashboard_by_a_later_tick_once(
        edge: SlackEdge, fake_slack: FakeSlack, clock: FakeClock) -> None:
    incident_id = start(edge)
    fake_slack.fail_next("chat.postMessage", status=200, error="invalid_blocks")
    drain(edge)  # the opening fails; the tick queues it again
    fake_slack.fail_next("chat.postMessage", status=200, error="invalid_blocks")
    drain(edge)  # and it fails again
    assert len(header_attempts(fake_slack)) == 2
    clock.advance(seconds=59)
    drain(edge)
    drain(edge)
    assert len(header_attempts(fake_slack)) == 2  # not queued again within the minute
    assert posted(fake_slack, incident_id, "incident_bot_header") == []
    clock.advance(seconds=1)

    drain(edge)
    drain(edge)
    clock.advance(seconds=60)
    drain(edge)
    drain(edge)

    headers = posted(fake_slack, incident_id, "incident_bot_header")
    boards = posted(fake_slack, incident_id, "incident_bot_dashboard")
    assert len(headers) == 1
    assert len(boards) == 1
    assert fake_slack.channel_named(incident_id).pins == headers  # type: ignore[union-attr]
    assert dashboard_ts(edge.services.uow_factory, incident_id) == boards[0]


def test_a_reopened_channel_reuses_the_header_a_failed_opening_posted(
        edge: SlackEdge, fake_slack: FakeSlack, clock: FakeClock) -> None:
    incident_id = start(edge)
    fake_slack.fail_next("pins.add", status=200, error="not_pinnable")
    drain(edge)
    assert len(posted(fake_slack, incident_id, "incident_bot_header")) == 1
    assert posted(fake_slack, incident_id, "incident_bot_dashboard") == []

    drain(edge)
    clock.advance(seconds=60)
    drain(edge)

    headers = posted(fake_slack, incident_id, "incident_bot_header")
    assert len(headers) == 1
    assert len(posted(fake_slack, incident_id, "incident_bot_dashboard")) == 1
    assert fake_slack.channel_named(incident_id).pins == headers  # type: ignore[union-attr]

"""The App Home tab: my open tasks and my call lists across the open incidents I may read."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from incident_bot.adapters.slack.blocks import home_view
from incident_bot.domain.access import Read
from incident_bot.domain.views import TaskView
from incident_bot.entrypoints.slack.edge import SlackEdge

OPEN_TASK = frozenset({"waiting", "acknowledged", "blocked"})


def register(app: App, edge: SlackEdge) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        user = event.get("user")
        if isinstance(user, str) and user:  # a signed event without its user names nobody
            edge.later(lambda: publish_home(edge, client, user))


def publish_home(edge: SlackEdge, client: WebClient, user: str) -> None:
    """Only the open incidents the person may read (a stranger's Home is empty)."""
    client.views_publish(user_id=user, view=home_view(*my_work(edge, edge.reader(user))))


def my_work(edge: SlackEdge, me: str) -> tuple[list[tuple[str, TaskView]],
                                              list[tuple[str, str, int]]]:
    tasks: list[tuple[str, TaskView]] = []
    calls: list[tuple[str, str, int]] = []
    for incident, view in edge.services.incidents.readable_open(me, Read.HOME):
        tasks += [(incident.id, t) for t in view.tasks
                  if me in t.assignees and t.status in OPEN_TASK]
        for lst in incident.ringround.lists_of(me):
            round_ = incident.ringround.tiers.values()
            left = sum(1 for r in round_ for key in lst.contacts
                       if key in r.contacts and not r.contacts[key].terminal)
            calls.append((incident.id, lst.id, left))
    return tasks, calls

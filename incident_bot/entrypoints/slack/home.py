"""The App Home tab's listener: publish the person's Home when they open it (rendering and
refreshing it: ``incident_bot/adapters/slack/home.py``)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from incident_bot.entrypoints.slack.edge import SlackEdge


def register(app: App, edge: SlackEdge) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        user = event.get("user")
        if isinstance(user, str) and user:  # a signed event without its user names nobody
            edge.later(lambda: publish_home(edge, user))


def publish_home(edge: SlackEdge, user: str) -> None:
    """Only the open incidents the person may read (a stranger's Home is empty)."""
    edge.dashboards.homes.publish(user, edge.reader(user))

"""The App Home tab: my open tasks and my call lists across the open incidents I may read.

Published when the person opens it, and again whenever an incident they are in changes (the
dashboards' refresh tells :meth:`Homes.incident_changed`), so a Home never keeps showing a closed
incident's work as open. Rendered from the same views as the channel's dashboard.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import Any

from slack_sdk import WebClient

from incident_bot.adapters.slack.blocks import home_view
from incident_bot.adapters.slack.errors import call
from incident_bot.domain.access import Read
from incident_bot.domain.incident.model import Incident
from incident_bot.domain.incident.read_model import IncidentView, TaskView
from incident_bot.errors import ProviderError
from incident_bot.service.use_cases import IncidentService

log = logging.getLogger("incident_bot.slack.home")
OPEN_TASK = frozenset({"waiting", "acknowledged", "blocked"})


class Homes:
    def __init__(self, client: WebClient, incidents: IncidentService) -> None:
        self._client, self._incidents = client, incidents
        self._shown: dict[str, tuple[str, str]] = {}  # Slack user -> (person key, digest)
        self._lock = threading.Lock()

    def publish(self, slack_user: str, me: str) -> None:
        """The person opened their Home: show it as it is now (their read is audited)."""
        view = self._render(me, audit=True)
        call(self._client.views_publish, user_id=slack_user, view=view)
        with self._lock:
            self._shown[slack_user] = (me, _digest(view))

    def incident_changed(self, incident: Incident) -> int:
        """Publish again the Homes of the people in ``incident`` whose Home changed; how many."""
        members = set(incident.roles.members())
        with self._lock:
            shown = [(user, me, digest) for user, (me, digest) in self._shown.items()
                     if me in members]
        return sum(self._republish(user, me, digest) for user, me, digest in shown)

    def _republish(self, slack_user: str, me: str, digest: str) -> bool:
        view = self._render(me, audit=False)  # the system's refresh, not a read by the person
        if _digest(view) == digest:
            return False
        try:
            call(self._client.views_publish, user_id=slack_user, view=view)
        except ProviderError as error:  # the next change tries again
            log.warning("home.not_published error=%s", type(error).__name__)
            return False
        with self._lock:
            self._shown[slack_user] = (me, _digest(view))
        return True

    def _render(self, me: str, *, audit: bool) -> dict[str, Any]:
        return home_view(*my_work(self._incidents.readable_open(me, Read.HOME, audit=audit),
                                  me))


def my_work(readable: list[tuple[Incident, IncidentView]], me: str
            ) -> tuple[list[tuple[str, TaskView]], list[tuple[str, str, int]]]:
    """My open tasks and my call lists (with how many contacts are left to call)."""
    tasks: list[tuple[str, TaskView]] = []
    calls: list[tuple[str, str, int]] = []
    for incident, view in readable:
        tasks += [(incident.id, t) for t in view.tasks
                  if me in t.assignees and t.status in OPEN_TASK]
        for lst in incident.ringround.lists_of(me):
            round_ = incident.ringround.tiers.values()
            left = sum(1 for r in round_ for key in lst.contacts
                       if key in r.contacts and not r.contacts[key].terminal)
            calls.append((incident.id, lst.id, left))
    return tasks, calls


def _digest(view: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()

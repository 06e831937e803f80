"""The Slack edge: the services (from bootstrap) with Slack's client, chat adapter and
dashboards, and the Bolt app, plus the helpers every listener shares (who is acting, which
incident, run a command, say no politely). ``app.wire`` builds it."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from incident_bot.adapters.slack.chat import SlackChat
from incident_bot.adapters.slack.dashboard import Dashboards
from incident_bot.bootstrap import Services
from incident_bot.domain.access import Read
from incident_bot.domain.commands import Command
from incident_bot.domain.incident.read_model import IncidentView
from incident_bot.errors import RefusedError

log = logging.getLogger("incident_bot.slack")
REMEMBERED_REQUESTS = 10_000  # request keys kept to drop duplicates (Slack retries in minutes)
# Threads doing listeners' work after the ack. Few on purpose: the work is mostly CPU under one
# GIL, and every busy thread slows the acks of new requests (bench/slack_ack.py measured a
# burst of 50 starts on 64 threads pushing acks past Slack's 3 s). A burst queues here instead.
WORK_THREADS = 2


@dataclass
class SlackEdge:
    services: Services
    client: WebClient
    chat: SlackChat
    dashboards: Dashboards
    app: Any = None  # slack_bolt.App, set by build_app
    handled: OrderedDict[str, None] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    work: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        max_workers=WORK_THREADS, thread_name_prefix="slack-work"))
    _pending: int = 0

    def tick(self) -> None:
        """The scheduler's job: timers, outbox, then dashboards (throttled)."""
        self.services.tick()
        self.dashboards.refresh_all()

    def later(self, job: Callable[[], object]) -> None:
        """Run a listener's work on the work pool, after its ack has gone back to Slack."""
        with self._lock:
            self._pending += 1
        self.work.submit(self._run_logged, job)

    def queued(self) -> int:
        """Listener work accepted and not finished yet (queued or running)."""
        with self._lock:
            return self._pending

    def _run_logged(self, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception:  # a pool thread's exception would vanish into its Future
            log.exception("slack.work_failed")
        finally:
            with self._lock:
                self._pending -= 1

    def close(self) -> None:
        """Finish the work already accepted, then stop the listener and work threads."""
        if self.app is not None:
            self.app.listener_runner.listener_executor.shutdown(wait=True)
        self.work.shutdown(wait=True)

    # ---- shared by listeners ----------------------------------------------------------------

    def actor(self, slack_user_id: str) -> str:
        """The directory key of the Slack user acting (RefusedError, audited, when unknown)."""
        return self.services.incidents.actor_by_slack_id(slack_user_id)

    def reader(self, slack_user_id: str) -> str:
        """Who is reading: their directory key, or ``slack:<id>`` for a Slack user outside the
        directory (who may read nothing; the service audits the refusal, so this does not)."""
        return self.services.incidents.reader_by_slack_id(slack_user_id)

    def read(self, body: dict[str, Any], what: Read, explicit: str | None = None
             ) -> IncidentView:
        """A person's read of an incident, guarded by the service (see ``IncidentService.read``)."""
        return self.services.incidents.read(self.reader(str(body.get("user_id", ""))), what,
                                            explicit, body.get("channel_id"))

    def target(self, body: dict[str, Any], explicit: str | None = None) -> str:
        """The incident a command is about, as the person may see it (see
        ``IncidentService.target``): a hidden incident is answered as a missing one."""
        return self.services.incidents.target(self.reader(str(body.get("user_id", ""))),
                                              Read.COMMAND, explicit, body.get("channel_id"))

    def incident_for(self, channel_id: str | None, explicit: str | None = None) -> str:
        """The incident a command is about: the one named, the one whose channel it came from,
        or the only open one. Names no incident: the person may not be in any of them (a
        read's "which incident?" lists those the reader may see)."""
        if explicit:
            return explicit
        open_ids = self.services.incidents.open_incident_ids()
        for incident_id in open_ids:
            if channel_id and self.services.incidents.incident(incident_id).channel_id == \
                    channel_id:
                return incident_id
        if len(open_ids) == 1:
            return open_ids[0]
        if not open_ids:
            raise RefusedError("no incident is open")
        raise RefusedError("more than one incident is open: add incident=<id> "
                           "(`/incident status` lists yours)")

    def run(self, incident_id: str, command: Command) -> None:
        """Run a person's command. A button or form names its incident in its value, so it is
        aimed through the reader's view like a typed command: a click on an incident hidden
        from the person is answered as a missing one (and audited), not with who may."""
        self.services.incidents.target(command.by, Read.COMMAND, incident_id)
        self.services.incidents.execute(incident_id, command)
        self.dashboards.refresh(incident_id)

    def first_time(self, key: str) -> bool:
        """False when this request key was handled already (Slack retries, double clicks)."""
        with self._lock:  # listeners run on several threads
            if key in self.handled:
                return False
            self.handled[key] = None
            while len(self.handled) > REMEMBERED_REQUESTS:
                self.handled.popitem(last=False)
            return True


def reply(respond: Callable[..., Any], **message: Any) -> None:
    """Answer through the request's ``response_url``. When Slack cannot be reached or refuses
    the answer, log one line: the work is done either way, and a traceback says nothing more."""
    try:
        response = respond(**message)
    except OSError as error:  # urllib's URLError and socket errors
        log.warning("slack.reply_failed error=%s", type(error).__name__)
        return
    status = getattr(response, "status_code", 200)
    if status >= 400:
        log.warning("slack.reply_refused status=%s", status)


def request_incident_id(request_key: str) -> str:
    """A stable incident id for one Slack request (its trigger id): a retried start finds the
    incident the first attempt created instead of starting a second."""
    return f"inc-{hashlib.sha256(request_key.encode()).hexdigest()[:8]}"

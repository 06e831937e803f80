"""Notices before chatter: a commander's notice during a flood of SMS replies from one contact.

One incident of the drill playbook (tier-1 contacts texted), with a Slack channel. The bot is
built by ``bootstrap`` on SQLite, system clock, ticked by the real APScheduler job as ``serve``
ticks it, with ``serve``'s chat pace (one post a second per conversation, three seconds' burst).
The chat port records when each post or update reached it (a stand-in for Slack's Web API: the
pace and the queue are what is measured, not Slack's latency).

One contact sends ``replies`` distinct SMS replies within ``within`` seconds (through
``IncidentService.sms_inbound``, as the Twilio webhook calls it); then the commander marks the
timeline compromised. Measured: from that command's commit to the notice reaching the chat port
(``notice_s``), and how many feedback posts and updates the flood became (``feedback_posts``).
Before this change every reply was a post of its own in one queue with the notices: the notice
waited 57 s.

    .venv/bin/python -m bench.notice_lane [REPLIES] [WITHIN]   # one run, JSON on stdout
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.common import DRILL, ROOT, scratch_database
from incident_bot.bootstrap import Services, bootstrap
from incident_bot.domain.commands import ApproveMessage, MarkCompromised
from incident_bot.domain.effects import UPDATE_TS, Notify
from incident_bot.service.ports import SendResult
from incident_bot.service.use_cases import StartRequest
from incident_bot.settings import load_settings
from tests.drill import drill_people

CHANNEL = "C0BENCHLANE"
CAP = 60.0  # give up waiting for the notice after this many seconds


@dataclass
class TimedChat:
    """A ChatPort noting the monotonic time of each post and update, by purpose."""

    arrivals: list[tuple[float, str, bool]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, notify: Notify, incident_id: str, address: str | None) -> SendResult:
        with self._lock:
            self.arrivals.append((time.monotonic(), notify.purpose, UPDATE_TS in notify.data))
            return SendResult(str(notify.data.get(UPDATE_TS, f"ts-{len(self.arrivals)}")),
                              "posted")

    def find_posted(self, notify: Notify, incident_id: str,
                    address: str | None) -> SendResult | None:
        return None

    def first(self, purpose: str) -> float | None:
        with self._lock:
            return next((at for at, p, _ in self.arrivals if p == purpose), None)

    def count(self, purpose: str) -> tuple[int, int]:
        with self._lock:
            mine = [update for _, p, update in self.arrivals if p == purpose]
        return len(mine) - sum(mine), sum(mine)


def _services(url: str, chat: TimedChat) -> Services:
    settings = load_settings({
        "DATABASE_URL": url, "INCIDENT_BOT_PLAYBOOKS": str(DRILL / "playbooks"),
        "INCIDENT_BOT_TEMPLATES": str(DRILL / "templates"),
    }, base=ROOT)
    services = bootstrap(settings, chat=chat, worker="bench")
    services.dispatcher.pace_chat()  # as serve: about one post a second per channel
    return services


def _open_incident(services: Services) -> str:
    with services.uow_factory() as uow:
        uow.directory.upsert(drill_people())
        uow.commit()
    incident_id = services.incidents.start_incident(StartRequest(
        playbook_id="restart-drill", area="Benchtown", t0=datetime.now(UTC), started_by="cmd"))
    services.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
    with services.uow_factory() as uow:
        record = uow.incidents.get_for_update(incident_id)
        incident = record.incident
        incident.channel_id = CHANNEL
        uow.incidents.save(incident, datetime.now(UTC))
        uow.commit()
    return incident_id


def measure(replies: int = 80, within: float = 3.0) -> dict[str, Any]:
    chat = TimedChat()
    with scratch_database() as url:
        services = _services(url, chat)
        incident_id = _open_incident(services)
        scheduler = services.scheduler()
        scheduler.start()
        try:
            time.sleep(3.0)  # the round's texts and start-up posts go out first
            phone = drill_people()[1].phone
            assert phone is not None
            for n in range(replies):
                services.incidents.sms_inbound(phone, f"reply {n}: what is going on?")
                time.sleep(within / replies)
            services.incidents.execute(incident_id, MarkCompromised("bench", by="cmd"))
            queued = time.monotonic()
            while chat.first("incident.compromised") is None and \
                    time.monotonic() - queued < CAP:
                time.sleep(0.01)
            time.sleep(10.0)  # let the folded updates settle for the count
        finally:
            scheduler.shutdown(wait=True)
        services.engine.dispose()
    arrived = chat.first("incident.compromised")
    posts, updates = chat.count("ringround.feedback")
    return {"replies": replies, "within_s": within,
            "notice_s": (arrived - queued) if arrived is not None else float("nan"),
            "feedback_posts": posts, "feedback_updates": updates,
            "tick_s": services.settings.tick_seconds}


def in_subprocess(replies: int = 80, within: float = 3.0) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.notice_lane", str(replies),
                           str(within)], cwd=ROOT, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    args = sys.argv[1:]
    print(json.dumps(measure(int(args[0]) if args else 80,
                             float(args[1]) if len(args) > 1 else 3.0)))

"""SMS hand-off throughput (issue "Benchmarks" §2) and priority under load (§3).

One incident of the drill playbook with ``count`` community contacts in tier 2; approving its
text starts the round, so the outbox holds one SMS row per contact. The bot is built as ``serve``
builds it (``bootstrap`` with Twilio configured: the real ``twilio.rest.Client`` through
``RoutedHttpClient``, the pool-wide pace of ``TWILIO_SEND_RATE`` × the numbers in
``TWILIO_FROM_NUMBER``) on SQLite, on the system clock, ticked by the real APScheduler job every
second (``Services.scheduler``: fire due timers, then ``dispatcher.dispatch()``). The fake Twilio
(loopback) answers every create after ``latency`` seconds and notes when each message arrived.

Measured: messages a second from the first hand-off to the last (``steady_rate``), and the time
from approving the text to the last hand-off (``hand_off_all_s``). If that exceeds ``cap``
seconds the run stops and reports how many were handed off.

§3: while the round is being sent, a tier-1 text (an outbox row of priority 1 to a person outside
the round, as ``tests/twilio/test_dispatcher_pacing.py`` queues one) is added every few seconds;
its latency is from the commit that queued it to its arrival at the fake Twilio.

    .venv/bin/python -m bench.sms_throughput COUNT [LATENCY] [CAP]   # one run, JSON on stdout
    .venv/bin/python -m bench.sms_throughput --profile COUNT [LATENCY]  # cProfile of dispatch()
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from bench.common import DRILL, ROOT, percentile, scratch_database
from incident_bot.bootstrap import Services, bootstrap
from incident_bot.domain.commands import ApproveMessage
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import Notify, OutboxChannel
from incident_bot.domain.playbook import Channel
from incident_bot.service.use_cases import StartRequest
from incident_bot.settings import load_settings
from incident_bot.testing.fake_twilio import FakeTwilio, Faults

ACCOUNT = "AC" + "b" * 32
AUTH = "bench-auth-token"
SENDERS = tuple(f"+4477009000{n:02d}" for n in range(10))
PER_SENDER = 10.0  # TWILIO_SEND_RATE: 10 numbers × 10/s = 100 messages a second in total
PRIORITY_EVERY = 4.0  # seconds between the §3 tier-1 texts
PRIORITY_WAIT = 60.0  # give up on one §3 text after this long


class TimedTwilio(FakeTwilio):
    """The fake Twilio, noting the monotonic time each message arrived, by its To number."""

    def __init__(self, latency: float) -> None:
        super().__init__(ACCOUNT, AUTH, faults=Faults(slow_rate=1.0 if latency else 0.0,
                                                      slow_seconds=latency))
        self.arrived: dict[str, float] = {}
        self._arrival_lock = threading.Lock()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The fake's own handler, setting TCP_NODELAY: it writes the headers and the body
        separately, and Nagle's algorithm against the client's delayed ACK adds ~40 ms to every
        answer on Linux loopback (the real API answers without that stall)."""
        return type("Handler", (super()._handler_class(),), {"disable_nagle_algorithm": True})

    def _store(self, kind: str, form: dict[str, str]) -> dict[str, Any]:
        at = time.monotonic()
        with self._arrival_lock:
            self.arrived.setdefault(form["To"], at)
        return super()._store(kind, form)

    def arrival(self, to: str) -> float | None:
        with self._arrival_lock:
            return self.arrived.get(to)

    def count(self) -> int:
        with self._arrival_lock:
            return len(self.arrived)


def _people(count: int, priority: int) -> list[Person]:
    commander = Person(key="cmd", name="Commander", roles=("commander",), slack_user_id="U0CMD",
                       channels=(Channel.SLACK,))
    community = [Person(key=f"c{n}", name=f"Contact {n}", tier=2, phone=f"+447700{n:06d}",
                        channels=(Channel.SMS, Channel.VOICE)) for n in range(count)]
    urgent = [Person(key=f"p{n}", name=f"Urgent {n}", phone=f"+447800{n:06d}",
                     channels=(Channel.SMS,)) for n in range(priority)]
    return [commander, *community, *urgent]


def _services(url: str, twilio: FakeTwilio) -> Services:
    settings = load_settings({
        "DATABASE_URL": url, "INCIDENT_BOT_PLAYBOOKS": str(DRILL / "playbooks"),
        "INCIDENT_BOT_TEMPLATES": str(DRILL / "templates"),
        "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": AUTH,
        "TWILIO_FROM_NUMBER": ",".join(SENDERS), "TWILIO_SEND_RATE": str(PER_SENDER),
        "TWILIO_API_URL": twilio.url, "PUBLIC_BASE_URL": "https://bot.bench.invalid",
    }, base=ROOT)
    return bootstrap(settings, worker="bench")


def _start(services: Services, count: int, priority: int) -> str:
    with services.uow_factory() as uow:
        uow.directory.upsert(_people(count, priority))
        uow.commit()
    return services.incidents.start_incident(StartRequest(
        playbook_id="restart-drill", area="Benchtown", t0=datetime.now(UTC), started_by="cmd"))


def _queue_priority(services: Services, incident_id: str, n: int) -> float:
    notify = Notify(key=f"{incident_id}|p{n}|bench|sms|1", channel=OutboxChannel.SMS,
                    recipient=f"p{n}", body=f"Tier 1: call the duty officer ({n})",
                    purpose="bench.priority", priority=1)
    with services.uow_factory() as uow:
        uow.outbox.add(incident_id, notify, datetime.now(UTC))
        uow.commit()
    return time.monotonic()


def measure(count: int, latency: float = 0.15, cap: float = 900.0,
            priority: int = 5) -> dict[str, Any]:
    """One run in this process (see the module docstring)."""
    twilio = TimedTwilio(latency)
    with scratch_database() as url, twilio:
        services = _services(url, twilio)
        incident_id = _start(services, count, priority)
        rate = services.settings.sms_per_second
        scheduler = services.scheduler()  # INCIDENT_BOT_TICK_SECONDS, as serve
        scheduler.start()
        try:
            began = time.monotonic()
            services.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
            approved = time.monotonic()
            queued: list[tuple[str, float]] = []
            next_priority = approved + PRIORITY_EVERY
            deadline = approved + cap
            while time.monotonic() < deadline:
                done = twilio.count() - len(queued)
                if done >= count and all(twilio.arrival(to) for to, _ in queued):
                    break
                now = time.monotonic()
                if len(queued) < priority and now >= next_priority and done < count:
                    queued.append((f"+447800{len(queued):06d}",
                                   _queue_priority(services, incident_id, len(queued))))
                    next_priority = now + PRIORITY_EVERY
                time.sleep(0.02)
            waited = time.monotonic() + PRIORITY_WAIT
            while time.monotonic() < waited and not all(twilio.arrival(t) for t, _ in queued):
                time.sleep(0.02)
        finally:
            scheduler.shutdown(wait=True)
        urgent = {to for to, _ in queued}
        bulk = sorted(at for to, at in twilio.arrived.items() if to not in urgent)
        arrivals = [(twilio.arrival(to), at) for to, at in queued]
        priority_s = [arrived - at for arrived, at in arrivals if arrived is not None]
        services.engine.dispose()
    steady = (len(bulk) - 1) / (bulk[-1] - bulk[0]) if len(bulk) > 1 else float("nan")
    finished = len(bulk) >= count
    return {
        "contacts": count, "latency_s": latency, "configured_per_s": rate,
        "handed_off": len(bulk), "finished": finished,
        "approve_s": approved - began,
        "hand_off_all_s": (bulk[-1] - began) if finished else float("nan"),
        "elapsed_s": (bulk[-1] - began) if bulk else float("nan"),
        "steady_rate": steady, "ratio": steady / rate, "tick_s": services.settings.tick_seconds,
        "priority_queued": len(queued), "priority_arrived": len(priority_s),
        "priority_s": priority_s,
        "priority_p50": percentile(priority_s, 50), "priority_max": max(priority_s, default=0.0),
    }


def in_subprocess(count: int, latency: float, cap: float) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.sms_throughput", str(count),
                           str(latency), str(cap)], cwd=ROOT, check=True,
                          capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def profile(count: int, latency: float = 0.15) -> str:
    """cProfile of the dispatcher working through ``count`` queued texts in this thread (no
    scheduler: ``dispatch()`` called in a loop, real time, the same pace)."""
    twilio = TimedTwilio(latency)
    with scratch_database() as url, twilio:
        services = _services(url, twilio)
        incident_id = _start(services, count, 0)
        services.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
        profiler = cProfile.Profile()
        began = time.monotonic()
        profiler.enable()
        while twilio.count() < count:
            if not services.dispatcher.dispatch():
                time.sleep(0.01)
        profiler.disable()
        wall = time.monotonic() - began
        services.engine.dispose()
    out = io.StringIO()
    out.write(f"{count} texts at {latency * 1000:.0f} ms a request: {wall:.1f} s wall, "
              f"{count / wall:.1f}/s\n")
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


if __name__ == "__main__":
    if sys.argv[1] == "--profile":
        sys.stdout.write(profile(int(sys.argv[2]), float([*sys.argv[3:], "0.15"][0])))
    else:
        latency, cap = (float(a) for a in [*sys.argv[2:], "0.15", "900"][:2])
        sys.stdout.write(json.dumps(measure(int(sys.argv[1]), latency, cap)) + "\n")

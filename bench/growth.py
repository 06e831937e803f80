"""Growth (issue "Benchmarks" §5): an incident with N contacts in one tier.

Each size runs in its own process so its peak RSS is its own. Measured: starting the incident
(directory snapshot, timers), approving the tier's SMS (which starts the round: one outbox row
and one rung timer per contact), a full status view (what the dashboard renders), and handing
every SMS to a recording transport through the real dispatcher.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench.common import ROOT, drill_settings, scratch_database
from incident_bot.bootstrap import bootstrap
from incident_bot.domain.commands import ApproveMessage
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import Notify
from incident_bot.domain.playbook import Channel
from incident_bot.service.ports import SendResult
from incident_bot.service.use_cases import StartRequest
from tests.fakes import FakeClock


class CountingTransport:
    """Accepts everything and counts it (no bodies kept: memory is what is measured)."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, notify: Notify, *_: object) -> SendResult:
        self.sent += 1
        return SendResult(provider_id=f"SM{self.sent:08d}", status="queued")

    def call(self, notify: Notify, *_: object) -> SendResult:
        return self.send(notify)

    def find_sent(self, *_: object) -> None:
        return None

    def find_posted(self, *_: object) -> None:
        return None

    def find_placed(self, *_: object) -> None:
        return None


def _people(count: int) -> list[Person]:
    commander = Person(key="cmd", name="Commander", roles=("commander",), slack_user_id="U0CMD",
                       channels=(Channel.SLACK,))
    return [commander, *[Person(key=f"c{n}", name=f"Contact {n}", tier=1,
                                phone=f"+447700{n:06d}", language="en",
                                channels=(Channel.SMS, Channel.VOICE)) for n in range(count)]]


def measure(count: int) -> dict[str, float]:
    """Run in this process: one incident of ``count`` contacts."""
    with scratch_database() as url:
        clock = FakeClock(datetime(2026, 5, 1, 5, 0, tzinfo=UTC))
        transport = CountingTransport()
        services = bootstrap(drill_settings(url), clock=clock, chat=transport,
                             sms=transport, voice=transport, worker="bench")
        with services.uow_factory() as uow:
            uow.directory.upsert(_people(count))
            uow.commit()
        timed: dict[str, float] = {"contacts": count}
        t = time.perf_counter()
        incident_id = services.incidents.start_incident(StartRequest(
            playbook_id="restart-drill", area="Benchtown", t0=clock.now(), started_by="cmd"))
        timed["start_s"] = time.perf_counter() - t
        t = time.perf_counter()
        services.incidents.execute(incident_id, ApproveMessage("drill-sms", 1, by="cmd"))
        timed["approve_and_start_round_s"] = time.perf_counter() - t
        t = time.perf_counter()
        view = services.incidents.view(incident_id)
        timed["status_view_s"] = time.perf_counter() - t
        t = time.perf_counter()
        while services.dispatcher.dispatch():
            pass
        timed["hand_off_all_sms_s"] = time.perf_counter() - t
        timed["sms_handed_off"] = transport.sent
        timed["tier_contacts"] = sum(tier.total for tier in view.tiers)
        services.engine.dispose()
    timed["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return timed


def in_subprocess(count: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-m", "bench.growth", str(count)], cwd=ROOT,
                          check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    sys.stdout.write(json.dumps(measure(int(sys.argv[1]))) + "\n")

"""A bot worker process for the crash/restart tests, run as a script.

It ticks the real timer poller and outbox dispatcher against the test's database, with a clock
read from a file the test controls and transports that append every send to a log file (synced
to disk before the send "returns", like a provider that has accepted the message). The test
SIGKILLs it at random moments and starts it again.

usage: restart_worker.py DATABASE_URL PLAYBOOKS TEMPLATES CLOCK_FILE SENT_LOG STOP_FILE
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from incident_bot.bootstrap import bootstrap
from incident_bot.domain.effects import Notify
from incident_bot.service.ports import SendResult
from incident_bot.settings import load_settings


@dataclass
class FileClock:
    path: Path

    def now(self) -> datetime:
        return datetime.fromtimestamp(float(self.path.read_text()), UTC)


@dataclass
class FileTransport:
    """Chat, SMS and voice in one: every send is a JSON line, fsynced before returning."""

    log: Path

    def send(self, notify: Notify, address: str | None, callback: str | None = None) -> SendResult:
        return self._append(notify, "chat" if callback is None else "sms", address, callback)

    def call(self, notify: Notify, to_e164: str, callback_id: str) -> SendResult:
        return self._append(notify, "voice", to_e164, callback_id)

    def find_sent(self, to_e164: str, body: str, since: datetime) -> SendResult | None:
        return self._find(lambda r: r["kind"] == "sms" and r["to"] == to_e164 and r["body"] == body)

    def find_placed(self, to_e164: str, callback_id: str, since: datetime) -> SendResult | None:
        return self._find(lambda r: r["kind"] == "voice" and r["callback"] == callback_id)

    def _append(self, notify: Notify, kind: str, to: str | None,
                callback: str | None) -> SendResult:
        record = {"kind": kind, "key": notify.key, "to": to, "callback": callback,
                  "body": notify.body, "version": notify.message_version, "pid": os.getpid()}
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return SendResult(f"file-{notify.key}", "queued")

    def _find(self, matches) -> SendResult | None:  # type: ignore[no-untyped-def]
        if not self.log.exists():
            return None
        for line in self.log.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if matches(record):
                return SendResult(f"file-{record['key']}", "queued")
        return None


class ChatAdapter:
    """ChatPort's signature is (notify, incident_id, address); SmsPort's is (notify, to, cb)."""

    def __init__(self, transport: FileTransport) -> None:
        self._transport = transport

    def send(self, notify: Notify, incident_id: str, address: str | None) -> SendResult:
        return self._transport.send(notify, address)

    def find_posted(self, notify: Notify, incident_id: str,
                    address: str | None) -> SendResult | None:
        return self._transport._find(lambda r: r["key"] == notify.key)


def main(argv: list[str]) -> None:
    url, playbooks, templates, clock_file, sent_log, stop_file = argv
    settings = load_settings({"DATABASE_URL": url, "INCIDENT_BOT_PLAYBOOKS": playbooks,
                              "INCIDENT_BOT_TEMPLATES": templates})
    transport = FileTransport(Path(sent_log))
    services = bootstrap(settings, clock=FileClock(Path(clock_file)), chat=ChatAdapter(transport),
                         sms=transport, voice=transport, worker=f"worker-{os.getpid()}",
                         migrate=False)
    stop = Path(stop_file)
    while not stop.exists():
        services.tick()
        time.sleep(0.005)  # idle between polls; the simulated clock lives in CLOCK_FILE


if __name__ == "__main__":
    main(sys.argv[1:])

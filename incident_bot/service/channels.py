"""The incident channel's life in the database: asking for it, and recording it once open.

Opening a Slack channel is a side effect like any other, so it goes through the outbox: one
``slack.channel_open`` item per incident, written with the incident when the Slack edge starts
it (``StartRequest.open_channel``) or later by ``request_channel`` (unique key: asking twice is
a no-op),
the dispatcher hands it to :class:`~incident_bot.adapters.slack.chat.SlackChat` before anything
else (priority 0), and a 429 or a crash is retried by the dispatcher like any send.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from incident_bot.domain.effects import Notify, OutboxChannel, outbox_key
from incident_bot.service.ports import UnitOfWork

CHANNEL_OPEN = "slack.channel_open"


def channel_open_notify(incident_id: str) -> Notify:
    return Notify(
        key=outbox_key(incident_id, "incident", CHANNEL_OPEN, OutboxChannel.SLACK_CHANNEL.value),
        channel=OutboxChannel.SLACK_CHANNEL, recipient="incident",
        body="Open the incident channel", purpose=CHANNEL_OPEN, priority=0,
    )


def request_channel(uow_factory: Callable[[], UnitOfWork], incident_id: str,
                    now: datetime) -> bool:
    """Queue the opening of the incident's channel; True when newly queued."""
    with uow_factory() as uow:
        added = uow.outbox.add(incident_id, channel_open_notify(incident_id), now)
        uow.commit()
    return added


def bind_channel(uow_factory: Callable[[], UnitOfWork], incident_id: str, channel_id: str,
                 now: datetime) -> None:
    """Record the Slack channel on the incident (``Incident.channel_id``)."""
    with uow_factory() as uow:
        incident = uow.incidents.get_for_update(incident_id).incident
        incident.channel_id = channel_id
        uow.incidents.save(incident, now)
        uow.commit()


def dashboard_ts(uow_factory: Callable[[], UnitOfWork], incident_id: str) -> str | None:
    """The dashboard message's ts: the provider id the channel-open item was recorded with."""
    key = channel_open_notify(incident_id).key
    with uow_factory() as uow:
        item = next((i for i in uow.outbox.items(incident_id) if i.key == key), None)
    return item.provider_id if item is not None and item.status == "sent" else None


def reopen_failed(uow_factory: Callable[[], UnitOfWork], incident_id: str,
                  now: datetime) -> bool:
    """Queue a failed channel opening again, to post the header and dashboard it never did;
    True when queued."""
    key = channel_open_notify(incident_id).key
    with uow_factory() as uow:
        item = next((i for i in uow.outbox.items(incident_id) if i.key == key), None)
        if item is None or item.status != "failed":
            return False
        uow.outbox.mark_retry(item.id, "reopened: the header or dashboard is missing", now)
        uow.commit()
    return True

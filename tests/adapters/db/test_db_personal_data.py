"""Erasing and scrubbing personal data in deliveries and audit details (the personal-data store
of ``service/personal_data.py``): on the memory store and each database backend."""

from __future__ import annotations

from datetime import UTC, datetime

from incident_bot.domain.effects import Notify, OutboxChannel
from incident_bot.service.personal_data import ERASED, ErasedCounts

NOW = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
NAME = "Zoë Ångström"


def _text(key: str, recipient: str, body: str = "Please call", incident_id: str = "inc-1",
          contact: str = "") -> tuple[str, Notify]:
    return incident_id, Notify(key=key, channel=OutboxChannel.SMS, recipient=recipient,
                               body=body, purpose="ringround.sms", reply_code="AC3D",
                               data={"contact": contact or recipient})


def _seed(uow_factory) -> None:
    """Two texts to zoe (one sent, with two status reports; one waiting), one to ann naming
    her, one of another incident, and an audit line naming her."""
    with uow_factory() as uow:
        for incident_id, notify in (_text("z1", "zoe"), _text("z2", "zoe"),
                                    _text("a1", "ann", f"Please call {NAME}", contact=NAME),
                                    _text("o1", "ann", incident_id="inc-2")):
            uow.outbox.add(incident_id, notify, NOW)
        (sent,) = uow.outbox.claim(NOW, 1, 60, "w")
        uow.outbox.mark_sent(sent.id, "SM1", "queued", NOW)
        uow.outbox.record_status(sent.id, "delivered", None, NOW)
        uow.audit.record(at=NOW, actor="x", action="note", outcome="ok", detail=f"rang {NAME}")
        uow.commit()


def _by_key(uow_factory):
    with uow_factory() as uow:
        return {i.key: (i, uow.outbox.history(i.id)) for i in uow.outbox.items()}


def test_deliveries_to_a_person_lose_body_data_provider_id_and_status_reports(
        any_uow_factory):
    _seed(any_uow_factory)
    with any_uow_factory() as uow:
        counts = uow.personal_data.erase_deliveries_to("zoe")
        uow.commit()
    items = _by_key(any_uow_factory)
    sent, history = items["z1"]
    assert counts == ErasedCounts(deliveries=2, delivery_events=2)
    assert (sent.notify.body, sent.notify.data, sent.notify.reply_code, sent.provider_id,
            sent.status, history) == (ERASED, {}, None, None, "sent", [])


def test_a_delivery_to_the_person_not_yet_sent_is_cancelled(any_uow_factory):
    _seed(any_uow_factory)
    with any_uow_factory() as uow:
        uow.personal_data.erase_deliveries_to("zoe")
        uow.commit()
    assert _by_key(any_uow_factory)["z2"][0].status == "cancelled"


def test_the_deliveries_of_some_incidents_are_erased_and_no_others(any_uow_factory):
    _seed(any_uow_factory)
    with any_uow_factory() as uow:
        counts = uow.personal_data.erase_deliveries_of(["inc-2"])
        uow.commit()
    bodies = {key: item.notify.body for key, (item, _) in _by_key(any_uow_factory).items()}
    assert (counts.deliveries, bodies["o1"], bodies["z1"]) == (1, ERASED, "Please call")


def test_the_deliveries_of_no_incidents_are_none(any_uow_factory):
    _seed(any_uow_factory)
    with any_uow_factory() as uow:
        counts = uow.personal_data.erase_deliveries_of([])
        uow.commit()
    bodies = {item.notify.body for item, _ in _by_key(any_uow_factory).values()}
    assert (counts, ERASED in bodies) == (ErasedCounts(), False)


def test_a_name_in_another_persons_delivery_and_its_data_is_scrubbed(any_uow_factory):
    _seed(any_uow_factory)
    with any_uow_factory() as uow:
        changed = uow.personal_data.scrub_deliveries_mentioning([NAME])
        uow.commit()
    item, _ = _by_key(any_uow_factory)["a1"]
    assert (changed, item.notify.body, item.notify.data) == (
        1, f"Please call {ERASED}", {"contact": ERASED})


def test_a_name_in_an_audit_detail_is_scrubbed(any_uow_factory):
    _seed(any_uow_factory)
    with any_uow_factory() as uow:
        changed = uow.personal_data.scrub_audit_mentioning([NAME])
        uow.commit()
    with any_uow_factory() as uow:
        details = [e["detail"] for e in uow.audit.entries()]
    assert (changed, details) == (1, [f"rang {ERASED}"])

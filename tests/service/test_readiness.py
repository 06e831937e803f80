"""The readiness report, computed from hand-built incidents, outbox rows and decision entries."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from incident_bot.adapters.playbook_loader import load_playbook
from incident_bot.domain import incident as domain
from incident_bot.domain.directory import Person
from incident_bot.domain.effects import Notify, OutboxChannel, outbox_key
from incident_bot.domain.ladder import ContactRound, ContactState, notice
from incident_bot.domain.playbook import Channel, Classification
from incident_bot.domain.ringround import TierRound
from incident_bot.service.ports import DecisionEntry, OutboxItem
from incident_bot.service.reports.readiness import months_before, readiness_report

GOOD = Path(__file__).parents[1] / "data" / "good_playbooks"
PLAYBOOK = load_playbook(GOOD / "small-ct.yaml", GOOD / "templates")
T0 = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
E0 = T0 + timedelta(hours=2)  # the playbook's default
NOW = T0 + timedelta(hours=4)
INCIDENT = "inc-ready"
PHONE = (Channel.PHONE, Channel.SMS, Channel.VOICE)


class Templates:
    def __init__(self, languages: dict[str, list[str]] | None = None) -> None:
        self._languages = languages or {"public-holding-statement": ["en"],
                                        "ring-round-script": ["en", "ur"],
                                        "ring-round-sms": ["en", "pl", "ur"]}

    def languages(self, template: str) -> list[str]:
        return self._languages.get(template, [])


def staff(*roles: str, key: str = "", name: str = "") -> Person:
    key = key or roles[0]
    return Person(key=key, name=name or key.title(), roles=roles, slack_user_id=f"U{key[:6]}",
                  channels=(Channel.SLACK,), verified_on=date(2026, 4, 1))


def contact(n: int, **changes: object) -> Person:
    base = Person(key=f"c{n}", name=f"Contact {n}", tier=1, phone=f"+4477009002{n:02d}",
                  language="en", channels=PHONE, verified_on=date(2026, 4, 1))
    return replace(base, **changes)  # type: ignore[arg-type]


FULL_STAFF = [staff("bcu_commander", key="cmd"), staff("police_silver", key="silver"),
              staff("council_chief_exec", key="ceo"), staff("police_comms", key="comms"),
              staff("engagement_lead", key="lead"), staff("caller", key="caller")]


def drafts(sms: str = "Police are in Northbridge. Reply {confirm_code} to confirm.") -> dict:
    texts = {}
    for message in PLAYBOOK.messages:
        for language in message.languages:
            texts[(message.id, language)] = sms if message.id == "ring-round-sms" else "Text."
    return texts


def start(people: list[Person], sms: str | None = None) -> domain.Incident:
    params = domain.IncidentParams("Northbridge", T0, None, Classification.OFFICIAL_SENSITIVE)
    incident, _ = domain.start_incident(INCIDENT, PLAYBOOK, params, people, "cmd",
                                        drafts(sms) if sms else drafts(), T0 - timedelta(hours=1))
    return incident


def report(people: list[Person], incident: domain.Incident | None = None,
           outbox: list[OutboxItem] | None = None, decisions: list[DecisionEntry] | None = None,
           templates: Templates | None = None):
    incident = incident or start(people)
    return readiness_report(incident, people, outbox or [], decisions or [],
                            templates or Templates(), NOW)


def subjects(rep, area: str) -> list[str]:
    return [g.subject for g in rep.gaps_in(area)]


def item(number: int, notify: Notify, status: str = "sent") -> OutboxItem:
    return OutboxItem(number, notify.key, INCIDENT, notify, status, 1, None, NOW, NOW)


def sms_to(person: str, attempt: int = 1) -> Notify:
    key = outbox_key(INCIDENT, person, "ring-round-sms@v1/en", "sms", attempt)
    return Notify(key=key, channel=OutboxChannel.SMS, recipient=person, body="text",
                  purpose="ringround.sms")


def with_round(incident: domain.Incident, states: dict[str, tuple[ContactState, int | None]],
               started: datetime = E0) -> domain.Incident:
    """Tier 1's round as given: contact key -> (state, minutes after the start it was reached)."""
    contacts = {
        key: ContactRound(key, 1, state=state,
                          outcome_at=started + timedelta(minutes=m) if m is not None else None)
        for key, (state, m) in states.items()}
    incident.ringround.tiers[1] = TierRound(1, "AC3D", started, contacts=contacts)
    return incident


# ---- roles ----------------------------------------------------------------------------------


def test_a_role_with_no_holder_is_a_gap():
    people = [p for p in FULL_STAFF if p.key != "comms"]
    assert "police_comms" in subjects(report(people), "roles")


def test_a_role_whose_deputy_role_has_no_holder_is_a_gap():
    people = [p for p in FULL_STAFF if p.key != "silver"]
    gaps = report(people).gaps_in("roles")
    assert any(g.subject == "bcu_commander" and "police_silver has no holder" in g.detail
               for g in gaps)


def test_a_role_the_playbook_gives_no_deputy_is_a_gap():
    gaps = report(FULL_STAFF).gaps_in("roles")
    assert any(g.subject == "caller" and "no deputy role" in g.detail for g in gaps)


def test_a_role_with_a_holder_and_a_deputy_holder_is_not_a_gap():
    assert "engagement_lead" not in subjects(report(FULL_STAFF), "roles")


def test_a_tier_with_more_phoneable_contacts_than_callers_can_take_is_a_gap():
    people = [*FULL_STAFF, *(contact(n) for n in range(6))]  # one caller, lists of five
    gaps = report(people).gaps_in("callers")
    assert [g.subject for g in gaps] == ["tier 1"]
    assert "1 get no call" in gaps[0].detail


# ---- contacts -------------------------------------------------------------------------------


def test_a_contact_verified_more_than_twelve_months_before_is_a_gap():
    people = [*FULL_STAFF, contact(1, verified_on=date(2025, 4, 30))]
    assert subjects(report(people), "verification") == ["Contact 1 (c1, tier 1)"]


def test_a_contact_verified_within_twelve_months_is_not_a_gap():
    people = [*FULL_STAFF, contact(1, verified_on=date(2025, 5, 2))]
    assert subjects(report(people), "verification") == []


def test_a_contact_never_verified_is_a_gap():
    people = [*FULL_STAFF, contact(1, verified_on=None)]
    assert [g.detail for g in report(people).gaps_in("verification")] == ["never verified"]


def test_months_before_clamps_to_the_end_of_a_shorter_month():
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)


def test_a_contact_listed_for_sms_without_a_number_is_a_gap():
    people = [*FULL_STAFF, contact(1, phone=None)]
    detail = report(people).gaps_in("numbers")[0].detail
    assert detail == "no phone number, but listed for phone, sms, voice"


def test_a_contact_with_a_number_but_no_phone_channel_is_a_gap():
    people = [*FULL_STAFF, contact(1, channels=(Channel.EMAIL,))]
    assert "never called or texted" in report(people).gaps_in("numbers")[0].detail


def test_a_permanently_failed_text_is_a_gap_naming_the_masked_number():
    people = [*FULL_STAFF, contact(1)]
    rep = report(people, outbox=[item(1, sms_to("c1"), status="failed")])
    assert [g.detail for g in rep.gaps_in("numbers")] == [
        "+44 7700 ••••01: a text or call to it failed permanently"]


def test_a_wrong_number_recorded_by_a_caller_is_a_gap():
    people = [*FULL_STAFF, contact(1)]
    incident = with_round(start(people), {"c1": (ContactState.WRONG_NUMBER, None)})
    assert subjects(report(people, incident), "numbers") == ["Contact 1 (c1, tier 1)"]


def test_no_gap_shows_a_full_phone_number():
    people = [*FULL_STAFF, contact(1, phone=None), contact(2, channels=(Channel.EMAIL,)),
              contact(3, verified_on=None)]
    rep = report(people, outbox=[item(1, sms_to("c3"), status="failed")])
    text = " ".join(f"{g.subject} {g.detail}" for g in rep.gaps)
    assert re.search(r"\d{6,}", text) is None


# ---- messages -------------------------------------------------------------------------------


def test_a_template_missing_a_language_the_playbook_lists_is_a_gap():
    templates = Templates({"public-holding-statement": ["en"], "ring-round-script": ["en"],
                           "ring-round-sms": ["en", "pl", "ur"]})
    gaps = report(FULL_STAFF, templates=templates).gaps_in("templates")
    assert [(g.subject, "ur" in g.detail) for g in gaps] == [("ring-round-script", True)]


def test_a_contact_whose_language_has_no_translation_is_a_gap():
    people = [*FULL_STAFF, contact(1, language="bn")]
    assert subjects(report(people), "languages") == ["ring-round-script in bn",
                                                     "ring-round-sms in bn"]


def test_the_language_gap_reads_right_for_one_contact_and_for_several():
    one = report([*FULL_STAFF, contact(1, language="bn")]).gaps_in("languages")[0].detail
    two = report([*FULL_STAFF, contact(1, language="bn"), contact(2, language="bn")]
                 ).gaps_in("languages")[0].detail
    assert one.startswith("1 contact speaks bn and gets English: ")
    assert two.startswith("2 contacts speak bn and get English: ")


def test_an_sms_text_over_the_segment_budget_is_a_gap():
    incident = start(FULL_STAFF, sms="Police are working in Northbridge today. " * 12)
    gaps = report(FULL_STAFF, incident).gaps_in("sms")
    assert {g.subject for g in gaps} == {"ring-round-sms in en", "ring-round-sms in pl",
                                         "ring-round-sms in ur"}


def test_an_sms_text_within_the_segment_budget_is_not_a_gap():
    assert report(FULL_STAFF).gaps_in("sms") == ()


# ---- what happened --------------------------------------------------------------------------


def test_one_alert_told_to_several_people_counts_as_one_escalation():
    alerts = [notice(INCIDENT, who, "ringround:t1:red", "ringround.red", {})
              for who in ("lead", "silver", "incident")]
    rep = report(FULL_STAFF, outbox=[item(n, a) for n, a in enumerate(alerts, 1)])
    assert rep.escalation("ringround.red") == 1


def test_each_automatic_sms_counts_as_an_escalation():
    rep = report(FULL_STAFF, outbox=[item(1, sms_to("c1")), item(2, sms_to("c1", attempt=2))])
    assert rep.escalation("ringround.sms") == 2


def test_coverage_buckets_add_up_to_the_tier_total():
    people = [*FULL_STAFF, *(contact(n) for n in range(6))]
    incident = with_round(start(people), {
        "c0": (ContactState.REACHED, 5), "c1": (ContactState.CONFIRMED, 10),
        "c2": (ContactState.PENDING, None), "c3": (ContactState.DECLINED, None),
        "c4": (ContactState.OPTED_OUT, None), "c5": (ContactState.FLAGGED, None)})
    tier = report(people, incident).tiers[0]
    assert (tier.reached, tier.pending, tier.failed, tier.opted_out, tier.flagged,
            tier.total) == (2, 1, 1, 1, 1, 6)


def test_median_and_worst_time_to_reach_come_from_when_contacts_were_reached():
    people = [*FULL_STAFF, *(contact(n) for n in range(3))]
    incident = with_round(start(people), {"c0": (ContactState.REACHED, 10),
                                          "c1": (ContactState.CONFIRMED, 20),
                                          "c2": (ContactState.REACHED, 60)})
    tier = report(people, incident).tiers[0]
    assert (tier.median_to_reach, tier.worst_to_reach) == (timedelta(minutes=20),
                                                           timedelta(minutes=60))


def test_a_tier_short_of_its_target_at_its_deadline_is_a_gap():
    people = [*FULL_STAFF, *(contact(n) for n in range(2))]
    late = 90  # the deadline is E0+1h
    incident = with_round(start(people), {"c0": (ContactState.REACHED, 10),
                                          "c1": (ContactState.REACHED, late)})
    assert [g.detail for g in report(people, incident).gaps_in("coverage")] == [
        "50% reached by its deadline (target 80%)"]


def test_a_tier_whose_round_never_started_is_a_gap():
    people = [*FULL_STAFF, contact(1)]
    assert [g.detail for g in report(people).gaps_in("coverage")] == [
        "its ring-round never started"]


def test_a_step_completed_after_its_planned_time_is_late_by_the_difference():
    incident = start(FULL_STAFF)
    state = incident.briefing.get("strategic")  # planned E0+15m
    state.completed_at = E0 + timedelta(minutes=40)
    step = report(FULL_STAFF, incident).steps[0]
    assert step.late_by == timedelta(minutes=25)


def test_a_task_assigned_but_never_acknowledged_is_counted_and_listed():
    rep = report(FULL_STAFF)  # before T0 only approve-statement's owner is in the incident
    assert (rep.tasks.never_acknowledged, subjects(rep, "tasks")) == (1, ["approve-statement"])


@pytest.mark.parametrize("kinds", [["start", "membership", "membership", "override"]])
def test_decision_log_entries_are_counted_by_kind(kinds):
    entries = [DecisionEntry(INCIDENT, n, kind, "d", "", "cmd", "bot", NOW, NOW, "", None, "",
                             "") for n, kind in enumerate(kinds, 1)]
    rep = report(FULL_STAFF, decisions=entries)
    assert {c.kind: c.count for c in rep.decisions} == {"membership": 2, "override": 1,
                                                         "start": 1}

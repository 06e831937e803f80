"""The playbooks shipped in ``playbooks/`` load cleanly against the shipped templates and keep
the rules that matter on the day: briefing order, media hold, need to know, languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from incident_bot.adapters.playbook_loader import LoadResult, load_playbooks
from incident_bot.adapters.templates import TemplateStore
from incident_bot.domain.durations import IncidentClock, RelativeTime
from incident_bot.domain.messages import briefing_steps_for
from incident_bot.domain.playbook import BriefingStep, Channel, Playbook

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOKS = ROOT / "playbooks"
TEMPLATES = ROOT / "message_templates"
SHIPPED = ("ct-arrests-and-searches", "release-of-arrested-persons",
           "tension-after-incident-elsewhere")
CT = "ct-arrests-and-searches"
CT_MESSAGES = {
    "public-holding-statement", "ring-round-script", "ring-round-sms", "member-briefing",
    "joint-reassurance", "joint-reassurance-sms", "cordon-residents", "hate-incident-reporting",
    "schools-parents", "rumour-correction", "outcome-charge", "release-statement", "release-sms",
}
COMMUNITY_MESSAGES = {
    "ring-round-script", "ring-round-sms", "joint-reassurance", "joint-reassurance-sms",
    "cordon-residents", "hate-incident-reporting", "schools-parents", "rumour-correction",
    "release-statement", "release-sms",
}
ROLE_CODES = {
    "bcu_commander", "investigation_owner", "council_chief_exec", "council_leader",
    "police_silver", "council_tactical_lead", "police_comms", "council_comms",
    "engagement_lead", "emergency_planning", "neighbourhood_inspector", "housing_lead",
    "schools_lead", "streetscene_lead", "contact_centre_lead", "caller", "elected_member",
}
# Always supplied by the engine (roles.md); anything else a template uses needs a playbook value.
BUILT_IN_VARIABLES = {
    "area", "incident_title", "t0_time", "t0_date", "e0_time", "summary", "classification",
    "arrest_count", "contact_point", "next_update", "caller_name", "contact_name", "confirm_code",
}
# domain.md section 4: strategic, tactical, members, tier 1, tier 2, tier 3, public and media,
# then the joint reassurance statement.
CT_BRIEFING_ORDER = ["strategic", "tactical", "members", "tier-1", "tier-2", "tier-3", "media",
                     "joint-reassurance"]
CT_PHASES = ["readiness", "pre-brief", "strike", "searches-and-cordons", "detention-outcome",
             "court", "reassurance", "stand-down"]
CT_NEED_TO_KNOW = {
    "bcu_commander", "investigation_owner", "council_chief_exec", "police_silver",
    "council_tactical_lead", "police_comms", "council_comms", "engagement_lead",
    "emergency_planning",  # the council tactical lead's deputy, and readies the welfare centre
}
T0 = datetime(2026, 5, 1, 5, 30, tzinfo=UTC)
E0_CHOICES = (timedelta(0), timedelta(minutes=45), timedelta(hours=2))  # E0 from T0 to T0+2h


@pytest.fixture(scope="module")
def loaded() -> LoadResult:
    return load_playbooks([PLAYBOOKS], TEMPLATES)


@pytest.fixture(scope="module")
def ct(loaded: LoadResult) -> Playbook:
    return loaded.playbooks[CT]


def test_every_shipped_playbook_loads_with_no_errors(loaded: LoadResult) -> None:
    assert [str(p) for p in loaded.errors] == []
    assert set(loaded.playbooks) == set(SHIPPED)


def test_shipped_playbooks_raise_no_warnings(loaded: LoadResult) -> None:
    # Includes the SMS segment budget: every SMS in every language fits with sample values.
    assert [str(p) for p in loaded.warnings] == []


def test_ct_playbook_defines_tiers_zero_to_four(ct: Playbook) -> None:
    assert [t.number for t in ct.tiers] == [0, 1, 2, 3, 4]


def test_ct_playbook_public_tier_is_a_broadcast(ct: Playbook) -> None:
    public = ct.tier(4)
    assert (public.caller_role, public.ladder) == (None, ())


def test_ct_playbook_tier_one_texts_alongside_the_call_then_tries_a_senior_officer(
        ct: Playbook) -> None:
    rungs = [(rung.kind.value, rung.after) for rung in ct.tier(1).ladder]
    assert rungs == [("caller", None), ("sms", timedelta(0)), ("senior", None),
                     ("voice", None), ("flag", None)]


def test_ct_playbook_defines_every_shared_role(ct: Playbook) -> None:
    assert {r.code for r in ct.roles} == ROLE_CODES


def test_ct_playbook_gives_every_role_a_deputy(ct: Playbook) -> None:
    assert [r.code for r in ct.roles if r.deputy is None] == []


def test_ct_playbook_has_at_least_twenty_tasks(ct: Playbook) -> None:
    assert len(ct.tasks) >= 20


def test_ct_playbook_defines_all_thirteen_key_messages(ct: Playbook) -> None:
    assert {m.id for m in ct.messages} == CT_MESSAGES


def test_ct_community_messages_are_in_english_urdu_and_polish(ct: Playbook) -> None:
    short = {m.id: m.languages for m in ct.messages
             if m.id in COMMUNITY_MESSAGES and not {"en", "ur", "pl"} <= set(m.languages)}
    assert short == {}


def test_ct_public_messages_are_embargoed_until_e0(ct: Playbook) -> None:
    unembargoed = [m.id for m in ct.messages if m.audiences.public
                   and (m.embargo is None or m.embargo.clock is not IncidentClock.E0)]
    assert unembargoed == []


def test_ct_ring_round_text_goes_by_sms(ct: Playbook) -> None:
    assert Channel.SMS in ct.message("ring-round-sms").channels


def test_ct_media_hold_waits_for_the_tier_one_step(ct: Playbook) -> None:
    holds = [s for s in ct.briefing if s.media_hold]
    tier_one = [s.id for s in ct.briefing if s.audience.tiers == (1,)]
    assert len(holds) == 1
    assert tier_one == ["tier-1"]
    assert "tier-1" in holds[0].gate.after


def test_ct_media_hold_can_be_lifted_by_the_commander_or_a_timeout(ct: Playbook) -> None:
    hold = next(s for s in ct.briefing if s.media_hold)
    assert hold.gate.override_by == ("bcu_commander",)
    assert hold.gate.timeout is not None


def test_ct_media_hold_releases_the_public_holding_statement(ct: Playbook) -> None:
    hold = next(s for s in ct.briefing if s.media_hold)
    assert (hold.message, hold.audience.public) == ("public-holding-statement", True)


def test_ct_members_are_briefed_with_the_member_briefing(ct: Playbook) -> None:
    members = [s for s in ct.briefing if "elected_member" in s.audience.roles]
    assert [s.message for s in members] == ["member-briefing"]


@pytest.mark.parametrize("playbook_id", SHIPPED)
@pytest.mark.parametrize("e0_after_t0", E0_CHOICES)
def test_no_task_is_due_before_a_task_it_depends_on(loaded: LoadResult, playbook_id: str,
                                                   e0_after_t0: timedelta) -> None:
    playbook = loaded.playbooks[playbook_id]
    e0 = T0 + e0_after_t0
    early = [(task.id, dep) for task in playbook.tasks for dep in task.depends_on
             if task.due.resolve(T0, e0) < playbook.task(dep).due.resolve(T0, e0)]
    assert early == []


@pytest.mark.parametrize("playbook_id", SHIPPED)
def test_tasks_due_before_t0_belong_to_need_to_know_roles(loaded: LoadResult,
                                                          playbook_id: str) -> None:
    playbook = loaded.playbooks[playbook_id]
    leaks = [t.id for t in playbook.tasks if t.due.clock is IncidentClock.T0
             and t.due.offset < timedelta(0) and not playbook.role(t.owner).need_to_know]
    assert leaks == []


@pytest.mark.parametrize("playbook_id", SHIPPED)
def test_deputies_of_need_to_know_roles_are_need_to_know(loaded: LoadResult,
                                                         playbook_id: str) -> None:
    playbook = loaded.playbooks[playbook_id]
    leaks = [r.code for r in playbook.roles if r.need_to_know and r.deputy
             and not playbook.role(r.deputy).need_to_know]
    assert leaks == []


@pytest.mark.parametrize("playbook_id", SHIPPED)
def test_overdue_tasks_escalate_twice(loaded: LoadResult, playbook_id: str) -> None:
    playbook = loaded.playbooks[playbook_id]
    shapes = {t.id: [e.after_overdue for e in t.escalation] for t in playbook.tasks}
    expected = [timedelta(minutes=30), timedelta(hours=2)]
    assert {k: v for k, v in shapes.items() if v != expected} == {}


@pytest.mark.parametrize("playbook_id", SHIPPED)
def test_every_tier_sms_message_asks_for_the_confirmation_code(loaded: LoadResult,
                                                               playbook_id: str) -> None:
    playbook = loaded.playbooks[playbook_id]
    store = TemplateStore(TEMPLATES)
    sms = [playbook.message(t.sms_message) for t in playbook.tiers if t.sms_message]
    missing = [(m.id, lang) for m in sms for lang in m.languages
               if "confirm_code" not in store.variables(m.template, lang)]
    assert missing == []


def test_tension_playbook_is_official_and_has_no_embargo() -> None:
    result = load_playbooks([PLAYBOOKS / "tension-after-incident-elsewhere.yaml"], TEMPLATES)
    playbook = result.playbooks["tension-after-incident-elsewhere"]
    assert playbook.classification.value == "OFFICIAL"
    assert playbook.e0_default is not None
    assert playbook.e0_default.offset == timedelta(0)


def _latest(when: RelativeTime, e0_after_t0: timedelta) -> datetime:
    return when.resolve(T0, T0 + e0_after_t0)


def _opens_by(step: BriefingStep, e0_after_t0: timedelta) -> datetime | None:
    """The latest moment the step's gate opens without anyone acting; None: it may never."""
    gate = step.gate
    if not (gate.after or gate.coverage_tiers):
        return T0 + e0_after_t0  # an empty gate opens at E0
    return _latest(gate.timeout, e0_after_t0) if gate.timeout else None


@pytest.mark.parametrize("playbook_id", SHIPPED)
def test_every_template_variable_has_a_value(loaded: LoadResult, playbook_id: str) -> None:
    # The loader renders only SMS templates; a statement using an unset variable would fail on
    # the day, when it is drafted.
    playbook = loaded.playbooks[playbook_id]
    store = TemplateStore(TEMPLATES)
    known = BUILT_IN_VARIABLES | set(playbook.variables)
    missing = {(m.id, lang): store.variables(m.template, lang) - known
               for m in playbook.messages for lang in m.languages}
    assert {k: v for k, v in missing.items() if v} == {}


@pytest.mark.parametrize("playbook_id", SHIPPED)
@pytest.mark.parametrize("e0_after_t0", E0_CHOICES)
def test_no_other_step_holds_a_public_message_past_its_step_timeout(
        loaded: LoadResult, playbook_id: str, e0_after_t0: timedelta) -> None:
    # A message cannot be released while any step that briefs from it is waiting, so a ring-round
    # step with a later timeout would quietly stretch the media hold (or the public step).
    playbook = loaded.playbooks[playbook_id]
    late = []
    for public in (s for s in playbook.briefing if s.audience.public and s.message):
        deadline = _opens_by(public, e0_after_t0)
        for other in briefing_steps_for(playbook, public.message or ""):
            opens = _opens_by(other, e0_after_t0)
            if deadline and (opens is None or opens > deadline):
                late.append((public.id, other.id))
    assert late == []


@pytest.mark.parametrize("playbook_id", SHIPPED)
def test_tasks_go_to_the_deputy_after_ten_minutes_without_acknowledgement(
        loaded: LoadResult, playbook_id: str) -> None:
    playbook = loaded.playbooks[playbook_id]
    assert [t.id for t in playbook.tasks if t.ack_within != timedelta(minutes=10)] == []


@pytest.mark.parametrize("playbook_id", SHIPPED)
def test_overdue_tasks_escalate_to_a_tactical_then_a_strategic_role(
        loaded: LoadResult, playbook_id: str) -> None:
    playbook = loaded.playbooks[playbook_id]
    levels = {t.id: [playbook.role(e.to_role).level.value for e in t.escalation]
              for t in playbook.tasks}
    assert {k: v for k, v in levels.items() if v != ["tactical", "strategic"]} == {}


def test_ct_briefing_runs_top_down(ct: Playbook) -> None:
    ids = [s.id for s in ct.briefing if s.id in CT_BRIEFING_ORDER]
    assert ids == CT_BRIEFING_ORDER


def test_ct_briefing_steps_name_their_briefer_and_due_time(ct: Playbook) -> None:
    assert [s.id for s in ct.briefing if s.due is None or not s.briefed_by] == []


def test_ct_tier_one_step_completes_at_eighty_percent(ct: Playbook) -> None:
    assert ct.step("tier-1").complete_at_coverage == pytest.approx(0.8)


def test_ct_media_hold_times_out_ninety_minutes_after_e0(ct: Playbook) -> None:
    hold = next(s for s in ct.briefing if s.media_hold)
    assert str(hold.gate.timeout) == "E0+1h30m"


def test_ct_joint_reassurance_is_published_after_the_media_step(ct: Playbook) -> None:
    step = ct.step("joint-reassurance")
    assert (step.message, step.gate.after) == ("joint-reassurance", ("media",))


def test_ct_phases_run_from_readiness_to_stand_down_in_time_order(ct: Playbook) -> None:
    starts = [p.starts for p in ct.phases]
    assert [p.id for p in ct.phases] == CT_PHASES
    assert None not in starts
    offsets = [s.offset for s in starts if s is not None and s.clock is IncidentClock.T0]
    assert len(offsets) == len(CT_PHASES)
    assert offsets == sorted(offsets)


def test_ct_need_to_know_is_confined_to_the_pre_brief_roles(ct: Playbook) -> None:
    assert {r.code for r in ct.roles if r.need_to_know} == CT_NEED_TO_KNOW


def test_ct_tier_zero_is_called_then_flagged_never_texted(ct: Playbook) -> None:
    tier = ct.tier(0)
    assert ([r.kind.value for r in tier.ladder], tier.sms_message) == (["caller", "flag"], None)


@pytest.mark.parametrize("tier", [2, 3])
def test_ct_lower_tiers_text_and_ring_alongside_the_call(ct: Playbook, tier: int) -> None:
    rungs = [(rung.kind.value, rung.after) for rung in ct.tier(tier).ladder]
    assert rungs == [("caller", None), ("sms", timedelta(0)), ("voice", timedelta(0)),
                     ("flag", None)]


@pytest.mark.parametrize("tier", [0, 1, 2, 3])
def test_ct_cascade_tiers_use_the_agreed_ring_round_settings(ct: Playbook, tier: int) -> None:
    t = ct.tier(tier)
    settings = (t.fan_out, t.caller_role, t.backup_role, t.accept_within, t.script,
                round(t.coverage_target, 3), t.amber_after, t.red_after)
    assert settings == (6, "caller", "engagement_lead", timedelta(minutes=10),
                        "ring-round-script", 0.8, timedelta(minutes=45), timedelta(minutes=90))


def test_ct_tier_one_senior_rung_is_police_silver(ct: Playbook) -> None:
    assert ct.tier(1).senior_role == "police_silver"


def test_release_playbook_cascades_the_release_statement(loaded: LoadResult) -> None:
    playbook = loaded.playbooks["release-of-arrested-persons"]
    assert ([t.number for t in playbook.tiers], playbook.tier(1).sms_message) == (
        [1, 2, 3, 4], "release-sms")

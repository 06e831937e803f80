"""The exercise's fixed people, the callers' retry policy, the manual ring-round and the reach
figures both modes share. Pure: no database, no bot."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from incident_bot.adapters.directory_import import parse_directory
from incident_bot.adapters.playbook_loader import load_playbook
from incident_bot.entrypoints.exercise import SAMPLE_DIRECTORY, Behaviour, ExerciseConfig
from incident_bot.entrypoints.exercise.calling import CallSheet
from incident_bot.entrypoints.exercise.manual import deal_lists, manual_round
from incident_bot.entrypoints.exercise.participants import Cast
from incident_bot.entrypoints.exercise.people import (
    MAX_ATTEMPTS,
    Attempt,
    ContactDisposition,
    people_for,
)
from incident_bot.entrypoints.exercise.reach import ContactReach, RoundReach

ROOT = Path(__file__).parents[2]
START = datetime(2026, 11, 24, 7, 45, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture(scope="module")
def ct():
    playbook = load_playbook(ROOT / "playbooks" / "ct-arrests-and-searches.yaml",
                             ROOT / "message_templates")
    people = parse_directory(SAMPLE_DIRECTORY, {r.code for r in playbook.roles}).people
    return playbook, people


def contact_keys(people, tiers=(1, 2, 3)):
    return sorted(p.key for p in people if p.tier in tiers and not p.roles)


# ---- fixed people ---------------------------------------------------------------------------


def test_a_persons_disposition_does_not_depend_on_the_order_people_are_asked_about(ct):
    playbook, people = ct
    keys = contact_keys(people)
    forward, backward = people_for(playbook, people, 5), people_for(playbook, people, 5)
    drawn = [forward.contact(k) for k in keys]
    assert [backward.contact(k) for k in reversed(keys)][::-1] == drawn


def test_the_bots_cast_faces_the_same_people_as_the_manual_round(ct):
    playbook, people = ct
    cast = Cast(playbook, people, ExerciseConfig(playbook.id, START, seed=4))
    cast.rng.random()  # the staff's draws move on with events: the people must not
    manual = people_for(playbook, people, 4)
    keys = contact_keys(people)
    assert [cast.fixed.contact(k) for k in keys] == [manual.contact(k) for k in keys]
    assert cast.fixed.dead == manual.dead
    assert cast.fixed.caller("nb-cou-09") == manual.caller("nb-cou-09")


def test_seeds_differ_and_the_dead_share_is_kept(ct):
    playbook, people = ct
    texted = [p for p in people if p.tier in (1, 2, 3) and p.phone and not p.roles]
    one, two = people_for(playbook, people, 1), people_for(playbook, people, 2)
    assert len(one.dead) == round(len(texted) * Behaviour().dead_share) == len(two.dead)
    assert [one.contact(k) for k in contact_keys(people)] != \
        [two.contact(k) for k in contact_keys(people)]


def test_a_dead_number_never_answers_nor_replies_and_is_not_reachable(ct):
    playbook, people = ct
    fixed = people_for(playbook, people, 1)
    dead = fixed.contact(sorted(fixed.dead)[0])
    assert not dead.reachable
    assert [dead.outcome(k) for k in range(MAX_ATTEMPTS)] == [a.missed for a in dead.attempts]
    assert dead.sms_reaction == "nothing"
    assert not dead.presses_one


def test_about_sixty_percent_are_reached_by_the_first_call(ct):
    playbook, people = ct
    first = [people_for(playbook, people, seed).contact(k).outcome(0) == "reached"
             for seed in range(30) for k in contact_keys(people)]
    assert 0.55 <= sum(first) / len(first) <= 0.65


# ---- the retry policy -----------------------------------------------------------------------


def test_a_sheet_calls_everyone_once_then_retries_unanswered_15_minutes_on_at_most_3_times():
    sheet = CallSheet()
    sheet.add(["a", "b"])
    now, made = START, []
    while (call := sheet.next_call(now, lambda _: True)) is not None:
        now = call.at
        made.append((call.contact, call.at - START))
        sheet.record(call.contact, now, "reached" if call.contact == "b" else "voicemail")
        now += 3 * MIN
    assert made == [("a", 0 * MIN), ("b", 3 * MIN), ("a", 15 * MIN), ("a", 30 * MIN)]


def test_a_sheet_skips_contacts_no_longer_pending():
    sheet = CallSheet()
    sheet.add(["a", "b"])
    call = sheet.next_call(START, lambda key: key != "a")
    assert call is not None
    assert call.contact == "b"


# ---- the manual ring-round ------------------------------------------------------------------


def test_manual_mode_deals_the_lists_as_the_bot_does(ct):
    playbook, people = ct
    lists = deal_lists(playbook, people, playbook.tier(2))
    callers = sorted(p.key for p in people if "caller" in p.roles)
    assert [lst.caller for lst in lists] == callers[:len(lists)]
    assert sum(len(lst.contacts) for lst in lists) == 12
    assert all(lst.backup and lst.backup != lst.caller for lst in lists)


def test_manual_mode_is_the_same_for_a_seed_and_differs_between_seeds(ct):
    playbook, people = ct
    one, again = manual_round(playbook, people, 1, START), manual_round(playbook, people, 1, START)
    assert one.calls == again.calls
    assert one.reach == again.reach
    assert manual_round(playbook, people, 2, START).calls != one.calls


@pytest.mark.parametrize("seed", range(1, 9))
def test_no_tier_is_called_before_it_opens_and_tiers_open_in_order(ct, seed):
    playbook, people = ct
    result = manual_round(playbook, people, seed, START)
    opened = result.tier_opened
    assert opened[1] == START <= opened[2] <= opened[3]
    assert opened[2] - opened[1] <= 45 * MIN  # tier-2's gate timeout, from tier 1's
    assert all(call.at >= opened[call.tier] for call in result.calls)


@pytest.mark.parametrize("seed", range(1, 9))
def test_manual_mode_only_calls_at_most_3_times_15_minutes_apart(ct, seed):
    playbook, people = ct
    result = manual_round(playbook, people, seed, START)
    by_contact: dict[str, list] = {}
    for call in result.calls:
        by_contact.setdefault(call.contact, []).append(call)
    for calls in by_contact.values():
        assert len(calls) <= MAX_ATTEMPTS
        assert [c.attempt for c in calls] == list(range(len(calls)))
        assert all(b.at - a.at >= 15 * MIN and a.outcome in ("voicemail", "no_answer")
                   for a, b in itertools.pairwise(calls))


def test_manual_mode_reaches_people_only_by_phone(ct):
    playbook, people = ct
    result = manual_round(playbook, people, 3, START)
    states = {c.state for c in result.reach.contacts}
    assert states <= {"reached", "declined", "unsafe_to_call", "wrong_number", "voicemail",
                      "no_answer", "not_called"}
    by_call = {c.contact for c in result.calls if c.outcome == "reached"}
    assert {c.key for c in result.reach.contacts if c.reached_at} == by_call


def test_manual_mode_releases_the_media_statement_after_its_gate(ct):
    playbook, people = ct
    result = manual_round(playbook, people, 1, START)
    released = result.reach.media_released_at
    assert released is not None
    assert START < released <= START + 45 * MIN + timedelta(minutes=Behaviour().release[1])


# ---- the reach figures ----------------------------------------------------------------------


def reach(*contacts: tuple[int, bool, int | None, int | None]) -> RoundReach:
    """(tier, reachable, minutes to reach or None, floor minutes or None) per contact."""
    return RoundReach("manual", START, tuple(
        ContactReach(f"c{i}", tier, ok, START + at * MIN if at is not None else None,
                     "reached" if at is not None else "voicemail",
                     floor * MIN if floor is not None else None)
        for i, (tier, ok, at, floor) in enumerate(contacts)))


SAMPLE = reach((1, True, 10, 2), (1, True, 30, 5), (1, False, None, None), (2, True, 20, 1),
               (2, True, None, 7), (3, True, 5, 1))


def test_time_to_counts_the_reachable_contacts_of_the_tiers_asked():
    assert SAMPLE.time_to(0.5, (1, 2)) == 20 * MIN  # ceil(0.5 x 4) = 2nd reached
    assert SAMPLE.time_to(0.75, (1, 2)) == 30 * MIN
    assert SAMPLE.time_to(1.0, (1, 2)) is None  # one reachable contact was never reached
    assert SAMPLE.time_to(1.0, (1,)) == 30 * MIN
    assert SAMPLE.time_to(0.0, (1,)) == timedelta(0)


def test_never_reached_share_is_of_all_contacts():
    assert SAMPLE.never_reached_share((1, 2)) == 2 / 5
    assert SAMPLE.never_reached_share((3,)) == 0.0


def test_the_floor_is_the_peoples_own_reply_times():
    assert SAMPLE.floor(0.5, (1, 2)) == 2 * MIN
    assert SAMPLE.floor(1.0, (1, 2)) == 7 * MIN
    assert SAMPLE.floor(1.0, (1,)) == 5 * MIN


def disposition(answers, sms="nothing", presses=False):
    return ContactDisposition(
        key="k", dead=False, fate="reached",
        attempts=tuple(Attempt(a, "voicemail", 3 * MIN) for a in answers), sms=sms,
        sms_delay=9 * MIN, sms_variant=0, voice_presses=presses, voice_delay=2 * MIN)


def test_a_persons_floor_counts_the_retry_gaps_before_their_first_answered_call():
    assert disposition((False, False, True)).floor(phone=True, text=True) == 33 * MIN
    assert disposition((False, True, True)).floor(phone=True, text=True) == 18 * MIN


def test_a_persons_floor_is_their_soonest_reply_on_any_channel_they_have():
    person = disposition((False, True, True), sms="code", presses=True)
    assert person.floor(phone=True, text=True, voice=True) == 2 * MIN
    assert person.floor(phone=True, text=True, voice=False) == 9 * MIN
    assert person.floor(phone=True, text=False) == 18 * MIN
    assert disposition((False, False, False)).floor(phone=True, text=True) is None


def test_reachable_means_some_channel_of_the_bots_would_reach_them():
    assert not disposition((False, False, False)).reachable  # never answers, never replies
    assert disposition((False, False, True)).reachable
    assert disposition((False, False, False), sms="code").reachable
    assert disposition((False, False, False), presses=True).reachable
    assert not replace(disposition((True,)), fate="declined").reachable
    assert not replace(disposition((True,)), dead=True).reachable

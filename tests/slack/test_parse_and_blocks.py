"""The pure parts of the Slack edge: command parsing, escaping and Block Kit limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_bot.adapters.slack import blocks as kit  # Block Kit builders
from incident_bot.adapters.slack.text import bar, clip, escape
from incident_bot.entrypoints.slack.parse import (
    UsageError,
    help_text,
    parse_command,
    parse_time,
    parse_variable_lines,
    parse_version,
)

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
UTC_ZONE, LONDON = ZoneInfo("UTC"), ZoneInfo("Europe/London")
SUMMER = datetime(2026, 7, 14, 6, 0, tzinfo=UTC)
# Any text a person can send: no NUL (refused: PostgreSQL can't store it), no lone surrogates
# (not UTF-8, so not in a Slack request).
TYPED = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
FREE_TEXT = TYPED.filter(lambda t: t.strip() != ""
                         and not re.match(r"\s*incident=", t, re.IGNORECASE))


def test_parse_keeps_everything_after_the_step_as_the_reason() -> None:
    parsed = parse_command('override tier-1 "police asked" incident=inc-1a2b')

    assert parsed.name == "override"
    assert parsed.words == ("tier-1",)
    assert parsed.text == '"police asked" incident=inc-1a2b'
    assert parsed.incident_id is None


def test_parse_reads_an_incident_option_before_the_free_text() -> None:
    parsed = parse_command("override incident=inc-1a2b tier-1 police asked")

    assert (parsed.incident_id, parsed.words, parsed.text) == ("inc-1a2b", ("tier-1",),
                                                               "police asked")


def test_parse_log_keeps_equals_words_and_splits_at_the_first_because() -> None:
    parsed = parse_command("log Move E0=10:30 and keep the cordon on route=A34 because police "
                           "asked because of the crowd")

    assert parsed.text == "Move E0=10:30 and keep the cordon on route=A34"
    assert parsed.rationale == "police asked because of the crowd"
    assert parsed.options == {}


def test_parse_log_keeps_apostrophes_quotes_and_incident_words() -> None:
    parsed = parse_command("""log don't move inc-deadbeef "yet" """)

    assert parsed.text == """don't move inc-deadbeef "yet" """
    assert parsed.incident_id is None


def test_parse_free_text_begins_after_one_separating_space() -> None:
    assert parse_command("compromised   on the radio ").text == "  on the radio "


def test_parse_task_add_reads_options_before_and_after_the_title() -> None:
    parsed = parse_command("task add incident=inc-1a2b Tell owner=x about route=A34 "
                           "owner=police_silver due=+1h")

    assert parsed.text == "Tell owner=x about route=A34"
    assert parsed.options == {"owner": "police_silver", "due": "+1h"}
    assert parsed.incident_id == "inc-1a2b"


def test_parse_task_add_removes_one_pair_of_enclosing_quotes() -> None:
    parsed = parse_command('task add ""Close" the road " owner=police_silver')

    assert parsed.text == '"Close" the road '


def test_parse_task_add_without_an_owner_says_how() -> None:
    with pytest.raises(UsageError, match="owner=<role>"):
        parse_command('task add "Close the road" due=+30m')


@pytest.mark.parametrize("text", ["status inc-1a2b", "close now", "brief inc-1a2b",
                                  "task list inc-1a2b", "message release km-1 inc-1a2b"])
def test_parse_refuses_stray_words_where_no_free_text_is_taken(text: str) -> None:
    with pytest.raises(UsageError, match="use `"):
        parse_command(text)


def test_parse_reads_an_incident_option_anywhere_in_a_command_without_free_text() -> None:
    parsed = parse_command("message approve km-1 2 incident=inc-1a2b")

    assert (parsed.words, parsed.incident_id) == (("approve", "km-1", "2"), "inc-1a2b")


def test_parse_refuses_an_incident_option_that_is_not_an_incident_id() -> None:
    with pytest.raises(UsageError, match="not an incident id"):
        parse_command("log incident=<!channel> open the centre")


def test_parse_refuses_an_option_given_twice() -> None:
    with pytest.raises(UsageError, match="twice"):
        parse_command('task add "x" owner=police_silver owner=bcu_commander')


def test_parse_refuses_a_nul_character() -> None:
    with pytest.raises(UsageError, match="NUL"):
        parse_command("log a\x00b")


@given(FREE_TEXT.filter(lambda t: " because " not in t), TYPED)
def test_parse_log_returns_any_decision_and_rationale_exactly(decision: str,
                                                              rationale: str) -> None:
    parsed = parse_command(f"log incident=inc-1a2b {decision} because {rationale}")

    assert (parsed.text, parsed.rationale, parsed.incident_id) == (decision, rationale,
                                                                   "inc-1a2b")


@given(TYPED.filter(lambda t: t.strip() != ""))
def test_parse_task_add_returns_any_quoted_title_exactly(title: str) -> None:
    parsed = parse_command(f'task add "{title}" owner=police_silver due=+1h')

    assert (parsed.text, parsed.options) == (title, {"owner": "police_silver", "due": "+1h"})


@given(FREE_TEXT)
def test_parse_override_returns_any_reason_exactly(reason: str) -> None:
    parsed = parse_command(f"override tier-1 {reason}")

    assert (parsed.words, parsed.text) == (("tier-1",), reason)


def test_parse_start_keeps_key_value_options() -> None:
    parsed = parse_command('start ct-arrests-and-searches area=Northbridge summary="Two sites"')

    assert parsed.words == ("ct-arrests-and-searches",)
    assert parsed.options == {"area": "Northbridge", "summary": "Two sites"}


def test_parse_start_reads_other_key_value_words_as_variables_kept_exactly() -> None:
    parsed = parse_command('start ct-arrests-and-searches Northbridge '
                           'roads_affected="Elm Street  and part of Station Road " '
                           "helpline=0300-123 t0=09:30 Arrest_Count=2")

    assert parsed.options == {"t0": "09:30"}
    assert parsed.variables == {"roads_affected": "Elm Street  and part of Station Road ",
                                "helpline": "0300-123", "arrest_count": "2"}
    assert parsed.words == ("ct-arrests-and-searches", "Northbridge")


def test_parse_start_refuses_a_variable_given_twice() -> None:
    with pytest.raises(UsageError, match="helpline= is given twice"):
        parse_command("start ct-arrests-and-searches Northbridge helpline=1 helpline=2")


def test_parse_variable_lines_reads_one_name_value_a_line() -> None:
    text = ('roads_affected = Elm Street and part of Station Road\n\n'
            'court_date="Tuesday 5 May 2026"\nrumour_fact=no "closure" = none  ')

    assert parse_variable_lines(text) == {
        "roads_affected": "Elm Street and part of Station Road",
        "court_date": "Tuesday 5 May 2026", "rumour_fact": 'no "closure" = none'}


@pytest.mark.parametrize("text", ["roads_affected Elm Street", "=Elm Street",
                                  "roads affected=Elm Street"])
def test_parse_variable_lines_refuses_a_line_that_is_not_name_value(text: str) -> None:
    with pytest.raises(UsageError, match="line 1: write one name=value a line"):
        parse_variable_lines(text)


def test_parse_empty_text_is_help() -> None:
    assert parse_command("   ").name == "help"


def test_parse_unknown_subcommand_says_how() -> None:
    with pytest.raises(UsageError, match="/incident help"):
        parse_command("launch")


@pytest.mark.parametrize(("raw", "expected"), [
    ("now", NOW), ("+30m", NOW + timedelta(minutes=30)), ("+2h", NOW + timedelta(hours=2)),
    ("07:15", NOW.replace(hour=7, minute=15)),
    ("2026-11-24 09:00", datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),
])
def test_parse_time_reads_relative_and_absolute_utc(raw: str, expected: datetime) -> None:
    assert parse_time(raw, NOW, UTC_ZONE) == expected


@pytest.mark.parametrize(("raw", "now", "expected"), [
    ("09:30", SUMMER, datetime(2026, 7, 14, 8, 30, tzinfo=UTC)),  # BST is UTC+1
    ("09:30", NOW, datetime(2026, 11, 23, 9, 30, tzinfo=UTC)),  # GMT is UTC
    ("2026-07-15 07:00", SUMMER, datetime(2026, 7, 15, 6, 0, tzinfo=UTC)),
    ("2026-07-15T07:00", SUMMER, datetime(2026, 7, 15, 6, 0, tzinfo=UTC)),
    # 23:30 UTC on 14 July is 00:30 on 15 July in London: "today" is the 15th there
    ("09:30", datetime(2026, 7, 14, 23, 30, tzinfo=UTC), datetime(2026, 7, 15, 8, 30,
                                                                    tzinfo=UTC)),
])
def test_parse_time_reads_clock_times_in_the_partnerships_zone(
        raw: str, now: datetime, expected: datetime) -> None:
    assert parse_time(raw, now, LONDON) == expected


def test_parse_time_leaves_relative_times_alone_whatever_the_zone() -> None:
    assert parse_time("+2h", SUMMER, LONDON) == SUMMER + timedelta(hours=2)


def test_parse_time_refuses_a_clock_time_the_clocks_skip() -> None:
    spring_forward = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:00 GMT becomes 02:00 BST

    with pytest.raises(UsageError, match="does not exist on 29 March 2026 in Europe/London"):
        parse_time("01:30", spring_forward, LONDON)


def test_parse_time_reads_a_clock_time_shown_twice_as_the_first() -> None:
    fall_back = datetime(2026, 10, 25, 0, 10, tzinfo=UTC)  # 02:00 BST becomes 01:00 GMT

    assert parse_time("01:30", fall_back, LONDON) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_help_names_the_zone_clock_times_are_read_in() -> None:
    assert "HH:MM or YYYY-MM-DD HH:MM (clock times in Europe/London)" in help_text(
        "Europe/London")


def test_parse_time_refuses_nonsense() -> None:
    with pytest.raises(UsageError):
        parse_time("tomorrowish", NOW, UTC_ZONE)


@pytest.mark.parametrize("raw", ["+99999999d", "+367d", "+527041m", "+1" + "0" * 5000 + "m",
                                 "9999-12-31 23:59", "0001-01-01 00:00"])
def test_parse_time_refuses_a_time_more_than_a_year_away(raw: str) -> None:
    with pytest.raises(UsageError, match="more than a year away"):
        parse_time(raw, NOW, UTC_ZONE)


def test_parse_time_accepts_a_year_ahead() -> None:
    assert parse_time("+366d", NOW, UTC_ZONE) == NOW + timedelta(days=366)


@pytest.mark.parametrize("raw", ["NaN", "inf", "-1", "0", "1.5", "²", "١", "", "v"])
def test_parse_version_refuses_what_is_not_a_version(raw: str) -> None:
    with pytest.raises(UsageError, match="not a message version"):
        parse_version(raw)


@pytest.mark.parametrize(("raw", "version"), [("1", 1), ("v2", 2), ("V12", 12)])
def test_parse_version_reads_a_number_with_or_without_v(raw: str, version: int) -> None:
    assert parse_version(raw) == version


def test_escape_neutralises_mentions_and_links() -> None:
    assert escape("<!channel> & <https://x|y>") == "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"


def test_clip_and_bar() -> None:
    assert len(clip("x" * 4000, 3000)) == 3000
    assert bar(0.5) == "▓▓▓▓▓░░░░░"


def test_call_list_stays_within_fifty_blocks() -> None:
    contacts = [kit.ContactLine(f"c{n}", f"Contact {n}", "+44 7700 ••••01", "pending")
                for n in range(40)]

    blocks = kit.call_list_blocks("inc-1", "t1-1", "40 contacts", contacts, "script")

    assert len(blocks) <= 50
    assert "more: use `/incident ringround`" in blocks[-1]["text"]["text"]


def test_button_labels_and_sections_respect_slack_limits() -> None:
    blocks = kit.approval_blocks("inc-1", "m" * 300, 1, "b" * 5000, "t" * 5000)

    sections = [b for b in blocks if b["type"] == "section"]
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert all(len(e["text"]["text"]) <= 75 and len(e["action_id"]) <= 255 for e in buttons)

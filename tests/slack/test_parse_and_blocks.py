"""The pure parts of the Slack edge: command parsing, escaping and Block Kit limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident_bot.adapters.slack import blocks as views
from incident_bot.adapters.slack.text import bar, clip, escape
from incident_bot.entrypoints.slack.parse import UsageError, parse_command, parse_time

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def test_parse_splits_words_options_and_incident_id() -> None:
    parsed = parse_command('override tier-1 "police asked" incident=inc-1a2b')

    assert parsed.name == "override"
    assert parsed.words == ("tier-1", "police asked")
    assert parsed.incident_id == "inc-1a2b"


def test_parse_start_keeps_key_value_options() -> None:
    parsed = parse_command('start ct-arrests-and-searches area=Northbridge summary="Two sites"')

    assert parsed.words == ("ct-arrests-and-searches",)
    assert parsed.options == {"area": "Northbridge", "summary": "Two sites"}


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
    assert parse_time(raw, NOW) == expected


def test_parse_time_refuses_nonsense() -> None:
    with pytest.raises(UsageError):
        parse_time("tomorrowish", NOW)


def test_escape_neutralises_mentions_and_links() -> None:
    assert escape("<!channel> & <https://x|y>") == "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"


def test_clip_and_bar() -> None:
    assert len(clip("x" * 4000, 3000)) == 3000
    assert bar(0.5) == "▓▓▓▓▓░░░░░"


def test_call_list_stays_within_fifty_blocks() -> None:
    contacts = [views.ContactLine(f"c{n}", f"Contact {n}", "+44 7700 ••••01", "pending")
                for n in range(40)]

    blocks = views.call_list_blocks("inc-1", "t1-1", "40 contacts", contacts, "script")

    assert len(blocks) <= 50
    assert "more: use `/incident ringround`" in blocks[-1]["text"]["text"]


def test_button_labels_and_sections_respect_slack_limits() -> None:
    blocks = views.approval_blocks("inc-1", "m" * 300, 1, "b" * 5000, "t" * 5000)

    sections = [b for b in blocks if b["type"] == "section"]
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert all(len(e["text"]["text"]) <= 75 and len(e["action_id"]) <= 255 for e in buttons)

"""A listing drawn by Rich fits the width it is given, inside a ``Group`` too (as a report
made of several tables is printed): headers and whole columns are never cut."""

from __future__ import annotations

import io
import re

from rich.console import Console, Group

from incident_bot.entrypoints.tables import Column, Listing

COVERAGE_HEADERS = ("Tier", "Reached", "Pending", "Failed", "Opted out", "Flagged", "Total",
                    "Coverage (target)", "Median to reach", "Worst", "Target met by deadline")


def drawn(width: int, *listings: Listing) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
    console.print(Group(*listings))
    return console.file.getvalue()  # type: ignore[attr-defined]


def coverage() -> Listing:
    columns = [Column(h, whole=h == "Tier", drop=i) for i, h in enumerate(COVERAGE_HEADERS)]
    listing = Listing("Ring-round coverage", columns)
    for tier in range(4):
        listing.add(tier, 12, 3, 1, 0, 2, 18, "67% (80%)", "0:14", "0:41", "no, 5 short")
    return listing


def test_a_wide_report_table_at_80_columns_keeps_every_header_word_whole() -> None:
    output = drawn(80, coverage())
    header_words = {w for h in COVERAGE_HEADERS for w in re.findall(r"[\w()]+", h)}
    shown = set(re.findall(r"[\w()]+", output))
    left_out = output.split("Not shown at 80 columns: ")[1].split(" (widen")[0]
    cut = {w for w in header_words - shown if w not in left_out}
    assert (cut, "…" in output, max(map(len, output.splitlines())) <= 80) == (set(), False, True)


def test_columns_left_out_are_the_highest_drop_ranks_and_are_named() -> None:
    output = drawn(80, coverage())
    assert ("Not shown at 80 columns: Median to reach, Worst, Target met by deadline"
            in output.replace("\n", " "))


def test_a_listing_too_narrow_for_its_whole_columns_prints_its_rows_as_lines() -> None:
    listing = Listing("Incidents", [Column("id", whole=True), Column("area")])
    listing.add("inc-3f9a1c7e", "Northbridge")
    lines = [line.rstrip() for line in drawn(14, listing).splitlines()]
    assert lines[2:] == ["id:", "inc-3f9a1c7e", "area:", "Northbridge", ""]

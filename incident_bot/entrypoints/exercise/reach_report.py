"""The reach tables of ``--manual`` and ``--compare``: per tier, how many contacts were reached
and how fast, for one mode or for the manual ring-round and the bot side by side."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from incident_bot.entrypoints.exercise.reach import RoundReach
from incident_bot.entrypoints.tables import Column, Listing

FRACTIONS = (0.8, 0.95, 1.0)
HEADLINE_TIERS = (1, 2)  # the tiers the benchmark compares (issue 17)


def minutes(value: timedelta | None) -> str:
    return "never" if value is None else f"{value.total_seconds() / 60:.1f} min"


def tier_groups(*reaches: RoundReach) -> list[tuple[str, tuple[int, ...]]]:
    """Each tier of the round, then tiers 1-2 together."""
    tiers = sorted({c.tier for r in reaches for c in r.contacts})
    groups: list[tuple[str, tuple[int, ...]]] = [(str(t), (t,)) for t in tiers]
    if all(t in tiers for t in HEADLINE_TIERS):
        groups.append(("1-2", HEADLINE_TIERS))
    return groups


def readiness_listing(reach: RoundReach, title: str) -> Listing:
    listing = Listing(title, [Column("Tier", whole=True), Column("Contacts"),
                              Column("Reachable"), Column("Reached"),
                              Column("Never reached"),
                              *(Column(f"To {f:.0%}") for f in FRACTIONS),
                              Column("Floor 95%", drop=1)])
    for label, tiers in tier_groups(reach):
        total, reachable, reached = reach.counts(tiers)
        listing.add(label, total, reachable, reached,
                    f"{total - reached} ({reach.never_reached_share(tiers):.0%})",
                    *(minutes(reach.time_to(f, tiers)) for f in FRACTIONS),
                    minutes(reach.floor(0.95, tiers)))
    return listing


def compare_listing(manual: RoundReach, bot: RoundReach) -> Listing:
    listing = Listing("Ring-round reach: manual / bot, same people and seed",
                      [Column("Tier", whole=True), Column("Contacts"), Column("Reachable"),
                       Column("Reached"), Column("Never reached"),
                       *(Column(f"To {f:.0%}") for f in FRACTIONS)])
    for label, tiers in tier_groups(manual, bot):
        total, reachable, _ = bot.counts(tiers)
        listing.add(label, total, reachable,
                    f"{manual.counts(tiers)[2]} / {bot.counts(tiers)[2]}",
                    f"{manual.never_reached_share(tiers):.0%} / "
                    f"{bot.never_reached_share(tiers):.0%}",
                    *(f"{minutes(manual.time_to(f, tiers))} / {minutes(bot.time_to(f, tiers))}"
                      for f in FRACTIONS))
    return listing


def compare_markdown(manual: RoundReach, bot: RoundReach, e0: datetime) -> str:
    """The comparison as a section of the readiness report (Markdown)."""
    listing = compare_listing(manual, bot)
    head = [column.header for column in listing.columns]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in listing.rows]
    return "\n".join([f"## {listing.title}", "", *rows, "",
                      *(f"- {line}" for line in compare_lines(manual, bot, e0)), ""])


def ratio(manual: timedelta | None, bot: timedelta | None) -> str:
    if manual is None or bot is None or not bot:
        return "-"
    return f"{manual / bot:.2f}"


def compare_lines(manual: RoundReach, bot: RoundReach, e0: datetime) -> list[str]:
    """Tiers 1-2 totals and the manual/bot ratios, the floor, and the media statement."""
    tiers = HEADLINE_TIERS
    lines = [f"Tiers 1-2: {bot.counts(tiers)[0]} contacts, {bot.counts(tiers)[1]} reachable."]
    for fraction in FRACTIONS:
        m, b = manual.time_to(fraction, tiers), bot.time_to(fraction, tiers)
        lines.append(f"Time to {fraction:.0%}: manual {minutes(m)}, bot {minutes(b)}, "
                     f"manual/bot {ratio(m, b)}; floor {minutes(bot.floor(fraction, tiers))}")
    lines.append(f"Never reached: manual {manual.never_reached_share(tiers):.0%}, "
                 f"bot {bot.never_reached_share(tiers):.0%}")
    lines += [f"Media statement released: {media_line(r, e0)} ({r.mode})"
              for r in (manual, bot)]
    return lines


def media_line(reach: RoundReach, e0: datetime) -> str:
    when = reach.media_released_at
    if when is None:
        return "never"
    return f"E0+{minutes(when - e0)}"


def manual_lines(lines: Sequence[tuple[datetime, str]], started_at: datetime) -> list[str]:
    """The manual round's transcript, each line stamped from the round's start."""
    return [f"+{_clock(at - started_at)}  {text}" for at, text in lines]


def _clock(span: timedelta) -> str:
    seconds = round(span.total_seconds())
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"

"""Run every benchmark on this machine and write bench/BENCHMARKS.md.

    .venv/bin/python -m bench.run [--quick] [--database-url URL]

``--quick`` runs smaller sizes once (a smoke run; its file says so). Benchmarks report, they
never assert: a regression shows as a worse figure or ratio against the committed file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import baseline, growth, timers
from bench.common import Spread, machine, scratch_database

OUT = Path(__file__).with_name("BENCHMARKS.md")


def _repeat(times: int, run: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
    results = []
    for n in range(times):
        sys.stderr.write(f"  run {n + 1}/{times}\n")
        results.append(run())
    return results


def _spread(results: list[dict[str, Any]], key: str) -> Spread:
    return Spread(tuple(float(r[key]) for r in results))


def _timers(quick: bool, url: str | None) -> list[str]:
    count = 1_000 if quick else 10_000
    repeats = 1 if quick else 2

    def one_lateness() -> dict[str, Any]:
        with scratch_database(url) as database:
            return timers.lateness(database, count=count)

    def one_recovery() -> dict[str, Any]:
        with scratch_database(url) as database:
            return timers.recovery(database, count=count)

    late = _repeat(repeats, one_lateness)
    recovered = _repeat(repeats + 1, one_recovery)
    goal = late[0]["interval"] + 0.5
    p99 = _spread(late, "p99")
    return [
        f"{count:,} timers due evenly over 60 s; poller ticked by APScheduler every "
        f"{late[0]['interval']:.0f} s; all fired: "
        f"{all(r['fired'] == r['timers'] for r in late)}.",
        "",
        "| Figure | Median (min, max) | Goal |",
        "|---|---|---|",
        f"| Lateness p50 | {_spread(late, 'p50').text(' s')} | |",
        f"| Lateness p99 | {p99.text(' s')} | ≤ {goal:.1f} s: "
        f"{'met' if p99.median <= goal else 'NOT met'} |",
        f"| Lateness max | {_spread(late, 'max').text(' s')} | |",
        f"| Restart with {count:,} overdue: start-up | {_spread(recovered, 'startup_s').text(' s')}"
        " | |",
        f"| Restart: all {count:,} fired after start-up | "
        f"{_spread(recovered, 'drain_s').text(' s')} | |",
    ]


def _growth(quick: bool) -> list[str]:
    sizes = (100, 1_000) if quick else (100, 1_000, 10_000)
    lines = ["| Contacts | Start incident | Approve SMS + start round | Status view | "
             "Hand off every SMS | Peak RSS |", "|---|---|---|---|---|---|"]
    per_contact = []
    for size in sizes:
        sys.stderr.write(f"growth {size}\n")
        results = _repeat(1 if quick or size >= 10_000 else 3,
                          lambda size=size: growth.in_subprocess(size))  # type: ignore[misc]
        cells = [_spread(results, k).text(" s") for k in
                 ("start_s", "approve_and_start_round_s", "status_view_s",
                  "hand_off_all_sms_s")]
        lines.append(f"| {size:,} | " + " | ".join(cells) +
                     f" | {_spread(results, 'peak_rss_mb').text(' MB', 0)} |")
        per_contact.append((size, _spread(results, "approve_and_start_round_s").median / size,
                            _spread(results, "peak_rss_mb").median))
    lines += ["", "Cost per contact of approving and starting the round: " + ", ".join(
        f"{size:,}: {cost * 1000:.2f} ms" for size, cost, _ in per_contact) + "."]
    biggest = per_contact[-1]
    lines.append(f"Peak RSS at {biggest[0]:,} contacts: {biggest[2]:.0f} MB (goal at 10,000: "
                 f"under 250 MB).")
    return lines


def _baseline() -> list[str]:
    results = _repeat(2, baseline.run)
    r = results[0]
    same = all(x["bot_all_final_min"] == r["bot_all_final_min"] for x in results)
    return [
        f"Reference exercise: ct-arrests-and-searches, bundled sample directory, seed "
        f"{r['seed']}, T0 {r['t0']}; tiers 1 and 2: {r['contacts']} contacts, "
        f"{r['callers']} callers. Two runs gave the same simulated times: {same}.",
        "",
        "| Figure | Simulated minutes from the start of the tier-1 round |",
        "|---|---|",
        f"| Bot: last contact reached or confirmed ({r['reached_or_confirmed']} of "
        f"{r['contacts']}) | {r['bot_all_reached_min']:.1f} |",
        f"| Bot: every contact in a final state | {r['bot_all_final_min']:.1f} |",
        f"| Manual: {r['callers']} callers, 3 min a call, every call answered first time | "
        f"{r['manual_min']:.1f} |",
        "",
        f"| Bot: reached or confirmed by the time the manual round would end | "
        f"{r['reached_by_manual_end']} of {r['contacts']} |",
        f"| Bot: confirmed only by the automatic SMS or voice rungs (no caller got through) | "
        f"{r['confirmed_by_sms_or_voice']} of {r['contacts']} |",
        "",
        f"Ratio manual / bot (time until every contact is in a final state): "
        f"**{r['ratio']:.2f}**. Wall time of the exercise: "
        f"{_spread(results, 'exercise_wall_s').text(' s')}.",
        "",
        "Read this with care. The manual figure assumes every call is answered first time and "
        "every caller starts at once; the exercise's callers accept their lists after 1-12 "
        "minutes and about 30 % of calls go to voicemail, so the bot waits out each tier's "
        "caller rung (15 minutes) before texting, and tier 2 opens only after tier 1 (the "
        "briefing order). The bot does not make the same callers phone faster; what it "
        "changes is that the briefing order is kept, every contact is tracked to a final "
        "state, and contacts no caller reaches get the automatic SMS and voice rungs (counted "
        "in the row above), with a record of who heard which version when.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", help="PostgreSQL URL for the timer benchmarks "
                        "(default: a fresh SQLite file)")
    args = parser.parse_args()
    facts = machine()
    started = datetime.now(UTC)
    sections = {
        "Timers at scale (§4)": _timers(args.quick, args.database_url),
        "Growth (§5)": _growth(args.quick),
        "Against the manual baseline (§6)": _baseline(),
    }
    command = "./scripts/bench.sh" + (" --quick" if args.quick else "")
    header = [
        "# Benchmarks", "",
        "Generated by `" + command + "` (which runs `.venv/bin/python -m bench.run`); "
        "do not edit by hand. How each figure is measured: the docstring of its module in "
        "`bench/` and [bench/README.md](README.md).", "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC" + (" — QUICK RUN, smaller sizes" if args.quick
                                                   else ""),
        f"- Machine: {facts['platform']}, {facts['cpus']} CPUs, Python {facts['python']}",
        f"- Commit: {facts['commit']}",
        "- Database: " + ("PostgreSQL" if args.database_url
                          else "SQLite (WAL), a fresh file per run"),
        "",
    ]
    body = [line for title, lines in sections.items() for line in ["## " + title, "", *lines, ""]]
    OUT.write_text("\n".join(header + body + _not_yet()), encoding="utf-8")
    sys.stderr.write(f"written {OUT}\n")


def _not_yet() -> list[str]:
    return [
        "## Not measured yet", "",
        "§1 (slash-command acknowledgement against a bare Bolt app), §2 (SMS hand-off "
        "throughput through the real twilio client) and §3 (priority under load) need the Slack "
        "and Twilio adapters; they are added with those adapters.", "",
    ]


if __name__ == "__main__":
    main()

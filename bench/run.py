"""Run every benchmark on this machine and write bench/BENCHMARKS.md.

    .venv/bin/python -m bench.run [--quick] [--database-url URL] [--only NAME ...]

``--quick`` runs smaller sizes once (a smoke run; its file says so). ``--only`` runs some
sections (slack, sms, notices, timers, growth, baseline) and prints them instead of writing
the file: for development.
Benchmarks report, they never assert: a regression shows as a worse figure or ratio against
the committed file.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import baseline, growth, notice_lane, slack_ack, sms_throughput, timers
from bench.common import Spread, machine, percentile, scratch_database

OUT = Path(__file__).with_name("BENCHMARKS.md")


def _repeat(times: int, run: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
    results = []
    for n in range(times):
        sys.stderr.write(f"  run {n + 1}/{times}\n")
        results.append(run())
    return results


def _spread(results: list[dict[str, Any]], key: str) -> Spread:
    return Spread(tuple(float(r[key]) for r in results))


def _ms(value: float) -> str:
    return f"{value * 1000:.0f}"


def _slack(quick: bool) -> list[str]:
    levels = {1: 20, 10: 60, 50: 150} if quick else {1: 60, 10: 200, 50: 400}
    repeats = 1 if quick else 2
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "bot": []}
    for n in range(repeats):
        for kind in ("bare", "bot"):
            sys.stderr.write(f"  slack {kind} run {n + 1}/{repeats}\n")
            with tempfile.TemporaryDirectory(prefix="incident-bot-bench-") as scratch:
                runs[kind].append(slack_ack.run(kind, Path(scratch), levels))
    lines = [
        "Real signed requests over HTTP into waitress (threads=8) in a server process; the load "
        "generator is a pool of keep-alive `http.client` connections in another process. "
        "Bare = a `slack_bolt.App` whose listeners only ack, same waitress settings. "
        "Requests per level: " + ", ".join(f"{c} client(s): {t}" for c, t in levels.items()) +
        f" starts, then as many clicks; {repeats} run(s) of each server, medians shown "
        "(milliseconds). Click = the task Acknowledge button (`task.ack`).", "",
        "| Request | Clients | Bare p50 / p95 / p99 | incident-bot p50 / p95 / p99 | "
        "incident-bot p99, median (min, max) | p99 ratio bot / bare (goal ≤ 1.5) | "
        "Not acked (non-200) | Requests/s bare, bot |",
        "|---|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for request in ("start", "click"):
        for clients in levels:
            cells = {}
            for kind, results in runs.items():
                rows = [r["levels"][clients][request] for r in results]
                cells[kind] = {k: Spread(tuple(float(row[k]) for row in rows))
                               for k in ("p50", "p95", "p99", "per_s")}
                cells[kind]["failed"] = Spread(tuple(float(len(row["failures"]))
                                                     for row in rows))
            bare, bot = cells["bare"], cells["bot"]
            ratio = bot["p99"].median / bare["p99"].median
            worst = max(worst, bot["p99"].median)
            p99 = bot["p99"]
            lines.append(
                f"| {request} | {clients} | "
                + " / ".join(_ms(bare[k].median) for k in ("p50", "p95", "p99")) + " | "
                + " / ".join(_ms(bot[k].median) for k in ("p50", "p95", "p99")) + " | "
                f"{_ms(p99.median)} ({_ms(min(p99.values))}, {_ms(max(p99.values))}) | "
                f"{ratio:.1f}: {'met' if ratio <= 1.5 else 'NOT met'} | "
                f"bare {bare['failed'].median:.0f}, bot {bot['failed'].median:.0f} | "
                f"{bare['per_s'].median:.0f}, {bot['per_s'].median:.0f} |")
    created = ", ".join(f"{r['incidents']} of {r['starts_sent']}" for r in runs["bot"])
    errors = ", ".join(str(r["errors"]) for r in runs["bot"])
    samples = sorted({sample for r in runs["bot"] for sample in r["error_samples"]})
    drains = [r["levels"][max(levels)]["start"]["drain_s"] for r in runs["bot"]]
    lines += [
        "",
        f"Incidents created / starts sent (per run): {created}. After the last burst of starts "
        f"the bot needed {Spread(tuple(drains)).text(' s', 1)} more to finish their work.",
        f"Worst incident-bot p99: {worst:.2f} s (Slack's limit: 3 s; goal: far below it): "
        f"{'met' if worst < 1.0 else 'NOT met'}.",
        f"Errors the bot logged (per run; work that failed after its request was acked): "
        f"{errors}" + (". First messages: " + "; ".join(f"`{m}`" for m in samples)
                       if samples else "") + ".",
        "",
        "History: when this benchmark was first run, Bolt ran listeners on its default pool "
        "of 5 threads and each listener kept its thread after `ack()` for the work (a start "
        "was ~0.4 s of CPU, 85 % of it inserting ~260 timer and outbox rows one statement at "
        "a time). Under a burst every thread was busy, new requests waited unacked, and after "
        "3 s Bolt answered 404: at 10 and 50 clients the p99 of a start was 3.0 s and 11.0 s "
        "and some requests were lost. Effects are now inserted in one statement per table and "
        "SQLite writers in one process take turns on a lock. With 64 listener threads doing "
        "the work after the ack, the p99 at 50 clients was still 3.3 s (starts) and 3.7 s "
        "(clicks): 50 starts' work competed with the acks for the GIL. Now a listener acks "
        "and hands its work to a two-thread pool (`SlackEdge.later`), the process lets a "
        "waiting thread take the GIL after 1 ms (`favour_acks`, CPython's default is 5 ms), "
        "and the tick no longer decodes every open incident (reads are cached by incident "
        "version; dashboards of unchanged incidents are not re-rendered): in the quick run "
        "before these changes the bot needed 72 s after the last burst to finish the "
        "starts' work, now the figure above.",
        "",
        "What is left, with a profile: the p99 ratio to bare Bolt is above 1.5 at most levels "
        "although every p99 is a small fraction of Slack's 3 s. `py-spy record --gil` of the "
        "bot server (250 Hz, 20 s) while one client sent 150 starts (p50 14 ms, p99 58 ms): "
        "the GIL was held 54 % of the wall time by the tick thread (delivering the new "
        "incidents' channel openings and ~33 chat posts each: `SlackChat.send` 27 %, loading "
        "incidents that had just changed 15 %, recording sends 9 %), 18 % by the work pool "
        "(`start_incident`), and under 1 % by the request threads. An ack needs the GIL about "
        "a dozen times (after each socket read and write), each time behind a busy thread; "
        "bare Bolt has no background work. What would meet the ratio: serve acks from a "
        "process that does nothing else (the HTTP front verifies, acks and records the "
        "request; a worker process executes it and runs the tick), so acks compete for the "
        "CPU but not for a GIL. The starts in this benchmark are also unusual: hundreds of "
        "incidents open at once, where a real partnership has one or two.",
    ]
    return lines


def _sms(quick: bool) -> list[str]:
    count, cap, repeats = (500, 300.0, 1) if quick else (5_000, 1_200.0, 1)
    fast_count, fast_repeats = (500, 1) if quick else (2_000, 2)
    sys.stderr.write(f"sms {count} at 150 ms\n")
    slow = _repeat(repeats, lambda: sms_throughput.in_subprocess(count, 0.15, cap))
    sys.stderr.write(f"sms {fast_count} at 0 ms\n")
    fast = _repeat(fast_repeats, lambda: sms_throughput.in_subprocess(fast_count, 0.0, cap))
    rate = slow[0]["configured_per_s"]
    ratio = _spread(slow, "ratio")
    finished = all(r["finished"] for r in slow)
    handed = ", ".join(f"{r['handed_off']:,}" for r in slow)
    waits = [w for r in slow for w in r["priority_s"]]
    queued = sum(r["priority_queued"] for r in slow)
    late = max(waits, default=float("nan"))
    return [
        f"{count:,} community contacts in tier 2 of the drill playbook; approving its text "
        "puts one SMS row per contact in the outbox. The real dispatcher and outbox on SQLite, "
        "the real `twilio.rest.Client`, system clock, ticked by the APScheduler job every "
        f"{slow[0].get('tick_s', 0.25):g} s as `serve` does. "
        f"Sender pool: {len(sms_throughput.SENDERS)} numbers × "
        f"TWILIO_SEND_RATE {sms_throughput.PER_SENDER:.0f} = {rate:.0f} messages a second. "
        "The loopback fake Twilio answers each create after the latency shown. "
        f"{repeats} run(s) at 150 ms (stopped after {cap:.0f} s if not done), "
        f"{fast_repeats} at 0 ms.", "",
        "| Figure | Median (min, max) | Goal |",
        "|---|---|---|",
        f"| 150 ms: achieved messages/s, first hand-off to last | "
        f"{_spread(slow, 'steady_rate').text('/s', 1)} | |",
        f"| 150 ms: achieved / configured ({rate:.0f}/s) | {ratio.text('', 3)} | ≥ 0.95: "
        f"{'met' if ratio.median >= 0.95 else 'NOT met'} |",
        f"| 150 ms: approve to last of {count:,} handed off | "
        + (_spread(slow, "hand_off_all_s").text(" s", 1) if finished
           else f"not finished: {handed} handed off in {cap:.0f} s") +
        f" | {count / rate:.0f} s at the configured pace |",
        f"| 0 ms: achieved messages/s ({fast_count:,} contacts) | "
        f"{_spread(fast, 'steady_rate').text('/s', 1)} | |",
        f"| 0 ms: approve to last of {fast_count:,} handed off | "
        f"{_spread(fast, 'hand_off_all_s').text(' s', 1)} | {fast_count / rate:.0f} s |",
        "",
        "Above 1.0 is the pace's allowed burst (one second's worth, at the start of the "
        "run), not an overrun.",
        "",
        "History: when this benchmark was first run the dispatcher sent one `messages.create` "
        "at a time, each waiting out the provider's answer (~96 % of dispatch time in "
        "`socket.recv_into` by cProfile, `python -m bench.sms_throughput --profile 100`), and "
        "a tick dispatched once (50 rows): 5.5 messages/s at 150 ms, 0.055 of the pace. Then "
        "paced sends went out 16 at a time and a tick kept dispatching until the pace or the "
        "queue was used up: 0.84 of the pace. The profile of that run showed the sender "
        "threads waiting about 0.8 s for 150 ms answers: the loopback fake (Python's "
        "`ThreadingHTTPServer`) listened with a backlog of 5, so with 16 concurrent senders "
        "the kernel dropped connections and the clients retried a second later. With the "
        "fake's backlog at 128 (as a real server's), 32 senders and a tick every 0.25 s "
        "(a tick that overran the 1 s interval made APScheduler skip the next one), the "
        "figure above is the result.",
        "",
        "### Priority under load (§3)",
        "",
        f"During the 150 ms run a tier-1 text (an outbox row of priority 1 to a contact outside "
        f"the round) was queued every {sms_throughput.PRIORITY_EVERY:.0f} s, {queued} in all; "
        "time from its commit to its arrival at the fake Twilio: "
        + ", ".join(f"{w:.2f} s" for w in waits) +
        f" (p50 {percentile(waits, 50):.2f} s, max {late:.2f} s; "
        f"{len(waits)} of {queued} arrived). Goal < 1 s: "
        f"{'met' if waits and late < 1.0 else 'NOT met'}.",
        "",
        "It is claimed first on the next tick (priority order), so its wait is the time to "
        "the next tick (0.25 s) plus the time the running tick still needs to finish its "
        "sends.",
    ]


def _notices(quick: bool) -> list[str]:
    repeats = 1 if quick else 3
    results = _repeat(repeats, lambda: notice_lane.in_subprocess(80, 3.0))
    waited = _spread(results, "notice_s")
    worst = max(waited.values)
    return [
        "One contact sends 80 distinct SMS replies within 3 s; then the commander marks the "
        "timeline compromised. The real service, dispatcher and outbox on SQLite, system "
        f"clock, APScheduler tick every {results[0]['tick_s']:g} s, `serve`'s chat pace (one "
        "post a second per channel, 3 s burst); the chat port notes arrivals. "
        f"{repeats} run(s).", "",
        "| Figure | Median (min, max) | Goal |",
        "|---|---|---|",
        f"| Notice: commit to the channel | {waited.text(' s')} | ≤ 2 s: "
        f"{'met' if worst <= 2.0 else 'NOT met'} |",
        f"| The 80 replies became: posts, updates of the same post | "
        f"{_spread(results, 'feedback_posts').median:.0f}, "
        f"{_spread(results, 'feedback_updates').median:.0f} | one post |",
        "",
        "Before: every reply was a post of its own, queued with the notices at one priority "
        "under the one-post-a-second pace, and the notice waited 57 s.",
    ]


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
        f"{late[0]['interval']:g} s (`INCIDENT_BOT_TICK_SECONDS`, as `serve`); all fired: "
        f"{all(r['fired'] == r['timers'] for r in late)}.",
        "",
        "| Figure | Median (min, max) | Goal |",
        "|---|---|---|",
        f"| Lateness p50 | {_spread(late, 'p50').text(' s')} | |",
        f"| Lateness p99 | {p99.text(' s')} | ≤ {goal:.2f} s: "
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
    started = time.perf_counter()
    runs = baseline.run()
    wall = time.perf_counter() - started
    first = runs[0]
    lines = [
        f"Reference exercise: {baseline.PLAYBOOK}, bundled sample directory, T0 "
        f"{baseline.T0.isoformat()}, seeds {runs[0].seed}-{runs[-1].seed}; tiers 1 and 2: "
        f"{first.contacts} contacts, {_range([r.reachable for r in runs])} of them reachable "
        "(some channel of the bot's would reach them: docs/exercise.md). Each seed runs the bot's "
        "exercise and a manual ring-round (printed lists, the coordinator's phone, the same "
        "callers, the same retry policy, no automatic SMS or voice) over the same simulated "
        "people; the manual round opens tier 1 when the bot's did. docs/exercise.md has the "
        "people model and its sources. Times are simulated minutes from the tier-1 round's "
        "start: median (min-max) over the seeds; \"never\" when that share was not reached.",
        "",
        "| Figure | Bot | Manual | Manual / bot (medians) |",
        "|---|---|---|---|",
    ]
    for fraction in baseline.FRACTIONS:
        bot = [r.bot.to[fraction] for r in runs]
        manual = [r.manual.to[fraction] for r in runs]
        lines.append(f"| Time to {fraction:.0%} of the reachable contacts reached or confirmed "
                     f"| {baseline.spread(bot)} | {baseline.spread(manual)} | "
                     f"{_ratio(baseline.median(manual), baseline.median(bot))} |")
    never_bot = [100 * r.bot.never_reached for r in runs]
    never_manual = [100 * r.manual.never_reached for r in runs]
    lines.append(f"| Share of all contacts never reached (%) | {baseline.spread(never_bot)} | "
                 f"{baseline.spread(never_manual)} | |")
    lines.append(f"| Contacts never reached, all seeds | {_never(runs, 'bot')} | "
                 f"{_never(runs, 'manual')} | |")
    media_bot = [r.bot.media_from_e0 for r in runs]
    media_manual = [r.manual.media_from_e0 for r in runs]
    lines.append(f"| Media statement released, minutes after E0 | {baseline.spread(media_bot)} "
                 f"| {baseline.spread(media_manual)} | |")
    floor = [r.bot.floor_95 for r in runs]
    for fraction in baseline.FRACTIONS:
        lines.append(f"| Seeds where {fraction:.0%} was never reached | "
                     f"{sum(math.isinf(r.bot.to[fraction]) for r in runs)} | "
                     f"{sum(math.isinf(r.manual.to[fraction]) for r in runs)} | |")
    bot95 = baseline.median([r.bot.to[0.95] for r in runs])
    manual95 = baseline.median([r.manual.to[0.95] for r in runs])
    lines += [
        "",
        f"**Time to 95 %: manual / bot = {_ratio(manual95, bot95)}** (medians over "
        f"{len(runs)} seeds). Physical floor (every reachable contact texted, called and rung "
        f"at the tier-1 start; the people's own reply time): {baseline.spread(floor)} minutes "
        "to 95 %.",
        "",
        f"Checks on the bot's runs: every contact ended in a final state in "
        f"{sum(r.all_final for r in runs)} of {len(runs)}; tier 2 and the media statement "
        f"waited for tier 1 (or an allowed override or timeout) in "
        f"{sum(r.order_kept for r in runs)} of {len(runs)}. Wall time: "
        f"{Spread(tuple(r.wall_s for r in runs)).text(' s')} per bot exercise, "
        f"{wall:.0f} s in all.",
    ]
    return lines


def _never(runs: list[baseline.SeedRun], mode: str) -> str:
    """Never reached over every seed: all contacts, and of them the reachable ones."""
    figures = [getattr(r, mode) for r in runs]
    never = sum(round(f.never_reached * r.contacts) for f, r in zip(figures, runs, strict=True))
    missed = sum(f.reachable_missed for f in figures)
    return (f"{never} of {sum(r.contacts for r in runs)} ({missed} of them reachable, of "
            f"{sum(r.reachable for r in runs)})")


def _range(values: list[int]) -> str:
    return f"{min(values)}" if min(values) == max(values) else f"{min(values)}-{max(values)}"


def _ratio(manual: float, bot: float) -> str:
    if math.isinf(manual) and math.isinf(bot):
        return "-"
    if math.isinf(manual):
        return "manual never reached it"
    return f"{manual / bot:.1f}"


SECTIONS: dict[str, tuple[str, Callable[[argparse.Namespace], list[str]]]] = {
    "slack": ("Slash-command and button acknowledgement (§1)", lambda a: _slack(a.quick)),
    "sms": ("SMS hand-off throughput (§2) and priority under load (§3)",
            lambda a: _sms(a.quick)),
    "notices": ("Notices before chatter", lambda a: _notices(a.quick)),
    "timers": ("Timers at scale (§4)", lambda a: _timers(a.quick, a.database_url)),
    "growth": ("Growth (§5)", lambda a: _growth(a.quick)),
    "baseline": ("Against the manual baseline (§6)", lambda a: _baseline()),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", help="PostgreSQL URL for the timer benchmarks "
                        "(default: a fresh SQLite file)")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), metavar="NAME",
                        help="run only these sections: " + ", ".join(SECTIONS))
    args = parser.parse_args()
    facts = machine()
    started = datetime.now(UTC)
    sections = {}
    for name, (title, build) in SECTIONS.items():
        if args.only is None or name in args.only:
            sys.stderr.write(f"== {name}\n")
            sections[title] = build(args)
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
        *([f"- PARTIAL RUN: only {', '.join(args.only)}"] if args.only else []),
        "",
    ]
    body = [line for title, lines in sections.items() for line in ["## " + title, "", *lines, ""]]
    text = "\n".join(header + body)
    if args.only:  # a partial run never replaces the file
        sys.stdout.write(text + "\n")
        return
    OUT.write_text(text, encoding="utf-8")
    sys.stderr.write(f"written {OUT}\n")


if __name__ == "__main__":
    main()

"""The after-action report as Markdown and as one self-contained HTML page (inline CSS, tables,
and an inline SVG chart: the briefing steps as bars on a time axis against their planned times,
and each tier's ring-round coverage over time as lines). Times are UK local, as in the
readiness report. Every text from the incident is escaped (in Markdown too: no raw HTML, no
link or image syntax survives); no phone number is ever in the report (it names people only)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from incident_bot.domain.durations import format_duration
from incident_bot.service.reports.after_action import (
    AfterActionReport,
    DecisionLine,
    MessageDelivery,
    StepLine,
    TaskLine,
    TierLine,
)

UK = ZoneInfo("Europe/London")
TIER_COLOURS = ("#7b3294", "#d7191c", "#fdae61", "#2c7bb6", "#1a9641", "#636363")

STEP_HEADERS = ("Step", "Briefed by", "Planned", "Opened", "How", "Opened late by",
                "Completed", "By", "Late by")
TIER_HEADERS = ("Tier", "Total", "Reached", "Confirmed", "Voicemail", "No answer", "Failed",
                "Opted out", "Unsafe", "Flagged", "Pending", "Coverage (target)",
                "Median to reach", "Worst")
DELIVERY_HEADERS = ("Message version", "Channel", "To", "Status", "Provider status", "At")
TASK_HEADERS = ("Task", "Owner", "Due", "Done", "Outcome", "Late by")
DECISION_HEADERS = ("#", "Decided", "Kind", "Decision", "Rationale", "By")


# ---- cells ----------------------------------------------------------------------------------


def hhmm(instant: datetime | None) -> str:
    return instant.astimezone(UK).strftime("%H:%M") if instant else "-"


def hhmmss(instant: datetime) -> str:
    return instant.astimezone(UK).strftime("%H:%M:%S")


def span(value: timedelta | None) -> str:
    return format_duration(timedelta(seconds=round(value.total_seconds()))) if value else "-"


def step_row(step: StepLine) -> tuple[str, ...]:
    return (f"{step.id}: {step.title}", step.briefed_by, hhmm(step.planned_at),
            hhmm(step.opened_at), step.opened_by or "-", span(step.opened_late_by),
            hhmm(step.completed_at), step.completed_by or "-", span(step.late_by))


def tier_row(tier: TierLine) -> tuple[str, ...]:
    coverage = (f"{tier.fraction:.0%} ({tier.target:.0%})" if tier.started_at
                else f"not started ({tier.target:.0%})")
    counts = (tier.total, tier.reached, tier.confirmed, tier.voicemail, tier.no_answer,
              tier.failed, tier.opted_out, tier.unsafe, tier.flagged, tier.pending)
    return (f"{tier.number} {tier.title}", *map(str, counts), coverage,
            span(tier.median_to_reach), span(tier.worst_to_reach))


def task_row(task: TaskLine) -> tuple[str, ...]:
    return (f"{task.id}: {task.title}", task.owner, hhmm(task.due), hhmm(task.done_at),
            task.outcome, span(task.late_by))


def summary_lines(report: AfterActionReport) -> list[str]:
    s, tally = report.summary, report.task_tally
    steps_done = sum(1 for step in report.steps if step.completed_at)
    late = [step.id for step in report.steps if step.late_by]
    tiers = ", ".join(f"tier {t.number} {t.fraction:.0%} of {t.total}" for t in report.tiers
                      if t.started_at) or "no tier started"
    return [
        f"Playbook: {s.playbook_title} ({s.playbook_id})",
        f"Area: {s.area}; classification {s.classification}; status {s.status}"
        + ("; timeline COMPROMISED" if s.compromised else ""),
        f"T0 {_day_time(s.t0)}; E0 {_day_time(s.e0) if s.e0 else 'not set'} (UK time)",
        f"Started {_day_time(s.started_at)} by {s.started_by}; report at {_day_time(s.as_of)}",
        f"Briefing: {steps_done} of {len(report.steps)} steps complete"
        + (f"; late against the plan: {', '.join(late)}" if late else "; none late"),
        f"Ring-round coverage: {tiers}",
        f"Tasks: {tally.on_time} on time, {tally.late} late, {tally.not_done} not done",
        f"Escalations fired: {sum(c.count for c in report.escalations)}",
        f"Decision log: {report.decision_log.verdict}",
    ]


def _day_time(instant: datetime | None) -> str:
    return instant.astimezone(UK).strftime("%a %-d %b %Y %H:%M") if instant else "-"


def version_counts(report: AfterActionReport) -> list[tuple[str, str, str, str]]:
    """(version, channel, status, count), sorted."""
    counts = Counter((d.version, d.channel, d.status) for d in report.deliveries)
    return [(v, c, s, str(n)) for (v, c, s), n in sorted(counts.items())]


# ---- Markdown -------------------------------------------------------------------------------


def to_markdown(report: AfterActionReport) -> str:
    s = report.summary
    lines = [f"# After-action report: {md_text(s.playbook_title)}", "",
             f"Incident {md_code(s.incident_id)}. Names people of the partnership: handle as "
             f"{md_text(s.classification)}. Phone numbers are never shown.", "",
             "## Summary", "", *(f"- {md_text(line)}" for line in summary_lines(report)), ""]
    lines += ["## Briefing order: planned and actual", "",
              *_md_table(STEP_HEADERS, map(step_row, report.steps)), ""]
    lines += ["## Ring-round per tier", "",
              *_md_table(TIER_HEADERS, map(tier_row, report.tiers)), "",
              "Voicemail and no answer count contacts whose latest recorded outcome it was "
              "(and who were not reached in the end); failed is declined or wrong number; "
              "times to reach are from the start of the tier's round.", ""]
    lines += ["## Key messages: which version reached whom", "",
              *_md_table(("Message version", "Channel", "Status", "Deliveries"),
                         version_counts(report)), "",
              *_md_table(DELIVERY_HEADERS, map(_delivery_row, report.deliveries)), ""]
    tally = report.task_tally
    lines += ["## Tasks", "", f"{tally.on_time} on time, {tally.late} late, "
              f"{tally.not_done} not done.", "",
              *_md_table(TASK_HEADERS, map(task_row, report.tasks)), ""]
    lines += ["## Escalations fired", ""]
    lines += (_md_table(("What", "Count"), ((c.label, str(c.count))
                                            for c in report.escalations))
              if report.escalations else ["None."]) + [""]
    lines += ["## Decision log", "", f"Check: {md_text(report.decision_log.verdict)}.", "",
              *_md_table(DECISION_HEADERS, map(_decision_row, report.decision_log.entries)),
              ""]
    lines += ["## Timeline", "", *_md_table(("Time", "What", "Event"), (
        (hhmmss(e.at), e.kind, e.text) for e in report.timeline)), ""]
    return "\n".join(lines).rstrip() + "\n"


def _delivery_row(d: MessageDelivery) -> tuple[str, ...]:
    return (d.version, d.channel, d.recipient, d.status, d.provider_status or "-", hhmmss(d.at))


def _decision_row(e: DecisionLine) -> tuple[str, ...]:
    return (str(e.seq), hhmmss(e.decided_at), e.kind, e.decision, e.rationale, e.decided_by)


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(_md_cell(c) for c in cells) + " |"
    return [row(headers), row(["---"] * len(headers)), *(row(r) for r in rows)]


def _md_cell(text: str) -> str:
    return md_text(text).replace("|", "\\|")


# Characters that could open Markdown structure inside a line: emphasis, code spans, links and
# images ([...](...), ![...]), and the escape character itself. Raw HTML and autolinks
# (<script>, <javascript:...>) are closed off by writing <, > and & as entities instead.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]!])")


def md_code(text: str) -> str:
    """``text`` as a code span (inert: nothing in it is read as HTML or Markdown) when it can
    be one, else as :func:`md_text`."""
    return f"`{text}`" if text and not any(c in text for c in "`\r\n") else md_text(text)


def md_text(text: str) -> str:
    """``text`` as inert Markdown: shown as written by any CommonMark renderer, on one line."""
    inert = escape(text, quote=False).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", inert)


# ---- HTML -----------------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;
margin:24px auto;max-width:1240px;padding:0 16px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;
border-bottom:2px solid #e3e3e3;padding-bottom:4px}
.marking{display:inline-block;background:#1d4f91;color:#fff;font-weight:600;padding:2px 8px;
border-radius:3px;font-size:12px;letter-spacing:.04em}
.note{color:#555;font-size:13px}ul.summary{margin:4px 0;padding-left:20px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid #d6d6d6;padding:4px 7px;text-align:left;vertical-align:top}
th{background:#f2f4f7;font-weight:600}tr:nth-child(even) td{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.late{color:#b00020;font-weight:600}.ok{color:#1a7f37;font-weight:600}
.bad{color:#fff;background:#b00020;padding:1px 6px;border-radius:3px}
svg{display:block;margin:8px 0 4px;max-width:100%;height:auto}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:#333}
"""


def to_html(report: AfterActionReport) -> str:
    s = report.summary
    title = f"After-action report: {s.playbook_title} ({s.incident_id})"
    tally = report.task_tally
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{escape(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f'<span class="marking">{escape(s.classification)}</span>',
        f"<h1>{escape(title)}</h1>",
        '<p class="note">Names people of the partnership; phone numbers are never shown. '
        "Times are UK local.</p>",
        "<h2>Summary</h2>", '<ul class="summary">',
        *(f"<li>{escape(line)}</li>" for line in summary_lines(report)), "</ul>",
        "<h2>Timeline chart</h2>", timeline_svg(report),
        '<p class="note">Bars: briefing steps from opening to completion (hatched: still '
        "open); diamonds: the planned time. Lines: share of each tier reached; dashed: the "
        "tier's target. Vertical lines: T0 and E0.</p>",
        "<h2>Briefing order: planned and actual</h2>",
        _html_table(STEP_HEADERS, [step_row(st) for st in report.steps], late_columns={5, 8}),
        "<h2>Ring-round per tier</h2>",
        _html_table(TIER_HEADERS, [tier_row(t) for t in report.tiers],
                    numeric=set(range(1, 11))),
        '<p class="note">Voicemail and no answer: contacts whose latest recorded outcome it '
        "was and who were not reached in the end. Failed: declined or wrong number. Times to "
        "reach are from the start of the tier's round.</p>",
        "<h2>Key messages: which version reached whom</h2>",
        _html_table(("Message version", "Channel", "Status", "Deliveries"),
                    version_counts(report), numeric={3}),
        _html_table(DELIVERY_HEADERS, [_delivery_row(d) for d in report.deliveries]),
        "<h2>Tasks</h2>",
        f"<p>{tally.on_time} on time, {tally.late} late, {tally.not_done} not done.</p>",
        _html_table(TASK_HEADERS, [task_row(t) for t in report.tasks], late_columns={5}),
        "<h2>Escalations fired</h2>",
        _html_table(("What", "Count"), [(c.label, str(c.count)) for c in report.escalations],
                    numeric={1}) if report.escalations else "<p>None.</p>",
        "<h2>Decision log</h2>", _chain_html(report),
        _html_table(DECISION_HEADERS, [_decision_row(e) for e in report.decision_log.entries]),
        "<h2>Timeline</h2>",
        _html_table(("Time", "What", "Event"),
                    [(hhmmss(e.at), e.kind, e.text) for e in report.timeline]),
        "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"


def _chain_html(report: AfterActionReport) -> str:
    log = report.decision_log
    css = "ok" if log.chain.ok else "bad"
    return f'<p>Check: <span class="{css}">{escape(log.verdict)}</span></p>'


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                numeric: set[int] | None = None, late_columns: set[int] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            css = "num" if numeric and index in numeric else ""
            if late_columns and index in late_columns and cell != "-":
                css = "late"
            attr = f' class="{css}"' if css else ""
            cells.append(f"<td{attr}>{escape(cell)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# ---- the chart ------------------------------------------------------------------------------

WIDTH, LABEL_W, RIGHT_PAD, ROW_H, AXIS_H, COVER_H = 1200, 230, 20, 24, 48, 220
TICKS = tuple(timedelta(minutes=m) for m in (5, 10, 15, 30, 60, 120, 240, 480))


class _Scale:
    """Maps instants onto the chart's x axis."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, max(end, start + timedelta(minutes=10))
        self.seconds = (self.end - self.start).total_seconds()

    def x(self, instant: datetime) -> float:
        share = (instant - self.start).total_seconds() / self.seconds
        return round(LABEL_W + share * (WIDTH - LABEL_W - RIGHT_PAD), 1)

    def ticks(self) -> list[datetime]:
        step = next((t for t in TICKS if self.seconds / t.total_seconds() <= 12), TICKS[-1])
        local = self.start.astimezone(UK)
        base = local.replace(minute=0, second=0, microsecond=0)
        first = base + step * -(-(local - base) // step)
        count = int((self.end - first) / step) + 1
        return [(first + step * i).astimezone(self.start.tzinfo) for i in range(count)]


def chart_window(report: AfterActionReport) -> tuple[datetime, datetime]:
    """From the earliest to the latest recorded moment the chart shows."""
    s = report.summary
    moments = [s.t0, *(t for t in (s.e0,) if t)]
    for step in report.steps:
        moments += [t for t in (step.planned_at, step.opened_at, step.completed_at) if t]
    for tier in report.tiers:
        moments += [p.at for p in tier.curve]
    start, end = min(moments), max(moments)
    pad = max((end - start) / 40, timedelta(minutes=2))
    return start - pad, end + pad


def timeline_svg(report: AfterActionReport) -> str:
    scale = _Scale(*chart_window(report))
    steps_h = ROW_H * len(report.steps)
    cover_top = AXIS_H + steps_h + 30
    height = cover_top + COVER_H + 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Timeline chart">',
             '<defs><pattern id="open" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="3" height="6" fill="#2c7bb6"/>'
             '</pattern></defs>',
             f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>']
    parts += _axis(scale, height - 20, 24)
    parts += _clock_lines(report, scale, height - 30)
    parts += _step_rows(report, scale, now=report.summary.as_of)
    parts += _coverage(report, scale, cover_top)
    parts.append("</svg>")
    return "\n".join(parts)


def _axis(scale: _Scale, bottom: float, top: float) -> list[str]:
    parts = []
    for tick in scale.ticks():
        x = scale.x(tick)
        parts += [f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" stroke="#ececec"/>',
                  f'<text x="{x}" y="{top - 6}" text-anchor="middle">{hhmm(tick)}</text>',
                  f'<text x="{x}" y="{bottom + 14}" text-anchor="middle">{hhmm(tick)}</text>']
    return parts


def _clock_lines(report: AfterActionReport, scale: _Scale, bottom: float) -> list[str]:
    s, parts = report.summary, []
    for name, at, colour in (("T0", s.t0, "#b00020"), ("E0", s.e0, "#e66101")):
        if at is None:
            continue
        x = scale.x(at)
        parts += [f'<line x1="{x}" y1="{AXIS_H - 4}" x2="{x}" y2="{bottom}" stroke="{colour}" '
                  'stroke-width="1.5" stroke-dasharray="6 3" class="clock"/>',
                  f'<text x="{x + 4}" y="{AXIS_H - 8}" fill="{colour}" '
                  f'style="fill:{colour};font-weight:600">{name}</text>']
    return parts


def _step_rows(report: AfterActionReport, scale: _Scale, now: datetime) -> list[str]:
    parts = []
    for index, step in enumerate(report.steps):
        y = AXIS_H + index * ROW_H
        label = escape(_clip(f"{step.id}: {step.title}", 32))
        parts.append(f'<text x="8" y="{y + 16}">{label}</text>')
        if step.opened_at is not None:
            end = step.completed_at or max(now, step.opened_at)
            x1, x2 = scale.x(step.opened_at), min(scale.x(end), WIDTH - RIGHT_PAD)
            fill = "#2c7bb6" if step.completed_at else "url(#open)"
            colour = "#b00020" if step.late_by else "#1d4f91"
            parts.append(f'<rect class="step-bar" data-step="{escape(step.id)}" x="{x1}" '
                         f'y="{y + 5}" width="{max(x2 - x1, 2.0)}" height="{ROW_H - 10}" '
                         f'fill="{fill}" stroke="{colour}" rx="2"><title>'
                         f'{escape(_bar_title(step))}</title></rect>')
        if step.planned_at is not None:
            x, mid = scale.x(step.planned_at), y + ROW_H / 2
            parts.append(f'<path class="planned" d="M{x} {mid - 6} L{x + 6} {mid} L{x} '
                         f'{mid + 6} L{x - 6} {mid} Z" fill="#fff" stroke="#333" '
                         'stroke-width="1.5"/>')
    return parts


def _bar_title(step: StepLine) -> str:
    return (f"{step.id}: planned {hhmm(step.planned_at)}, opened {hhmm(step.opened_at)}, "
            f"completed {hhmm(step.completed_at)}")


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _coverage(report: AfterActionReport, scale: _Scale, top: float) -> list[str]:
    left, right, bottom = LABEL_W, WIDTH - RIGHT_PAD, top + COVER_H
    parts = [f'<text x="8" y="{top + 14}" style="font-weight:600">Ring-round coverage</text>',
             f'<rect x="{left}" y="{top}" width="{right - left}" height="{COVER_H}" '
             'fill="none" stroke="#bbb"/>']
    for pct in (0, 25, 50, 75, 100):
        y = bottom - COVER_H * pct / 100
        parts += [f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#eee"/>',
                  f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{pct}%</text>']
    legend_y = top + 34
    for index, tier in enumerate(t for t in report.tiers if t.curve):
        colour = TIER_COLOURS[index % len(TIER_COLOURS)]
        parts += _tier_line_svg(tier, scale, bottom, colour, report.summary.as_of)
        parts += [f'<line x1="8" y1="{legend_y - 4}" x2="30" y2="{legend_y - 4}" '
                  f'stroke="{colour}" stroke-width="3"/>',
                  f'<text x="36" y="{legend_y}">{escape(_clip(_legend(tier), 26))}</text>']
        legend_y += 18
    return parts


def _legend(tier: TierLine) -> str:
    return f"Tier {tier.number} {tier.fraction:.0%} ({tier.title})"


def _tier_line_svg(tier: TierLine, scale: _Scale, bottom: float, colour: str,
                   now: datetime) -> list[str]:
    def y(fraction: float) -> float:
        return round(bottom - COVER_H * fraction, 1)

    points: list[str] = []
    previous = 0.0
    for point in tier.curve:
        x = scale.x(point.at)
        points += [f"{x},{y(previous)}", f"{x},{y(point.fraction)}"]
        previous = point.fraction
    end_x = min(scale.x(max(now, tier.curve[-1].at)), WIDTH - RIGHT_PAD)
    points.append(f"{end_x},{y(previous)}")
    target_y = y(tier.target)
    start_x = scale.x(tier.curve[0].at)
    return [f'<polyline class="coverage" data-tier="{tier.number}" points="{" ".join(points)}" '
            f'fill="none" stroke="{colour}" stroke-width="2.5"/>',
            f'<line x1="{start_x}" y1="{target_y}" x2="{WIDTH - RIGHT_PAD}" y2="{target_y}" '
            f'stroke="{colour}" stroke-dasharray="4 4" stroke-width="1"/>']

"""The readiness report on screen (rich) and on file (Markdown). Times are UK time
(Europe/London); the summary's figures are the after-action report's own."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from rich.console import Group, RenderableType
from rich.text import Text

from incident_bot.adapters import report_render
from incident_bot.domain.durations import format_duration
from incident_bot.entrypoints.exercise.transcript import UK
from incident_bot.entrypoints.tables import Column, Listing
from incident_bot.service.reports.after_action import AfterActionReport
from incident_bot.service.reports.readiness import (
    Count,
    Gap,
    ReadinessReport,
    StepTiming,
    TierCoverage,
)

GAP_TITLES = {
    "roles": "Roles with no holder or no deputy",
    "callers": "Not enough callers",
    "verification": "Contacts not verified recently",
    "numbers": "Numbers missing, unusable or failed",
    "templates": "Templates missing a language the playbook lists",
    "languages": "Contacts whose language has no translation (they get English)",
    "sms": "SMS over the segment budget",
    "coverage": "Tiers short of their coverage target",
    "tasks": "Tasks never acknowledged",
}
STEP_HEADERS = ("Step", "Planned", "Opened", "How", "Completed", "By", "Late by")
# Reached counts confirmed contacts and failed counts unsafe ones, which the after-action report
# gives apart: the headers say so, so the two reports' figures can be set side by side.
TIER_HEADERS = ("Tier", "Reached or confirmed", "Pending", "Failed or unsafe", "Opted out",
                "Flagged", "Total",
                "Coverage (target)", "Median to reach", "Worst", "Target met by deadline")


# Left out first, highest rank first, when a table cannot fit the terminal even wrapped.
DROP = {"Median to reach": 4, "Worst": 3, "Opted out": 2, "Pending": 1, "Planned": 2, "How": 1}


def hhmm(instant: datetime | None) -> str:
    return instant.astimezone(UK).strftime("%H:%M") if instant else "-"


def span(value: timedelta | None) -> str:
    return format_duration(timedelta(seconds=round(value.total_seconds()))) if value else "-"


def step_row(step: StepTiming) -> tuple[str, ...]:
    return (step.id, hhmm(step.planned_at), hhmm(step.opened_at), step.opened_by or "-",
            hhmm(step.completed_at), step.completed_by or "-", span(step.late_by))


def tier_row(tier: TierCoverage) -> tuple[str, ...]:
    met = {None: "-", True: "yes", False: "NO"}[tier.met_target_by_deadline]
    coverage = (f"{tier.fraction:.0%} ({tier.target:.0%})" if tier.started_at
                else f"not started ({tier.target:.0%})")
    return (str(tier.number), str(tier.reached), str(tier.pending), str(tier.failed),
            str(tier.opted_out), str(tier.flagged), str(tier.total), coverage,
            span(tier.median_to_reach), span(tier.worst_to_reach), met)


def summary_lines(report: ReadinessReport, after_action: AfterActionReport | None) -> list[str]:
    """The after-action report's own summary lines (the same figures as its Markdown and HTML),
    then what only the readiness report adds."""
    t = report.tasks
    shared = report_render.summary_lines(after_action) if after_action else [
        f"Tasks: {t.done} done, {t.open} not done"]
    return [
        *shared,
        f"Tasks not done: {t.overdue} overdue, {t.never_acknowledged} never acknowledged",
        f"Gaps that would hurt on the day: {len(report.gaps)}",
    ]


# ---- Markdown -------------------------------------------------------------------------------


def to_markdown(report: ReadinessReport, *, seed: int | None = None,
                ended_because: str = "", after_action: AfterActionReport | None = None) -> str:
    lines = [f"# Readiness report: {report.playbook_title}", "",
             f"Exercise `{report.incident_id}` of playbook `{report.playbook_id}` in "
             f"{report.area}" + (f", seed {seed}" if seed is not None else "") + ". "
             f"T0 {hhmm(report.t0)}, E0 {hhmm(report.e0)} on "
             f"{report.t0.astimezone(UK):%A %-d %B %Y} (UK time); report at "
             f"{hhmm(report.as_of)}, incident {report.status}.", "",
             "Names contacts of the partnership: handle as OFFICIAL-SENSITIVE. Phone numbers "
             "are masked.", ""]
    if ended_because:
        lines += [f"The exercise ended because {ended_because}.", ""]
    lines += ["## Summary", "",
              *(f"- {line}" for line in summary_lines(report, after_action)), ""]
    lines += ["## Time to brief", "", *_md_table(STEP_HEADERS, map(step_row, report.steps)), ""]
    lines += ["## Ring-round coverage", "",
              *_md_table(TIER_HEADERS, map(tier_row, report.tiers)), ""]
    lines += _md_counts("Escalations fired", report.escalations, "none")
    lines += _md_counts("Deliveries (outbox)", report.deliveries, "none")
    lines += _md_counts("Decision log", report.decisions, "no entries")
    lines += ["## Gaps that would hurt on the day", ""]
    lines += _md_gaps(report.gaps) or ["None found.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
    return [row(headers), row(["---"] * len(headers)), *(row(r) for r in rows)]


def _md_counts(title: str, counts: Sequence[Count], empty: str) -> list[str]:
    body = _md_table(("What", "Count"), ((c.label, str(c.count)) for c in counts)) \
        if counts else [empty.capitalize() + "."]
    return [f"## {title}", "", *body, ""]


def _md_gaps(gaps: Sequence[Gap]) -> list[str]:
    lines: list[str] = []
    for area, title in GAP_TITLES.items():
        found = [g for g in gaps if g.area == area]
        if found:
            lines += [f"### {title} ({len(found)})", "",
                      *(f"- **{g.subject}**: {g.detail}" for g in found), ""]
    return lines


# ---- rich -----------------------------------------------------------------------------------


def to_rich(report: ReadinessReport,
            after_action: AfterActionReport | None = None) -> RenderableType:
    parts: list[RenderableType] = [
        Text(f"Readiness report: {report.playbook_title} ({report.incident_id}); times are UK "
             "time", style="bold underline"),
        Text("\n".join(summary_lines(report, after_action))),
        _table("Time to brief", STEP_HEADERS, [step_row(s) for s in report.steps]),
        _table("Ring-round coverage", TIER_HEADERS, [tier_row(t) for t in report.tiers]),
        _table("Escalations fired", ("What", "Count"),
               [(c.label, str(c.count)) for c in report.escalations]),
        _gaps_table(report.gaps),
    ]
    return Group(*parts)


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Listing:
    """Fitted to the terminal: the first column (step, tier, what) and the headers whole, less
    important columns left out and named when even wrapping is not enough."""
    columns = [Column(h, whole=i == 0, drop=DROP.get(h, 0)) for i, h in enumerate(headers)]
    listing = Listing(title, columns)
    for row in rows:
        listing.add(*row)
    return listing


def _gaps_table(gaps: Sequence[Gap]) -> Listing:
    listing = Listing(f"Gaps that would hurt on the day ({len(gaps)})",
                      [Column("Area", whole=True), Column("Who / what"), Column("Gap")])
    for gap in gaps:
        listing.add(gap.area, gap.subject, gap.detail)
    return listing

"""The Markdown and HTML renderings of a real incident's after-action report."""

from __future__ import annotations

import dataclasses
import html
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from incident_bot.adapters.report_render import to_html, to_markdown
from incident_bot.service.reports.after_action import after_action_report

SECTIONS = ("## Summary", "## Briefing order: planned and actual", "## Ring-round per tier",
            "## Key messages: which version reached whom", "## Tasks",
            "## Escalations fired", "## Decision log", "## Timeline")


class Elements(HTMLParser):
    """Every start tag with its attributes; checks that tags close in order."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def having(self, tag: str, css_class: str | None = None) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag
                and (css_class is None or a.get("class") == css_class)]


@pytest.fixture(scope="module")
def report(world):
    return after_action_report(world.records(), world.clock.now())


@pytest.fixture(scope="module")
def page(report) -> Elements:
    parser = Elements()
    parser.feed(to_html(report))
    parser.close()
    return parser


def test_markdown_has_every_section(report):
    markdown = to_markdown(report)
    assert [s for s in SECTIONS if s not in markdown] == []


def test_markdown_has_a_briefing_row_per_step_and_a_tier_row_per_tier(report):
    markdown = to_markdown(report)
    assert all(f"| {s.id}: {s.title} |" in markdown for s in report.steps)
    assert all(f"| {t.number} {t.title} |" in markdown for t in report.tiers)


def test_markdown_states_the_chain_check(report):
    assert f"Check: {report.decision_log.verdict}." in to_markdown(report)


def test_html_parses_with_every_tag_closed(page):
    assert (page.problems, page.open) == ([], [])


def test_html_has_one_inline_svg_chart(page):
    assert len(page.having("svg")) == 1


def test_the_chart_has_one_bar_per_briefing_step_that_opened(page, report):
    bars = [a["data-step"] for a in page.having("rect", "step-bar")]
    assert bars == [s.id for s in report.steps if s.opened_at is not None]


def test_the_chart_has_a_planned_marker_per_step_with_a_plan(page, report):
    assert len(page.having("path", "planned")) == sum(1 for s in report.steps if s.planned_at)


def test_the_chart_has_a_coverage_line_per_started_tier(page, report):
    lines = [int(a["data-tier"]) for a in page.having("polyline", "coverage")]
    assert lines == [t.number for t in report.tiers if t.started_at]


def test_html_is_self_contained(page):
    assert (page.having("script"), page.having("link"), len(page.having("style"))) == (
        [], [], 1)
    assert all(not (a.get("src") or "").startswith("http") for _, a in page.tags)


def test_html_escapes_text_from_the_incident(report):
    hostile = dataclasses.replace(report, summary=dataclasses.replace(
        report.summary, area="<script>alert(1)</script>"))
    html = to_html(hostile)
    assert ("<script>" not in html, "&lt;script&gt;" in html) == (True, True)


def test_html_has_a_table_row_per_delivery(page, report):
    assert len(page.having("tr")) >= len(report.deliveries) + len(report.steps)


HOSTILE = ("<script>alert(1)</script> [click](javascript:alert(2)) "
           "![x](javascript:alert(3)) <javascript:alert(4)> <img src=x onerror=alert(5)> "
           "&#60;script&#62; *bold* `code` | pipe\nsecond line")


def _hostile_markdown(report) -> str:
    summary = dataclasses.replace(report.summary, area=HOSTILE, started_by=HOSTILE,
                                  playbook_title=HOSTILE)
    entries = [dataclasses.replace(e, decision=HOSTILE, rationale=HOSTILE)
               for e in report.decision_log.entries]
    return to_markdown(dataclasses.replace(
        report, summary=summary,
        decision_log=dataclasses.replace(report.decision_log, entries=entries)))


def _rendered(markdown: str) -> Elements:
    parser = Elements()
    parser.feed(MarkdownIt("commonmark").render(markdown))  # raw HTML allowed, as GitHub's
    parser.close()
    return parser


def test_markdown_user_text_renders_as_text_not_html_or_links(report):
    page = _rendered(_hostile_markdown(report))

    assert [t for t, _ in page.tags if t in ("script", "img", "a")] == []


def test_markdown_user_text_reads_back_as_typed(report):
    markdown = _hostile_markdown(report)
    text = MarkdownIt("commonmark").render(markdown)

    assert "<script>" not in markdown
    assert html.escape("<script>alert(1)</script> [click](javascript:alert(2))",
                       quote=False) in text
    assert "*bold* `code` \\| pipe second line" in markdown.replace("\\*", "*").replace(
        "\\`", "`")


def test_markdown_keeps_user_text_on_its_table_row(report):
    markdown = _hostile_markdown(report)
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]

    assert all(line.endswith(" |") for line in rows)
    assert "second line" not in "".join(line for line in markdown.splitlines()
                                        if not line.startswith(("| ", "# ", "- ")))

"""Load playbooks from YAML into ``incident_bot.domain.playbook.Playbook``, strictly.

Every problem is located (``file:line: key.path: message``) and reported together; one broken
playbook never stops the others loading. The key reference is ``docs/playbooks.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from incident_bot.adapters.located_yaml import read_yaml
from incident_bot.adapters.playbook.build import Draft, read_draft
from incident_bot.adapters.playbook.checks import check_draft
from incident_bot.adapters.playbook.cursor import At, Report
from incident_bot.adapters.playbook.template_checks import check_templates
from incident_bot.domain.playbook import Playbook
from incident_bot.errors import InputError, PlaybookError, Problem

PLAYBOOK_SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadResult:
    """What ``load_playbooks`` found: the playbooks that loaded, and every problem."""

    playbooks: dict[str, Playbook] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # errors and warnings, every file
    failed: dict[Path, list[Problem]] = field(default_factory=dict)  # files that did not load
    files: list[Path] = field(default_factory=list)  # every file looked at, in order

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def load_playbook(path: Path, templates_dir: Path | None = None) -> Playbook:
    """Load one playbook; raise PlaybookError listing every problem if it has any error."""
    playbook, problems = _load_file(path, templates_dir)
    if playbook is None:
        raise PlaybookError(problems)
    return playbook


def load_playbooks(paths: Iterable[Path], templates_dir: Path | None = None) -> LoadResult:
    """Load every playbook named; a directory means each ``*.yaml``/``*.yml`` file in it."""
    result = LoadResult()
    for path in playbook_files(paths):
        result.files.append(path)
        playbook, problems = _load_file(path, templates_dir)
        if playbook is not None and playbook.id in result.playbooks:
            first = result.playbooks[playbook.id].source
            problems.append(Problem(str(path), None, "id",
                                    f"playbook id '{playbook.id}' is already loaded from {first}"))
            playbook = None
        result.problems.extend(problems)
        if playbook is None:
            result.failed[path] = problems
        else:
            result.playbooks[playbook.id] = playbook
    return result


def playbook_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into their playbook files (sorted); keep files as given."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir()
                                if p.suffix in PLAYBOOK_SUFFIXES and p.is_file()))
        else:
            files.append(path)
    return files


def _load_file(path: Path, templates_dir: Path | None) -> tuple[Playbook | None, list[Problem]]:
    report = Report(str(path))
    try:
        doc = read_yaml(path, report.file)
    except InputError as exc:
        return None, list(exc.problems)
    draft = read_draft(At.root(doc, report))
    if draft is not None:
        check_draft(draft, path.stem)
        if templates_dir is not None:
            check_templates(draft, templates_dir)
    playbook = _assemble(draft, str(path)) if draft and not report.error_count else None
    return playbook, report.sorted()


def _assemble(draft: Draft, source: str) -> Playbook:
    header = draft.header
    return Playbook(
        id=header.id,
        title=header.title,
        description=header.description,
        classification=header.classification,
        started_by=header.started_by,
        coordinator=header.coordinator,
        roles=tuple(role for role, _ in draft.roles.built),
        tiers=tuple(sorted((tier for tier, _ in draft.tiers.built), key=lambda t: t.number)),
        briefing=tuple(step for step, _ in draft.steps.built),
        messages=tuple(message for message, _ in draft.messages.built),
        tasks=tuple(task for task, _ in draft.tasks.built),
        phases=tuple(phase for phase, _ in draft.phases.built),
        e0_default=header.e0_default,
        sms_segment_budget=header.sms_segment_budget,
        two_person_approval=header.two_person_approval,
        variables=dict(header.variables),
        source=source,
    )

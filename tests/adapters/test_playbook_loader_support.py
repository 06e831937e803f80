"""Helpers for the loader tests (no tests here): a minimal valid playbook plus the section
under test."""

import textwrap
from pathlib import Path
from typing import Any

import pytest

from incident_bot.adapters.playbook_loader import load_playbooks

BASE = """\
id: {id}
title: Test playbook
classification: OFFICIAL
started_by: [bcu_commander]
coordinator: bcu_commander
roles:
  - {{code: bcu_commander, title: BCU commander, level: strategic}}
  - {{code: police_silver, title: Police Silver, level: tactical}}
"""
BASE_LINES = BASE.count("\n")


def write_playbook(folder: Path, extra: str = "", playbook_id: str = "test",
                   base: str = BASE) -> Path:
    """Write the base playbook plus ``extra``; an ``extra`` indented by four spaces (a
    triple-quoted block in a test) is dedented, one indented by two (more roles) is kept."""
    path = folder / f"{playbook_id}.yaml"
    body = textwrap.dedent(extra) if extra.startswith("    ") else extra
    path.write_text(base.format(id=playbook_id) + body, encoding="utf-8")
    return path


def problems_in(folder: Path, extra: str, base: str = BASE) -> list[str]:
    """Every problem as ``line: path: message`` (without the file name)."""
    path = write_playbook(folder, extra, base=base)
    result = load_playbooks([path])
    return [str(p).removeprefix(f"{path}:") for p in result.problems]


def case(name: str, extra: str, expected: list[str], base: str = BASE) -> Any:
    """A row of a table of playbooks and the problems they must get, exactly (a pytest param
    with ``name`` as its id): ``extra`` added to ``base``, as ``problems_in`` takes them."""
    return pytest.param(extra, base, expected, id=name)

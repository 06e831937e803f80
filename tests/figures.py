"""Figures a test run reports at its end (under "figures"), for docs/reliability.md: suites
append a line each; ``tests/conftest.py`` prints them."""

from __future__ import annotations

FIGURES: list[str] = []

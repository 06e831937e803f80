"""Fixtures for the incident tests: incidents at the moments most tests start from."""

from __future__ import annotations

import pytest
from builders import active_incident, at_e0, started

from incident_bot.domain.incident import Incident


@pytest.fixture
def prebrief() -> Incident:
    """Started two hours before T0: the confidential pre-brief."""
    return started()


@pytest.fixture
def active() -> Incident:
    """T0 has passed; E0 (T0+1h) has not."""
    return active_incident()


@pytest.fixture
def briefing_open() -> Incident:
    """At E0 with every message approved: the strategic step is open."""
    return at_e0()

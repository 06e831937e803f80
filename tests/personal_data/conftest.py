"""Fixtures for the personal-data tests: the restart drill (a small playbook, six tier-1 and
four tier-2 contacts with phone numbers) on the real database, with a fake clock."""

from __future__ import annotations

import pytest

from tests.service.conftest import Harness, drill_people, make_harness


@pytest.fixture
def drill(uow_factory) -> Harness:
    return make_harness(uow_factory, drill_people())

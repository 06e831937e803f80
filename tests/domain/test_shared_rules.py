"""Rules defined once in the domain and used by several reports and adapters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident_bot.domain.directory import E164
from incident_bot.domain.durations import median_duration
from incident_bot.testing import fake_twilio

S = timedelta(seconds=1)


@pytest.mark.parametrize(("values", "median"), [
    ([], None),
    ([5 * S], 5 * S),
    ([9 * S, 1 * S, 4 * S], 4 * S),  # unsorted input
    ([1 * S, 4 * S, 2 * S, 10 * S], 3 * S),  # even count: the mean of the middle two
    ([1 * S, 2 * S], timedelta(seconds=1.5)),
])
def test_median_duration(values, median):
    assert median_duration(values) == median


@pytest.mark.parametrize(("number", "valid"), [
    ("+447700900123", True),
    ("+6837012", True),  # Niue: seven digits, the shortest in use
    ("+683701", False),
    ("+123456789012345", True),  # fifteen digits, the most E.164 allows
    ("+1234567890123456", False),
    ("+0447700900123", False),  # no country code starts with 0
    ("447700900123", False),
    ("+44 7700 900123", False),
])
def test_e164(number, valid):
    assert bool(E164.match(number)) is valid


def test_the_fake_twilio_checks_numbers_as_the_domain_does():
    assert fake_twilio.E164.pattern == E164.pattern

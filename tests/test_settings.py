"""Settings: the partnership's time zone."""

from __future__ import annotations

from pathlib import Path

import pytest

from incident_bot.errors import ConfigError
from incident_bot.settings import load_settings


def test_the_time_zone_is_uk_time_unless_set(tmp_path: Path) -> None:
    assert load_settings({}, base=tmp_path).zone.key == "Europe/London"
    assert load_settings({"INCIDENT_BOT_TIMEZONE": "Europe/Warsaw"},
                         base=tmp_path).zone.key == "Europe/Warsaw"


@pytest.mark.parametrize("name", ["BST", "Europe/Londres", "../../etc/passwd"])
def test_a_time_zone_that_is_not_one_is_refused_naming_the_setting(
        tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=r"^invalid setting\(s\): INCIDENT_BOT_TIMEZONE$"):
        load_settings({"INCIDENT_BOT_TIMEZONE": name}, base=tmp_path)

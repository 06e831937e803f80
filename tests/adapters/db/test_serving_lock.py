"""One serving process per SQLite database file; PostgreSQL is not limited."""

from __future__ import annotations

import subprocess
import sys

import pytest

from incident_bot.adapters.db.serving_lock import serving_lock, sqlite_file
from incident_bot.errors import ConfigError

HOLD = """
import sys
from incident_bot.adapters.db.serving_lock import serving_lock
from incident_bot.errors import ConfigError
try:
    with serving_lock(sys.argv[1]):
        print("serving")
except ConfigError as error:
    print(error)
"""


def test_a_second_server_on_the_same_sqlite_file_is_refused_with_a_reason(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with serving_lock(url), pytest.raises(ConfigError, match="use PostgreSQL"), \
            serving_lock(url):
        pass  # pragma: no cover - never reached


def test_another_process_is_refused_while_one_serves(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with serving_lock(url):
        other = subprocess.run([sys.executable, "-c", HOLD, url], capture_output=True,
                               text=True, check=True, timeout=60)
    assert "already serving bot.db" in other.stdout


def test_the_lock_is_free_again_when_the_server_stops(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with serving_lock(url):
        pass
    other = subprocess.run([sys.executable, "-c", HOLD, url], capture_output=True, text=True,
                           check=True, timeout=60)
    assert other.stdout.strip() == "serving"


def test_a_killed_server_leaves_no_stale_lock(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with subprocess.Popen([sys.executable, "-c",
                           "import sys,time\nfrom incident_bot.adapters.db.serving_lock "
                           "import serving_lock\nwith serving_lock(sys.argv[1]):\n"
                           "    print('held', flush=True)\n    time.sleep(600)\n", url],
                          stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        holder.kill()
        holder.wait(timeout=60)
    with serving_lock(url):
        pass


def test_postgresql_urls_are_not_locked():
    url = "postgresql+psycopg://bot@db.example/bot"
    assert sqlite_file(url) is None
    with serving_lock(url), serving_lock(url):
        pass

"""The dependency locks in requirements/: every package pinned with hashes, the three sets
agreeing package for package, and every direct dependency of pyproject.toml in them."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ \\]+)", re.MULTILINE)


def pins(name: str) -> dict[str, str]:
    return {package.lower(): version
            for package, version in PIN.findall((LOCKS / name).read_text(encoding="utf-8"))}


def normalise(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


@pytest.mark.parametrize("name", ["run.txt", "postgres.txt", "dev.txt", "node.txt"])
def test_every_locked_package_has_an_exact_version_and_a_hash(name: str):
    text = (LOCKS / name).read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 6)[-1])
    requirements = [block for block in blocks if PIN.match(block)]
    assert requirements
    assert all("--hash=sha256:" in block for block in requirements)


@pytest.mark.parametrize(("smaller", "larger"), [("run.txt", "postgres.txt"),
                                                 ("postgres.txt", "dev.txt")])
def test_the_smaller_sets_pin_the_same_versions_as_the_larger(smaller: str, larger: str):
    small, large = pins(smaller), pins(larger)
    assert {package: large.get(package) for package in small} == small


def test_every_direct_dependency_is_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    for lock, wanted in [("run.txt", project["dependencies"]),
                         ("postgres.txt", extras["postgres"]),
                         ("dev.txt", extras["dev"])]:
        locked = pins(lock)
        assert sorted(normalise(r) for r in wanted if normalise(r) not in locked) == [], lock


def test_the_build_backend_is_locked_so_the_editable_install_fetches_nothing():
    assert {"setuptools", "wheel"} <= set(pins("run.txt"))

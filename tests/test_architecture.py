"""The dependency arrow points inward: the domain core imports only the standard library."""

import subprocess
import sys

VENDOR_MODULES = frozenset({
    "slack_sdk", "slack_bolt", "twilio", "sqlalchemy", "apscheduler", "yaml", "jinja2",
    "pydantic", "phonenumbers", "typer", "rich",
})
IMPORT_ALL = (
    "import pkgutil, importlib, {pkg} as p; "
    "[importlib.import_module(m.name) for m in pkgutil.walk_packages(p.__path__, '{pkg}.')]"
)


def _modules_loaded_by_importing_all_of(package: str) -> set[str]:
    code = f"import sys; {IMPORT_ALL.format(pkg=package)}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in out.stdout.split()}


def test_domain_loads_no_vendor_module():
    loaded = _modules_loaded_by_importing_all_of("incident_bot.domain")
    assert loaded.isdisjoint(VENDOR_MODULES), loaded & VENDOR_MODULES


def test_service_loads_no_slack_twilio_or_database_module():
    loaded = _modules_loaded_by_importing_all_of("incident_bot.service")
    forbidden = {"slack_sdk", "slack_bolt", "twilio", "sqlalchemy", "apscheduler"}
    assert loaded.isdisjoint(forbidden), loaded & forbidden

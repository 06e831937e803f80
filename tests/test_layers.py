"""The shape of the package, read from its source: each layer imports only the layers beneath
it, no module imports itself back through others at run time, and the composition root
(``bootstrap.py``) is the one place where settings are read and engines and clients are made."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "incident_bot"

# A layer may import itself and these (``errors`` is everyone's; ``testing`` holds the fakes).
ALLOWED = {
    "errors": set(),
    "domain": {"errors"},
    "service": {"domain", "errors"},
    "settings": {"errors"},
    "adapters": {"service", "domain", "errors", "settings"},
    "bootstrap": {"adapters", "service", "domain", "errors", "settings"},
    "entrypoints": {"bootstrap", "adapters", "service", "domain", "errors", "settings"},
    "testing": {"errors"},
    "data": set(),  # files shipped with the package (sample directory), no code
}

# What only the composition root makes, and the adapter modules that implement each one.
CONSTRUCTORS = {
    "load_settings": set(),
    "Settings": set(),
    "create_engine": {"adapters/db/engine.py"},
    "make_engine": {"adapters/db/migrate.py", "adapters/db/migrations/env.py"},
    "SqlUnitOfWork": set(),
    "WebClient": {"adapters/slack/chat.py"},
    "SocketModeHandler": set(),
    "Client": {"adapters/twilio/messaging.py"},
    "make_client": {"adapters/twilio/messaging.py"},
    "build_twilio_ports": set(),
    "build_scheduler": set(),
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = ("incident_bot", *path.relative_to(ROOT).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in ast.walk(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def _imports(name: str, path: Path, runtime_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = _runtime_nodes(tree) if runtime_only else ast.walk(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("incident_bot"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("incident_bot"):
                found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                             for a in node.names)
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "incident_bot"


def test_each_layer_imports_only_the_layers_beneath_it():
    wrong = sorted(f"{name} imports {target}"
                   for name, path in MODULES.items() if _layer(name) in ALLOWED
                   for target in _imports(name, path, runtime_only=False)
                   if _layer(target) not in ALLOWED[_layer(name)] | {_layer(name)})
    assert wrong == []
    assert {_layer(name) for name in MODULES} <= set(ALLOWED) | {"incident_bot"}


def test_no_module_imports_itself_back_at_run_time():
    graph = {name: {t for target in _imports(name, path, runtime_only=True)
                    for t in _loaded_with(target, name)} - {name}
             for name, path in MODULES.items()}
    assert _cycles(graph) == []


def _loaded_with(target: str, importer: str) -> set[str]:
    """What importing ``target`` from ``importer`` runs: the module, and first each package
    above it that ``importer`` is not already inside (its ``__init__`` runs before it)."""
    parts = target.split(".")
    above = {".".join(parts[:n]) for n in range(1, len(parts))}
    outside = {p for p in above if not f"{importer}.".startswith(f"{p}.")}
    return {m for m in outside | {target} if m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for after in sorted(graph[node]):
            if after not in index:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in stack:
                low[node] = min(low[node], index[after])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([*component, node]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_only_the_composition_root_reads_settings_and_makes_engines_and_clients():
    made_elsewhere = sorted(
        f"{path.relative_to(ROOT)}:{call.lineno} calls {callee}"
        for path in MODULES.values() if path.relative_to(ROOT).as_posix() != "bootstrap.py"
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(call, ast.Call) and (callee := _callee(call)) in CONSTRUCTORS
        and path.relative_to(ROOT).as_posix() not in CONSTRUCTORS[callee])
    assert made_elsewhere == []


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


# Edges that still commit a transaction themselves (path under incident_bot/: why). Every use
# case is a service function that opens one unit of work and commits once (#16); keep it empty.
EDGES_THAT_COMMIT: dict[str, str] = {}


def test_edges_leave_commits_to_the_service():
    committing = sorted(
        f"{path.relative_to(ROOT)}:{line} calls .commit()"
        for name, path in MODULES.items() if _layer(name) == "entrypoints"
        and path.relative_to(ROOT).as_posix() not in EDGES_THAT_COMMIT
        for line in _commits(ast.parse(path.read_text(encoding="utf-8"))))
    assert committing == []


def _commits(tree: ast.AST) -> list[int]:
    """The lines of every ``<anything>.commit(...)`` call."""
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"]


def test_the_checks_see_a_violation(tmp_path):
    """The readers above find what they look for (so an empty list means something)."""
    source = tmp_path / "x.py"
    source.write_text("from typing import TYPE_CHECKING\nfrom incident_bot import bootstrap\n"
                      "if TYPE_CHECKING:\n    from incident_bot.service import ports\n"
                      "engine = make_engine('sqlite://')\n"
                      "with factory() as uow:\n    uow.commit()\n", encoding="utf-8")
    assert _imports("incident_bot.adapters.x", source, runtime_only=False) == {
        "incident_bot.bootstrap", "incident_bot.service.ports"}
    assert _imports("incident_bot.adapters.x", source, runtime_only=True) == {
        "incident_bot.bootstrap"}
    assert [_callee(c) for c in ast.walk(ast.parse(source.read_text()))
            if isinstance(c, ast.Call)] == ["make_engine", "factory", "commit"]
    assert _commits(ast.parse(source.read_text())) == [7]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_importing_a_submodule_from_outside_runs_its_package_first():
    assert _loaded_with("incident_bot.domain.incident.model", "incident_bot.service.ports") == {
        "incident_bot.domain", "incident_bot.domain.incident", "incident_bot.domain.incident.model"}
    assert _loaded_with("incident_bot.domain.incident.model",
                        "incident_bot.domain.incident.handlers") == {
        "incident_bot.domain.incident.model"}

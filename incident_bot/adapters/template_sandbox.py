"""The sandbox key-message templates run in.

A template is a file any editor of ``message_templates/`` can change, rendered inside ``serve``
next to the Slack and Twilio secrets, so it gets a small language, not Python:

- **Checked when parsed** (:func:`check_tree`, from :meth:`MessageEnvironment._parse`, so
  ``templates render``, ``playbooks validate`` and every render refuse alike, with file and
  line): text, ``{{ variable }}``, ``{# notes #}``, ``{% if %}``, ``{% set name = ... %}``,
  ``x if c else y``, comparisons, ``and``/``or``/``not``, ``~`` to join text, quoted text,
  numbers, lists, the filters in :data:`FILTERS` and the tests in :data:`TESTS`, and
  ``include``/``extends``/``block``/``from ... import`` of a quoted file name inside the
  templates folder. Nothing else: no calls, no ``.attribute`` or ``[item]``, no arithmetic, no
  loops, no macros, and none of the names in :data:`RESERVED_NAMES`.
- **Enforced when rendered** (whatever got past the check): Jinja's immutable sandbox, no
  globals at all, only the allowed filters and tests, arithmetic operators refused, every
  ``~`` join and the whole output at most :data:`MAX_RENDERED_CHARS` characters, at most
  :data:`MAX_TEMPLATE_LOADS` template loads per render (a template including itself stops
  there), and every file read confined to the folder after resolving symbolic links.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS as JINJA_TESTS

# Six times the longest shipped message (member-briefing, 1,648 characters with sample values).
MAX_RENDERED_CHARS = 10_000
# The file itself, its parents and includes, counted per render.
MAX_TEMPLATE_LOADS = 50

# Text in, text out, never longer than a few times the input.
FILTERS = ("capitalize", "count", "d", "default", "first", "last", "length", "lower", "string",
           "title", "trim", "truncate", "upper", "wordcount")
TESTS = ("boolean", "defined", "eq", "equalto", "false", "in", "lower", "ne", "none", "number",
         "string", "true", "undefined", "upper")
# Jinja's own globals and special names, and what server-side template injection probes for.
RESERVED_NAMES = frozenset({
    "self", "caller", "varargs", "kwargs", "loop", "super",
    "range", "dict", "lipsum", "cycler", "joiner", "namespace",
    "config", "request", "session", "g", "url_for", "get_flashed_messages",
    "environment", "context", "os", "sys", "builtins",
})

_ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.Assign,
            nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.Compare, nodes.Operand,
            nodes.Concat, nodes.Keyword, nodes.List, nodes.Tuple, nodes.Block)
_CONSTANT_TYPES = (str, int, float, bool, type(None))
_REFUSED_WORDS: Mapping[type[nodes.Node], str] = {
    nodes.Call: "calling a function or method",
    nodes.Getattr: "attribute access (.name)",
    nodes.Getitem: "item access ([...])",
    nodes.Slice: "slices",
    nodes.Dict: "dictionaries",
    nodes.BinExpr: "arithmetic (values are text; join text with ~)",
    nodes.UnaryExpr: "arithmetic (values are text)",
    nodes.For: "{% for %} loops",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.FilterBlock: "{% filter %} blocks",
    nodes.AssignBlock: "{% set %}...{% endset %} blocks",
    nodes.Import: "{% import ... as %} (use {% from ... import %})",
    nodes.With: "{% with %}",
    nodes.NSRef: "namespace attributes",
}

_loads: ContextVar[int | None] = ContextVar("template_loads", default=None)


class OutsideFolder(ValueError):
    """A template name that is not a file inside the templates folder."""


def confined(root: Path, name: str) -> Path:
    """``root / name``, refused unless it stays inside ``root`` once symbolic links resolve."""
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or "\0" in name or \
            any(part in ("", ".", "..") for part in parts):
        raise OutsideFolder(f"'{name}' is not a file name inside the templates folder "
                            f"(no absolute paths, no '..')")
    path = root / name
    if not path.resolve().is_relative_to(root.resolve()):
        raise OutsideFolder(f"'{name}' leads outside the templates folder {root} "
                            f"(a symbolic link?)")
    return path


def check_tree(tree: nodes.Template, root: Path) -> None:
    """Raise :class:`SandboxRefusal` at the first construct outside the template language."""
    for node in tree.find_all(nodes.Node):
        problem = _problem(node, root)
        if problem is not None:
            raise SandboxRefusal(f"not allowed in a message template: {problem}", node.lineno)


def included_names(tree: nodes.Template) -> Iterator[tuple[str, int]]:
    """The file names a checked template includes, extends or imports from, with their lines."""
    for node in tree.find_all((nodes.Include, nodes.Extends, nodes.FromImport)):
        assert isinstance(node, nodes.Include | nodes.Extends | nodes.FromImport)
        yield from ((name, node.lineno) for name in _constant_names(node.template) or ())


class SandboxRefusal(TemplateSyntaxError):
    """A construct outside the message-template language, refused when parsed."""


class _BoundedJoinCodeGenerator(CodeGenerator):
    """``a ~ b`` goes through :meth:`MessageEnvironment.join_bounded`, so that repeated
    ``{% set a = a ~ a %}`` cannot build a string of any size."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.join_bounded((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class MessageEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox narrowed to the message-template language (module doc)."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})
    code_generator_class = _BoundedJoinCodeGenerator

    def __init__(self, loader: BaseLoader, root: Path) -> None:
        super().__init__(
            loader=loader,
            undefined=StrictUndefined,
            autoescape=False,  # plain text for SMS, voice and Slack; see adapters/templates.py
            keep_trailing_newline=False,
            auto_reload=True,
        )
        self.root = root
        self.globals = {}
        self.filters = {name: JINJA_FILTERS[name] for name in FILTERS}
        self.tests = {name: JINJA_TESTS[name] for name in TESTS}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        try:
            check_tree(tree, self.root)
        except SandboxRefusal as refusal:
            refusal.name, refusal.filename = name, filename
            raise
        return tree

    def _load_template(self, name: str,
                       globals: Any) -> Template:
        count = _loads.get()
        if count is not None:
            if count >= MAX_TEMPLATE_LOADS:
                raise SecurityError(f"more than {MAX_TEMPLATE_LOADS} templates loaded in one "
                                    f"render (does a template include itself?)")
            _loads.set(count + 1)
        return super()._load_template(name, globals)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"arithmetic ('{operator}') is not allowed in a message template")

    def call_unop(self, context: Context, operator: str, arg: Any) -> Any:
        raise SecurityError(f"arithmetic ('{operator}') is not allowed in a message template")

    def join_bounded(self, pieces: Iterable[Any]) -> str:
        text = "".join(map(str, pieces))
        if len(text) > MAX_RENDERED_CHARS:
            raise SecurityError(f"joined text longer than {MAX_RENDERED_CHARS:,} characters")
        return text


@contextmanager
def load_budget() -> Iterator[None]:
    """Count template loads (the file, includes, parents) against :data:`MAX_TEMPLATE_LOADS`."""
    token = _loads.set(0)
    try:
        yield
    finally:
        _loads.reset(token)


def bounded(pieces: Iterable[str]) -> str | None:
    """The joined pieces, or None once they pass :data:`MAX_RENDERED_CHARS` (stops early)."""
    collected: list[str] = []
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > MAX_RENDERED_CHARS:
            return None
        collected.append(piece)
    return "".join(collected)


def _problem(node: nodes.Node, root: Path) -> str | None:
    check = _CHECKS.get(type(node))
    if check is not None:
        return check(node, root)
    if isinstance(node, _ALLOWED):
        return None
    for kind, words in _REFUSED_WORDS.items():
        if isinstance(node, kind):
            return words
    return f"{type(node).__name__}"


def _name(node: nodes.Node, root: Path) -> str | None:
    assert isinstance(node, nodes.Name)
    if node.name.startswith("_"):
        return f"'{node.name}' (names starting with '_')"
    if node.name in RESERVED_NAMES:
        return f"'{node.name}' (a reserved name, not a message variable)"
    return None


def _constant(node: nodes.Node, root: Path) -> str | None:
    assert isinstance(node, nodes.Const)
    return None if isinstance(node.value, _CONSTANT_TYPES) else "that constant"


def _filter(node: nodes.Node, root: Path) -> str | None:
    assert isinstance(node, nodes.Filter)
    if node.name not in FILTERS:
        return f"the filter '{node.name}' (allowed: {', '.join(FILTERS)})"
    return "*args or **kwargs" if node.dyn_args or node.dyn_kwargs else None


def _test(node: nodes.Node, root: Path) -> str | None:
    assert isinstance(node, nodes.Test)
    if node.name not in TESTS:
        return f"the test '{node.name}' (allowed: {', '.join(TESTS)})"
    return "*args or **kwargs" if node.dyn_args or node.dyn_kwargs else None


def _template_reference(node: nodes.Node, root: Path) -> str | None:
    assert isinstance(node, nodes.Include | nodes.Extends | nodes.FromImport)
    names = _constant_names(node.template)
    if names is None:
        return "a template name that is not quoted text ('name.j2')"
    for name in names:
        try:
            confined(root, name)
        except OutsideFolder as error:
            return str(error)
    return None


def _constant_names(node: nodes.Expr) -> list[str] | None:
    items = node.items if isinstance(node, nodes.List | nodes.Tuple) else [node]
    names = [item.value for item in items
             if isinstance(item, nodes.Const) and isinstance(item.value, str)]
    return names if len(names) == len(items) else None


_CHECKS: Mapping[type[nodes.Node], Callable[[nodes.Node, Path], str | None]] = {
    nodes.Name: _name,
    nodes.Const: _constant,
    nodes.Filter: _filter,
    nodes.Test: _test,
    nodes.Include: _template_reference,
    nodes.Extends: _template_reference,
    nodes.FromImport: _template_reference,
}

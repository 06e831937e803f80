"""Key-message templates: ``message_templates/<id>.<lang>.j2``, Jinja2 with YAML front matter.

Plain text, no autoescaping (the Slack edge escapes what it posts). ``StrictUndefined``: a
missing variable is an error naming it, never a silently empty gap in a public statement.

The front matter (``title``, ``kind``, ``reviewed``, ``translated_from``) is cut off before
Jinja sees the file, but its lines are kept as blank lines so that a syntax error reports the
line number of the file as the author sees it. Rendered text is stripped of surrounding blank
lines. Compiled templates are cached by Jinja and recompiled when the file changes.

Templates run in the sandbox of :mod:`incident_bot.adapters.template_sandbox`: a small language
checked when parsed, a bounded output, and no file read outside the folder. Every refusal and
every failure names the file and, where there is one, the line.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import yaml
from jinja2 import (
    BaseLoader,
    Environment,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    meta,
)
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.exceptions import SecurityError

from incident_bot.adapters.template_sandbox import (
    MAX_RENDERED_CHARS,
    MessageEnvironment,
    OutsideFolder,
    SandboxRefusal,
    bounded,
    confined,
    included_names,
    load_budget,
)
from incident_bot.errors import TemplateError

if TYPE_CHECKING:
    from incident_bot.service.ports import TemplateRenderer

SUFFIX = ".j2"
FRONT_MATTER = "---"
KINDS = ("sms", "script", "statement", "briefing")
# The same shapes the playbook loader accepts for message template ids and language codes.
TEMPLATE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
FILE_NAME = re.compile(
    rf"^(?P<id>{TEMPLATE_ID.pattern[1:-1]})\.(?P<lang>{LANGUAGE.pattern[1:-1]}){re.escape(SUFFIX)}$")

# Realistic values for previews, playbook validation and exercises: a fictional town and
# partnership, a working weekday for court, first appearances at the court that hears them.
SAMPLE_VALUES: Mapping[str, str] = MappingProxyType({
    # built-ins, always supplied by the engine
    "area": "Northbridge",
    "incident_title": "Counter-terrorism arrests and searches",
    "t0_time": "05:30",
    "t0_date": "Friday 1 May 2026",
    "e0_time": "07:30",
    "summary": "Searches are taking place at three addresses in the town.",
    "classification": "OFFICIAL-SENSITIVE",
    "arrest_count": "3",
    "contact_point": "the community engagement team on 0300 123 4567",
    "next_update": "13:00 today",
    "caller_name": "Sam Taylor",
    "contact_name": "Amina Khan",
    "confirm_code": "K7QM",
    # playbook variables
    "partnership_name": "Safer Northbridge Partnership",
    "helpline": "0300 123 4567",
    "updates_url": "northbridge.gov.uk/updates",
    "hate_report_url": "report-it.org.uk",
    "third_party_centre": "Northbridge Community Advice Centre",
    "welfare_location": "Northbridge Leisure Centre, Mill Road",
    "roads_affected": "Elm Street and part of Station Road",
    "court_date": "Tuesday 5 May 2026",
    "court_name": "Westminster Magistrates' Court",
    "charge_summary": "a 34-year-old man has been charged with preparing acts of terrorism",
    "rumour_claim": "that a local place of worship is being closed",
    "rumour_fact": "no place of worship is being closed and all remain open as normal",
    "cannot_say_yet": "details of the people arrested while the investigation continues",
    "release_outcome": "released with no further action",
})
_NO_EXTRA: Mapping[str, str] = MappingProxyType({})
# What a template's own code can raise at render time (say '<' between text and a number, or
# recursion through includes); reported as a template error, never as a traceback.
_RUNTIME_ERRORS = (TypeError, ValueError, ArithmeticError, LookupError, RecursionError)


@dataclass(frozen=True)
class TemplateMeta:
    title: str
    kind: str  # one of KINDS
    reviewed: bool  # false: a translation not yet checked by a native speaker
    translated_from: str | None  # language code of the source, for translations


class TemplateStore:
    """The ``message_templates`` folder: list, inspect and render templates."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root)
        self._env = MessageEnvironment(_FrontMatterLoader(self._root), self._root)

    @property
    def root(self) -> Path:
        return self._root

    def path(self, template: str, language: str) -> Path:
        _check_names(template, language)
        return self._root / _file_name(template, language)

    def exists(self, template: str, language: str) -> bool:
        path = self.path(template, language)
        _confined(self._root, path.name)
        return path.is_file()

    def templates(self) -> list[str]:
        return sorted({ident for ident, _ in self._files()})

    def languages(self, template: str) -> list[str]:
        return sorted(lang for ident, lang in self._files() if ident == template)

    def meta(self, template: str, language: str) -> TemplateMeta:
        path = self.path(template, language)
        header, _ = _split_front_matter(self._read(path, template, language), path)
        return _meta_from(header, path)

    def variables(self, template: str, language: str) -> set[str]:
        """Every variable the template uses (in any branch)."""
        path = self.path(template, language)
        source = _blank_front_matter(self._read(path, template, language), path)
        try:
            return set(meta.find_undeclared_variables(self._env.parse(source, filename=str(path))))
        except TemplateSyntaxError as error:
            raise _syntax_error(path, error) from None

    def check_sandbox(self, template: str, language: str) -> None:
        """Refuse, with file and line, anything outside the sandbox in the template or in what
        it includes (a template that includes itself too), without rendering. A plain syntax
        error or a missing include is left to rendering."""
        self._check_sandbox([_file_name(template, language)], set())

    def render(self, template: str, language: str, variables: Mapping[str, str]) -> str:
        """The rendered text, at most :data:`MAX_RENDERED_CHARS` characters, stripped."""
        compiled = self._compiled(template, language)
        path = self.path(template, language)
        try:
            with load_budget():
                text = bounded(compiled.generate(dict(variables)))
        except UndefinedError as error:
            raise TemplateError(
                self._missing_message(template, language, variables, error)) from None
        except TemplateSyntaxError as error:  # in an included template
            raise _syntax_error(path, error) from None
        except TemplateNotFound as error:
            raise TemplateError(f"{self._where(error, path)}: no template '{error.name}' "
                                f"in {self._root}") from None
        except JinjaTemplateError as error:
            raise TemplateError(
                f"{self._where(error, path)}: {error.message or error}") from None
        except _RUNTIME_ERRORS as error:
            raise TemplateError(f"{self._where(error, path)}: {error}") from None
        if text is None:
            raise TemplateError(f"{path}: renders to more than {MAX_RENDERED_CHARS:,} "
                                f"characters, the most a message template may produce")
        return text.strip()

    def render_sample(self, template: str, language: str,
                      extra: Mapping[str, str] = _NO_EXTRA) -> str:
        """Render with :data:`SAMPLE_VALUES`, overridden by ``extra``."""
        return self.render(template, language, {**SAMPLE_VALUES, **extra})

    # ---- helpers ------------------------------------------------------------------------------

    def _files(self) -> list[tuple[str, str]]:
        found = (FILE_NAME.match(p.name) for p in self._root.glob(f"*{SUFFIX}"))
        return [(m["id"], m["lang"]) for m in found if m is not None]

    def _compiled(self, template: str, language: str) -> Template:
        path = self.path(template, language)
        try:
            return self._env.get_template(path.name)
        except TemplateNotFound:
            raise _not_found(path, template, language) from None
        except TemplateSyntaxError as error:
            raise _syntax_error(path, error) from None
        except SecurityError as error:  # the file is a link out of the folder
            raise TemplateError(f"{path}: {error.message}") from None

    def _check_sandbox(self, chain: list[str], checked: set[str]) -> None:
        name = chain[-1]
        try:
            tree = self._env.parse(*self._source(name))
        except SandboxRefusal as refusal:
            raise _syntax_error(self._root / name, refusal) from None
        except SecurityError as error:  # the file is a link out of the folder
            raise TemplateError(f"{self._root / name}: {error.message}") from None
        except (TemplateSyntaxError, TemplateNotFound):
            return
        checked.add(name)
        for included, line in included_names(tree):
            if included in chain:
                raise TemplateError(f"{self._root / name}:{line}: includes itself "
                                    f"({' -> '.join([*chain, included])})")
            if included not in checked:
                self._check_sandbox([*chain, included], checked)

    def _source(self, name: str) -> tuple[str, str, str]:
        """Source, name and file name of a template, as Jinja's loader gives them."""
        assert self._env.loader is not None
        source, filename, _ = self._env.loader.get_source(self._env, name)
        return source, name, filename or name

    def _read(self, path: Path, template: str, language: str) -> str:
        _confined(self._root, path.name)
        return _read(path, template, language)

    def _where(self, error: BaseException, path: Path) -> str:
        """``file:line`` of the innermost template line the error passed through, or the file."""
        lines = [(frame.f_code.co_filename, line)
                 for frame, line in traceback.walk_tb(error.__traceback__)
                 if Path(frame.f_code.co_filename).is_relative_to(self._root)]
        return f"{lines[-1][0]}:{lines[-1][1]}" if lines else str(path)

    def _missing_message(self, template: str, language: str, given: Mapping[str, str],
                         error: UndefinedError) -> str:
        missing = sorted(self.variables(template, language) - set(given))
        names = ", ".join(missing) if missing else str(error.message)
        return (f"template '{template}' ({language}) needs variable(s) {names} with no value "
                f"(give them in the playbook's variables or when starting the incident): "
                f"{self._where(error, self.path(template, language))}")


class _FrontMatterLoader(BaseLoader):
    """Loads ``<root>/<name>`` with its front matter blanked out; nothing outside ``root``."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def get_source(self, environment: Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        try:
            path = confined(self._root, template)
        except OutsideFolder as error:
            raise SecurityError(str(error)) from None
        try:
            text = path.read_text(encoding="utf-8-sig")
            mtime = path.stat().st_mtime
        except (FileNotFoundError, NotADirectoryError):
            raise TemplateNotFound(template) from None
        except UnicodeDecodeError:
            raise TemplateError(f"{path}: not UTF-8 text") from None
        return _blank_front_matter(text, path), str(path), lambda: _unchanged(path, mtime)


def _unchanged(path: Path, mtime: float) -> bool:
    try:
        return path.stat().st_mtime == mtime
    except OSError:
        return False


def _file_name(template: str, language: str) -> str:
    return f"{template}.{language}{SUFFIX}"


def _check_names(template: str, language: str) -> None:
    # Also keeps a name typed on the command line from reaching outside the folder.
    if not TEMPLATE_ID.match(template):
        raise TemplateError(f"{template!r} is not a template id (lower-case letters, digits, -)")
    if not LANGUAGE.match(language):
        raise TemplateError(f"{language!r} is not a language code (e.g. en, ur, pl)")


def _not_found(path: Path, template: str, language: str) -> TemplateError:
    return TemplateError(f"no '{language}' version of template '{template}': {path} does not exist")


def _syntax_error(path: Path, error: TemplateSyntaxError) -> TemplateError:
    return TemplateError(f"{error.filename or path}:{error.lineno}: {error.message}")


def _confined(root: Path, name: str) -> None:
    try:
        confined(root, name)
    except OutsideFolder as error:
        raise TemplateError(str(error)) from None


def _read(path: Path, template: str, language: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, NotADirectoryError):
        raise _not_found(path, template, language) from None
    except UnicodeDecodeError:
        raise TemplateError(f"{path}: not UTF-8 text") from None


def _front_matter_end(lines: list[str]) -> int | None:
    """Index of the closing ``---`` line, or None when the file has no front matter."""
    if not lines or lines[0].rstrip() != FRONT_MATTER:
        return None
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() == FRONT_MATTER:
            return index
    return None


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, object], str]:
    lines = text.splitlines(keepends=True)
    end = _front_matter_end(lines)
    if end is None:
        return {}, text
    try:
        header = yaml.safe_load("".join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        raise TemplateError(f"{path}: front matter is not valid YAML: {error}") from None
    if not isinstance(header, dict):
        raise TemplateError(f"{path}: front matter must be 'key: value' lines")
    return header, "".join(lines[end + 1:])


def _blank_front_matter(text: str, path: Path) -> str:
    """The body, preceded by one empty line per front-matter line (line numbers stay true)."""
    _, body = _split_front_matter(text, path)  # validates the YAML
    skipped = text.count("\n") - body.count("\n")
    return "\n" * skipped + body


def _meta_from(header: dict[str, object], path: Path) -> TemplateMeta:
    if not header:
        raise TemplateError(f"{path}: no front matter (title, kind, reviewed between --- lines)")
    title, kind, reviewed = header.get("title"), header.get("kind"), header.get("reviewed")
    source = header.get("translated_from")
    if not isinstance(title, str) or not title.strip():
        raise TemplateError(f"{path}: front matter needs a 'title'")
    if kind not in KINDS:
        raise TemplateError(f"{path}: front matter 'kind' must be one of {', '.join(KINDS)}")
    if not isinstance(reviewed, bool):
        raise TemplateError(f"{path}: front matter 'reviewed' must be true or false")
    if source is not None and not isinstance(source, str):
        raise TemplateError(f"{path}: front matter 'translated_from' must be a language code")
    return TemplateMeta(title=title.strip(), kind=str(kind), reviewed=reviewed,
                        translated_from=source)


if TYPE_CHECKING:
    def _is_a_template_renderer(store: TemplateStore) -> TemplateRenderer:
        return store  # mypy checks that TemplateStore satisfies the service port

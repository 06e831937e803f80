"""Pure parsing of ``/incident`` text and button values: no Slack, no database.

The grammar (docs/slack.md states it for people): the first word names the subcommand, and
each subcommand has one shape, parsed by one function below.

- **No free text** (``status``, ``brief``, ``brief done <step>``, ``ringround``, ``close``,
  ``task list``/``mine``, ``message approve <id> <version>``, ``message release <id>``): a
  fixed number of words; ``incident=inc-…`` may stand anywhere among them.
- **start**: ``key=value`` words anywhere (a value with spaces in double quotes, which are
  removed): the start options, and any other key is a playbook variable (the service checks the
  name against the playbook); other words are the playbook, then the area.
- **Free text** (``log``, ``override <step>``, ``compromised``, ``standdown``,
  ``message draft <id>``): the subcommand's fixed words and ``incident=inc-…`` come first, in
  any order; the free text is everything after the one whitespace character that follows the
  last of them, kept exactly as typed. Nothing inside it is read as an option or an incident.
  ``log`` splits it at the first `` because `` (a space either side) into decision and
  rationale.
- **task add**: options (``owner=``, ``due=``, ``incident=``) may lead and may follow the
  title; the title is what lies between them (one whitespace character separates it from
  each), kept exactly as typed, except that one enclosing pair of double quotes is removed.

In the free-text shapes an option's value is one word without quotes, so a word with a quote
in it is always text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from incident_bot.errors import IncidentBotError

INCIDENT_ID = re.compile(r"inc-[0-9a-z-]+")
RELATIVE = re.compile(r"\+([0-9]+)([mhd])")
UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}
FURTHEST = timedelta(days=366)  # a time further from now than this is a typing mistake
WORD = re.compile(r'(?P<key>[A-Za-z0-9_]+)=(?:"(?P<quoted>[^"]*)"(?=\s|\Z)|(?P<value>\S*))'
                  r'|"(?P<phrase>[^"]*)"(?=\s|\Z)|\S+')
TRAILING_OPTION = re.compile(r'\s([A-Za-z0-9_]+)=([^\s"]+)\Z')
PLAIN_VALUE = re.compile(r'[^\s"]+')
VERSION = re.compile(r"v?([0-9]{1,6})")
VARIABLE_NAME = re.compile(r"[A-Za-z0-9_]+")  # a key as the command reads it
START_KEYS = frozenset({"playbook", "area", "t0", "e0", "classification", "summary"})
TASK_KEYS = frozenset({"owner", "due", "incident"})
TARGET_KEYS = frozenset({"incident"})


class UsageError(IncidentBotError):
    """The command text could not be understood; the message says how to write it."""


@dataclass(frozen=True)
class Parsed:
    name: str
    words: tuple[str, ...] = ()  # the subcommand's fixed words after its name ("done", "<step>")
    options: dict[str, str] = field(default_factory=dict)  # key=value options but incident=
    incident_id: str | None = None  # an explicit incident=inc-…
    text: str = ""  # the free text (for log: the decision), exactly as typed
    rationale: str = ""  # log only: what followed the first " because "
    variables: dict[str, str] = field(default_factory=dict)  # start only: playbook variables

    def rest(self, start: int = 0) -> str:
        return " ".join(self.words[start:])


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    raw: str  # as typed
    key: str | None  # the lower-cased key of a key=value word
    value: str  # an option's value or the word, without enclosing double quotes

    @property
    def plain_option(self) -> bool:
        """An option whose value is one word without quotes (the free-text shapes' kind)."""
        return self.key is not None and PLAIN_VALUE.fullmatch(self.raw.split("=", 1)[1]) is not None


def split_words(text: str) -> list[Word]:
    return [_word(match) for match in WORD.finditer(text)]


def _word(match: re.Match[str]) -> Word:
    key = match["key"].lower() if match["key"] else None
    value = next((v for v in (match["quoted"], match["value"], match["phrase"]) if v is not None),
                 match[0])
    return Word(match.start(), match.end(), match[0], key, value)


def parse_command(text: str) -> Parsed:
    """``/incident`` text → the subcommand's pieces (UsageError says how to write it)."""
    if "\x00" in text:
        raise UsageError("the text contains a NUL character, which can't be stored")
    words = split_words(text)
    if not words:
        return Parsed("help")
    name = words[0].raw.lower()
    if name not in SHAPES:
        raise UsageError(f"unknown subcommand {name!r}: try `/incident help`")
    return SHAPES[name](text, words)


# ---- shapes ---------------------------------------------------------------------------------


def _help(text: str, words: list[Word]) -> Parsed:
    return Parsed("help")


def _fixed(name: str, words: list[Word], counts: tuple[int, ...], usage: str) -> Parsed:
    """A command without free text: ``counts`` fixed words after its name, ``incident=``
    anywhere."""
    fixed: list[str] = []
    options: dict[str, str] = {}
    for word in words[1:]:
        if word.key is None:
            fixed.append(word.raw)
        elif word.key in TARGET_KEYS:
            _add_option(options, word.key, word.value)
        else:
            raise UsageError(f"`{name}` takes no option {word.key}=: use `{usage}`")
    if len(fixed) not in counts:
        raise UsageError(f"use `{usage}`")
    return _with_target(Parsed(name, tuple(fixed), options))


def _status(text: str, words: list[Word]) -> Parsed:
    return _fixed(words[0].raw.lower(), words, (0,), words[0].raw.lower())


def _brief(text: str, words: list[Word]) -> Parsed:
    parsed = _fixed("brief", words, (0, 2), "brief` or `brief done <step>")
    if parsed.words and parsed.words[0].lower() != "done":
        raise UsageError("use `brief` or `brief done <step>`")
    return parsed


def _task(text: str, words: list[Word]) -> Parsed:
    action = words[1].raw.lower() if len(words) > 1 else ""
    if action == "add":
        return _task_add(text, words)
    usage = 'task list`, `task mine` or `task add "<title>" owner=<role> due=+30m'
    parsed = _fixed("task", words, (0, 1), usage)
    if parsed.words and parsed.words[0].lower() not in ("list", "mine"):
        raise UsageError(f"use `{usage}`")
    return parsed


def _message(text: str, words: list[Word]) -> Parsed:
    action = words[1].raw.lower() if len(words) > 1 else ""
    if action == "draft":
        parsed = _free("message", text, words, 2)
        if not parsed.text.strip():
            raise UsageError("use `message draft <id> <text>`")
        return parsed
    if action == "approve":
        parsed = _fixed("message", words, (3,), "message approve <id> <version>")
        parse_version(parsed.words[2])
        return parsed
    if action == "release":
        return _fixed("message", words, (2,), "message release <id>")
    raise UsageError("use `message draft <id> <text>`, `message approve <id> <version>` or "
                     "`message release <id>`")


def _start(text: str, words: list[Word]) -> Parsed:
    """``start [playbook] [area words] [key=value …]``: every option anywhere; a key that is
    not a start option names a playbook variable, its value kept exactly as typed."""
    positional: list[str] = []
    options: dict[str, str] = {}
    variables: dict[str, str] = {}
    for word in words[1:]:
        if word.key is None:
            positional.append(word.value)
        else:
            _add_option(options if word.key in START_KEYS else variables, word.key, word.value)
    return Parsed("start", tuple(positional), options, variables=variables)


def parse_variable_lines(text: str) -> dict[str, str]:
    """The start form's variables: one ``name=value`` a line; spaces at the ends of the name
    and the value and one pair of double quotes around the whole value are removed."""
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals or not VARIABLE_NAME.fullmatch(name.strip()):
            raise UsageError(f"line {number}: write one name=value a line")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        _add_option(variables, name.strip().lower(), value)
    return variables


def _log(text: str, words: list[Word]) -> Parsed:
    parsed = _free("log", text, words, 0)
    decision, _, rationale = parsed.text.partition(" because ")
    if not decision.strip():
        raise UsageError("use `log <decision> [because <rationale>]`")
    return Parsed("log", (), parsed.options, parsed.incident_id, decision, rationale)


def _override(text: str, words: list[Word]) -> Parsed:
    parsed = _free("override", text, words, 1)
    if not parsed.words or not parsed.text.strip():
        raise UsageError("use `override <step> <reason>`")
    return parsed


def _compromised(text: str, words: list[Word]) -> Parsed:
    parsed = _free("compromised", text, words, 0)
    if not parsed.text.strip():
        raise UsageError("use `compromised <reason>`")
    return parsed


def _standdown(text: str, words: list[Word]) -> Parsed:
    return _free("standdown", text, words, 0)


def _free(name: str, text: str, words: list[Word], fixed: int) -> Parsed:
    """Leading words (``fixed`` of them, and ``incident=``), then the free text as typed."""
    found, options, begins = _leading(words, fixed, TARGET_KEYS)
    return _with_target(Parsed(name, tuple(found), options, text=text[begins:]))


def _task_add(text: str, words: list[Word]) -> Parsed:
    """``task add [options] <title> [options]``: options lead, follow, or both."""
    _, options, begins = _leading(words, 1, TASK_KEYS)
    title = text[begins:]
    while (match := TRAILING_OPTION.search(title)) and match[1].lower() in TASK_KEYS:
        _add_option(options, match[1].lower(), match[2])
        title = title[:match.start()]
    if len(title) >= 2 and title[0] == title[-1] == '"':
        title = title[1:-1]
    if not title.strip() or not options.get("owner"):
        raise UsageError('use `task add "<title>" owner=<role> due=+30m`')
    return _with_target(Parsed("task", ("add",), options, text=title))


def _leading(words: list[Word], fixed: int,
             keys: frozenset[str]) -> tuple[list[str], dict[str, str], int]:
    """The fixed words and options before the free text, and the offset where it begins (after
    the one whitespace character that follows the last leading word)."""
    found: list[str] = []
    options: dict[str, str] = {}
    end = words[0].end
    for word in words[1:]:
        if word.key in keys and word.plain_option:
            _add_option(options, word.key, word.value)
        elif len(found) < fixed:
            found.append(word.raw)
        else:
            break
        end = word.end
    return found, options, end + 1


def _add_option(options: dict[str, str], key: str, value: str) -> None:
    if key in options:
        raise UsageError(f"option {key}= is given twice")
    options[key] = value


def _with_target(parsed: Parsed) -> Parsed:
    """Move ``incident=`` out of the options into ``incident_id``, checking its form."""
    options = dict(parsed.options)
    incident_id = options.pop("incident", None)
    if incident_id is not None and not INCIDENT_ID.fullmatch(incident_id):
        raise UsageError(f"incident={incident_id} is not an incident id (like inc-1a2b3c4d)")
    return Parsed(parsed.name, parsed.words, options, incident_id, parsed.text,
                  parsed.rationale)


SHAPES: dict[str, Callable[[str, list[Word]], Parsed]] = {
    "help": _help, "start": _start, "status": _status, "brief": _brief, "ringround": _status,
    "message": _message, "task": _task, "log": _log, "override": _override,
    "compromised": _compromised, "standdown": _standdown, "close": _status,
}
SUBCOMMANDS = tuple(SHAPES)


# ---- values -------------------------------------------------------------------------------


def parse_time(raw: str, now: datetime, zone: ZoneInfo) -> datetime:
    """``now``, ``+30m``/``+2h``/``+1d``, ``HH:MM`` (today) or ``YYYY-MM-DD HH:MM``, clock times
    read in ``zone``, as an aware UTC instant; at most a year (366 days) from ``now``."""
    text = raw.strip().lower()
    if text in ("", "now"):
        return now
    if match := RELATIVE.fullmatch(text):
        return now + _bounded(raw, _minutes(match[1], match[2]))
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%H:%M"):
        try:
            parsed = datetime.strptime(text, pattern)  # noqa: DTZ007 - the zone is set below
        except ValueError:
            continue
        if pattern == "%H:%M":
            parsed = datetime.combine(now.astimezone(zone).date(), parsed.time())
        moment = _on_the_clock(raw, parsed.replace(tzinfo=zone))
        _bounded(raw, abs(moment - now))
        return moment
    raise UsageError(f"can't read the time {_shown(raw)}: use now, +30m, HH:MM or YYYY-MM-DD HH:MM")


def _on_the_clock(raw: str, local: datetime) -> datetime:
    """The UTC instant of a local clock time; one the clocks skip (going forward) is refused,
    one they show twice (going back) is the first."""
    moment = local.astimezone(UTC)
    if moment.astimezone(local.tzinfo).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise UsageError(f"the time {_shown(raw)} does not exist on "
                         f"{local.strftime('%-d %B %Y')} in {local.tzinfo} (the clocks go "
                         "forward): use a time after the change")
    return moment


def _minutes(amount: str, unit: str) -> timedelta:
    if len(amount) > 9:  # far beyond the bound; int() of it is safe but pointless
        return FURTHEST + timedelta(minutes=1)
    return timedelta(minutes=int(amount) * UNIT_MINUTES[unit])


def _bounded(raw: str, distance: timedelta) -> timedelta:
    if distance > FURTHEST:
        raise UsageError(f"the time {_shown(raw)} is more than a year away: use a time within "
                         "366 days (e.g. +30m, +2h, +3d)")
    return distance


def parse_version(raw: str) -> int:
    """A message version as typed or carried by a button: ``2`` or ``v2``."""
    match = VERSION.fullmatch(raw.strip().lower())
    if match is None or int(match[1]) < 1:
        raise UsageError(f"{_shown(raw)} is not a message version: use a whole number like 2")
    return int(match[1])


def _shown(raw: str) -> str:
    """What was typed, quoted and cut short for an error message."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


def split_value(raw: str, parts: int) -> tuple[str, ...]:
    """A button value ``incident|a|b`` split into exactly ``parts`` pieces."""
    pieces = tuple(raw.split("|"))
    if len(pieces) != parts or not all(pieces):
        raise UsageError("this button is out of date")
    return pieces


def help_text(zone: str) -> str:
    return HELP.format(zone=zone)


HELP = """*`/incident` commands*
• `start [playbook] [area=…] [t0=HH:MM] [e0=+2h] [classification=…] [summary="…"] \
[<variable>="…"]` — start (a form opens if anything is missing; T0 is now unless given)
• `status` · `brief` · `brief done <step>` · `ringround`
• `message draft <id> <text>` · `message approve <id> <version>` · `message release <id>`
• `task add "<title>" owner=<role> due=+30m` · `task list` · `task mine`
• `log <decision> [because <rationale>]`
• `override <step> <reason>` · `compromised <reason>` · `standdown [reason]` · `close`
Text you type (a decision, reason, title, message) is kept exactly as typed: nothing in it is \
read as an option. In an incident channel a command acts on that incident; to act on another, \
put `incident=inc-…` straight after the command's own words (`log incident=inc-… <decision>`). \
Times: now, +30m, +2h, +3d, HH:MM or YYYY-MM-DD HH:MM (clock times in {zone}), within a \
year."""

"""The one exception tree of incident-bot; edges (CLI, Slack, HTTP) catch these.

    IncidentBotError
    ├── ConfigError                 settings missing or malformed (names the key, never its value)
    ├── InputError                  bad input from a file or a person; carries located problems
    │   ├── PlaybookError           a playbook failed to load or validate (file:line: path: what)
    │   └── DirectoryImportError    a directory file could not be read at all
    ├── TemplateError               a message template is missing or failed to render
    ├── RefusedError                the domain refused a command (names event, state, who may)
    │   ├── TransitionRefused       a lifecycle/state transition not in the table
    │   └── NotAuthorised           the actor's roles do not allow the action
    ├── NotFoundError               an incident, person, task or message that does not exist
    ├── StoreError                  the database failed or was unreachable
    └── ProviderError               Slack or Twilio failed (adapters translate vendor errors)
        ├── TransientProviderError  safe or sensible to retry later (429, 5xx, timeout)
        └── PermanentProviderError  retrying cannot help (invalid number, opted out, ...)

Two leaves live with the code that raises them: ``ClassificationRefused`` (a RefusedError,
``domain/classification.py``) and the Slack command parser's ``UsageError`` (an
IncidentBotError, ``entrypoints/slack/parse.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


class IncidentBotError(Exception):
    """Base of every error incident-bot raises on purpose."""


class ConfigError(IncidentBotError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file: rendered as ``file:line: path: message``."""

    file: str
    line: int | None
    path: str
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else f"{self.file}:?"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {self.path or '<root>'}: {prefix}{self.message}"


class InputError(IncidentBotError):
    """Bad input; ``problems`` lists every located problem found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PlaybookError(InputError):
    """A playbook failed to load or validate."""


class TemplateError(IncidentBotError):
    """A message template is missing or failed to render."""


class DirectoryImportError(InputError):
    """A directory file could not be read at all (missing columns, unreadable)."""


class RefusedError(IncidentBotError):
    """The domain refused a command; the message says what, why and who may."""


class TransitionRefused(RefusedError):
    """An event is not allowed in the current state."""

    def __init__(self, event: str, state: str, subject: str = "incident") -> None:
        self.event, self.state, self.subject = event, state, subject
        super().__init__(f"can't {event} {subject} while it is {state}")


class NotAuthorised(RefusedError):
    """The rule for this action does not allow the actor. ``reason`` is the rule's own account
    of why (the default: the actor holds none of ``allowed_roles``)."""

    def __init__(self, action: str, allowed_roles: tuple[str, ...] | list[str],
                 reason: str | None = None) -> None:
        self.action, self.allowed_roles = action, tuple(allowed_roles)
        self.reason = reason or f"only {', '.join(self.allowed_roles) or 'nobody'} may"
        super().__init__(f"you may not {action}: {self.reason}")


class NotFoundError(IncidentBotError):
    """Something named does not exist."""


class StoreError(IncidentBotError):
    """The database failed or was unreachable."""


class ProviderError(IncidentBotError):
    """A chat/SMS/voice provider failed."""


class TransientProviderError(ProviderError):
    """Retry later: rate limited, server error or timeout."""

    def __init__(self, message: str, retry_after: float | None = None, uncertain: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        # uncertain: the provider may have acted (5xx/timeout after sending): check before resending
        self.uncertain = uncertain


class PermanentProviderError(ProviderError):
    """Retrying cannot help; ``code`` is the provider's error code when known."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code

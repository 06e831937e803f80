"""Logging for the running bot: one handler on the root logger whose filter redacts every
record before it is written, whichever logger wrote it.

At ``INCIDENT_BOT_LOG_LEVEL=DEBUG`` slack_sdk, twilio and urllib3 log request URLs, bodies and
headers: phone numbers (``To=%2B4477…``), ``Authorization`` headers, tokens. Quietening those
loggers would lose what DEBUG is for and still trust every other logger (ours included) never to
slip; redacting at the one handler covers them all. What is redacted:

- phone numbers: E.164 (``+44…``, URL-encoded ``%2B44…``), ``0044…``/``44…`` and UK national
  (``07700 900123``) forms, masked as ``mask_phone`` does;
- ``Authorization`` header values and Slack tokens (``xoxb-…``, ``xapp-…``);
- the configured secret values themselves (signing secret, Twilio auth token, database URL).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

from pydantic import SecretStr

from incident_bot.domain.directory import mask_phone
from incident_bot.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
QUIET = ("apscheduler", "alembic")  # a line a second, or per readiness probe
REDACTED = "[redacted]"

_PHONE = re.compile(r"(?<![\w%])(?:\+|%2[bB]|00)?\d(?:[ \-]?\d){8,14}(?!\w)")
_AUTHORIZATION = re.compile(r"""(?i)(authorization['"]?\s*[:=]\s*['"]?)[^'",}\n]+""")
_TOKEN = re.compile(r"\bx(?:ox[a-z]|app)-[\w-]+")


def _phone(match: re.Match[str]) -> str:
    text = match.group()
    digits = re.sub(r"\D", "", text.replace("%2B", "").replace("%2b", ""))
    international = text.startswith(("+", "%2"))
    if not (international or digits.startswith(("44", "0"))) or len(digits) < 10:
        return text  # a count, a timestamp or an id, not a number anyone could ring
    if digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = "44" + digits[1:]
    return mask_phone("+" + digits)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + REDACTED, text)
    text = _TOKEN.sub(REDACTED, text)
    return _PHONE.sub(_phone, text)


class Redact(logging.Filter):
    """Rewrites each record's message (and traceback text) redacted, then lets it through."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if len(s) >= 8)  # a short value is not secret
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self._secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets)
        return True


def configure_logging(level: str, secrets: Iterable[str] = (),
                      stream: TextIO | None = None) -> logging.Handler:
    """Log at ``level`` to ``stream`` (stderr) through the redacting filter; returns the
    handler (a second call replaces the first one's)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "incident_bot", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.incident_bot = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(Redact(secrets))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for chatty in QUIET:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return handler


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret's value (tokens, signing secret, auth token, database URL)."""
    values = (getattr(settings, name) for name in type(settings).model_fields)
    return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]

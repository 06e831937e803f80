"""Translate Slack's errors into ours (``incident_bot.errors``), so callers never see slack_sdk's.

- 429 ``ratelimited`` → TransientProviderError honouring ``Retry-After``;
- 5xx, timeouts, connection errors, and the codes in ``TRANSIENT_CODES`` →
  TransientProviderError(uncertain=True): Slack may have acted, and it has no idempotency key,
  so the outbox decides whether to resend;
- any other Slack error (``channel_not_found``, ``not_in_channel``, ``invalid_auth``, …) →
  PermanentProviderError with Slack's error code.
"""

from __future__ import annotations

import urllib.error
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from incident_bot.errors import PermanentProviderError, ProviderError, TransientProviderError

TRANSIENT_CODES = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                             "request_timeout"})


def retry_after(response: SlackResponse) -> float | None:
    raw = (response.headers or {}).get("Retry-After") or (response.headers or {}).get(
        "retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def translate(error: SlackApiError) -> TransientProviderError | PermanentProviderError:
    response = error.response
    code = str(response.get("error") or "unknown_error") if response is not None else "unknown"
    status = response.status_code if response is not None else 0
    if status == 429 or code == "ratelimited":
        return TransientProviderError(f"slack rate limited ({code})",
                                      retry_after=retry_after(response) or 1.0)
    if status >= 500 or code in TRANSIENT_CODES:
        return TransientProviderError(f"slack error {status} {code}", uncertain=True)
    return PermanentProviderError(f"slack error {code}", code=code)


@contextmanager
def slack_errors() -> Iterator[None]:
    """Raise our errors for anything slack_sdk or the network raises inside the block."""
    try:
        yield
    except SlackApiError as error:
        raise translate(error) from None
    except (TimeoutError, urllib.error.URLError, ConnectionError, SlackClientError) as error:
        raise TransientProviderError(f"slack unreachable ({type(error).__name__})",
                                     uncertain=True) from None


def call(method: Callable[..., SlackResponse], **kwargs: Any) -> SlackResponse:
    """Call a WebClient method with our error translation."""
    with slack_errors():
        return method(**kwargs)


def open_view(client: Any, trigger_id: str, view: Any) -> None:
    """``views.open`` with our errors: the caller has acked already, so a failure must reach
    the person as a reply (:func:`form_failed`), not as an exception Slack never sees."""
    call(client.views_open, trigger_id=trigger_id, view=view)


def form_failed(error: ProviderError) -> str:
    """What to tell a person whose form (modal) Slack did not open."""
    code = (error.code if isinstance(error, PermanentProviderError) else None) or \
        "Slack unreachable or busy"
    return f":warning: Slack did not open the form ({code}): please try again."

"""Twilio's failures translated into incident-bot's ProviderError tree (``incident_bot/errors.py``).

| what Twilio said                      | ours                                  | the dispatcher  |
|---------------------------------------|---------------------------------------|-----------------|
| 429 (never processed)                 | TransientProviderError                | retry, backoff  |
| 5xx, read timeout, broken connection  | TransientProviderError(uncertain)     | look up, retry  |
| could not connect at all              | TransientProviderError                | retry           |
| 401/403 (credentials)                 | TransientProviderError                | retry, give up  |
| 21211, 21610, 21614, 30003-30008, ... | PermanentProviderError(code)          | next rung       |
| any other 4xx                         | PermanentProviderError(code)          | next rung       |
"""

from __future__ import annotations

import requests

from incident_bot.errors import PermanentProviderError, ProviderError, TransientProviderError

# Codes after which retrying the same message to the same number cannot help.
PERMANENT_CODES = frozenset({
    21211,  # invalid 'To' number
    21214,  # 'To' number cannot be reached
    21217,  # phone number does not appear to be valid
    21408,  # permission to send to that region not enabled
    21610,  # the recipient replied STOP (unsubscribed)
    21612,  # cannot route to this number
    21614,  # 'To' is not a mobile number
    30003,  # unreachable destination handset
    30004,  # message blocked
    30005,  # unknown destination handset
    30006,  # landline or unreachable carrier
    30007,  # carrier violation (filtered)
    30008,  # unknown error from the carrier
    13224,  # voice: invalid phone number
    13225,  # voice: forbidden phone number
})
AUTH_STATUSES = frozenset({401, 403})


def translate(error: Exception, retry_after: float | None = None) -> ProviderError:
    """Our error for a twilio or requests exception (the vendor's message, no phone numbers)."""
    if isinstance(error, requests.RequestException):
        return _transport(error)
    status = getattr(error, "status", None)
    if not isinstance(status, int):  # no HTTP status: the client itself failed
        return TransientProviderError(f"twilio client error: {type(error).__name__}",
                                      uncertain=True)
    return _http(status, getattr(error, "code", None), retry_after)


def _http(status: int, code: int | None, retry_after: float | None) -> ProviderError:
    if status == 429:
        return TransientProviderError("twilio 429: rate limited", retry_after=retry_after)
    if status >= 500:
        return TransientProviderError(f"twilio {status}: server error", uncertain=True)
    if status in AUTH_STATUSES:
        return TransientProviderError(f"twilio {status}: credentials refused (code {code})")
    if code in PERMANENT_CODES or 400 <= status < 500:
        return PermanentProviderError(f"twilio {status}: error {code}",
                                      code=str(code) if code else None)
    return TransientProviderError(f"twilio {status}: unexpected answer", uncertain=True)


def _transport(error: requests.RequestException) -> TransientProviderError:
    # Could not connect: the request never left, so a resend cannot duplicate it.
    never_sent = isinstance(error, requests.ConnectTimeout) or (
        isinstance(error, requests.ConnectionError)
        and not isinstance(error, requests.ReadTimeout)
        and "Connection refused" in str(error))
    what = "timeout" if isinstance(error, requests.Timeout) else "connection failed"
    return TransientProviderError(f"twilio {what}: {type(error).__name__}",
                                  uncertain=not never_sent)

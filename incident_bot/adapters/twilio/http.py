"""The HTTP client under ``twilio.rest.Client``: an explicit timeout, ``TWILIO_API_URL`` honoured
(a test or a contract mock stands in for https://api.twilio.com), nothing personal logged, and the
``Retry-After`` of the last answer kept for the error translation."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

TWILIO_API = "https://api.twilio.com"
log = logging.getLogger("incident_bot.twilio.http")
# urllib3 logs each request line at DEBUG, query string (To=+44...) included.
_PHONE_IN_URL = re.compile(r"(%2B|\+)(\d{2})\d{4,}(\d{2})")


class MaskPhoneNumbers(logging.Filter):
    """Masks phone numbers in log records (URL-encoded or not), keeping the last two digits."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _PHONE_IN_URL.sub(lambda m: f"{m[1]}{m[2]}••••{m[3]}", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_transport_logs() -> None:
    """Install :class:`MaskPhoneNumbers` on urllib3's request logger (once)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, MaskPhoneNumbers) for f in logger.filters):
        logger.addFilter(MaskPhoneNumbers())


class RoutedHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no type hints
    """``TwilioHttpClient`` that sends ``https://api.twilio.com/...`` to ``api_url`` instead."""

    def __init__(self, api_url: str = TWILIO_API, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout, logger=log, max_retries=0)
        mask_transport_logs()
        self.api_url = api_url.rstrip("/")
        self._last = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API) and self.api_url != TWILIO_API:
            url = self.api_url + url[len(TWILIO_API):]
        self._last.retry_after = None
        response: Response = super().request(method, url, *args, **kwargs)
        self._last.retry_after = _seconds(response.headers.get("Retry-After"))
        return response

    @property
    def last_retry_after(self) -> float | None:
        """The Retry-After (seconds) of this thread's last answer, if it had one."""
        return getattr(self._last, "retry_after", None)

    def log_request(self, kwargs: dict[str, Any]) -> None:
        # The stock client logs query strings, which carry phone numbers (To=...).
        log.debug("twilio.request method=%s", kwargs["method"])

    def log_response(self, status_code: int, response: Any) -> None:
        log.debug("twilio.response status=%s", status_code)


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None

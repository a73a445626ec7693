"""Turning HTTP outcomes into retryable or permanent action errors."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx

from aisle import DestinationRefused, PermanentError, RetryableError

__all__ = ["MAX_RETRY_AFTER", "error_for_exception", "error_for_status", "retry_after"]

MAX_RETRY_AFTER = 7 * 24 * 3600.0
"""A remote asking for more than a week is answered with a week."""


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def error_for_status(
    response: httpx.Response, what: str, now: datetime
) -> RetryableError | PermanentError | None:
    """The error a non-success response means, or ``None`` for 2xx.

    408, 425, 429 and 5xx are retried (honouring ``Retry-After``); anything else —
    redirects we do not follow, other 4xx — fails permanently.
    """
    status = response.status_code
    if 200 <= status < 300:
        return None
    reason = f"{what} answered {status} {response.reason_phrase}".rstrip()
    detail = _excerpt(response)
    if detail:
        reason = f"{reason}: {detail}"
    if status in (408, 425, 429) or status >= 500:
        return RetryableError(
            reason, retry_after=retry_after(response.headers.get("retry-after"), now)
        )
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        return PermanentError(f"{what} redirected ({status}) to {location!r}; update the URL")
    return PermanentError(reason)


def error_for_exception(exc: BaseException, what: str) -> RetryableError | PermanentError | None:
    """The action error for an exception raised while talking to ``what``, if known."""
    if isinstance(exc, DestinationRefused):
        return PermanentError(f"{what}: {exc}")
    if isinstance(exc, httpx.TimeoutException):
        return RetryableError(f"{what} timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.TransportError):
        return RetryableError(f"{what} unreachable: {type(exc).__name__}: {exc}")
    return None


def _excerpt(response: httpx.Response, limit: int = 200) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Tave's error answers (``{type, title, detail, status}``) as exceptions.

Messages carry Tave's title and detail, never the request's headers: the API key
stays out of logs and run histories.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from aisle import RateLimited

__all__ = ["TaveError", "TaveNotFound", "TaveRefused", "raise_for_answer"]

DEFAULT_RETRY_AFTER = 60.0
"""Seconds to wait after a 429 that names no (readable) ``Retry-After``."""


class TaveError(Exception):
    """Tave answered with an error; ``status`` and ``type`` are Tave's own."""

    def __init__(self, status: int, type_: str, title: str, detail: Any) -> None:
        shown = detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True)
        super().__init__(f"Tave answered {status} {title}: {shown}".rstrip(": "))
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail


class TaveRefused(TaveError, PermissionError):
    """401/403: the API key is wrong, revoked, or lacks the grant."""


class TaveNotFound(TaveError, LookupError):
    """404: no such record (deleted since the webhook, or never in this studio)."""


def raise_for_answer(response: httpx.Response) -> None:
    """Raise for anything but a success; a 429 becomes :class:`aisle.RateLimited`."""
    if response.is_success:
        return
    if response.status_code == 429:
        raise RateLimited(_retry_after(response.headers.get("Retry-After")))
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    args = (
        status,
        str(body.get("type") or "unknown"),
        str(body.get("title") or response.reason_phrase),
        body.get("detail") or "",
    )
    if status in (401, 403):
        raise TaveRefused(*args)
    if status == 404:
        raise TaveNotFound(*args)
    raise TaveError(*args)


def _retry_after(value: str | None) -> float:
    """``Retry-After`` is seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

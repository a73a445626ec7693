"""Refusals a service raises, located as precisely as it can; the API renders them.

A service knows why it refuses (a stale revision, an invalid flow, a missing role) but
not how the answer travels: :class:`Refused` carries the status, the problem type and
the :class:`FieldError` list, and :mod:`aisle.api.problems` turns it into an RFC 9457
document (the CLI prints its ``detail``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from aisle.runtime.errors import DateChangeNotConfirmed

__all__ = [
    "NAMED_FIELD",
    "FieldError",
    "Refused",
    "config_error",
    "date_change_refused",
    "field_from_key",
    "located",
]


class FieldError(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One thing wrong with a request, located as precisely as the API can."""

    message: str
    field: str | None = None
    node_id: str | None = None
    edge_id: str | None = None
    code: str | None = None


class Refused(Exception):
    """A request a service will not carry out. ``status`` is the HTTP status it maps to,
    ``slug``/``title`` the problem type (defaults by status), ``errors`` what is at fault,
    ``extra`` members of the problem document, ``headers`` response headers."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.title = title
        self.errors = list(errors)
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


def date_change_refused(exc: DateChangeNotConfirmed) -> Refused:
    """The 409 a date change without ``confirm_date_change`` gets, old and new dates in it."""
    return Refused(
        409,
        str(exc),
        slug="confirmation-required",
        title="Confirmation required",
        errors=[FieldError(message="needs confirm_date_change: true", field=exc.field)],
        extra={
            "requires_confirmation": "confirm_date_change",
            "old": exc.old.isoformat() if exc.old else None,
            "new": exc.new.isoformat() if exc.new else None,
        },
    )


def field_from_key(key: str) -> str | None:
    """A msgspec or Litestar error path (``$.nodes[0].id``) as a dotted JSON path."""
    # Litestar reports msgspec's "Expected `int`, got `str` - at `$.nodes[0].id`"
    # with key "nodes[0].id"-like paths; normalise to a dotted JSON path.
    if not key:
        return None
    return key.removeprefix("$.").removeprefix("$") or None


def located(error: str) -> tuple[str, str | None]:
    """msgspec's message without its `` - at `$.path` `` suffix, and that path."""
    message, _, path = error.partition(" - at `")
    return message, field_from_key(path.rstrip("`")) if path else None


NAMED_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `([^`]+)`$")
"""msgspec's message for a key missing from, or unknown to, an object (no path given)."""


def config_error(
    exc: msgspec.ValidationError, under: str, *, node_id: str | None = None
) -> FieldError:
    """A config that did not decode, located under ``under`` (``config``).

    A field missing from, or unknown to, the config object itself is named too (msgspec
    gives no path for those).
    """
    message, path = located(str(exc))
    if path is None:
        named = NAMED_FIELD.match(message)
        path = named.group(1) if named else None
    field = f"{under}.{path}" if path else under
    return FieldError(message=message, field=field, code="invalid_config", node_id=node_id)

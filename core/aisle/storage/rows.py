"""Column codecs shared by the repositories: JSON documents and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

__all__ = ["dump", "load", "load_as", "utc"]

T = TypeVar("T")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def dump(value: Any) -> str:
    """A JSON column value (both databases take JSON as text parameters)."""
    return _encoder.encode(value).decode()


def load(raw: Any) -> Any:
    """Decode a JSON column (text on both databases); ``None`` stays ``None``."""
    if raw is None:
        return None
    if isinstance(raw, str | bytes):
        return _decoder.decode(raw)
    return raw


def load_as(raw: Any, type_: type[T]) -> T:
    """Decode a JSON column straight into ``type_`` (a Graph, a tuple of approvals…)."""
    if isinstance(raw, str | bytes):
        return msgspec.json.decode(raw, type=type_)
    return msgspec.convert(raw, type_)


def utc(value: datetime | None) -> datetime | None:
    """Normalise a stored timestamp to aware UTC (asyncpg may hand back another offset)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)

"""Column codecs shared by the repositories: JSON documents, timestamps, and rows as structs.

:func:`from_row` is the one conversion from a selected row to a domain struct, so the
database's quirks (JSON as text, timestamps in another offset, SQLite's integer
booleans) are handled here once, not in each repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

import msgspec
from piccolo.columns import JSON, BigInt, Boolean, Integer
from piccolo.table import Table

__all__ = ["dump", "from_row", "load", "load_as", "utc"]

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


class _Columns(msgspec.Struct, frozen=True):
    json: frozenset[str]
    booleans: frozenset[str]
    integers: frozenset[str]


@cache
def _columns(table: type[Table]) -> _Columns:
    def named(*kinds: type) -> frozenset[str]:
        return frozenset(c._meta.name for c in table._meta.columns if isinstance(c, kinds))

    return _Columns(json=named(JSON), booleans=named(Boolean), integers=named(Integer, BigInt))


def from_row(
    type_: type[T],
    table: type[Table],
    row: Mapping[str, Any],
    /,
    *,
    rename: Mapping[str, str] | None = None,
    **given: Any,
) -> T:
    """``row`` (selected from ``table``) as a ``type_`` struct.

    JSON columns are decoded, timestamps become aware UTC, and a NULL JSON column is
    left out, so the struct's own default (``{}``, ``()``, ``None``) applies. ``rename``
    maps a column to a differently named field; ``given`` supplies fields that are not
    columns (a nested struct built from the same row, say). Columns the struct does
    not have are ignored.
    """
    columns = _columns(table)
    values: dict[str, Any] = {}
    for name, value in row.items():
        if name in columns.json:
            value = load(value)
            if value is None:
                continue
        elif value is None:
            pass
        elif isinstance(value, datetime):
            value = utc(value)
        elif name in columns.booleans:
            value = bool(value)
        elif name in columns.integers and type(value) is not int:
            value = int(value)
        values[rename.get(name, name) if rename else name] = value
    values.update(given)
    return msgspec.convert(values, type_)

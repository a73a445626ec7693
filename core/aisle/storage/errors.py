"""Errors the data-access layer raises; each names the row or field at fault."""

from __future__ import annotations

__all__ = ["Conflict", "NotFound", "RevisionConflict", "StorageError"]


class StorageError(Exception):
    """Base of the storage errors."""


class NotFound(StorageError):
    """No such row in this organization (rows of other organizations do not exist here)."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class Conflict(StorageError):
    """The write contradicts stored state (a duplicate name, a finished run…)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RevisionConflict(Conflict):
    """A draft was saved against an older revision than the stored one."""

    def __init__(self, journey_id: str, expected: int, current: int) -> None:
        super().__init__(
            f"journey {journey_id!r} is at revision {current}, not {expected}",
            field="revision",
        )
        self.journey_id = journey_id
        self.expected = expected
        self.current = current

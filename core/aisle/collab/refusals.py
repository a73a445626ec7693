"""Why a lock or a write is refused, located on each node and edge: conflicts (409),
lost leases (409) and fenced writes (423), as :class:`~aisle.services.errors.Refused`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from aisle.services.errors import FieldError, Refused
from aisle.storage.collab_locks import FenceRefused, Lock, LockConflict, LockNotHeld, LockTarget

__all__ = ["conflict_refused", "fence_refused", "lost_refused"]


def _until(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _located(target: LockTarget, message: str) -> FieldError:
    if target.kind == "node":
        return FieldError(message=message, node_id=target.id, code="locked")
    return FieldError(message=message, edge_id=target.id, code="locked")


def _builtins(locks: Iterable[Lock]) -> list[Any]:
    return [msgspec.to_builtins(lock) for lock in locks]


def conflict_refused(exc: LockConflict) -> Refused:
    """409: the targets some other holder edits, each named with holder and expiry."""
    return Refused(
        409,
        str(exc),
        slug="lock-conflict",
        title="Locked by someone else",
        errors=[
            _located(
                lock.target,
                f"locked by {lock.describe_holder()} until {_until(lock.expires_at)}",
            )
            for lock in exc.conflicts
        ],
        extra={"holders": _builtins(exc.conflicts)},
    )


def lost_refused(exc: LockNotHeld) -> Refused:
    """409 for a renewal: which leases are gone (the others were renewed)."""
    result = exc.result
    return Refused(
        409,
        str(exc),
        slug="lock-lost",
        title="Lock no longer held",
        errors=[_located(t, "you no longer hold this lock") for t in result.lost],
        extra={
            "lost": [t.key for t in result.lost],
            "holders": _builtins(result.holders),
            "renewed": _builtins(result.renewed),
        },
    )


def fence_refused(exc: FenceRefused) -> Refused:
    """423: the write touches nodes or edges locked by someone else, or presents a
    stale fencing token; names each holder and expiry."""
    holders: Sequence[Lock] = [r.holder for r in exc.refusals if r.holder is not None]
    return Refused(
        423,
        str(exc),
        slug="locked",
        title="Locked",
        errors=[_located(r.target, r.message) for r in exc.refusals],
        extra={
            "holders": _builtins(holders),
            "refusals": [
                {
                    "target": r.target.key,
                    "reason": r.reason,
                    "presented_token": r.presented_token,
                    "holder": r.holder.holder if r.holder else None,
                    "holder_name": r.holder.holder_name if r.holder else None,
                    "expires_at": _until(r.holder.expires_at) if r.holder else None,
                    "fencing_token": r.holder.fencing_token if r.holder else None,
                }
                for r in exc.refusals
            ],
        },
    )

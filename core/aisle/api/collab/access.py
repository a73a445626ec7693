"""What the collaboration endpoints share: the caller as a lock holder, role checks,
and the problem documents for lock conflicts (409) and fenced writes (423)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from aisle.api.context import ApiCall, Caller
from aisle.api.problems import FieldError, Problem
from aisle.api.roles import ensure_journey_role
from aisle.collab import Collaboration, Holder
from aisle.domain.journey_record import Journey
from aisle.domain.user import Role
from aisle.storage.collab_locks import (
    MAX_TARGETS,
    FenceRefused,
    Lock,
    LockConflict,
    LockNotHeld,
    LockTarget,
)

__all__ = [
    "ElementId",
    "Targets",
    "collaboration",
    "conflict_problem",
    "fence_problem",
    "holder_id",
    "holder_of",
    "journey_for",
    "lost_problem",
]

ElementId = Annotated[str, Meta(min_length=1, max_length=200)]


class Targets(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Nodes and edges by their React Flow ids."""

    nodes: Annotated[list[ElementId], Meta(max_length=MAX_TARGETS)] = []
    edges: Annotated[list[ElementId], Meta(max_length=MAX_TARGETS)] = []

    def targets(self) -> list[LockTarget]:
        found = [LockTarget("node", n) for n in self.nodes]
        found += [LockTarget("edge", e) for e in self.edges]
        return found

    def require(self) -> list[LockTarget]:
        found = self.targets()
        if not found:
            raise Problem(
                422,
                "name at least one node or edge (nodes: [...], edges: [...])",
                slug="validation",
                title="Invalid request",
                errors=[FieldError(message="no targets", field="nodes")],
            )
        if len(set(found)) > MAX_TARGETS:
            raise Problem(
                422,
                f"at most {MAX_TARGETS} nodes and edges at once",
                slug="validation",
                title="Invalid request",
                errors=[FieldError(message="too many targets", field="nodes")],
            )
        return found


def collaboration(call: ApiCall) -> Collaboration:
    """The process's collaboration service (503 if app start-up did not build it)."""
    collab = call.ctx.collab
    if collab is None:
        raise Problem(503, "collaboration is not running in this process")
    return collab


def holder_id(caller: Caller) -> str:
    """How locks name a caller: the user id, or ``token:<id>`` for a token with no user."""
    return caller.user_id or f"token:{caller.token_id}"


async def holder_of(call: ApiCall, session_id: str | None = None) -> Holder:
    """The caller as a lock holder, with the name other people will see."""
    caller = call.caller
    if caller.user_id is not None:
        user = await call.scope.users.get(caller.user_id)
        return Holder(id=user.id, name=user.name or user.email, session_id=session_id)
    token = await call.scope.tokens.get(caller.token_id)
    return Holder(
        id=holder_id(caller), name=f"API token {token.name}".strip(), session_id=session_id
    )


async def journey_for(
    call: ApiCall, journey_id: str, needed: Role, what: str
) -> tuple[Journey, Collaboration]:
    """The caller's journey (404 when it is not in their organization), if their role
    on it is at least ``needed`` (403 otherwise), and the collaboration service (503)."""
    journey = await call.scope.journeys.get(journey_id)
    await ensure_journey_role(call, journey.id, needed, what)
    return journey, collaboration(call)


def _until(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _located(target: LockTarget, message: str) -> FieldError:
    if target.kind == "node":
        return FieldError(message=message, node_id=target.id, code="locked")
    return FieldError(message=message, edge_id=target.id, code="locked")


def _builtins(locks: Iterable[Lock]) -> list[Any]:
    return [msgspec.to_builtins(lock) for lock in locks]


def conflict_problem(exc: LockConflict) -> Problem:
    """409: the targets some other holder edits, each named with holder and expiry."""
    return Problem(
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


def lost_problem(exc: LockNotHeld) -> Problem:
    """409 for a renewal: which leases are gone (the others were renewed)."""
    result = exc.result
    return Problem(
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


def fence_problem(exc: FenceRefused) -> Problem:
    """423: the write touches nodes or edges locked by someone else, or presents a
    stale fencing token; names each holder and expiry."""
    holders: Sequence[Lock] = [r.holder for r in exc.refusals if r.holder is not None]
    return Problem(
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

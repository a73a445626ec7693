"""Node and edge locks: ``/api/v1/journeys/{id}/locks`` (acquire, renew, release, force).

An ``edit`` lock (lease 5 minutes) is exclusive; each grant carries a fencing token to
send with writes on the locked elements (``fences`` of ``POST …/flow/ops``). A ``view``
lock (lease 30 seconds) is shared and only tells the others who has an element open.
Renew before the lease ends; a lapsed lease can be taken by someone else at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from aisle.api.collab.services import locks_for
from aisle.api.collab.targets import Targets
from aisle.api.deps import Call
from aisle.api.problems import ProblemBody, problem_spec
from aisle.services.errors import FieldError, Refused
from aisle.storage.collab_locks import Lock, LockMode, LockTarget

__all__ = ["LockController"]

Token = Annotated[int, Meta(ge=0)]


class AcquireLocks(Targets, kw_only=True, forbid_unknown_fields=True):
    """Lock these nodes and edges — all of them, or none when one is taken."""

    mode: LockMode = "edit"
    session_id: str | None = None
    """Your presence session, so the others see which canvas holds the lock."""


class RenewLocks(Targets, kw_only=True, forbid_unknown_fields=True):
    mode: LockMode = "edit"
    tokens: dict[str, Token] = {}
    """Fencing tokens you hold (``node:<id>`` / ``edge:<id>``): a lease re-granted since
    (to another tab of yours) is then reported lost instead of renewed."""


class ReleaseLocks(Targets, kw_only=True, forbid_unknown_fields=True):
    mode: LockMode | None = None
    """Release only this mode; both by default."""
    all: bool = False
    """Release every lock you hold on the journey (``nodes``/``edges`` ignored)."""


class ForceRelease(Targets, kw_only=True, forbid_unknown_fields=True):
    all: bool = False
    """Release every lock on the journey, whoever holds it."""
    reason: Annotated[str, Meta(max_length=500)] = ""


class LocksOut(msgspec.Struct, kw_only=True):
    locks: list[Lock]
    now: datetime
    """Server time: compare with ``expires_at`` rather than trusting the local clock."""
    editors: list[Lock] = []
    """For view locks: who holds an edit lock on those elements right now."""


class LockConflictBody(ProblemBody, kw_only=True):
    """409: the detail names each holder and until when they hold the element."""

    holders: list[Lock] = []


class FencedWriteBody(ProblemBody, kw_only=True):
    """423 (from writes): the elements are locked by someone else, or the fencing token
    sent is stale."""

    holders: list[Lock] = []
    refusals: list[dict[str, Any]] = []


def _tokens(raw: dict[str, int]) -> dict[LockTarget, int]:
    tokens: dict[LockTarget, int] = {}
    for key, value in raw.items():
        target = LockTarget.parse(key)
        if not target.id:
            raise Refused(
                422,
                f"tokens: {key!r} is not node:<id> or edge:<id>",
                errors=[FieldError(message="bad token key", field=f"tokens.{key}")],
            )
        tokens[target] = value
    return tokens


class LockController(Controller):
    path = "/journeys/{journey_id:str}/locks"
    tags = ["collaboration"]

    @get("/", summary="The live locks of a journey")
    async def list_locks(self, call: Call, journey_id: FromPath[str]) -> LocksOut:
        locks = locks_for(call)
        return LocksOut(locks=await locks.leases(journey_id), now=locks.now())

    @post(
        "/",
        summary="Acquire locks (all or none)",
        description="Edit locks are exclusive: when any element is locked by someone "
        "else nothing is granted and the answer is 409 naming each holder and expiry. "
        "Asking again for your own live lock extends it and keeps its token; a lapsed "
        "lock is taken over with the next fencing token.",
        status_code=200,
        responses={409: problem_spec("Locked by someone else", LockConflictBody)},
    )
    async def acquire(
        self, call: Call, journey_id: FromPath[str], data: JSONBody[AcquireLocks]
    ) -> LocksOut:
        targets = data.require()
        locks = locks_for(call)
        result = await locks.acquire(
            journey_id, targets, mode=data.mode, session_id=data.session_id
        )
        return LocksOut(locks=result.granted, editors=result.editors, now=locks.now())

    @post(
        "/renew",
        summary="Extend your leases",
        status_code=200,
        responses={409: problem_spec("Some leases are no longer yours (the others were renewed)")},
    )
    async def renew(
        self, call: Call, journey_id: FromPath[str], data: JSONBody[RenewLocks]
    ) -> LocksOut:
        targets = data.require()
        tokens = _tokens(data.tokens) if data.tokens else None
        locks = locks_for(call)
        result = await locks.renew(journey_id, targets, mode=data.mode, tokens=tokens)
        return LocksOut(locks=result.renewed, now=locks.now())

    @post("/release", summary="Release your locks", status_code=200)
    async def release(
        self, call: Call, journey_id: FromPath[str], data: JSONBody[ReleaseLocks]
    ) -> LocksOut:
        targets = None if data.all else data.require()
        locks = locks_for(call)
        released = await locks.release(journey_id, targets, mode=data.mode)
        return LocksOut(locks=released, now=locks.now())

    @post(
        "/force-release",
        summary="Release other people's locks (admin; logged)",
        description="For a lock left behind by someone who went away. Recorded in the "
        "automation log; the holder's next write with the old token gets 423.",
        status_code=200,
    )
    async def force_release(
        self, call: Call, journey_id: FromPath[str], data: JSONBody[ForceRelease]
    ) -> LocksOut:
        targets = None if data.all else data.require()
        locks = locks_for(call)
        released = await locks.force_release(journey_id, targets, reason=data.reason)
        return LocksOut(locks=released, now=locks.now())


# The 423 body shape, for the OpenAPI document of the write endpoints.
FENCED_WRITE_RESPONSE = problem_spec(
    "Locked by someone else, or a stale fencing token", FencedWriteBody
)

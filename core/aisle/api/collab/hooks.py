"""Calls the canvas write paths make into collaboration.

- :func:`enforce_fences` — inside a write's transaction, before it is saved: refuse
  (423) changes to nodes or edges someone else holds an edit lock on, or made with a
  stale fencing token;
- :func:`announce_flow_log` — after the commit: the op-log entries written, as
  ``ops.applied`` / ``conflict`` / ``flow.replaced`` stream messages;
- :func:`announce_published` — after a publish or rollback;
- :func:`node_locks` — the lock on each node, for the flow document's ``data.lock``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from aisle.api.collab.access import fence_problem, holder_id
from aisle.api.context import ApiCall
from aisle.storage.collab_locks import FenceRefused, LockRepository, LockTarget

__all__ = [
    "FENCING_TOKENS_PATTERN",
    "ChangedElement",
    "announce_flow_log",
    "announce_published",
    "enforce_fences",
    "fences_from_header",
    "node_locks",
]


class ChangedElement(Protocol):
    """What a change names: ``kind`` (``nodes``/``edges``) and the element ``id``
    (:class:`aisle.canvas.graph_paths.Change` is one)."""

    @property
    def kind(self) -> str: ...

    @property
    def id(self) -> str: ...


def _target(change: ChangedElement) -> LockTarget:
    return LockTarget("node" if change.kind in ("nodes", "node") else "edge", change.id)


async def enforce_fences(
    call: ApiCall,
    journey_id: str,
    changes: Iterable[ChangedElement],
    fences: Mapping[str, int],
) -> None:
    """Refuse the write with 423 unless, for every changed node or edge under a live
    edit lock, the caller holds that lock and sent its current fencing token in
    ``fences`` (keys ``node:<id>`` / ``edge:<id>``; a bare id is a node).

    Call inside the write's transaction: on PostgreSQL this holds off lock grants on
    those elements until the write commits.
    """
    targets = {_target(c) for c in changes}
    if not targets:
        return
    tokens = {LockTarget.parse(key): value for key, value in fences.items()}
    repo = LockRepository(call.caller.organization_id, call.store.db, call.store.clock)
    try:
        await repo.check_fences(journey_id, targets, holder=holder_id(call.caller), tokens=tokens)
    except FenceRefused as exc:
        raise fence_problem(exc) from None


FENCING_TOKENS_PATTERN = r"^\s*([^\s,][^,]*=\s*[0-9]+\s*)?(,\s*([^\s,][^,]*=\s*[0-9]+\s*)?)*$"
"""What :func:`fences_from_header` accepts, for the OpenAPI document."""


def fences_from_header(value: str | None) -> dict[str, int]:
    """Parse ``Aisle-Fencing-Tokens: node:n1=3, edge:e2=7`` (whole-flow saves carry
    tokens this way). Malformed parts are a 400 naming the part."""
    from aisle.api.problems import Problem

    tokens: dict[str, int] = {}
    if not value:
        return tokens
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, raw = part.rpartition("=")
        # isdigit() alone admits "²", which int() refuses
        if not sep or not key.strip() or not (raw.strip().isascii() and raw.strip().isdigit()):
            raise Problem(
                400,
                f"Aisle-Fencing-Tokens: {part!r} is not <node|edge>:<id>=<token>",
            )
        tokens[key.strip()] = int(raw)
    return tokens


async def announce_flow_log(
    call: ApiCall, journey_id: str, entries: Iterable[Mapping[str, Any]]
) -> None:
    """Publish committed op-log entries on the journey's live stream (no-op when
    collaboration is not running in this process)."""
    collab = call.ctx.collab
    if collab is not None:
        await collab.announce_flow_log(journey_id, entries)


async def announce_published(
    call: ApiCall, journey_id: str, version: int, *, source_version: int | None = None
) -> None:
    """Publish "version went live" on the journey's live stream."""
    collab = call.ctx.collab
    if collab is not None:
        await collab.announce_published(
            journey_id, version, actor=call.caller.actor, source_version=source_version
        )


async def node_locks(call: ApiCall, journey_id: str) -> dict[str, Any]:
    """The live edit lock on each locked node (``{holder, holder_name, expires_at,
    …}``), for annotating the flow document. Viewers are listed under ``viewers``."""
    repo = LockRepository(call.caller.organization_id, call.store.db, call.store.clock)
    out: dict[str, Any] = {}
    for lock in await repo.leases(journey_id):
        if lock.target_kind != "node":
            continue
        entry = out.setdefault(lock.target_id, {"edit": None, "viewers": []})
        info = {
            "holder": lock.holder,
            "holder_name": lock.holder_name,
            "expires_at": lock.expires_at.isoformat().replace("+00:00", "Z"),
        }
        if lock.mode == "edit":
            entry["edit"] = {**info, "fencing_token": lock.fencing_token}
        else:
            entry["viewers"].append(info)
    return out

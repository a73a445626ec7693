"""Lock leases on canvas nodes and edges: atomic grants, fencing tokens, renewals, sweeps.

Every grant of an ``edit`` lease takes the next *fencing token* of its target from
``collab_fences``; a write on a locked target must present the current token, so a
holder whose lease lapsed cannot overwrite the work of the next holder. ``view``
leases are shared and advisory ("I have this node's panel open"): they never block a
grant or a write, and they carry no token.

Atomicity: a grant checks and writes in one transaction. SQLite takes its write lock
at ``BEGIN IMMEDIATE``, so grants run one at a time; PostgreSQL locks the targets'
fence rows ``FOR UPDATE`` in one sorted order (no deadlock between two batches), and
a partial unique index allows at most one edit row per target whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from aisle.contracts.log import LogKind
from aisle.storage.automation_log import LogRepository
from aisle.storage.collab_tables import CollabLockTable
from aisle.storage.database import Database
from aisle.storage.errors import Conflict, NotFound, StorageError
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped

__all__ = [
    "MAX_TARGETS",
    "Acquired",
    "FenceRefused",
    "Lock",
    "LockConflict",
    "LockMode",
    "LockNotHeld",
    "LockRepository",
    "LockTarget",
    "Refusal",
    "Renewed",
    "TargetKind",
    "sweep_expired_locks",
]

LockMode = Literal["edit", "view"]
TargetKind = Literal["node", "edge"]

MAX_TARGETS = 500
"""The most targets one request may lock, renew or release at once."""


class LockTarget(msgspec.Struct, frozen=True, order=True):
    """A lockable element of a journey's draft: a node or an edge, by its React Flow id."""

    kind: TargetKind
    id: str

    @property
    def key(self) -> str:
        """``node:<id>`` / ``edge:<id>``: how tokens are keyed in requests."""
        return f"{self.kind}:{self.id}"

    def describe(self) -> str:
        return f"{self.kind} {self.id!r}"

    @classmethod
    def parse(cls, key: str) -> LockTarget:
        """``node:n1`` → node n1, ``edge:e1`` → edge e1; a bare id means a node."""
        kind, sep, ident = key.partition(":")
        if sep and kind in ("node", "edge") and ident:
            return cls(kind, ident)  # type: ignore[arg-type]
        return cls("node", key)


class Lock(msgspec.Struct, frozen=True, kw_only=True):
    """One lease as the API shows it. ``fencing_token`` is 0 for view leases."""

    journey_id: str
    target_kind: TargetKind
    target_id: str
    mode: LockMode
    holder: str
    holder_name: str = ""
    session_id: str | None = None
    fencing_token: int = 0
    acquired_at: datetime
    expires_at: datetime

    @property
    def target(self) -> LockTarget:
        return LockTarget(self.target_kind, self.target_id)

    def describe_holder(self) -> str:
        return self.holder_name or self.holder


class Acquired(msgspec.Struct, frozen=True, kw_only=True):
    """What a grant did: the leases granted (or extended for their holder), the lapsed
    leases it replaced, and — for view leases — who edits those targets right now."""

    granted: list[Lock]
    replaced: list[Lock] = []
    editors: list[Lock] = []


class Renewed(msgspec.Struct, frozen=True, kw_only=True):
    """The leases extended, and the targets whose lease the caller no longer holds."""

    renewed: list[Lock]
    lost: list[LockTarget] = []
    holders: list[Lock] = []
    """Who holds the lost targets now (live edit leases of other holders)."""


class Refusal(msgspec.Struct, frozen=True, kw_only=True):
    """Why a write on one target was refused."""

    target: LockTarget
    reason: Literal["locked", "stale_token", "not_held"]
    message: str
    holder: Lock | None = None
    presented_token: int | None = None


def _until(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class LockConflict(Conflict):
    """Some targets are leased for editing by someone else; nothing was granted."""

    def __init__(self, conflicts: Sequence[Lock]) -> None:
        parts = [
            f"{lock.target.describe()} is locked for editing by {lock.describe_holder()} "
            f"until {_until(lock.expires_at)}"
            for lock in conflicts
        ]
        super().__init__("; ".join(parts), field="targets")
        self.conflicts = list(conflicts)


class LockNotHeld(Conflict):
    """A renewal named leases the caller does not hold (any more)."""

    def __init__(self, renewed: Renewed) -> None:
        by_target = {h.target: h for h in renewed.holders}
        parts = []
        for target in renewed.lost:
            holder = by_target.get(target)
            if holder is not None:
                parts.append(
                    f"your lease on {target.describe()} is gone: it is locked by "
                    f"{holder.describe_holder()} until {_until(holder.expires_at)}"
                )
            else:
                parts.append(
                    f"you hold no lease on {target.describe()} (it expired or was "
                    "released); acquire it again"
                )
        super().__init__("; ".join(parts), field="targets")
        self.result = renewed


class FenceRefused(StorageError):
    """A write touched locked targets without the current fencing token."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        super().__init__("; ".join(r.message for r in refusals))
        self.refusals = list(refusals)


def _targets(targets: Iterable[LockTarget]) -> list[LockTarget]:
    unique = sorted(set(targets))
    if not unique:
        raise ValueError("targets: name at least one node or edge")
    if len(unique) > MAX_TARGETS:
        raise ValueError(f"targets: at most {MAX_TARGETS} at once, got {len(unique)}")
    for target in unique:
        if target.kind not in ("node", "edge"):
            raise ValueError(f"targets: kind {target.kind!r} is not node or edge")
        if not target.id:
            raise ValueError("targets: an id is empty")
    return unique


def _lock(row: Mapping[str, Any]) -> Lock:
    return from_row(Lock, CollabLockTable, row)


_COLUMNS = (
    "id, organization_id, journey_id, target_kind, target_id, mode, holder, holder_name, "
    "session_id, fencing_token, acquired_at, renewed_at, expires_at"
)


def _match(targets: Sequence[LockTarget], args: list[Any]) -> str:
    """``((target_kind = … AND target_id = …) OR …)``, appending the parameters."""
    clauses = []
    for target in targets:
        clauses.append("(target_kind = {} AND target_id = {})")
        args.extend((target.kind, target.id))
    return "(" + " OR ".join(clauses) + ")"


class _DraftIds(msgspec.Struct):
    class _Id(msgspec.Struct):
        id: str

    steps: list[_Id] = []
    edges: list[_Id] = []


_draft_ids = msgspec.json.Decoder(_DraftIds)


class LockRepository(Scoped):
    """Lock leases of one organization's journeys."""

    table = CollabLockTable
    kind = "lock"

    async def acquire(
        self,
        journey_id: str,
        targets: Iterable[LockTarget],
        *,
        mode: LockMode,
        holder: str,
        lease: timedelta,
        holder_name: str = "",
        session_id: str | None = None,
    ) -> Acquired:
        """Lease every target or none.

        An edit lease is refused (:class:`LockConflict`, nothing granted) while another
        holder's edit lease on any target is live; the caller's own live lease is
        extended and keeps its token; a lapsed lease is replaced at once with the next
        token. View leases are always granted.
        """
        wanted = _targets(targets)
        if mode not in ("edit", "view"):
            raise ValueError(f"mode: {mode!r} is not edit or view")
        now = self.clock.now()
        expires_at = now + lease
        async with self.db.transaction():
            await self._check_targets(journey_id, wanted)
            if mode == "view":
                viewing = await self._upsert_view(
                    journey_id, wanted, holder, holder_name, session_id, now, expires_at
                )
                editors = [
                    lock
                    for lock in await self._edit_leases(journey_id, wanted, now)
                    if lock.holder != holder
                ]
                return Acquired(granted=viewing, editors=editors)
            bumped = await self._bump_fences(journey_id, wanted)
            existing = await self._edit_rows(journey_id, wanted)
            conflicts = [
                lock
                for lock in existing.values()
                if lock.expires_at > now and lock.holder != holder
            ]
            if conflicts:
                raise LockConflict(sorted(conflicts, key=lambda lock: lock.target))
            mine = [t for t in wanted if t in existing and existing[t].expires_at > now]
            fresh = [t for t in wanted if t not in mine]
            replaced = [existing[t] for t in fresh if t in existing]
            granted: list[Lock] = []
            if mine:
                granted += await self._extend(
                    journey_id, mine, "edit", holder, session_id, now, expires_at
                )
            if fresh:
                if replaced:
                    args: list[Any] = [self.org_id, journey_id]
                    match = _match([lock.target for lock in replaced], args)
                    await self.db.execute(
                        "DELETE FROM collab_locks WHERE organization_id = {} AND "
                        f"journey_id = {{}} AND mode = 'edit' AND {match}",
                        *args,
                    )
                granted += await self._insert_leases(
                    journey_id,
                    fresh,
                    "edit",
                    holder,
                    holder_name,
                    session_id,
                    now,
                    expires_at,
                    bumped,
                )
            return Acquired(
                granted=sorted(granted, key=lambda lock: lock.target), replaced=replaced
            )

    async def renew(
        self,
        journey_id: str,
        targets: Iterable[LockTarget],
        *,
        mode: LockMode,
        holder: str,
        lease: timedelta,
        tokens: Mapping[LockTarget, int] | None = None,
    ) -> Renewed:
        """Extend the caller's live leases; report the ones it lost.

        With ``tokens``, an edit lease is only extended when its token still is the one
        presented (another tab of the same user may have re-acquired it since).
        """
        wanted = _targets(targets)
        now = self.clock.now()
        async with self.db.transaction():
            held = {
                lock.target: lock
                for lock in await self._live(journey_id, wanted, now, mode=mode, holder=holder)
            }
            keep = [
                t
                for t in wanted
                if t in held
                and (tokens is None or t not in tokens or tokens[t] == held[t].fencing_token)
            ]
            renewed = (
                await self._extend(journey_id, keep, mode, holder, None, now, now + lease)
                if keep
                else []
            )
            lost = [t for t in wanted if t not in keep]
            holders = (
                [
                    lock
                    for lock in await self._edit_leases(journey_id, lost, now)
                    if lock.holder != holder
                    or (tokens is not None and tokens.get(lock.target) != lock.fencing_token)
                ]
                if lost
                else []
            )
        return Renewed(renewed=renewed, lost=lost, holders=holders)

    async def release(
        self,
        journey_id: str,
        targets: Iterable[LockTarget] | None,
        *,
        holder: str,
        mode: LockMode | None = None,
    ) -> list[Lock]:
        """Give up the caller's leases (all of them in the journey when ``targets`` is
        None); releasing what one does not hold is a no-op. Returns what was live."""
        args: list[Any] = [self.org_id, journey_id, holder]
        sql = (
            "DELETE FROM collab_locks WHERE organization_id = {} AND journey_id = {} "
            "AND holder = {}"
        )
        if mode is not None:
            sql += " AND mode = {}"
            args.append(mode)
        if targets is not None:
            sql += " AND " + _match(_targets(targets), args)
        rows = await self.db.execute(sql + f" RETURNING {_COLUMNS}", *args)
        now = self.clock.now()
        return sorted(
            (lock for lock in map(_lock, rows) if lock.expires_at > now),
            key=lambda lock: (lock.target, lock.mode),
        )

    async def force_release(
        self,
        journey_id: str,
        targets: Iterable[LockTarget] | None,
        *,
        actor: str,
        reason: str = "",
    ) -> list[Lock]:
        """An admin act: drop every lease on ``targets`` (all in the journey when None),
        whoever holds them, and record it in the automation log."""
        args: list[Any] = [self.org_id, journey_id]
        sql = "DELETE FROM collab_locks WHERE organization_id = {} AND journey_id = {}"
        if targets is not None:
            sql += " AND " + _match(_targets(targets), args)
        now = self.clock.now()
        async with self.db.transaction():
            await self._journey(journey_id)
            rows = await self.db.execute(sql + f" RETURNING {_COLUMNS}", *args)
            dropped = sorted(map(_lock, rows), key=lambda lock: (lock.target, lock.mode))
            live = [lock for lock in dropped if lock.expires_at > now]
            log = LogRepository(self.org_id, self.db, self.clock)
            for lock in live:
                await log.append(
                    LogKind.LOCK_FORCE_RELEASED,
                    message=(
                        f"{lock.mode} lock on {lock.target.describe()} held by "
                        f"{lock.describe_holder()} force-released"
                        + (f": {reason}" if reason else "")
                    ),
                    actor=actor,
                    at=now,
                    journey_id=journey_id,
                    step_id=lock.target_id if lock.target_kind == "node" else None,
                    edge_id=lock.target_id if lock.target_kind == "edge" else None,
                    data={
                        "holder": lock.holder,
                        "holder_name": lock.holder_name,
                        "mode": lock.mode,
                        "fencing_token": lock.fencing_token,
                        "expires_at": _until(lock.expires_at),
                        "reason": reason,
                    },
                )
        return live

    async def leases(self, journey_id: str) -> list[Lock]:
        """The live leases of a journey, by target."""
        rows = await self.db.execute(
            f"SELECT {_COLUMNS} FROM collab_locks WHERE organization_id = {{}} "
            "AND journey_id = {} AND expires_at > {} ORDER BY target_kind, target_id, mode, holder",
            self.org_id,
            journey_id,
            self.clock.now(),
        )
        return [_lock(r) for r in rows]

    async def studio_leases(self) -> list[Lock]:
        """The live leases of every journey of the organization, by journey and target."""
        rows = await self.db.execute(
            f"SELECT {_COLUMNS} FROM collab_locks WHERE organization_id = {{}} "
            "AND expires_at > {} ORDER BY journey_id, target_kind, target_id, mode, holder",
            self.org_id,
            self.clock.now(),
        )
        return [_lock(r) for r in rows]

    async def check_fences(
        self,
        journey_id: str,
        targets: Iterable[LockTarget],
        *,
        holder: str,
        tokens: Mapping[LockTarget, int],
    ) -> None:
        """Refuse (:class:`FenceRefused`) a write by ``holder`` on ``targets`` unless,
        for every target under a live edit lease, it is the holder and presents the
        current token. A token presented for a written target nobody leases is refused
        too: its lease lapsed or was force-released, so the writer's view may be stale.
        Tokens for targets the write does not touch are ignored.

        Call it inside the transaction that applies the write: on PostgreSQL it takes
        a share lock on the targets' fence rows, so no grant can slip in before commit.
        """
        touched = sorted(set(targets))
        if not touched:
            return
        now = self.clock.now()
        if self.db.is_postgres and self.db.in_transaction:
            args: list[Any] = [self.org_id, journey_id]
            match = _match(touched, args)
            await self.db.execute(
                "SELECT last_token FROM collab_fences WHERE organization_id = {} AND "
                f"journey_id = {{}} AND {match} ORDER BY target_kind, target_id FOR SHARE",
                *args,
            )
        leases = {lock.target: lock for lock in await self._edit_leases(journey_id, touched, now)}
        refusals: list[Refusal] = []
        for target in touched:
            lease = leases.get(target)
            presented = tokens.get(target)
            if lease is not None:
                if lease.holder == holder and presented == lease.fencing_token:
                    continue
                if presented is None:
                    own = lease.holder == holder
                    message = (
                        f"{target.describe()} is locked by you until "
                        f"{_until(lease.expires_at)}: send its fencing token "
                        f"{target.key}={lease.fencing_token} with the write"
                        if own
                        else f"{target.describe()} is locked for editing by "
                        f"{lease.describe_holder()} until {_until(lease.expires_at)}"
                    )
                    refusals.append(
                        Refusal(target=target, reason="locked", message=message, holder=lease)
                    )
                else:
                    refusals.append(
                        Refusal(
                            target=target,
                            reason="stale_token",
                            message=(
                                f"fencing token {presented} for {target.describe()} is "
                                f"stale: it is locked by {lease.describe_holder()} with "
                                f"token {lease.fencing_token} until "
                                f"{_until(lease.expires_at)}"
                            ),
                            holder=lease,
                            presented_token=presented,
                        )
                    )
            elif presented is not None:
                refusals.append(
                    Refusal(
                        target=target,
                        reason="not_held",
                        message=(
                            f"fencing token {presented} for {target.describe()} is no "
                            "longer valid: the lease expired or was released; acquire "
                            "the lock again and refetch"
                        ),
                        presented_token=presented,
                    )
                )
        if refusals:
            raise FenceRefused(refusals)

    # -- internals -------------------------------------------------------------------

    async def _journey(self, journey_id: str) -> dict[str, Any]:
        rows = await self.db.execute(
            "SELECT id, draft FROM journeys WHERE organization_id = {} AND id = {} "
            "AND deleted_at IS NULL",
            self.org_id,
            journey_id,
        )
        if not rows:
            raise NotFound("journey", journey_id)
        return rows[0]

    async def _check_targets(self, journey_id: str, targets: Sequence[LockTarget]) -> None:
        row = await self._journey(journey_id)
        draft = row["draft"]
        ids = _draft_ids.decode(draft if isinstance(draft, str | bytes) else dump(draft))
        nodes = {s.id for s in ids.steps}
        edges = {e.id for e in ids.edges}
        for target in targets:
            if target.id not in (nodes if target.kind == "node" else edges):
                raise NotFound(f"{target.kind} of journey {journey_id!r}", target.id)

    async def _bump_fences(
        self, journey_id: str, targets: Sequence[LockTarget]
    ) -> dict[LockTarget, int]:
        """Create or advance every target's fence counter; returns the next tokens.

        One statement over the sorted targets: on PostgreSQL it row-locks the fences
        in that order, so two batches wait for each other instead of deadlocking, and
        grants of one target run one at a time. A refused grant rolls the counters
        back with it; a holder extending its own lease skips its number, which leaves
        a gap but never a repeat.
        """
        args: list[Any] = []
        values = []
        for target in targets:
            values.append("({}, {}, {}, {}, 1)")
            args.extend((self.org_id, journey_id, target.kind, target.id))
        rows = await self.db.execute(
            "INSERT INTO collab_fences (organization_id, journey_id, target_kind, target_id, "
            f"last_token) VALUES {', '.join(values)} "
            "ON CONFLICT (journey_id, target_kind, target_id) DO UPDATE SET "
            "last_token = collab_fences.last_token + 1 "
            "RETURNING target_kind, target_id, last_token",
            *args,
        )
        tokens = {LockTarget(r["target_kind"], r["target_id"]): int(r["last_token"]) for r in rows}
        assert len(tokens) == len(targets), "every target has a fence row"
        return tokens

    async def _edit_rows(
        self, journey_id: str, targets: Sequence[LockTarget]
    ) -> dict[LockTarget, Lock]:
        args: list[Any] = [self.org_id, journey_id]
        match = _match(targets, args)
        rows = await self.db.execute(
            f"SELECT {_COLUMNS} FROM collab_locks WHERE organization_id = {{}} "
            f"AND journey_id = {{}} AND mode = 'edit' AND {match}",
            *args,
        )
        return {lock.target: lock for lock in map(_lock, rows)}

    async def _edit_leases(
        self, journey_id: str, targets: Sequence[LockTarget], now: datetime
    ) -> list[Lock]:
        return await self._live(journey_id, targets, now, mode="edit")

    async def _live(
        self,
        journey_id: str,
        targets: Sequence[LockTarget],
        now: datetime,
        *,
        mode: LockMode,
        holder: str | None = None,
    ) -> list[Lock]:
        args: list[Any] = [self.org_id, journey_id, mode, now]
        sql = (
            f"SELECT {_COLUMNS} FROM collab_locks WHERE organization_id = {{}} "
            "AND journey_id = {} AND mode = {} AND expires_at > {}"
        )
        if holder is not None:
            sql += " AND holder = {}"
            args.append(holder)
        sql += " AND " + _match(targets, args) + " ORDER BY target_kind, target_id"
        return [_lock(r) for r in await self.db.execute(sql, *args)]

    async def _extend(
        self,
        journey_id: str,
        targets: Sequence[LockTarget],
        mode: LockMode,
        holder: str,
        session_id: str | None,
        now: datetime,
        expires_at: datetime,
    ) -> list[Lock]:
        args: list[Any] = [expires_at, now]
        sql = "UPDATE collab_locks SET expires_at = {}, renewed_at = {}"
        if session_id is not None:
            sql += ", session_id = {}"
            args.append(session_id)
        args += [self.org_id, journey_id, mode, holder]
        sql += (
            " WHERE organization_id = {} AND journey_id = {} AND mode = {} AND holder = {} AND "
            + _match(targets, args)
        )
        rows = await self.db.execute(sql + f" RETURNING {_COLUMNS}", *args)
        return sorted(map(_lock, rows), key=lambda lock: lock.target)

    async def _insert_leases(
        self,
        journey_id: str,
        targets: Sequence[LockTarget],
        mode: LockMode,
        holder: str,
        holder_name: str,
        session_id: str | None,
        now: datetime,
        expires_at: datetime,
        tokens: Mapping[LockTarget, int],
        *,
        on_conflict: str = "",
    ) -> list[Lock]:
        args: list[Any] = []
        values = []
        for target in targets:
            values.append("({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})")
            args.extend(
                (
                    new_id(),
                    self.org_id,
                    journey_id,
                    target.kind,
                    target.id,
                    mode,
                    holder,
                    holder_name,
                    session_id,
                    tokens.get(target, 0),
                    now,
                    now,
                    expires_at,
                )
            )
        rows = await self.db.execute(
            f"INSERT INTO collab_locks ({_COLUMNS}) VALUES {', '.join(values)} {on_conflict}"
            f"RETURNING {_COLUMNS}",
            *args,
        )
        return sorted(map(_lock, rows), key=lambda lock: lock.target)

    async def _upsert_view(
        self,
        journey_id: str,
        targets: Sequence[LockTarget],
        holder: str,
        holder_name: str,
        session_id: str | None,
        now: datetime,
        expires_at: datetime,
    ) -> list[Lock]:
        # A lapsed view lease is taken over afresh (acquired now), a live one extended.
        return await self._insert_leases(
            journey_id,
            targets,
            "view",
            holder,
            holder_name,
            session_id,
            now,
            expires_at,
            {},
            on_conflict="ON CONFLICT (journey_id, target_kind, target_id, mode, holder) "
            "DO UPDATE SET acquired_at = CASE WHEN collab_locks.expires_at <= "
            "excluded.renewed_at THEN excluded.acquired_at ELSE collab_locks.acquired_at END, "
            "renewed_at = excluded.renewed_at, expires_at = excluded.expires_at, "
            "holder_name = excluded.holder_name, session_id = excluded.session_id ",
        )


async def sweep_expired_locks(db: Database, now: datetime, *, limit: int = 1000) -> list[Lock]:
    """Delete up to ``limit`` lapsed leases of every organization; returns them.

    Grants already replace lapsed leases on the spot; the sweep keeps the table small
    and lets the live stream announce expiries. Several schedulers may sweep at once
    on PostgreSQL (``SKIP LOCKED``): each lapsed lease is returned by exactly one.
    """
    skip = " FOR UPDATE SKIP LOCKED" if db.is_postgres else ""
    rows = await db.execute(
        f"DELETE FROM collab_locks WHERE id IN (SELECT id FROM collab_locks "
        f"WHERE expires_at <= {{}} ORDER BY expires_at LIMIT {{}}{skip}) RETURNING {_COLUMNS}",
        now,
        limit,
    )
    return sorted(map(_lock, rows), key=lambda lock: (lock.journey_id, lock.target, lock.mode))

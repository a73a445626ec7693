"""Sign-in sessions, kept server-side: the cookie holds a random secret, the table its hash.

A session is bound to an API token, a user, or both (a token of a user). Each request
re-reads it together with its token and user in one query, so it ends the moment it is
signed out, its token is revoked, its user is disabled, or a role change ends it — and
its role is never above the token's or the user's current one.

Created by migration ``m0007_sessions``; the table is registered with the database
binding at import so :func:`aisle.storage.database.connect` points it at the engine.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import msgspec
from piccolo.columns import Text, Timestamptz
from piccolo.table import Table

from aisle.clock import Clock
from aisle.domain.user import ROLES, Role
from aisle.storage.database import Database, register_tables
from aisle.storage.ids import new_id
from aisle.storage.rows import utc
from aisle.storage.scoped import Scoped

__all__ = [
    "SessionRepository",
    "SessionTable",
    "SignedIn",
    "end_session",
    "find_session",
    "lower_role",
]

_TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at precision; spares a write per request


class SessionTable(Table, tablename="sessions"):
    id = Text(primary_key=True)
    organization_id = Text()
    user_id = Text(null=True, default=None)
    token_id = Text(null=True, default=None)
    secret_hash = Text()
    created_at = Timestamptz(default=None)
    last_seen_at = Timestamptz(default=None)
    expires_at = Timestamptz(default=None)
    revoked_at = Timestamptz(default=None, null=True)


register_tables(SessionTable)


class SignedIn(msgspec.Struct, frozen=True, kw_only=True):
    """A live session as a request sees it, with the role it acts with now."""

    session_id: str
    organization_id: str
    role: Role
    user_id: str | None = None
    token_id: str | None = None
    expires_at: datetime


_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}


def lower_role(*roles: str) -> Role | None:
    """The least powerful of ``roles`` (``None`` if any is not a known role)."""
    if not roles or any(role not in _RANK for role in roles):
        return None
    return ROLES[min(_RANK[role] for role in roles)]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionRepository(Scoped):
    table = SessionTable
    kind = "session"

    async def start(
        self, *, lifetime: timedelta, token_id: str | None = None, user_id: str | None = None
    ) -> tuple[str, str]:
        """A new session; returns its id and the secret for the cookie (shown once)."""
        if token_id is None and user_id is None:
            raise ValueError("a session belongs to a token, a user, or both")
        now = self.clock.now()
        T = SessionTable
        # Finished sessions are of no further use; sign-ins keep the table small.
        await self._delete(T.expires_at < now)
        secret = secrets.token_urlsafe(32)
        session_id = new_id()
        await self._insert(
            id=session_id,
            user_id=user_id,
            token_id=token_id,
            secret_hash=_hash(secret),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
        return session_id, secret

    async def end(self, session_id: str) -> None:
        T = SessionTable
        await self._update(
            {T.revoked_at: self.clock.now()}, T.id == session_id, T.revoked_at.is_null()
        )

    async def end_for_user(self, user_id: str) -> None:
        """End every session of a user (their role changed, they were removed)."""
        T = SessionTable
        await self._update(
            {T.revoked_at: self.clock.now()}, T.user_id == user_id, T.revoked_at.is_null()
        )

    async def end_for_token(self, token_id: str) -> None:
        T = SessionTable
        await self._update(
            {T.revoked_at: self.clock.now()}, T.token_id == token_id, T.revoked_at.is_null()
        )


_FIND = (
    "SELECT s.id, s.organization_id, s.user_id, s.token_id, s.secret_hash, s.expires_at, "
    "s.revoked_at, s.last_seen_at, "
    "t.id AS token_found, t.role AS token_role, t.revoked_at AS token_revoked_at, "
    "t.expires_at AS token_expires_at, "
    "u.id AS user_found, u.role AS user_role, u.disabled_at AS user_disabled_at "
    "FROM sessions s "
    "LEFT JOIN api_tokens t ON t.id = s.token_id AND t.organization_id = s.organization_id "
    "LEFT JOIN users u ON u.id = s.user_id AND u.organization_id = s.organization_id "
    "WHERE s.secret_hash = {}"
)


def _role(row: dict[str, Any], now: datetime) -> Role | None:
    """The role a session acts with now, or ``None`` when it no longer works."""
    expires_at = utc(row["expires_at"])
    if row["revoked_at"] is not None or expires_at is None or expires_at <= now:
        return None
    roles: list[str] = []
    if row["token_id"] is not None:
        token_expires = utc(row["token_expires_at"])
        if row["token_found"] is None or row["token_revoked_at"] is not None:
            return None
        if token_expires is not None and token_expires <= now:
            return None
        roles.append(row["token_role"])
    if row["user_id"] is not None:
        if row["user_found"] is None or row["user_disabled_at"] is not None:
            return None
        roles.append(row["user_role"])
    return lower_role(*roles)


async def find_session(db: Database, clock: Clock, secret: str) -> SignedIn | None:
    """The live session whose cookie secret is ``secret``, or ``None``.

    Found by the secret's hash (a lookup reveals nothing about the secret), then
    checked against its token and user as they are now.
    """
    if not secret:
        return None
    digest = _hash(secret)
    rows = await db.execute(_FIND, digest)
    if not rows or not hmac.compare_digest(rows[0]["secret_hash"], digest):
        return None
    row = rows[0]
    now = clock.now()
    role = _role(row, now)
    expires_at = utc(row["expires_at"])
    if role is None or expires_at is None:
        return None
    last_seen = utc(row["last_seen_at"])
    if last_seen is None or now - last_seen > _TOUCH_EVERY:
        await db.execute("UPDATE sessions SET last_seen_at = {} WHERE id = {}", now, row["id"])
    return SignedIn(
        session_id=row["id"],
        organization_id=row["organization_id"],
        role=role,
        user_id=row["user_id"],
        token_id=row["token_id"],
        expires_at=expires_at,
    )


async def end_session(db: Database, clock: Clock, secret: str) -> None:
    """Sign out: the session with this cookie secret stops working, whatever its state."""
    if not secret:
        return
    await db.execute(
        "UPDATE sessions SET revoked_at = {} WHERE secret_hash = {} AND revoked_at IS NULL",
        clock.now(),
        _hash(secret),
    )

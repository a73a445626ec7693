"""API tokens of one organization: created once in plain text, stored only as a hash.

A token of a user never acts above that user's current role (:func:`authenticate`
reads both in one query), and stops working when the user is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import msgspec

from aisle.clock import Clock
from aisle.domain.api_token import ApiToken
from aisle.domain.user import ROLES, Role
from aisle.storage.database import Database
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import from_row
from aisle.storage.scoped import Scoped
from aisle.storage.sessions import SessionTable, lower_role
from aisle.storage.tables import ApiTokenTable as T

__all__ = [
    "TOKEN_PREFIX",
    "TokenRepository",
    "authenticate",
    "hash_token",
    "token_from_row",
]

_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at precision; spares a write per request

TOKEN_PREFIX = "aisle_"  # noqa: S105 (a visible prefix, not a secret)


def hash_token(plaintext: str) -> str:
    """SHA-256 of a token: tokens carry 256 random bits, so no slow hash is needed."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def token_from_row(row: dict[str, Any]) -> ApiToken:
    return from_row(ApiToken, T, row)


_AUTHENTICATE = (
    "SELECT t.id, t.organization_id, t.name, t.role, t.prefix, t.user_id, t.token_hash, "
    "t.created_at, t.last_used_at, t.expires_at, t.revoked_at, "
    "u.id AS user_found, u.role AS user_role, u.disabled_at AS user_disabled_at "
    "FROM api_tokens t "
    "LEFT JOIN users u ON u.id = t.user_id AND u.organization_id = t.organization_id "
    "WHERE t.token_hash = {}"
)


async def authenticate(db: Database, clock: Clock, plaintext: str) -> ApiToken | None:
    """The usable token with this plain text, or ``None`` (unknown, revoked, expired,
    or its user disabled or gone). Its ``role`` is the one it acts with now: its own,
    or its user's current role if that is lower.

    The token is found by its SHA-256 through the unique index: how long the lookup
    takes depends on the hash, which tells a guesser nothing about any token.
    """
    if not plaintext:
        return None
    digest = hash_token(plaintext)
    rows = await db.execute(_AUTHENTICATE, digest)
    if not rows or not hmac.compare_digest(rows[0]["token_hash"], digest):
        return None
    row = rows[0]
    token = token_from_row(row)
    now = clock.now()
    if not token.usable(now):
        return None
    role: Role | None = token.role
    if token.user_id is not None:
        if row["user_found"] is None or row["user_disabled_at"] is not None:
            return None
        role = lower_role(token.role, row["user_role"])
    if role is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        await db.execute("UPDATE api_tokens SET last_used_at = {} WHERE id = {}", now, token.id)
    return msgspec.structs.replace(token, role=role)


class TokenRepository(Scoped):
    table = T
    kind = "API token"

    async def create(
        self,
        *,
        name: str,
        role: Role,
        user_id: str | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token; the plain text is returned here and never again."""
        if role not in ROLES:
            raise ValueError(f"role: {role!r} is not one of {', '.join(ROLES)}")
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
        rows = await T.insert(
            self._row(
                id=new_id(),
                user_id=user_id,
                name=name,
                role=role,
                prefix=plaintext[: len(TOKEN_PREFIX) + 6],
                token_hash=hash_token(plaintext),
                created_at=self.clock.now(),
                expires_at=expires_at,
            )
        ).returning(*T.all_columns())
        return token_from_row(rows[0]), plaintext

    async def get(self, token_id: str) -> ApiToken:
        row = await self._first(T.id == token_id)
        if row is None:
            raise NotFound("API token", token_id)
        return token_from_row(row)

    async def list(self, *, include_revoked: bool = False) -> list[ApiToken]:
        query = self._select(None if include_revoked else T.revoked_at.is_null())
        return [token_from_row(r) for r in await query.order_by(T.created_at)]

    async def revoke(self, token_id: str) -> ApiToken:
        """Revoke a token; the sessions signed in with it end with it."""
        now = self.clock.now()
        rows = await self._update({T.revoked_at: now}, T.id == token_id).returning(*T.all_columns())
        if not rows:
            raise NotFound("API token", token_id)
        S = SessionTable
        await self._update(
            {S.revoked_at: now}, S.token_id == token_id, S.revoked_at.is_null(), table=S
        )
        return token_from_row(rows[0])

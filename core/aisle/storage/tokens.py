"""API tokens of one organization: created once in plain text, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from aisle.domain.api_token import ApiToken
from aisle.domain.user import ROLES, Role
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import utc
from aisle.storage.scoped import Scoped
from aisle.storage.tables import ApiTokenTable as T

__all__ = ["TOKEN_PREFIX", "TokenRepository", "hash_token", "token_from_row"]

TOKEN_PREFIX = "aisle_"  # noqa: S105 (a visible prefix, not a secret)


def hash_token(plaintext: str) -> str:
    """SHA-256 of a token: tokens carry 256 random bits, so no slow hash is needed."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def token_from_row(row: dict[str, Any]) -> ApiToken:
    return ApiToken(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["name"],
        role=row["role"],
        prefix=row["prefix"],
        user_id=row["user_id"],
        created_at=utc(row["created_at"]),
        last_used_at=utc(row["last_used_at"]),
        expires_at=utc(row["expires_at"]),
        revoked_at=utc(row["revoked_at"]),
    )


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
        rows = await self._update({T.revoked_at: self.clock.now()}, T.id == token_id).returning(
            *T.all_columns()
        )
        if not rows:
            raise NotFound("API token", token_id)
        return token_from_row(rows[0])

"""Operator tokens: the SaaS operator's bearer credentials for the organizations API.

They belong to no organization (they create organizations), so this repository is not
scoped. Like API tokens they carry 256 random bits, are shown once and stored only as
a SHA-256 hash; ``aisle operator token create`` makes one, with direct access to the
database being what makes someone the operator.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import msgspec
from piccolo.columns import Text, Timestamptz
from piccolo.table import Table

from aisle.clock import Clock
from aisle.storage.database import Database, register_tables
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import from_row
from aisle.storage.tokens import hash_token

__all__ = [
    "OPERATOR_TOKEN_PREFIX",
    "OperatorToken",
    "OperatorTokenRepository",
    "OperatorTokenTable",
]

OPERATOR_TOKEN_PREFIX = "aisle_op_"  # noqa: S105 (a visible prefix, not a secret)

_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at precision, as for API tokens


class OperatorTokenTable(Table, tablename="operator_tokens"):
    id = Text(primary_key=True)
    name = Text()
    prefix = Text()
    token_hash = Text(unique=True)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


register_tables(OperatorTokenTable)

T = OperatorTokenTable


class OperatorToken(msgspec.Struct, frozen=True, kw_only=True):
    """An operator token as stored (its hash is never read back out)."""

    id: str
    name: str
    prefix: str
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def _token(row: dict[str, Any]) -> OperatorToken:
    return from_row(OperatorToken, T, row)


_SHOWN = (T.id, T.name, T.prefix, T.created_at, T.last_used_at, T.revoked_at)


class OperatorTokenRepository:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def create(self, *, name: str) -> tuple[OperatorToken, str]:
        """A new operator token; the plain text is returned here and never again."""
        plaintext = OPERATOR_TOKEN_PREFIX + secrets.token_urlsafe(32)
        rows = await T.insert(
            T(
                id=new_id(),
                name=name,
                prefix=plaintext[: len(OPERATOR_TOKEN_PREFIX) + 6],
                token_hash=hash_token(plaintext),
                created_at=self.clock.now(),
            )
        ).returning(*_SHOWN)
        return _token(rows[0]), plaintext

    async def list(self, *, include_revoked: bool = False) -> list[OperatorToken]:
        query = T.select(*_SHOWN)
        if not include_revoked:
            query = query.where(T.revoked_at.is_null())
        return [_token(r) for r in await query.order_by(T.created_at)]

    async def revoke(self, token_id: str) -> OperatorToken:
        rows = await (
            T.update({T.revoked_at: self.clock.now()})
            .where((T.id == token_id) & T.revoked_at.is_null())
            .returning(*_SHOWN)
        )
        if not rows:
            raise NotFound("operator token", token_id)
        return _token(rows[0])

    async def authenticate(self, plaintext: str) -> OperatorToken | None:
        """The unrevoked operator token with this plain text, or ``None``."""
        if not plaintext.startswith(OPERATOR_TOKEN_PREFIX):
            return None
        row = await T.select(*_SHOWN).where(T.token_hash == hash_token(plaintext)).first()
        if row is None or row["revoked_at"] is not None:
            return None
        token = _token(row)
        now = self.clock.now()
        if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
            await T.update({T.last_used_at: now}).where(T.id == token.id)
        return token

"""Users of one organization, with their role and (hashed) password.

Access follows a user's current standing: a role change ends their sign-in sessions,
and disabling them also revokes their API tokens (their tokens act no higher than
their role in any case, see :func:`aisle.storage.tokens.authenticate`).
"""

from __future__ import annotations

from typing import Any

from aisle.domain.user import ROLES, Role, User
from aisle.storage.errors import Conflict, NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import from_row
from aisle.storage.scoped import Scoped
from aisle.storage.sessions import SessionTable
from aisle.storage.tables import ApiTokenTable
from aisle.storage.tables import UserTable as T

__all__ = ["UserRepository"]


def _user(row: dict[str, Any]) -> User:
    return from_row(User, T, row)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role: {role!r} is not one of {', '.join(ROLES)}")


class UserRepository(Scoped):
    table = T
    kind = "user"

    async def create(
        self, *, email: str, role: Role, name: str = "", password_hash: str | None = None
    ) -> User:
        _check_role(role)
        rows = await (
            T.insert(
                self._row(
                    id=new_id(),
                    email=email.strip().lower(),
                    name=name,
                    role=role,
                    password_hash=password_hash,
                    created_at=self.clock.now(),
                )
            )
            .on_conflict(target=(T.organization_id, T.email), action="DO NOTHING")
            .returning(*T.all_columns())
        )
        if not rows:
            raise Conflict(f"a user with email {email!r} already exists", field="email")
        return _user(rows[0])

    async def get(self, user_id: str) -> User:
        row = await self._first(T.id == user_id)
        if row is None:
            raise NotFound("user", user_id)
        return _user(row)

    async def by_email(self, email: str) -> User | None:
        row = await self._first(T.email == email.strip().lower())
        return _user(row) if row else None

    async def list(self) -> list[User]:
        return [_user(r) for r in await self._select().order_by(T.email)]

    async def set_role(self, user_id: str, role: Role) -> User:
        """Change a user's role; when it changes, their sessions end (they sign in again
        with the new one)."""
        _check_role(role)
        rows = await self._update({T.role: role}, T.id == user_id, T.role != role).returning(
            *T.all_columns()
        )
        if not rows:
            return await self.get(user_id)  # unchanged (or NotFound)
        await self._end_sessions(user_id)
        return _user(rows[0])

    async def _end_sessions(self, user_id: str) -> None:
        S = SessionTable
        await self._update(
            {S.revoked_at: self.clock.now()}, S.user_id == user_id, S.revoked_at.is_null(), table=S
        )

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        rows = await self._update({T.password_hash: password_hash}, T.id == user_id).returning(T.id)
        if not rows:
            raise NotFound("user", user_id)

    async def password_hash(self, email: str) -> tuple[User, str | None] | None:
        """The user and stored hash for a sign-in attempt (``None``: no such user)."""
        row = await self._first(T.email == email.strip().lower())
        if row is None:
            return None
        return _user(row), row["password_hash"]

    async def disable(self, user_id: str) -> User:
        """Disable a user: their API tokens are revoked and their sessions end with it."""
        now = self.clock.now()
        rows = await self._update({T.disabled_at: now}, T.id == user_id).returning(*T.all_columns())
        if not rows:
            raise NotFound("user", user_id)
        A = ApiTokenTable
        await self._update(
            {A.revoked_at: now}, A.user_id == user_id, A.revoked_at.is_null(), table=A
        )
        await self._end_sessions(user_id)
        return _user(rows[0])

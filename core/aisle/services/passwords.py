"""Users' sign-in passwords, kept as argon2id hashes (RFC 9106's second recommended
profile: 64 MiB, 3 passes, 4 lanes — argon2-cffi's defaults).

A password is never stored, logged or echoed; only its hash reaches the ``users``
table. Hashing costs tens of milliseconds of CPU by design, so it runs off the event
loop. Setting a password ends the user's sign-in sessions: whoever had one signs in
again with the new password.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from aisle.contracts.log import LogKind
from aisle.domain.user import User
from aisle.services.errors import FieldError, Refused
from aisle.services.roles import Actor, ensure_may_manage
from aisle.storage.sessions import SessionRepository
from aisle.storage.store import OrgScope, Store

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "Passwords",
    "check_password",
    "hash_password",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()
# Verified against when the account has no password, so an unknown email costs what a
# wrong password costs and the time taken tells nothing about who has an account.
_DUMMY_HASH = _hasher.hash("aisle: no such account")


def check_password(password: str) -> None:
    """Refuse (422, naming ``password``) a password too short or too long to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        problem = f"use at least {MIN_PASSWORD_LENGTH} characters"
    elif len(password) > MAX_PASSWORD_LENGTH:
        problem = f"use at most {MAX_PASSWORD_LENGTH} characters"
    else:
        return
    raise Refused(
        422,
        f"password: {problem}",
        errors=[FieldError(field="password", message=problem)],
    )


async def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (encoded with its salt and parameters)."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; a missing or malformed hash never does,
    and takes as long as a wrong password to say so."""
    return await asyncio.to_thread(_verify, stored, password)


def _verify(stored: str | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


class Passwords:
    """Sets passwords of the users of ``scope``, as ``actor``; owns the transaction."""

    def __init__(self, store: Store, scope: OrgScope, actor: Actor) -> None:
        self.store = store
        self.scope = scope
        self.actor = actor

    async def set_password(self, user_id: str, password: str) -> User:
        """Set a user's password: their own, or (an admin's act) anyone's up to the
        actor's role. Their sessions end; the log says who set it, never what."""
        user = await self.scope.users.get(user_id)
        if user.id != self.actor.user_id:
            ensure_may_manage(self.actor, user.role, "setting another user's password")
        check_password(password)
        password_hash = await hash_password(password)
        sessions = SessionRepository(self.scope.org_id, self.store.db, self.store.clock)
        async with self.store.transaction():
            await self.scope.users.set_password_hash(user.id, password_hash)
            await sessions.end_for_user(user.id)
            await self.scope.log.append(
                LogKind.USER_PASSWORD_SET,
                actor=self.actor.actor,
                message=f"password of {user.email} set; their sessions ended",
                data={"user_id": user.id},
            )
        return user

"""Sign-in sessions (the dashboard's): a user's email and password, or an API token,
exchanged for a server-side session named by a random secret, looked up on every
request, ended on sign-out.

The session lives in the ``sessions`` table, which keeps only the secret's hash; every
lookup re-checks the token or user behind it, so revoking the token, disabling the user
or changing their role ends the session at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aisle.domain.organization import Organization
from aisle.domain.user import Role, User
from aisle.services.passwords import verify_password
from aisle.storage.errors import NotFound
from aisle.storage.sessions import SessionRepository
from aisle.storage.store import OrgScope, Store

__all__ = ["PasswordSignIn", "Session", "SignIns"]


@dataclass(frozen=True, kw_only=True)
class Session:
    """A live session: its organization, the role it acts with now, and the scope its
    pages read through."""

    organization: Organization
    role: Role
    scope: OrgScope
    user_id: str | None = None
    token_id: str | None = None

    @property
    def actor(self) -> str:
        """How the automation log names who acts through this session (as the API does)."""
        return f"user:{self.user_id}" if self.user_id else f"token:{self.token_id}"


@dataclass(frozen=True, kw_only=True)
class PasswordSignIn:
    """A password sign-in that went through: the session's secret for the cookie; or,
    when the password is that of accounts in several studios and none was chosen, those
    studios (no session yet: sign in again naming one)."""

    secret: str | None = None
    studios: tuple[Organization, ...] = ()


class SignIns:
    """Starts, finds and ends sessions; owns their transactions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def sign_in(self, token: str, *, lifetime: timedelta, replacing: str = "") -> str | None:
        """A new session for the usable API token ``token``: the secret for the cookie,
        or ``None`` when the token is unknown, revoked or expired. The session named by
        ``replacing`` (the one the browser brought) ends: a sign-in never reuses one."""
        store = self.store
        api_token = await store.system.authenticate(token)
        if api_token is None:
            return None
        async with store.transaction():
            await store.system.end_session(replacing)
            sessions = SessionRepository(api_token.organization_id, store.db, store.clock)
            _, secret = await sessions.start(
                lifetime=lifetime, token_id=api_token.id, user_id=api_token.user_id
            )
        return secret

    async def sign_in_with_password(
        self,
        email: str,
        password: str,
        *,
        lifetime: timedelta,
        studio: str = "",
        replacing: str = "",
    ) -> PasswordSignIn | None:
        """A session for the enabled user with this email and password (in the
        organization whose id is ``studio``, when given), or ``None`` when no such user
        has that password. ``replacing`` ends as in :meth:`sign_in`."""
        matched: list[User] = []
        candidates = await self.store.system.password_users(email)
        if not candidates:
            await verify_password(None, password)  # the same time as a wrong password
        for user, password_hash in candidates:
            if (not studio or user.organization_id == studio) and await verify_password(
                password_hash, password
            ):
                matched.append(user)
        if not matched:
            return None
        if len(matched) > 1:
            studios = [await self.store.organizations.get(u.organization_id) for u in matched]
            return PasswordSignIn(studios=tuple(studios))
        user = matched[0]
        store = self.store
        async with store.transaction():
            await store.system.end_session(replacing)
            sessions = SessionRepository(user.organization_id, store.db, store.clock)
            _, secret = await sessions.start(lifetime=lifetime, user_id=user.id)
        return PasswordSignIn(secret=secret)

    async def find(self, secret: str) -> Session | None:
        """The live session with this secret, or ``None`` (unknown, ended, expired, or
        its organization gone)."""
        found = await self.store.system.session(secret)
        if found is None:
            return None
        try:
            organization = await self.store.organizations.get(found.organization_id)
        except NotFound:
            return None
        return Session(
            organization=organization,
            role=found.role,
            scope=self.store.for_org(organization),
            user_id=found.user_id,
            token_id=found.token_id,
        )

    async def end(self, secret: str) -> None:
        """Sign out: the session stops working, for every copy of its cookie."""
        await self.store.system.end_session(secret)

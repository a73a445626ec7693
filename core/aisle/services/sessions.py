"""Sign-in sessions (the dashboard's): an API token exchanged for a server-side session
named by a random secret, looked up on every request, ended on sign-out.

The session lives in the ``sessions`` table, which keeps only the secret's hash; every
lookup re-checks the token or user behind it, so revoking the token, disabling the user
or changing their role ends the session at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aisle.domain.organization import Organization
from aisle.domain.user import Role
from aisle.storage.errors import NotFound
from aisle.storage.sessions import SessionRepository
from aisle.storage.store import OrgScope, Store

__all__ = ["Session", "SignIns"]


@dataclass(frozen=True, kw_only=True)
class Session:
    """A live session: its organization, the role it acts with now, and the scope its
    pages read through."""

    organization: Organization
    role: Role
    scope: OrgScope


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
            organization=organization, role=found.role, scope=self.store.for_org(organization)
        )

    async def end(self, secret: str) -> None:
        """Sign out: the session stops working, for every copy of its cookie."""
        await self.store.system.end_session(secret)

"""Cross-organization access for authentication and the scheduler, and nothing else.

Requests reach data only through ``Store.for_org``; these few lookups exist because
they start from something that is not yet tied to an organization (a bearer token,
the clock), and each returns the organization id so the caller continues in scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aisle.clock import Clock
from aisle.domain.api_token import ApiToken
from aisle.domain.user import User
from aisle.storage.database import Database
from aisle.storage.rows import from_row
from aisle.storage.sessions import SignedIn, end_session, find_session
from aisle.storage.tables import ContactTable, EnrollmentTable, EventTable, UserTable
from aisle.storage.tokens import authenticate

__all__ = ["DueEnrollment", "PendingEvent", "SystemAccess"]


@dataclass(frozen=True)
class DueEnrollment:
    enrollment_id: str
    organization_id: str
    contact_id: str


@dataclass(frozen=True)
class PendingEvent:
    event_id: str
    organization_id: str
    contact_id: str | None


class SystemAccess:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def authenticate(self, plaintext: str) -> ApiToken | None:
        """The usable token with this plain text, its ``role`` the one it acts with now
        (never above its user's), or ``None`` (unknown, revoked, expired, user disabled)."""
        return await authenticate(self.db, self.clock, plaintext)

    async def session(self, secret: str) -> SignedIn | None:
        """The live sign-in session with this cookie secret, or ``None``."""
        return await find_session(self.db, self.clock, secret)

    async def end_session(self, secret: str) -> None:
        """Sign out the session with this cookie secret (a copy of the cookie dies too)."""
        await end_session(self.db, self.clock, secret)

    async def password_users(self, email: str) -> list[tuple[User, str]]:
        """The enabled users with this email and a password, in any organization, each
        with its password hash: a password sign-in names no studio until it succeeds."""
        rows = await self.db.execute(
            "SELECT * FROM users WHERE email = {} AND disabled_at IS NULL "
            "AND password_hash IS NOT NULL ORDER BY created_at, id",
            email.strip().lower(),
        )
        return [(from_row(User, UserTable, row), row["password_hash"]) for row in rows]

    async def next_due_enrollment(
        self, *, skip: set[str] | frozenset[str] = frozenset()
    ) -> DueEnrollment | None:
        """One active enrollment whose wake-up is due, locked for this transaction.

        Call inside ``store.transaction()``. On PostgreSQL the row is taken ``FOR
        UPDATE SKIP LOCKED`` so several schedulers share the work; ``skip`` excludes
        ones this pass already gave up on.
        """
        T = EnrollmentTable
        now = self.clock.now()
        where = (T.status == "active") & (T.wake_at <= now)
        if skip:
            where = where & T.id.not_in(list(skip))
        query = (
            T.select(T.id, T.organization_id, T.contact_id)
            .where(where)
            .order_by(T.wake_at)
            .limit(1)
        )
        if self.db.is_postgres:
            query = query.lock_rows("UPDATE", skip_locked=True)
        row = await query.first()
        if row is None:
            return None
        return DueEnrollment(row["id"], row["organization_id"], row["contact_id"])

    async def try_lock_contact(self, contact_id: str) -> bool:
        """Lock a contact row unless someone holds it (PostgreSQL); SQLite: always True."""
        if not self.db.is_postgres:
            return True
        T = ContactTable
        row = await (
            T.select(T.id).where(T.id == contact_id).lock_rows("UPDATE", skip_locked=True).first()
        )
        return row is not None

    async def pending_events(self, *, older_than: float, limit: int) -> list[PendingEvent]:
        """Accepted events still pending after ``older_than`` seconds (a crash, a restart)."""
        T = EventTable
        cutoff = self.clock.now() - timedelta(seconds=older_than)
        rows = await (
            T.select(T.id, T.organization_id, T.contact_id)
            .where((T.status == "pending") & (T.received_at <= cutoff))
            .order_by(T.received_at)
            .limit(limit)
        )
        return [PendingEvent(r["id"], r["organization_id"], r["contact_id"]) for r in rows]

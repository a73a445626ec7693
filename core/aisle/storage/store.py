"""The entry point to persistence: :class:`Store`, and :class:`OrgScope` per organization.

store = await Store.open(settings)
scope = store.for_org(org_id)
async with store.transaction():
    contact = await scope.contacts.create(Contact(email="a@b.c"))
    await scope.log.append(LogKind.CONTACT_CREATED, contact_id=contact.id)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aisle.clock import Clock, SystemClock
from aisle.domain.organization import Organization
from aisle.settings import Settings
from aisle.storage.action_runs import ActionRunRepository
from aisle.storage.automation_log import LogRepository
from aisle.storage.conflicts import ConflictRepository
from aisle.storage.contacts import ContactRepository
from aisle.storage.crm import CRMConnectionRepository, SyncRunRepository
from aisle.storage.database import Database, connect
from aisle.storage.enrollments import EnrollmentRepository
from aisle.storage.events import EventRepository
from aisle.storage.executor_memory import ExecutorMemoryRepository
from aisle.storage.journeys import JourneyRepository
from aisle.storage.messages import MessageRepository
from aisle.storage.migrate import run_migrations
from aisle.storage.operator_tokens import OperatorTokenRepository
from aisle.storage.organizations import OrganizationRepository
from aisle.storage.outbox import Outbox
from aisle.storage.studio_secrets import StudioSecretRepository
from aisle.storage.system import SystemAccess
from aisle.storage.tasks import TaskRepository
from aisle.storage.tokens import TokenRepository
from aisle.storage.users import UserRepository

__all__ = ["OrgScope", "Store"]


class OrgScope:
    """Every repository of one organization. Nothing here can reach another's rows."""

    def __init__(self, org_id: str, db: Database, clock: Clock) -> None:
        self.org_id = org_id
        self.users = UserRepository(org_id, db, clock)
        self.tokens = TokenRepository(org_id, db, clock)
        self.contacts = ContactRepository(org_id, db, clock)
        self.journeys = JourneyRepository(org_id, db, clock)
        self.enrollments = EnrollmentRepository(org_id, db, clock)
        self.events = EventRepository(org_id, db, clock)
        self.action_runs = ActionRunRepository(org_id, db, clock)
        self.tasks = TaskRepository(org_id, db, clock)
        self.log = LogRepository(org_id, db, clock)
        self.conflicts = ConflictRepository(org_id, db, clock)
        self.crm_connections = CRMConnectionRepository(org_id, db, clock)
        self.sync_runs = SyncRunRepository(org_id, db, clock)
        self.executor_memory = ExecutorMemoryRepository(org_id, db, clock)
        self.messages = MessageRepository(org_id, db, clock)
        self.secrets = StudioSecretRepository(org_id, db, clock)

    def __repr__(self) -> str:
        return f"OrgScope({self.org_id!r})"


class Store:
    """A connected database plus the clock every stored timestamp comes from."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.organizations = OrganizationRepository(db, self.clock)
        self.operator_tokens = OperatorTokenRepository(db, self.clock)
        self.system = SystemAccess(db, self.clock)
        self.outbox = Outbox(db, self.clock)

    @classmethod
    async def open(
        cls, settings: Settings, *, clock: Clock | None = None, migrate: bool = True
    ) -> Store:
        """Connect (with a pool on PostgreSQL) and, by default, apply pending migrations."""
        db = await connect(settings)
        if migrate:
            await run_migrations(db)
        return cls(db, clock)

    def for_org(self, org: str | Organization) -> OrgScope:
        """The repositories of one organization (an id or an :class:`Organization`)."""
        org_id = org.id if isinstance(org, Organization) else org
        return OrgScope(org_id, self.db, self.clock)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One write transaction (SQLite: IMMEDIATE; PostgreSQL: a pooled connection)."""
        async with self.db.transaction():
            yield

    async def close(self) -> None:
        await self.db.close()

"""Organizations (tenants): the one table that is not scoped, since it defines scopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aisle.clock import Clock
from aisle.contracts.log import LogKind
from aisle.domain.api_token import ApiToken
from aisle.domain.organization import Organization
from aisle.storage.automation_log import LogRepository
from aisle.storage.database import Database
from aisle.storage.errors import Conflict, NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.tables import OrganizationTable as T
from aisle.storage.tokens import TokenRepository

__all__ = ["NewStudio", "OrganizationRepository"]


@dataclass(frozen=True)
class NewStudio:
    """A studio just opened, with its first owner token (``token``: shown once)."""

    organization: Organization
    owner_token: ApiToken
    token: str

    def __repr__(self) -> str:  # the token never reaches a log line
        return f"NewStudio({self.organization.slug!r}, owner_token={self.owner_token.id!r})"


def _organization(row: dict[str, Any]) -> Organization:
    return from_row(Organization, T, row)


class OrganizationRepository:
    """Create and look up studios. Everything inside one goes through ``Store.for_org``."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def create(
        self,
        *,
        slug: str,
        name: str,
        timezone: str = "UTC",
        settings: dict[str, Any] | None = None,
    ) -> Organization:
        rows = (
            await T.insert(
                T(
                    id=new_id(),
                    slug=slug,
                    name=name,
                    timezone=timezone,
                    settings=dump(settings or {}),
                    created_at=self.clock.now(),
                )
            )
            .on_conflict(target=T.slug, action="DO NOTHING")
            .returning(*T.all_columns())
        )
        if not rows:
            raise Conflict(f"organization slug {slug!r} is taken", field="slug")
        return _organization(rows[0])

    async def open_studio(
        self, *, slug: str, name: str, timezone: str = "UTC", actor: str = "system"
    ) -> NewStudio:
        """Create a studio and its first owner token, logged, in one transaction.

        :raises Conflict: naming ``slug`` when it is taken.
        """
        async with self.db.transaction():
            org = await self.create(slug=slug, name=name, timezone=timezone)
            token, plaintext = await TokenRepository(org.id, self.db, self.clock).create(
                name="first owner", role="owner"
            )
            await LogRepository(org.id, self.db, self.clock).append(
                LogKind.ORGANIZATION_CREATED,
                actor=actor,
                message=f"studio {slug!r} opened with owner token {token.prefix}…",
                data={"token_id": token.id},
            )
        return NewStudio(organization=org, owner_token=token, token=plaintext)

    async def get(self, org_id: str) -> Organization:
        row = await T.select().where(T.id == org_id).first()
        if row is None:
            raise NotFound("organization", org_id)
        return _organization(row)

    async def by_slug(self, slug: str) -> Organization | None:
        row = await T.select().where(T.slug == slug).first()
        return _organization(row) if row else None

    async def list(self) -> list[Organization]:
        rows = await T.select().order_by(T.slug)
        return [_organization(r) for r in rows]

    async def update(
        self,
        org_id: str,
        *,
        name: str | None = None,
        timezone: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Organization:
        """Change name, timezone or settings (``settings`` replaces the whole mapping)."""
        values: dict[Any, Any] = {}
        if name is not None:
            values[T.name] = name
        if timezone is not None:
            values[T.timezone] = timezone
        if settings is not None:
            values[T.settings] = dump(settings)
        if not values:
            return await self.get(org_id)
        rows = await T.update(values).where(T.id == org_id).returning(*T.all_columns())
        if not rows:
            raise NotFound("organization", org_id)
        return _organization(rows[0])

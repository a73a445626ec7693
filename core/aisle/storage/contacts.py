"""Contacts (couples) of one organization, soft-deleted, findable by CRM external id."""

from __future__ import annotations

from typing import Any

import msgspec

from aisle.domain.contact import Contact
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import ContactExternalIdTable as X
from aisle.storage.tables import ContactTable as T

__all__ = ["ContactRepository", "contact_from_row"]


def contact_from_row(row: dict[str, Any]) -> Contact:
    return from_row(Contact, T, row)


def _columns(contact: Contact) -> dict[str, Any]:
    return {
        "email": contact.email,
        "phone": contact.phone,
        "partners": dump(contact.partners),
        "wedding_date": contact.wedding_date,
        "venue": contact.venue,
        "timezone": contact.timezone,
        "custom": dump(contact.custom),
        "external_ids": dump(contact.external_ids),
        "search_text": _search_text(contact),
    }


def _search_text(contact: Contact) -> str:
    # One lower-cased column makes search portable (SQLite has no ILIKE, and JSON
    # columns cannot be matched as text on PostgreSQL).
    parts = [contact.email or "", contact.phone or "", contact.venue or ""]
    for partner in contact.partners:
        parts += [partner.first_name, partner.last_name, partner.email or ""]
    return " ".join(p for p in parts if p).lower()


class ContactRepository(Scoped):
    """Plain storage. Changing a wedding date goes through the runtime, which asks for
    confirmation and recomputes wake-ups; :meth:`save` does neither."""

    table = T
    kind = "contact"

    async def create(self, contact: Contact) -> Contact:
        """Store a new contact (``contact.id`` is assigned when empty)."""
        contact = msgspec.structs.replace(contact, id=contact.id or new_id())
        now = self.clock.now()
        async with self.db.transaction():
            await self._insert(id=contact.id, created_at=now, updated_at=now, **_columns(contact))
            await self._write_external_ids(contact)
        return contact

    async def get(self, contact_id: str, *, include_deleted: bool = False) -> Contact:
        row = await self._first(
            T.id == contact_id, None if include_deleted else T.deleted_at.is_null()
        )
        if row is None:
            raise NotFound("contact", contact_id)
        return contact_from_row(row)

    async def find(self, contact_id: str) -> Contact | None:
        row = await self._first(T.id == contact_id, T.deleted_at.is_null())
        return contact_from_row(row) if row else None

    async def list(
        self,
        *,
        limit: int = 50,
        after: str | None = None,
        search: str | None = None,
        include_deleted: bool = False,
    ) -> list[Contact]:
        """Oldest first; ``after`` is the last id of the previous page."""
        conditions: list[Any] = [
            None if include_deleted else T.deleted_at.is_null(),
            T.id > after if after else None,
        ]
        if search:
            escaped = search.lower().replace("%", "").replace("_", "")
            conditions.append(T.search_text.like(f"%{escaped}%"))
        rows = await self._select(*conditions).order_by(T.id).limit(limit)
        return [contact_from_row(r) for r in rows]

    async def save(self, contact: Contact) -> Contact:
        """Replace a contact's fields."""
        async with self.db.transaction():
            rows = await self._update(
                {
                    **{getattr(T, k): v for k, v in _columns(contact).items()},
                    T.updated_at: self.clock.now(),
                },
                T.id == contact.id,
                T.deleted_at.is_null(),
            ).returning(T.id)
            if not rows:
                raise NotFound("contact", contact.id)
            await self._write_external_ids(contact)
        return contact

    async def soft_delete(self, contact_id: str) -> None:
        rows = await self._update(
            {T.deleted_at: self.clock.now()}, T.id == contact_id, T.deleted_at.is_null()
        ).returning(T.id)
        if not rows:
            raise NotFound("contact", contact_id)

    async def restore(self, contact_id: str) -> Contact:
        rows = await self._update(
            {T.deleted_at: None}, T.id == contact_id, T.deleted_at.is_not_null()
        ).returning(*T.all_columns())
        if not rows:
            raise NotFound("deleted contact", contact_id)
        return contact_from_row(rows[0])

    async def by_external_id(self, provider: str, external_id: str) -> Contact | None:
        row = await self._first(X.provider == provider, X.external_id == external_id, table=X)
        if row is None:
            return None
        return await self.find(row["contact_id"])

    async def lock(self, contact_id: str) -> Contact | None:
        """Serialize processing for one contact until the transaction ends, and read it.

        PostgreSQL: ``SELECT … FOR UPDATE`` on the contact row. SQLite: the IMMEDIATE
        transaction already holds the database write lock. Returns the contact
        (``None`` when it does not exist here or is deleted).
        """
        if not self.db.in_transaction:
            raise RuntimeError("ContactRepository.lock() must run inside store.transaction()")
        query = self._select(T.id == contact_id)
        if self.db.is_postgres:
            query = query.lock_rows("UPDATE")
        row = await query.first()
        if row is None or row["deleted_at"] is not None:
            return None
        return contact_from_row(row)

    async def count(self) -> int:
        return int(await T.count().where(self._where(T.deleted_at.is_null())))

    async def _write_external_ids(self, contact: Contact) -> None:
        await self._delete(X.contact_id == contact.id, table=X)
        for provider, external_id in contact.external_ids.items():
            await self._insert(
                X, contact_id=contact.id, provider=provider, external_id=str(external_id)
            )

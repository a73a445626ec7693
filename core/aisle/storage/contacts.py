"""Contacts (couples) of one organization, soft-deleted, findable by CRM external id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from aisle.domain.contact import Contact
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.membership import one_of, one_of_sql
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import ContactExternalIdTable as X
from aisle.storage.tables import ContactTable as T
from aisle.storage.tables import EnrollmentTable as E

__all__ = ["BATCH_ROWS", "ContactRepository", "contact_from_row"]

V = TypeVar("V")

BATCH_ROWS = 500
"""Rows per multi-row statement: 14 parameters a row stays far below SQLite's and
asyncpg's parameter limits (32,766 and 32,767)."""


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


_COLUMN_NAMES = tuple(_columns(Contact()))
"""The contact's own columns in the order :func:`_columns` gives them."""


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

    async def find_many(
        self,
        *,
        ids: Sequence[str] = (),
        emails: Sequence[str] = (),
        external: tuple[str, Sequence[str]] | None = None,
    ) -> list[Contact]:
        """Live contacts with any of ``ids``, ``emails`` or ``external`` (a provider and
        its ids), one query per kind of key given, each contact once, oldest first."""
        found: dict[str, Contact] = {}
        conditions: list[Any] = []
        if ids:
            conditions.append(one_of(self.db, T.id, ids))
        if emails:
            conditions.append(one_of(self.db, T.email, emails))
        if external and external[1]:
            provider, external_ids = external
            linked = X.select(X.contact_id).where(
                self._where(
                    X.provider == provider, one_of(self.db, X.external_id, external_ids), table=X
                )
            )
            conditions.append(T.id.is_in(linked))
        for condition in conditions:
            for row in await self._select(condition, T.deleted_at.is_null()):
                found.setdefault(row["id"], contact_from_row(row))
        return sorted(found.values(), key=lambda c: c.id)

    async def insert_many(self, contacts: Sequence[Contact]) -> list[Contact]:
        """Store new contacts (ids assigned where empty): on PostgreSQL one statement
        (the contacts and their external ids from arrays), on SQLite multi-row ones."""
        stored = [msgspec.structs.replace(c, id=c.id or new_id()) for c in contacts]
        if not stored:
            return stored
        now = self.clock.now()
        if self.db.is_postgres:
            await self._insert_unnested(stored, now)
            return stored
        async with self.db.transaction():
            await self._write_rows(stored, now)
            await self._insert_external_ids(stored)
        return stored

    async def _insert_unnested(self, contacts: Sequence[Contact], now: datetime) -> None:
        # Arrays, not a VALUES list: one statement of the same text whatever the count,
        # so asyncpg prepares it once rather than planning thousands of parameters a page.
        rows = [_columns(c) for c in contacts]
        links = _external_links(contacts)
        await self.db.execute(
            "WITH inserted AS (INSERT INTO contacts (id, organization_id, email, phone, "
            "partners, wedding_date, venue, timezone, custom, external_ids, search_text, "
            "created_at, updated_at) "
            "SELECT i, {}::text, e, p, pa::jsonb, w, v, tz, cu::jsonb, x::jsonb, s, "
            "{}::timestamptz, {}::timestamptz "
            "FROM unnest({}::text[], {}::text[], {}::text[], {}::text[], {}::date[], "
            "{}::text[], {}::text[], {}::text[], {}::text[], {}::text[]) "
            "AS r(i, e, p, pa, w, v, tz, cu, x, s)) "
            "INSERT INTO contact_external_ids (organization_id, contact_id, provider, "
            "external_id) SELECT {}::text, c, pr, x "
            "FROM unnest({}::text[], {}::text[], {}::text[]) AS l(c, pr, x)",
            self.org_id,
            now,
            now,
            [c.id for c in contacts],
            *([row[name] for row in rows] for name in _COLUMN_NAMES),
            self.org_id,
            [link[0] for link in links],
            [link[1] for link in links],
            [link[2] for link in links],
        )

    async def update_many(self, contacts: Sequence[Contact]) -> list[Contact]:
        """Replace the fields of live contacts in multi-row statements.

        :raises NotFound: naming the first contact that is not live here; nothing is
            written then.
        """
        if not contacts:
            return []
        ids = [c.id for c in contacts]
        now = self.clock.now()
        async with self.db.transaction():
            live: set[str] = set()
            for id_chunk in _chunks(ids):
                query = self._select(T.id.is_in(list(id_chunk)), T.deleted_at.is_null())
                if self.db.is_postgres:
                    query = query.lock_rows("UPDATE")
                live.update(r["id"] for r in await query.columns(T.id))
            missing = next((i for i in ids if i not in live), None)
            if missing is not None:
                raise NotFound("contact", missing)
            await self._write_rows(contacts, now, replace=True)
            await self._write_external_ids_of(contacts)
        return list(contacts)

    async def enrolled(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are in a journey now (an active enrollment): a change to
        their dates, timezone or custom fields moves wake-ups, so it goes through the
        runtime, not :meth:`update_many`."""
        found: set[str] = set()
        for chunk in _chunks(list(dict.fromkeys(ids))):
            rows = await self._select(
                E.contact_id.is_in(list(chunk)), E.status == "active", table=E
            ).columns(E.contact_id)
            found.update(r["contact_id"] for r in rows)
        return found

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

    async def lock_many(self, ids: Sequence[str]) -> None:
        """:meth:`lock` for many contacts at once, in id order (two batches locking
        overlapping contacts queue instead of deadlocking). PostgreSQL only: SQLite's
        IMMEDIATE transaction already holds the write lock."""
        if not self.db.in_transaction:
            raise RuntimeError("ContactRepository.lock_many() must run in store.transaction()")
        if not self.db.is_postgres:
            return
        for chunk in _chunks(sorted(set(ids))):
            await (
                self._select(T.id.is_in(list(chunk)))
                .columns(T.id)
                .order_by(T.id)
                .lock_rows("UPDATE")
            )

    async def count(self) -> int:
        return int(await T.count().where(self._where(T.deleted_at.is_null())))

    async def _write_rows(
        self, contacts: Sequence[Contact], now: datetime, *, replace: bool = False
    ) -> None:
        # Hand-written SQL: piccolo builds a 500-row INSERT twenty times slower than the
        # database runs it. ``replace``: an upsert is the one multi-row UPDATE both
        # databases take; the caller checked every id is live here, so none is inserted.
        names = ["id", "organization_id", *_columns(Contact()), "created_at", "updated_at"]
        row = "(" + ", ".join("{}" for _ in names) + ")"
        suffix = ""
        if replace:
            kept = {"id", "organization_id", "created_at"}
            suffix = (
                " ON CONFLICT (id) DO UPDATE SET "
                + ", ".join(f"{n} = excluded.{n}" for n in names if n not in kept)
                + " WHERE contacts.organization_id = {} AND contacts.deleted_at IS NULL"
            )
        for chunk in _chunks(contacts):
            args: list[Any] = []
            for contact in chunk:
                args += [contact.id, self.org_id, *_columns(contact).values(), now, now]
            if replace:
                args.append(self.org_id)
            values = ", ".join(row for _ in chunk)
            await self.db.execute(
                f"INSERT INTO contacts ({', '.join(names)}) VALUES {values}{suffix}", *args
            )

    async def _write_external_ids_of(self, contacts: Sequence[Contact]) -> None:
        for id_chunk in _chunks([c.id for c in contacts]):
            among, ids = one_of_sql(self.db, "contact_id", id_chunk)
            await self.db.execute(
                "DELETE FROM contact_external_ids WHERE organization_id = {} AND " + among,
                self.org_id,
                *ids,
            )
        await self._insert_external_ids(contacts)

    async def _insert_external_ids(self, contacts: Sequence[Contact]) -> None:
        for chunk in _chunks(_external_links(contacts)):
            await self.db.execute(
                "INSERT INTO contact_external_ids (organization_id, contact_id, provider, "
                "external_id) VALUES " + ", ".join("({}, {}, {}, {})" for _ in chunk),
                *[v for link in chunk for v in (self.org_id, *link)],
            )

    async def _write_external_ids(self, contact: Contact) -> None:
        await self._delete(X.contact_id == contact.id, table=X)
        for provider, external_id in contact.external_ids.items():
            await self._insert(
                X, contact_id=contact.id, provider=provider, external_id=str(external_id)
            )


def _external_links(contacts: Sequence[Contact]) -> list[tuple[str, str, str]]:
    """``(contact id, provider, external id)`` of each contact's CRM ids."""
    return [
        (c.id, provider, str(external_id))
        for c in contacts
        for provider, external_id in c.external_ids.items()
    ]


def _chunks(items: Sequence[V]) -> list[Sequence[V]]:
    return [items[i : i + BATCH_ROWS] for i in range(0, len(items), BATCH_ROWS)]

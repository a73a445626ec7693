"""The pull engine: every pulled kind, page by page, mapped, validated and written in
batches.

Per page: one read of the links (remote id → contact, content hash), one of the linked
contacts, one multi-row insert for new couples and one for changed ones (a couple with
pending journey steps goes through the runtime, which recomputes its wake-ups). A
record whose mapped content hashes as last time is ``unchanged`` and costs no write; an
invalid record fails alone, with its reason in the run's errors. A change to a
protected field, or to a date that moves pending date-relative steps, is held for a
person to confirm (:mod:`aisle.crm.held`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import httpx
import msgspec

from aisle.contracts.crm import CRMClient, CRMProvider, ExternalRecord, Page, RateLimited
from aisle.crm.deps import CRMDeps
from aisle.crm.mapping import (
    InvalidRecord,
    apply_values,
    contact_value,
    content_hash,
    extract,
    split_mapping,
)
from aisle.domain.contact import Contact
from aisle.domain.crm_connection import CRMConnection
from aisle.domain.sync_run import SYNC_COUNTS
from aisle.runtime.errors import DateChangeNotConfirmed
from aisle.storage.crm_records import (
    CRMLinkRepository,
    HeldChangeRepository,
    Link,
    NewHeldChange,
    SyncReads,
)
from aisle.storage.events import PendingEvent
from aisle.storage.ids import new_id
from aisle.storage.store import OrgScope

__all__ = ["Progress", "PullStopped", "Tally", "pull", "with_retries"]

R = TypeVar("R")

MAX_ERRORS = 1000
"""Failed records a run keeps the reasons of (the count goes on)."""

_FIRST_ANALYZE = 1000
"""Records written before a run first refreshes the database's statistics."""

_DATE_FIELDS = frozenset({"wedding_date"})
_RANK = {"unchanged": 0, "updated": 1, "held": 2}


class PullStopped(Exception):
    """The run must stop between pages: cancelled, or no longer this worker's."""

    def __init__(self, cancelled: bool) -> None:
        super().__init__("cancelled" if cancelled else "lost the run")
        self.cancelled = cancelled


@dataclass
class Tally:
    """Counts per outcome and the failures, carried across pages (and resumes)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SYNC_COUNTS, 0))
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + n

    def fail(self, kind: str, external_id: str, reason: str, field: str | None = None) -> None:
        self.add("failed")
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(
                {"kind": kind, "external_id": external_id, "field": field, "reason": reason}
            )


Progress = Callable[[str, int, int | None, dict[str, Any]], Awaitable[None]]
"""Called after every page: phase (the kind), records seen, total if known, and where
to resume; raises :class:`PullStopped` to stop the run."""


def _transient(exc: Exception) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code >= 500


async def with_retries(deps: CRMDeps, call: Callable[[], Awaitable[R]]) -> R:
    """``call()``, waiting out ``429 Retry-After`` and retrying transport errors and 5xx
    answers with exponential backoff, ``deps.retries`` times."""
    attempt = 0
    while True:
        try:
            return await call()
        except RateLimited as exc:
            if attempt >= deps.retries:
                raise
            await deps.sleep(max(0.0, exc.retry_after))
        except Exception as exc:
            if attempt >= deps.retries or not _transient(exc):
                raise
            await deps.sleep(deps.backoff_seconds * 2**attempt)
        attempt += 1


@dataclass
class _Target:
    """One couple's pending change from one record."""

    record: ExternalRecord
    values: dict[str, Any]
    contact: Contact
    dirty: bool = False
    """The contact differs from what is stored already (a CRM id to remember)."""


class _Pull:
    def __init__(
        self,
        deps: CRMDeps,
        scope: OrgScope,
        connection: CRMConnection,
        provider: CRMProvider,
        run_id: str | None,
        tally: Tally,
        region: str | None,
    ) -> None:
        self.deps = deps
        self.scope = scope
        self.connection = connection
        self.provider = provider
        self.run_id = run_id
        self.tally = tally
        self.region = region
        self.contacts_kind = provider.pull_kinds[0]
        self.mapping = split_mapping(connection.field_mapping, provider.pull_kinds)
        db, clock = deps.store.db, deps.store.clock
        self.links = CRMLinkRepository(scope.org_id, db, clock)
        self.held = HeldChangeRepository(scope.org_id, db, clock)
        self.reads = SyncReads(scope.org_id, db, clock)
        self.written = 0
        self.analyze_at = _FIRST_ANALYZE

    # -- one page -------------------------------------------------------------------

    async def page(self, kind: str, records: Sequence[ExternalRecord]) -> None:
        mapping = self.mapping.get(kind, {})
        mapped: list[tuple[ExternalRecord, dict[str, Any], str]] = []
        for record in records:
            try:
                values = extract(record.fields, mapping, self.region)
            except InvalidRecord as exc:
                self.tally.fail(kind, record.id, exc.reason, exc.field)
                continue
            mapped.append((record, values, content_hash(values)))
        links = await self.links.get_many(self.connection.id, kind, [r.id for r, _, _ in mapped])
        fresh = []
        for record, values, digest in mapped:
            link = links.get(record.id)
            if link is not None and link.content_hash == digest:
                self.tally.add("unchanged")
            else:
                fresh.append((record, values, digest))
        if not fresh:
            return
        async with self.deps.store.transaction():
            if kind == self.contacts_kind:
                written = await self._contacts(fresh, links)
            else:
                written = await self._related(kind, fresh)
            await self.links.put_many(self.connection.id, kind, written)
        self.written += len(written)
        if self.written >= self.analyze_at:
            # Each doubling of what this run wrote: the lookups of the next pages are
            # planned for tables of their new size, not the ones the run started with.
            self.analyze_at *= 2
            await self.reads.refresh_statistics()

    async def _contacts(
        self, fresh: list[tuple[ExternalRecord, dict[str, Any], str]], links: Mapping[str, Link]
    ) -> list[Link]:
        provider = self.provider.name
        linked = {r.id: links[r.id].contact_id for r, _, _ in fresh if r.id in links}
        unlinked = [r.id for r, _, _ in fresh if linked.get(r.id) is None]
        emails = [v["email"] for r, v, _ in fresh if r.id in unlinked and v.get("email")]
        found = await self.scope.contacts.find_many(
            ids=[c for c in linked.values() if c],
            emails=emails,
            external=(provider, unlinked) if unlinked else None,
        )
        by_id = {c.id: c for c in found}
        by_external = {c.external_ids[provider]: c for c in found if provider in c.external_ids}
        by_email = {c.email: c for c in found if c.email}
        new: list[Contact] = []
        targets: list[_Target] = []
        written: list[Link] = []
        for record, values, digest in fresh:
            contact_id = linked.get(record.id)
            contact = (
                by_id.get(contact_id)
                if contact_id
                else by_external.get(record.id) or by_email.get(values.get("email") or "")
            )
            if contact is None:
                contact = apply_values(Contact(external_ids={provider: record.id}), values)
                contact = msgspec.structs.replace(contact, id=new_id())
                new.append(contact)
                # A later record of this page naming the couple again (its remote id or
                # email) is applied to it as a change once it is inserted, below.
                by_external[record.id] = contact
                by_email.setdefault(contact.email or "", contact)
            else:
                dirty = contact.external_ids.get(provider) != record.id
                if dirty:
                    externals = {**contact.external_ids, provider: record.id}
                    contact = msgspec.structs.replace(contact, external_ids=externals)
                targets.append(_Target(record, values, contact, dirty))
            written.append(Link(record.id, contact.id, digest))
        if new:
            await self.scope.contacts.insert_many(new)
            self.tally.add("created", len(new))
            await self._announce(new)
        await self._apply(targets)
        return written

    async def _related(
        self, kind: str, fresh: list[tuple[ExternalRecord, dict[str, Any], str]]
    ) -> list[Link]:
        owners = await self.links.get_many(
            self.connection.id, self.contacts_kind, [c for r, _, _ in fresh for c in r.contact_ids]
        )
        contact_ids = [link.contact_id for link in owners.values() if link.contact_id]
        contacts = {c.id: c for c in await self.scope.contacts.find_many(ids=contact_ids)}
        targets: list[_Target] = []
        written: list[Link] = []
        for record, values, digest in fresh:
            mine = [
                contacts[owners[c].contact_id or ""]
                for c in record.contact_ids
                if c in owners and (owners[c].contact_id or "") in contacts
            ]
            if not mine:
                reason = (
                    f"none of its contacts ({', '.join(record.contact_ids)}) has been synced"
                    if record.contact_ids
                    else "it names no contact"
                )
                self.tally.fail(kind, record.id, reason)
                continue
            targets.extend(_Target(record, values, contact) for contact in mine)
            written.append(Link(record.id, None, digest))
        await self._apply(targets)
        return written

    # -- applying changes -----------------------------------------------------------

    async def _apply(self, targets: list[_Target]) -> None:
        if not targets:
            return
        ids = list(dict.fromkeys(t.contact.id for t in targets))
        enrolled = await self.reads.enrolled(ids)
        newest = "newest_wins" in self.connection.conflicts.values()
        updated_at = await self.reads.updated_at(ids) if newest else {}
        current: dict[str, Contact] = {}
        dirty: set[str] = set()
        held: list[NewHeldChange] = []
        outcome: dict[tuple[str, str], str] = {}
        for target in targets:
            contact = current.get(target.contact.id, target.contact)
            if target.dirty:
                dirty.add(contact.id)
            changes: dict[str, Any] = {}
            holds: list[NewHeldChange] = []
            for name, value in target.values.items():
                old = contact_value(contact, name)
                local = updated_at.get(contact.id)
                if old == value or not self._wins(name, old, target.record, local):
                    continue
                reason = self._hold_reason(name, old, contact.id in enrolled)
                if reason:
                    holds.append(NewHeldChange(contact.id, name, old, value, reason))
                else:
                    changes[name] = value
            if changes:
                contact = apply_values(contact, changes)
                dirty.add(contact.id)
            current[contact.id] = contact
            held.extend(holds)
            # One outcome per record: a hold is what a person needs to see.
            key = (target.record.kind, target.record.id)
            found = "held" if holds else "updated" if changes else "unchanged"
            if _RANK[found] > _RANK[outcome.get(key, "unchanged")] or key not in outcome:
                outcome[key] = found
        plain = [c for i, c in current.items() if i in dirty and i not in enrolled]
        if plain:
            await self.scope.contacts.update_many(plain)
        for contact_id in dirty & enrolled:
            held.extend(await self._through_runtime(current[contact_id]))
        await self.held.hold_many(self.connection.id, self.run_id, held)
        for value in outcome.values():
            self.tally.add(value)

    def _wins(self, name: str, old: Any, record: ExternalRecord, local: datetime | None) -> bool:
        policy = self.connection.policy(name)
        if policy == "aisle_wins":
            return old in (None, "")
        if policy == "newest_wins" and record.updated_at is not None:
            return local is None or record.updated_at > local
        return True

    def _hold_reason(self, name: str, old: Any, enrolled: bool) -> str | None:
        if name in _DATE_FIELDS and enrolled:
            return "moves the couple's pending date-relative steps"
        if self.connection.is_protected(name) and old not in (None, ""):
            return "a protected field"
        return None

    async def _through_runtime(self, contact: Contact) -> list[NewHeldChange]:
        """Save a couple with pending steps as the runtime does (wake-ups recomputed);
        a custom date a pending step counts from is held instead."""
        held: list[NewHeldChange] = []
        while True:
            try:
                await self.deps.runtime.update_contact(
                    self.scope.org_id, contact, actor=f"crm:{self.connection.name}"
                )
                return held
            except DateChangeNotConfirmed as exc:
                name = exc.field or "wedding_date"
                old = await self.scope.contacts.get(contact.id)
                held.append(
                    NewHeldChange(
                        contact.id,
                        name,
                        contact_value(old, name),
                        contact_value(contact, name),
                        "moves the couple's pending date-relative steps",
                    )
                )
                contact = apply_values(contact, {name: contact_value(old, name)})

    async def _announce(self, contacts: list[Contact]) -> None:
        """``contact.created`` for each new couple (journeys may start on it), accepted
        in the page's transaction; processed by the scheduler's event recovery, so a
        pull of thousands does not wait on each couple's journeys."""
        source = f"crm:{self.provider.name}"
        await self.scope.events.accept_many(
            [
                PendingEvent(
                    type="contact.created",
                    idempotency_key=f"contact.created:{c.id}",
                    contact_id=c.id,
                    payload={"contact_id": c.id},
                    source=source,
                )
                for c in contacts
            ]
        )
        if self.deps.runtime.on_work is not None:
            self.deps.runtime.on_work()


async def pull(
    deps: CRMDeps,
    scope: OrgScope,
    connection: CRMConnection,
    provider: CRMProvider,
    client: CRMClient,
    *,
    tally: Tally,
    progress: Progress,
    run_id: str | None = None,
    resume: Mapping[str, Any] | None = None,
) -> dict[str, str | None]:
    """Pull every kind of ``provider.pull_kinds`` into ``scope``; returns the cursors to
    store for the next run (kind → ``Page.cursor``).

    ``resume`` (``kind``, ``cursor``, ``cursors``, ``seen``, ``before``) continues a run that a lost
    worker left half way. Stored cursors make a pull incremental where the provider
    offers a change filter.
    """
    stored: dict[str, str | None] = _cursors(connection.cursor)
    cursors: dict[str, str | None] = dict(resume.get("cursors", {})) if resume else {}
    kinds = list(provider.pull_kinds)
    start = kinds.index(resume["kind"]) if resume and resume.get("kind") in kinds else 0
    seen = int(resume.get("seen", 0)) if resume else 0
    work = _Pull(
        deps, scope, connection, provider, run_id, tally, await deps.phone_region(scope.org_id)
    )
    # Records of the kinds done before this one: seen and total count every kind.
    before = int(resume.get("before", seen)) if resume else 0
    for index, kind in enumerate(kinds[start:], start):
        cursor = resume.get("cursor") if resume and index == start else stored.get(kind)
        while True:
            page = await with_retries(deps, _lister(client, kind, cursor))
            await work.page(kind, page.records)
            seen += len(page.records)
            total = before + page.total if page.total is not None else None
            if page.next_cursor is None:
                cursors[kind] = page.cursor
                following = kinds[index + 1] if index + 1 < len(kinds) else None
                position = {"kind": following, "cursor": None, "cursors": cursors}
                await progress(kind, seen, total, {**position, "seen": seen, "before": seen})
                before = seen
                break
            cursor = page.next_cursor
            position = {"kind": kind, "cursor": cursor, "cursors": cursors}
            await progress(kind, seen, total, {**position, "seen": seen, "before": before})
    return cursors


def _lister(client: CRMClient, kind: str, cursor: str | None) -> Callable[[], Awaitable[Page]]:
    return lambda: client.list_records(kind, cursor)


def _cursors(text: str | None) -> dict[str, str | None]:
    if not text:
        return {}
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return {}
    return dict(value) if isinstance(value, dict) else {}

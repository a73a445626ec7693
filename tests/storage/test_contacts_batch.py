"""ContactRepository's batch methods (find_many, insert_many, update_many), on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from aisle.clock import TestClock
from aisle.domain import Contact, Partner
from aisle.storage import NotFound, Store
from aisle.storage.contacts import BATCH_ROWS


def _couple(n: int, **fields: object) -> Contact:
    return Contact(
        partners=(Partner(first_name=f"Ada{n}", last_name="Lovelace"),),
        email=f"c{n}@x.test",
        external_ids={"tave": f"T-{n}"},
        **fields,  # type: ignore[arg-type]
    )


async def test_insert_many_spans_statements_and_reads_back(store: Store) -> None:
    scope = store.for_org((await store.organizations.create(slug="s", name="S")).id)
    count = BATCH_ROWS + 7
    stored = await scope.contacts.insert_many(
        [_couple(n, wedding_date=date(2026, 9, 1 + n % 28)) for n in range(count)]
    )
    assert len({c.id for c in stored}) == count and all(c.id for c in stored)
    assert await scope.contacts.count() == count
    assert await scope.contacts.get(stored[3].id) == stored[3]
    assert await scope.contacts.by_external_id("tave", f"T-{count - 1}") == stored[-1]
    assert [c.id for c in await scope.contacts.list(search="ada505")] == [stored[505].id]


async def test_find_many_by_each_key_kind_once_and_only_live(store: Store) -> None:
    scope = store.for_org((await store.organizations.create(slug="s", name="S")).id)
    a, b, c, d = await scope.contacts.insert_many([_couple(n) for n in range(4)])
    await scope.contacts.soft_delete(d.id)
    found = await scope.contacts.find_many(
        ids=[a.id, d.id, "nope"],
        emails=["c1@x.test", "c0@x.test"],
        external=("tave", ["T-2", "T-3"]),
    )
    assert sorted(c_.id for c_ in found) == sorted([a.id, b.id, c.id])
    assert await scope.contacts.find_many() == []
    assert await scope.contacts.find_many(external=("tave", [])) == []
    assert await scope.contacts.find_many(external=("honeybook", ["T-1"])) == []
    assert [x.id for x in await scope.contacts.find_many(emails=["c2@x.test"])] == [c.id]


async def test_batches_never_cross_organizations(store: Store) -> None:
    ours = store.for_org((await store.organizations.create(slug="ours", name="O")).id)
    theirs = store.for_org((await store.organizations.create(slug="theirs", name="T")).id)
    (mine,) = await ours.contacts.insert_many([_couple(1)])
    (other,) = await theirs.contacts.insert_many([_couple(1)])
    assert await ours.contacts.find_many(
        ids=[other.id], emails=["c1@x.test"], external=("tave", ["T-1"])
    ) == [mine]
    with pytest.raises(NotFound, match=other.id):
        await ours.contacts.update_many([msgspec.structs.replace(other, venue="Ours now")])
    assert (await theirs.contacts.get(other.id)).venue is None


async def test_update_many_replaces_fields_links_and_search_text(
    store: Store, clock: TestClock
) -> None:
    scope = store.for_org((await store.organizations.create(slug="s", name="S")).id)
    stored = await scope.contacts.insert_many([_couple(n) for n in range(BATCH_ROWS + 2)])
    clock.advance(hours=1)
    changed = [
        msgspec.structs.replace(
            c,
            partners=(Partner(first_name=f"Grace{i}", last_name="Hopper"),),
            venue="Barn",
            wedding_date=date(2027, 5, 1),
            custom={"n": i},
            external_ids={"tave": f"T-{i}", "dubsado": f"D-{i}"} if i % 2 else {},
        )
        for i, c in enumerate(stored)
    ]
    assert await scope.contacts.update_many(changed) == changed
    assert await scope.contacts.count() == len(stored)
    for contact in (changed[0], changed[1], changed[-1]):
        assert await scope.contacts.get(contact.id) == contact
    assert await scope.contacts.by_external_id("tave", "T-0") is None
    assert await scope.contacts.by_external_id("dubsado", "D-1") == changed[1]
    assert [c.id for c in await scope.contacts.list(search="grace501")] == [changed[501].id]
    assert await scope.contacts.list(search="ada3") == []
    assert await scope.contacts.update_many([]) == []


async def test_update_many_refuses_deleted_or_unknown_ids_and_writes_nothing(
    store: Store,
) -> None:
    scope = store.for_org((await store.organizations.create(slug="s", name="S")).id)
    a, b = await scope.contacts.insert_many([_couple(1), _couple(2)])
    await scope.contacts.soft_delete(b.id)
    for missing in (b, msgspec.structs.replace(a, id="01NOPE")):
        with pytest.raises(NotFound, match=missing.id):
            await scope.contacts.update_many(
                [
                    msgspec.structs.replace(a, venue="Changed"),
                    msgspec.structs.replace(missing, venue="X"),
                ]
            )
    assert (await scope.contacts.get(a.id)).venue is None
    assert (await scope.contacts.get(b.id, include_deleted=True)).venue is None
    assert await scope.contacts.count() == 1


async def test_insert_many_writes_nothing_when_an_external_id_is_taken(store: Store) -> None:
    scope = store.for_org((await store.organizations.create(slug="s", name="S")).id)
    (first,) = await scope.contacts.insert_many([_couple(1)])
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with store.transaction():
            await scope.contacts.insert_many([_couple(2), _couple(1, venue="Kew")])
    assert [c.id for c in await scope.contacts.list()] == [first.id]
    assert await scope.contacts.insert_many([]) == []

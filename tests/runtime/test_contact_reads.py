"""An event's path reads its contact once: acceptance asks whether the contact exists
(once per contact, however many events a batch has for it) and processing reads it
under its lock; an action run reads it once per attempt, for its context and its
services alike. Counted on the real repositories, on both databases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

import pytest

from aisle.domain import Contact
from aisle.jobs import drain
from aisle.runtime import NewEvent, Runtime, UnknownContact
from aisle.storage.contacts import ContactRepository
from aisle.storage.errors import NotFound
from tests.runtime.support import ENQUIRY, open_studio

READS = ("get", "find", "lock")


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each way of reading a contact was called (the real methods run)."""
    counted: Counter[str] = Counter()
    for name in READS:
        real: Callable[..., Awaitable[Any]] = getattr(ContactRepository, name)

        def counting(real: Callable[..., Awaitable[Any]], name: str) -> Any:
            @wraps(real)
            async def read(self: ContactRepository, *args: Any, **kwargs: Any) -> Any:
                counted[name] += 1
                return await real(self, *args, **kwargs)

            return read

        monkeypatch.setattr(ContactRepository, name, counting(real, name))
    return counted


def enquiry(key: str, contact_id: str | None) -> NewEvent:
    return NewEvent(
        type="form.submitted", idempotency_key=key, contact_id=contact_id, payload=ENQUIRY
    )


async def test_one_event_checks_its_contact_once_and_reads_it_once_under_the_lock(
    runtime: Runtime, reads: Counter[str]
) -> None:
    scope, _ = await open_studio(runtime)
    contact = await scope.contacts.create(Contact(email="a@x.test"))
    reads.clear()
    record, created = await runtime.ingest_event(
        scope,
        type="form.submitted",
        idempotency_key="enquiry",
        contact_id=contact.id,
        payload=ENQUIRY,
    )
    assert created and record.status == "processed"
    assert reads == Counter(find=1, lock=1)


async def test_a_batch_checks_each_contact_once_and_reads_it_once_per_event(
    runtime: Runtime, reads: Counter[str]
) -> None:
    scope, _ = await open_studio(runtime)
    ada = await scope.contacts.create(Contact(email="a@x.test"))
    bea = await scope.contacts.create(Contact(email="b@x.test"))
    reads.clear()
    accepted = await runtime.ingest_batch(
        scope,
        [enquiry("1", ada.id), enquiry("2", bea.id), enquiry("3", ada.id), enquiry("4", ada.id)],
    )
    assert [(r.status, created) for r, created in accepted] == [("processed", True)] * 4
    assert reads == Counter(find=2, lock=4)


async def test_a_batch_naming_an_unknown_contact_accepts_nothing(runtime: Runtime) -> None:
    scope, _ = await open_studio(runtime)
    ada = await scope.contacts.create(Contact(email="a@x.test"))
    with pytest.raises(UnknownContact) as refused:
        await runtime.ingest_batch(scope, [enquiry("1", ada.id), enquiry("2", "nobody")])
    assert (refused.value.index, refused.value.contact_id) == (1, "nobody")
    assert await scope.events.by_key("1") is None


async def test_one_event_for_an_unknown_contact_is_not_accepted(runtime: Runtime) -> None:
    scope, _ = await open_studio(runtime)
    with pytest.raises(NotFound, match="contact 'nobody' not found"):
        await runtime.ingest_event(
            scope, type="form.submitted", idempotency_key="k", contact_id="nobody"
        )
    assert await scope.events.by_key("k") is None


async def test_an_action_run_reads_its_contact_once_per_attempt(
    runtime: Runtime, reads: Counter[str]
) -> None:
    scope, _ = await open_studio(runtime)
    contact = await scope.contacts.create(Contact(email="a@x.test"))
    await runtime.ingest_event(
        scope,
        type="form.submitted",
        idempotency_key="enquiry",
        contact_id=contact.id,
        payload=ENQUIRY,
    )
    reads.clear()
    report = await drain(runtime)
    attempts = len(report.outcomes)
    assert attempts >= 1 and report.count("succeeded") == attempts
    assert reads == Counter(find=attempts)
